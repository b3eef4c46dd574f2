/**
 * GENERATED from the server's OpenAPI document (GET /api/v1/openapi.json) by
 * web/scripts/api-types.ts. Do not edit: run `npm run api-types -w @loaxa/web`.
 * web/test/api-contract.test.ts fails when this file and the server disagree.
 */
export interface paths {
  '/api/v1/health': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Liveness and a few numbers */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              /** @enum {string} */
              status: 'ok';
              version: string;
              uptimeS: number;
              devices: number;
              devicesOnline: number;
              instance: string;
              leader: boolean;
            };
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/time': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The server's clock in epoch ms (UTC), for device clock-offset estimates */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              /** @description server time, epoch ms */
              now: number;
            };
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/session': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The signed-in user */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              user: {
                username: string;
                role: 'admin' | 'approver' | 'editor' | 'technician' | 'viewer';
                mustChangePassword: boolean;
                communeId: string | null;
              };
            };
          };
        };
        /** @description Default Response */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    put?: never;
    /**
     * Log in; sets the session cookie
     * @description After 5 wrong passwords for one username within 15 minutes the account is locked for 15 minutes (429, Retry-After); an administrator can unlock it sooner. A disabled account gets 403 (field `username`) once the password is right.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            username: string;
            password: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              user: {
                username: string;
                role: 'admin' | 'approver' | 'editor' | 'technician' | 'viewer';
                mustChangePassword: boolean;
                communeId: string | null;
              };
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    /** Log out */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/devices': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * The loudspeakers you may see (your commune’s, or the province’s) with online state
     * @description In id order, narrowed by `q`, `status`, `zone` and `commune`; `limit` and `offset` page it (without `limit`, every match). The `X-Total-Count` header says how many match before paging.
     */
    get: {
      parameters: {
        query?: {
          /** @description a commune id (province users choose; commune users: their own) */
          commune?: string;
          /** @description every word in the name or the id, in any order; case and diacritics forgiven */
          q?: string;
          /** @description online, offline (not revoked), revoked, or problem: not revoked and offline or its clock more than 1 s off */
          status?: 'online' | 'offline' | 'revoked' | 'problem';
          /** @description a zone id (its loudspeakers), or "-" for those in no zone */
          zone?: string;
          /** @description 1 to 1000; without it, every match */
          limit?: string;
          /** @description matches to skip (default 0) */
          offset?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              name: string;
              /** @description the commune it serves */
              communeId: string;
              zones: string[];
              online: boolean;
              /** Format: date-time */
              lastSeen: string | null;
              agentVersion: string | null;
              revoked: boolean;
              /** @description server clock − device clock in ms, as the device last measured it */
              clockOffsetMs: number | null;
              /** @description the device clock is more than 1 s off the server */
              clockWarning: boolean;
              location: {
                latitude: number;
                longitude: number;
              } | null;
              /** @description its agent runs a null or simulated player: plays are reported but nothing is heard */
              simulated: boolean;
              /** @description the last telemetry since the server started (every 30 s from an online agent) */
              telemetry: {
                /** Format: date-time */
                at: string;
                volume: number;
                playing: string | null;
                cacheBytes: number;
                freeDiskBytes?: number;
                uptimeS: number;
                signalDbm?: number;
                cpuTempC?: number;
              } | null;
            }[];
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    put?: never;
    /** Provision a loudspeaker: creates its credentials and returns a ready agent configuration */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            id: string;
            name?: string;
            zones?: string[];
            /** @description a commune id (province users choose; commune users: their own) */
            commune?: string;
            /** @description "alsa" (default): the node plays through its sound card; "null": a silent node that logs what it would play and says so in every ack (test benches only) */
            player?: 'alsa' | 'null';
          };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              device: {
                id: string;
                name: string;
                /** @description the commune it serves */
                communeId: string;
                zones: string[];
                online: boolean;
                /** Format: date-time */
                lastSeen: string | null;
                agentVersion: string | null;
                revoked: boolean;
                /** @description server clock − device clock in ms, as the device last measured it */
                clockOffsetMs: number | null;
                /** @description the device clock is more than 1 s off the server */
                clockWarning: boolean;
                location: {
                  latitude: number;
                  longitude: number;
                } | null;
                /** @description its agent runs a null or simulated player: plays are reported but nothing is heard */
                simulated: boolean;
                /** @description the last telemetry since the server started (every 30 s from an online agent) */
                telemetry: {
                  /** Format: date-time */
                  at: string;
                  volume: number;
                  playing: string | null;
                  cacheBytes: number;
                  freeDiskBytes?: number;
                  uptimeS: number;
                  signalDbm?: number;
                  cpuTempC?: number;
                } | null;
              };
              agentConfig: {
                deviceId: string;
                serverUrl: string;
                /** @description the broker node the agent tries first */
                mqttUrl: string;
                /** @description a broker of several nodes: the others, in the order the agent moves to them when its node fails */
                mqttUrls?: string[];
                secret: string;
                dataDir: string;
                player:
                  | {
                      /** @enum {string} */
                      type: 'alsa';
                      device: string;
                      command: string;
                    }
                  | {
                      /** @enum {string} */
                      type: 'null';
                      log: string;
                    };
                audioFormat: string;
                amp: {
                  type: string;
                };
                mixer:
                  | {
                      /** @enum {string} */
                      type: 'amixer';
                      card: number;
                      control: string;
                    }
                  | {
                      /** @enum {string} */
                      type: 'none';
                    };
              };
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/map': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Where the console’s loudspeaker map takes its background tiles from */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              /** @description a {z}/{x}/{y} tile template (LOAXA_MAP_TILES_URL); null: the public OpenStreetMap server */
              tileUrl: string | null;
            };
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/devices/{id}/revoke': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Revoke a loudspeaker: disconnects it now and refuses it from then on */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              name: string;
              /** @description the commune it serves */
              communeId: string;
              zones: string[];
              online: boolean;
              /** Format: date-time */
              lastSeen: string | null;
              agentVersion: string | null;
              revoked: boolean;
              /** @description server clock − device clock in ms, as the device last measured it */
              clockOffsetMs: number | null;
              /** @description the device clock is more than 1 s off the server */
              clockWarning: boolean;
              location: {
                latitude: number;
                longitude: number;
              } | null;
              /** @description its agent runs a null or simulated player: plays are reported but nothing is heard */
              simulated: boolean;
              /** @description the last telemetry since the server started (every 30 s from an online agent) */
              telemetry: {
                /** Format: date-time */
                at: string;
                volume: number;
                playing: string | null;
                cacheBytes: number;
                freeDiskBytes?: number;
                uptimeS: number;
                signalDbm?: number;
                cpuTempC?: number;
              } | null;
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/zones': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The zones you may see (your commune’s, or the province’s) with their devices */
    get: {
      parameters: {
        query?: {
          /** @description a commune id (province users choose; commune users: their own) */
          commune?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              name: string;
              /** @description the commune it is a zone of */
              communeId: string;
              /** @description language codes (ISO 639: vi, hmn, blt, km, rad, …) a notice’s versions play in here, in this order; a notice without a version in any of them plays in Vietnamese */
              languages: string[];
              /** @description codes an alert’s <geocode> reaches this zone by: the value ("137") or scheme=value ("MA_DVHC=137"); its loudspeakers are reached even without a map position */
              geocodes: string[];
              /** @description the zone’s area as [lat, lon] points (at least 3); a disaster alert overlapping it reaches the zone’s loudspeakers that have no map position */
              area: [number, number][] | null;
              deviceIds: string[];
            }[];
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    put?: never;
    /** Create a zone (village or group of loudspeakers) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name: string;
            /** @description language codes (ISO 639: vi, hmn, blt, km, rad, …) a notice’s versions play in here, in this order; a notice without a version in any of them plays in Vietnamese */
            languages?: string[];
            /** @description a commune id (province users choose; commune users: their own) */
            commune?: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              name: string;
              communeId: string;
              /** @description language codes (ISO 639: vi, hmn, blt, km, rad, …) a notice’s versions play in here, in this order; a notice without a version in any of them plays in Vietnamese */
              languages: string[];
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/devices/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    /** Rename a loudspeaker and/or set where it stands (location null clears it) */
    patch: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name?: string;
            location?: {
              latitude: number;
              longitude: number;
            } | null;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              name: string;
              /** @description the commune it serves */
              communeId: string;
              zones: string[];
              online: boolean;
              /** Format: date-time */
              lastSeen: string | null;
              agentVersion: string | null;
              revoked: boolean;
              /** @description server clock − device clock in ms, as the device last measured it */
              clockOffsetMs: number | null;
              /** @description the device clock is more than 1 s off the server */
              clockWarning: boolean;
              location: {
                latitude: number;
                longitude: number;
              } | null;
              /** @description its agent runs a null or simulated player: plays are reported but nothing is heard */
              simulated: boolean;
              /** @description the last telemetry since the server started (every 30 s from an online agent) */
              telemetry: {
                /** Format: date-time */
                at: string;
                volume: number;
                playing: string | null;
                cacheBytes: number;
                freeDiskBytes?: number;
                uptimeS: number;
                signalDbm?: number;
                cpuTempC?: number;
              } | null;
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    trace?: never;
  };
  '/api/v1/devices/{id}/zones': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    /** Move a loudspeaker: set exactly the zones it belongs to (its plan follows at once) */
    put: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            zones: string[];
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              zones: string[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/zones/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /** Delete a zone (refused while a schedule targets it); its loudspeakers stay */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    options?: never;
    head?: never;
    /** Rename a zone and/or set the languages notices play in there, the codes and the area alerts reach it by */
    patch: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name?: string;
            /** @description language codes (ISO 639: vi, hmn, blt, km, rad, …) a notice’s versions play in here, in this order; a notice without a version in any of them plays in Vietnamese */
            languages?: string[];
            /** @description codes an alert’s <geocode> reaches this zone by: the value ("137") or scheme=value ("MA_DVHC=137"); its loudspeakers are reached even without a map position */
            geocodes?: string[];
            /** @description the zone’s area as [lat, lon] points (at least 3); a disaster alert overlapping it reaches the zone’s loudspeakers that have no map position */
            area?: [number, number][] | null;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              name: string;
              /** @description the commune it is a zone of */
              communeId: string;
              /** @description language codes (ISO 639: vi, hmn, blt, km, rad, …) a notice’s versions play in here, in this order; a notice without a version in any of them plays in Vietnamese */
              languages: string[];
              /** @description codes an alert’s <geocode> reaches this zone by: the value ("137") or scheme=value ("MA_DVHC=137"); its loudspeakers are reached even without a map position */
              geocodes: string[];
              /** @description the zone’s area as [lat, lon] points (at least 3); a disaster alert overlapping it reaches the zone’s loudspeakers that have no map position */
              area: [number, number][] | null;
              deviceIds: string[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    trace?: never;
  };
  '/api/v1/broadcasts': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Broadcast a notice now, or at a set time, to zones or to all loudspeakers of one commune
     * @description The broadcast belongs to one commune: the caller’s, or for a province user the `commune` named (required when the province has several). Its zones are that commune’s; `all` is every loudspeaker of that commune.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            text: string;
            zones: string[] | 'all';
            priority?: 'normal' | 'priority' | 'emergency';
            /** Format: date-time */
            at?: string;
            voice?: string;
            /** @description shown on the commune’s public page and podcast once it has aired (default true: a text notice) */
            public?: boolean;
            /** @description the notice in other languages: each plays after the Vietnamese on the loudspeakers whose zones list its language, as its own occurrence */
            versions?: {
              language: string;
              /** @description sha256 of the uploaded or recorded file (POST /api/v1/audio) */
              audio: string;
              title?: string;
              text?: string;
            }[];
            /** @description only a leader (approver or admin), for a single play; audited */
            overrideRules?: {
              reason: string;
            };
            /** @description the commune it is broadcast in: required for a province user when there are several */
            commune?: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              occurrenceId: string;
              /** @description the occurrence of each version that plays somewhere */
              versions: {
                language: string;
                occurrenceId: string;
                devices: number;
              }[];
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/occurrences': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Recent broadcasts, newest first, with their delivery counts
     * @description Occurrences starting in [from, to) (default: the last 24 hours to the next 24 hours), at most `limit` (default 50, at most 200) after skipping `offset`. The `X-Total-Count` header says how many start in the window.
     */
    get: {
      parameters: {
        query?: {
          from?: string;
          to?: string;
          /** @description 1 to 200 */
          limit?: string;
          /** @description occurrences to skip (default 0) */
          offset?: string;
          /** @description a commune id (province users choose; commune users: their own) */
          commune?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              /** @description the commune it belongs to */
              communeId: string;
              title: string;
              priority: 'normal' | 'priority' | 'emergency';
              /** Format: date-time */
              startAt: string;
              durationMs: number;
              scheduleId: string | null;
              cancelled: boolean;
              /** Format: date-time */
              stoppedAt: string | null;
              stoppedBy: string | null;
              /** @description loudspeakers targeted */
              devices: number;
              /** @description deliveries at each furthest stage reached */
              stages: {
                pending: number;
                received: number;
                ready: number;
                started: number;
                finished: number;
                failed: number;
                skipped: number;
                preempted: number;
              };
              /** @description the same deliveries by outcome: "missed" = not started a minute after the planned start; "stopped" = not finished when someone stopped the broadcast (neither a success nor a failure) */
              outcomes: {
                waiting: number;
                playing: number;
                finished: number;
                failed: number;
                missed: number;
                stopped: number;
                preempted: number;
                skipped: number;
              };
            }[];
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/deliveries/problems': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Deliveries that failed or were missed, newest first, across every broadcast you may see
     * @description Broadcasts that started since `since` (default: the last 24 hours); a delivery is missed when its loudspeaker had not started it a minute after the planned start. At most `limit` (default 20, at most 500).
     */
    get: {
      parameters: {
        query?: {
          since?: string;
          /** @description 1 to 500 */
          limit?: string;
          /** @description a commune id (province users choose; commune users: their own) */
          commune?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              occurrenceId: string;
              /** @description the commune it belongs to */
              communeId: string;
              title: string;
              priority: 'normal' | 'priority' | 'emergency';
              /** Format: date-time */
              startAt: string;
              deviceId: string;
              deviceName: string;
              online: boolean;
              outcome: 'failed' | 'missed';
              stage: 'pending' | 'received' | 'ready' | 'started' | 'finished' | 'failed' | 'skipped' | 'preempted';
              /** Format: date-time */
              at: string | null;
              detail: string | null;
            }[];
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/occurrences/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** One occurrence with each device’s furthest delivery stage */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              /** @description the commune it belongs to */
              communeId: string;
              title: string;
              priority: 'normal' | 'priority' | 'emergency';
              /** Format: date-time */
              startAt: string;
              durationMs: number;
              sha256: string;
              engine: string | null;
              /** Format: date-time */
              stoppedAt: string | null;
              stoppedBy: string | null;
              deliveries: {
                deviceId: string;
                stage: 'pending' | 'received' | 'ready' | 'started' | 'finished' | 'failed' | 'skipped' | 'preempted';
                /** Format: date-time */
                at: string | null;
                detail: string | null;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    put?: never;
    post?: never;
    /** Cancel one future occurrence (it leaves the plans and is not re-created); approvers only */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        /** @description Default Response */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/events': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Server-Sent Events: `device` {id, online, lastSeen}, `delivery` {occurrenceId, deviceId, stage, at, detail}, `approval` {scheduleId, status, title} and `bulletin` {bulletinId} (a bulletin or a commune’s handling of it changed)
     * @description A commune user receives the events of their commune only; a province user every event.
     */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/audit': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The audit log, newest first; `format=csv` downloads it */
    get: {
      parameters: {
        query?: {
          /** @description 1 to 10000 */
          limit?: string;
          /** @description an entry id */
          before?: string;
          action?: string;
          format?: 'json' | 'csv';
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: number;
              /** Format: date-time */
              at: string;
              actor: string;
              action: string;
              target: string | null;
              detail: {
                [key: string]: unknown;
              } | null;
              ip: string | null;
              communeId: string | null;
            }[];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/users': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The users one may manage: a commune admin their commune’s, a province admin everyone */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              username: string;
              role: 'admin' | 'approver' | 'editor' | 'technician' | 'viewer';
              /** Format: date-time */
              createdAt: string;
              disabled: boolean;
              mustChangePassword: boolean;
              /** Format: date-time */
              lockedUntil: string | null;
              communeId: string | null;
            }[];
          };
        };
      };
    };
    put?: never;
    /**
     * Create a user with a role, in a commune or (no `commune`) for the province
     * @description A commune admin creates users of their own commune (`commune` may be left out). A province admin gives `commune` for a commune user, or leaves it out for a province user (roles admin, approver, editor, viewer).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            username: string;
            password: string;
            role: 'admin' | 'approver' | 'editor' | 'technician' | 'viewer';
            commune?: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              username: string;
              role: 'admin' | 'approver' | 'editor' | 'technician' | 'viewer';
              communeId: string | null;
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/users/{username}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    /**
     * Disable or enable an account, or change its role
     * @description Give at least one of `disabled` and `role`. Disabling ends every session of the account at once and refuses its logins. You cannot disable yourself, and the last enabled administrator cannot be disabled or demoted (409).
     */
    patch: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          username: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            disabled?: boolean;
            role?: 'admin' | 'approver' | 'editor' | 'technician' | 'viewer';
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              username: string;
              role: 'admin' | 'approver' | 'editor' | 'technician' | 'viewer';
              /** Format: date-time */
              createdAt: string;
              disabled: boolean;
              mustChangePassword: boolean;
              /** Format: date-time */
              lockedUntil: string | null;
              communeId: string | null;
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    trace?: never;
  };
  '/api/v1/users/{username}/password': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    /**
     * Reset a user’s password (ends their sessions)
     * @description The user must choose their own password at their next sign-in: until then their session may only change it (PUT /api/v1/session/password). An administrator resetting their own password is not asked again.
     */
    put: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          username: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            password: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/users/{username}/unlock': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Lift a lock-out after too many wrong passwords */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          username: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/session/password': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    /**
     * Change your own password (other sessions end; this one continues)
     * @description A wrong current password is 403 (field `currentPassword`); a new password the same as the current one is 400 (field `newPassword`). Lifts `mustChangePassword`.
     */
    put: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            currentPassword: string;
            newPassword: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/dictionary': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Abbreviations the normaliser expands: built-in ones and the commune’s own (which win) */
    get: {
      parameters: {
        query?: {
          commune?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              entries: {
                abbreviation: string;
                expansion: string;
                source: 'builtin' | 'commune';
                builtin: string | null;
                /** Format: date-time */
                updatedAt: string | null;
                updatedBy: string | null;
              }[];
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/dictionary/{abbreviation}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    /** Add or change one of the commune’s abbreviations (replaces a built-in one of the same spelling) */
    put: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          abbreviation: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            expansion: string;
            commune?: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              entry: {
                abbreviation: string;
                expansion: string;
                source: 'builtin' | 'commune';
                builtin: string | null;
                /** Format: date-time */
                updatedAt: string | null;
                updatedBy: string | null;
              };
              created: boolean;
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    post?: never;
    /** Remove one of the commune’s abbreviations (a built-in one it replaced applies again) */
    delete: {
      parameters: {
        query?: {
          commune?: string;
        };
        header?: never;
        path: {
          abbreviation: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/tts/engines': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The commune’s TTS engines in fallback order, with their health and voices */
    get: {
      parameters: {
        query?: {
          commune?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              engines: {
                id: string;
                primary: boolean;
                health: {
                  ok: boolean;
                  detail?: string;
                };
                voices: {
                  id: string;
                  name: string;
                  language: string;
                }[];
              }[];
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/tts/normalize': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** What the loudspeaker will say for a text (numbers, dates and the commune’s abbreviations in words) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            text: string;
            commune?: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              text: string;
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/tts/preview': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Render a text as the commune’s notice would air (its dictionary, engines and loudness; chime, Opus), through the render cache */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            text: string;
            voice?: string;
            speed?: number;
            engine?: string;
            commune?: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              sha256: string;
              url: string;
              durationMs: number;
              engine: string;
              fallback: boolean;
              cached: boolean;
              integratedLufs: number;
              truePeakDbtp: number;
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        502: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/audio': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Upload audio (mp3, wav, m4a, ogg, flac, webm) as multipart field "file"; it is trimmed, loudness-normalised and stored as Opus
     * @description Normalised to the loudness target of the uploader’s commune; a province user may name one with `commune` (else the built-in target).
     */
    post: {
      parameters: {
        query?: {
          commune?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              sha256: string;
              url: string;
              durationMs: number;
              bytes: number;
              integratedLufs: number;
              truePeakDbtp: number;
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        413: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        415: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/content': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Search the content library (words in title, text or tags) */
    get: {
      parameters: {
        query?: {
          q?: string;
          kind?: 'notice' | 'audio' | 'stream' | 'silence';
          tag?: string;
          /** @description a commune id (province users choose; commune users: their own) */
          commune?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              communeId: string;
              kind: string;
              title: string;
              tags: string[];
              text: string | null;
              voice: string | null;
              speed: number | null;
              sha256: string | null;
              engine: string | null;
              url: string | null;
              durationMs: number;
              public: boolean;
              versions: {
                language: string;
                sha256: string;
                durationMs: number;
                title: string;
                text: string | null;
              }[];
              createdBy: string | null;
              /** Format: date-time */
              createdAt: string;
              /** Format: date-time */
              updatedAt: string;
              revision: number;
            }[];
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    put?: never;
    /** Add a notice (rendered now), uploaded audio, a stream relay or a silence to the library */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            kind: 'notice' | 'audio' | 'stream' | 'silence';
            title: string;
            tags?: string[];
            text?: string;
            voice?: string;
            speed?: number;
            sha256?: string;
            url?: string;
            durationMs?: number;
            /** @description the notice in other languages: each plays after the Vietnamese on the loudspeakers whose zones list its language, as its own occurrence */
            versions?: {
              language: string;
              /** @description sha256 of the uploaded or recorded file (POST /api/v1/audio) */
              audio: string;
              title?: string;
              text?: string;
            }[];
            /** @description notice and audio: shown on the commune’s public page once aired, as the approver confirms (default: a notice yes, uploaded audio no; an update without it keeps it) */
            public?: boolean;
            revision?: number;
            /** @description a commune id (province users choose; commune users: their own) */
            commune?: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              communeId: string;
              kind: string;
              title: string;
              tags: string[];
              text: string | null;
              voice: string | null;
              speed: number | null;
              sha256: string | null;
              engine: string | null;
              url: string | null;
              durationMs: number;
              public: boolean;
              versions: {
                language: string;
                sha256: string;
                durationMs: number;
                title: string;
                text: string | null;
              }[];
              createdBy: string | null;
              /** Format: date-time */
              createdAt: string;
              /** Format: date-time */
              updatedAt: string;
              revision: number;
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/content/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              communeId: string;
              kind: string;
              title: string;
              tags: string[];
              text: string | null;
              voice: string | null;
              speed: number | null;
              sha256: string | null;
              engine: string | null;
              url: string | null;
              durationMs: number;
              public: boolean;
              versions: {
                language: string;
                sha256: string;
                durationMs: number;
                title: string;
                text: string | null;
              }[];
              createdBy: string | null;
              /** Format: date-time */
              createdAt: string;
              /** Format: date-time */
              updatedAt: string;
              revision: number;
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    /** Change an item; approved schedules using it wait for approval again (publishers: at once) */
    put: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            kind: 'notice' | 'audio' | 'stream' | 'silence';
            title: string;
            tags?: string[];
            text?: string;
            voice?: string;
            speed?: number;
            sha256?: string;
            url?: string;
            durationMs?: number;
            /** @description the notice in other languages: each plays after the Vietnamese on the loudspeakers whose zones list its language, as its own occurrence */
            versions?: {
              language: string;
              /** @description sha256 of the uploaded or recorded file (POST /api/v1/audio) */
              audio: string;
              title?: string;
              text?: string;
            }[];
            /** @description notice and audio: shown on the commune’s public page once aired, as the approver confirms (default: a notice yes, uploaded audio no; an update without it keeps it) */
            public?: boolean;
            revision?: number;
            /** @description a commune id (province users choose; commune users: their own) */
            commune?: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              communeId: string;
              kind: string;
              title: string;
              tags: string[];
              text: string | null;
              voice: string | null;
              speed: number | null;
              sha256: string | null;
              engine: string | null;
              url: string | null;
              durationMs: number;
              public: boolean;
              versions: {
                language: string;
                sha256: string;
                durationMs: number;
                title: string;
                text: string | null;
              }[];
              createdBy: string | null;
              /** Format: date-time */
              createdAt: string;
              /** Format: date-time */
              updatedAt: string;
              revision: number;
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    post?: never;
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/programmes': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: {
      parameters: {
        query?: {
          /** @description a commune id (province users choose; commune users: their own) */
          commune?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              communeId: string;
              title: string;
              items: {
                contentId: string;
                title: string;
                kind: string;
                repeat: number;
                gapMs: number;
                durationMs: number;
              }[];
              durationMs: number;
              createdBy: string | null;
              /** Format: date-time */
              updatedAt: string;
              revision: number;
            }[];
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    put?: never;
    /** Create a programme: ordered items with per-item repeat and gap */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            title: string;
            items: {
              contentId: string;
              repeat?: number;
              gapMs?: number;
            }[];
            revision?: number;
            /** @description a commune id (province users choose; commune users: their own) */
            commune?: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              communeId: string;
              title: string;
              items: {
                contentId: string;
                title: string;
                kind: string;
                repeat: number;
                gapMs: number;
                durationMs: number;
              }[];
              durationMs: number;
              createdBy: string | null;
              /** Format: date-time */
              updatedAt: string;
              revision: number;
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/programmes/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              communeId: string;
              title: string;
              items: {
                contentId: string;
                title: string;
                kind: string;
                repeat: number;
                gapMs: number;
                durationMs: number;
              }[];
              durationMs: number;
              createdBy: string | null;
              /** Format: date-time */
              updatedAt: string;
              revision: number;
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    /** Change (e.g. reorder) a programme */
    put: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            title: string;
            items: {
              contentId: string;
              repeat?: number;
              gapMs?: number;
            }[];
            revision?: number;
            /** @description a commune id (province users choose; commune users: their own) */
            commune?: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              communeId: string;
              title: string;
              items: {
                contentId: string;
                title: string;
                kind: string;
                repeat: number;
                gapMs: number;
                durationMs: number;
              }[];
              durationMs: number;
              createdBy: string | null;
              /** Format: date-time */
              updatedAt: string;
              revision: number;
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    post?: never;
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/schedules': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: {
      parameters: {
        query?: {
          status?: 'draft' | 'submitted' | 'approved' | 'rejected' | 'cancelled';
          /** @description a commune id (province users choose; commune users: their own) */
          commune?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              communeId: string;
              title: string;
              programmeId: string;
              programmeTitle: string | null;
              rule: {
                kind: 'once' | 'daily' | 'weekly';
                startDate: string;
                endDate?: string;
                times: string[];
                weekdays?: number[];
              };
              timezone: string;
              priority: 'normal' | 'priority' | 'emergency';
              volume: number | null;
              repeat: number;
              repeatGapMs: number;
              zones: string[];
              devices: string[];
              status: 'draft' | 'submitted' | 'approved' | 'rejected' | 'cancelled';
              programmeChanged: boolean;
              reviewReason: string | null;
              reviewedBy: string | null;
              reviewedAt: string | null;
              revision: number;
              reviewRevision: string;
              createdBy: string | null;
              /** Format: date-time */
              createdAt: string;
              /** Format: date-time */
              updatedAt: string;
              durationMs: number;
              /** @description the items the public page will show once aired: frozen at approval; for a schedule awaiting approval, what approving it would confirm */
              publicTitles: string[];
            }[];
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    put?: never;
    /** Create a schedule (a draft); overlaps on any loudspeaker are refused with the list (409) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            title: string;
            programmeId: string;
            rule: {
              kind: 'once' | 'daily' | 'weekly';
              startDate: string;
              endDate?: string;
              times: string[];
              weekdays?: number[];
            };
            timezone?: string;
            priority?: 'normal' | 'priority' | 'emergency';
            volume?: number | null;
            repeat?: number;
            repeatGapMs?: number;
            zones?: string[];
            devices?: string[];
            onConflict?: 'reject' | 'priority';
            /** @description only a leader (approver or admin), for a single play; audited */
            overrideRules?: {
              reason: string;
            };
            revision?: number;
            /** @description a commune id (province users choose; commune users: their own) */
            commune?: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              communeId: string;
              title: string;
              programmeId: string;
              programmeTitle: string | null;
              rule: {
                kind: 'once' | 'daily' | 'weekly';
                startDate: string;
                endDate?: string;
                times: string[];
                weekdays?: number[];
              };
              timezone: string;
              priority: 'normal' | 'priority' | 'emergency';
              volume: number | null;
              repeat: number;
              repeatGapMs: number;
              zones: string[];
              devices: string[];
              status: 'draft' | 'submitted' | 'approved' | 'rejected' | 'cancelled';
              programmeChanged: boolean;
              reviewReason: string | null;
              reviewedBy: string | null;
              reviewedAt: string | null;
              revision: number;
              reviewRevision: string;
              createdBy: string | null;
              /** Format: date-time */
              createdAt: string;
              /** Format: date-time */
              updatedAt: string;
              durationMs: number;
              /** @description the items the public page will show once aired: frozen at approval; for a schedule awaiting approval, what approving it would confirm */
              publicTitles: string[];
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              conflicts?: {
                deviceIds: string[];
                otherScheduleId: string;
                otherTitle: string;
                otherPriority: 'normal' | 'priority' | 'emergency';
                start: string;
                end: string;
                otherStart: string;
                otherEnd: string;
              }[];
              total?: number;
              current?: unknown;
              ruleBreaks?: {
                rule: 'quietHours' | 'maxSessionMinutes' | 'maxSessionsPerDay';
                /** Format: date-time */
                startAt: string;
                message: string;
              }[];
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/schedules/conflicts': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Check a schedule for overlaps and for the commune’s broadcast rules it breaks, without saving it (for the calendar, before saving) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            title: string;
            programmeId: string;
            rule: {
              kind: 'once' | 'daily' | 'weekly';
              startDate: string;
              endDate?: string;
              times: string[];
              weekdays?: number[];
            };
            timezone?: string;
            priority?: 'normal' | 'priority' | 'emergency';
            volume?: number | null;
            repeat?: number;
            repeatGapMs?: number;
            zones?: string[];
            devices?: string[];
            onConflict?: 'reject' | 'priority';
            /** @description only a leader (approver or admin), for a single play; audited */
            overrideRules?: {
              reason: string;
            };
            revision?: number;
            /** @description a commune id (province users choose; commune users: their own) */
            commune?: string;
            id?: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              conflicts: {
                deviceIds: string[];
                otherScheduleId: string;
                otherTitle: string;
                otherPriority: 'normal' | 'priority' | 'emergency';
                start: string;
                end: string;
                otherStart: string;
                otherEnd: string;
              }[];
              total: number;
              /** @description the commune’s broadcast rules it breaks (quiet hours, limits); none for an emergency */
              ruleBreaks: {
                rule: 'quietHours' | 'maxSessionMinutes' | 'maxSessionsPerDay';
                /** Format: date-time */
                startAt: string;
                message: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/schedules/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              communeId: string;
              title: string;
              programmeId: string;
              programmeTitle: string | null;
              rule: {
                kind: 'once' | 'daily' | 'weekly';
                startDate: string;
                endDate?: string;
                times: string[];
                weekdays?: number[];
              };
              timezone: string;
              priority: 'normal' | 'priority' | 'emergency';
              volume: number | null;
              repeat: number;
              repeatGapMs: number;
              zones: string[];
              devices: string[];
              status: 'draft' | 'submitted' | 'approved' | 'rejected' | 'cancelled';
              programmeChanged: boolean;
              reviewReason: string | null;
              reviewedBy: string | null;
              reviewedAt: string | null;
              revision: number;
              reviewRevision: string;
              createdBy: string | null;
              /** Format: date-time */
              createdAt: string;
              /** Format: date-time */
              updatedAt: string;
              durationMs: number;
              /** @description the items the public page will show once aired: frozen at approval; for a schedule awaiting approval, what approving it would confirm */
              publicTitles: string[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    /** Change a schedule; it needs approval again unless a publisher changed it */
    put: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            title: string;
            programmeId: string;
            rule: {
              kind: 'once' | 'daily' | 'weekly';
              startDate: string;
              endDate?: string;
              times: string[];
              weekdays?: number[];
            };
            timezone?: string;
            priority?: 'normal' | 'priority' | 'emergency';
            volume?: number | null;
            repeat?: number;
            repeatGapMs?: number;
            zones?: string[];
            devices?: string[];
            onConflict?: 'reject' | 'priority';
            /** @description only a leader (approver or admin), for a single play; audited */
            overrideRules?: {
              reason: string;
            };
            revision?: number;
            /** @description a commune id (province users choose; commune users: their own) */
            commune?: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              communeId: string;
              title: string;
              programmeId: string;
              programmeTitle: string | null;
              rule: {
                kind: 'once' | 'daily' | 'weekly';
                startDate: string;
                endDate?: string;
                times: string[];
                weekdays?: number[];
              };
              timezone: string;
              priority: 'normal' | 'priority' | 'emergency';
              volume: number | null;
              repeat: number;
              repeatGapMs: number;
              zones: string[];
              devices: string[];
              status: 'draft' | 'submitted' | 'approved' | 'rejected' | 'cancelled';
              programmeChanged: boolean;
              reviewReason: string | null;
              reviewedBy: string | null;
              reviewedAt: string | null;
              revision: number;
              reviewRevision: string;
              createdBy: string | null;
              /** Format: date-time */
              createdAt: string;
              /** Format: date-time */
              updatedAt: string;
              durationMs: number;
              /** @description the items the public page will show once aired: frozen at approval; for a schedule awaiting approval, what approving it would confirm */
              publicTitles: string[];
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              conflicts?: {
                deviceIds: string[];
                otherScheduleId: string;
                otherTitle: string;
                otherPriority: 'normal' | 'priority' | 'emergency';
                start: string;
                end: string;
                otherStart: string;
                otherEnd: string;
              }[];
              total?: number;
              current?: unknown;
              ruleBreaks?: {
                rule: 'quietHours' | 'maxSessionMinutes' | 'maxSessionsPerDay';
                /** Format: date-time */
                startAt: string;
                message: string;
              }[];
            };
          };
        };
      };
    };
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/schedules/{id}/submit': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Submit for approval (a publisher’s submission goes on air at once) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              communeId: string;
              title: string;
              programmeId: string;
              programmeTitle: string | null;
              rule: {
                kind: 'once' | 'daily' | 'weekly';
                startDate: string;
                endDate?: string;
                times: string[];
                weekdays?: number[];
              };
              timezone: string;
              priority: 'normal' | 'priority' | 'emergency';
              volume: number | null;
              repeat: number;
              repeatGapMs: number;
              zones: string[];
              devices: string[];
              status: 'draft' | 'submitted' | 'approved' | 'rejected' | 'cancelled';
              programmeChanged: boolean;
              reviewReason: string | null;
              reviewedBy: string | null;
              reviewedAt: string | null;
              revision: number;
              reviewRevision: string;
              createdBy: string | null;
              /** Format: date-time */
              createdAt: string;
              /** Format: date-time */
              updatedAt: string;
              durationMs: number;
              /** @description the items the public page will show once aired: frozen at approval; for a schedule awaiting approval, what approving it would confirm */
              publicTitles: string[];
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/schedules/{id}/approve': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Approve exactly what was reviewed (body: its reviewRevision); 409 with the current schedule if anything changed */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            revision: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              communeId: string;
              title: string;
              programmeId: string;
              programmeTitle: string | null;
              rule: {
                kind: 'once' | 'daily' | 'weekly';
                startDate: string;
                endDate?: string;
                times: string[];
                weekdays?: number[];
              };
              timezone: string;
              priority: 'normal' | 'priority' | 'emergency';
              volume: number | null;
              repeat: number;
              repeatGapMs: number;
              zones: string[];
              devices: string[];
              status: 'draft' | 'submitted' | 'approved' | 'rejected' | 'cancelled';
              programmeChanged: boolean;
              reviewReason: string | null;
              reviewedBy: string | null;
              reviewedAt: string | null;
              revision: number;
              reviewRevision: string;
              createdBy: string | null;
              /** Format: date-time */
              createdAt: string;
              /** Format: date-time */
              updatedAt: string;
              durationMs: number;
              /** @description the items the public page will show once aired: frozen at approval; for a schedule awaiting approval, what approving it would confirm */
              publicTitles: string[];
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/schedules/{id}/reject': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Reject with a reason */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            reason: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              communeId: string;
              title: string;
              programmeId: string;
              programmeTitle: string | null;
              rule: {
                kind: 'once' | 'daily' | 'weekly';
                startDate: string;
                endDate?: string;
                times: string[];
                weekdays?: number[];
              };
              timezone: string;
              priority: 'normal' | 'priority' | 'emergency';
              volume: number | null;
              repeat: number;
              repeatGapMs: number;
              zones: string[];
              devices: string[];
              status: 'draft' | 'submitted' | 'approved' | 'rejected' | 'cancelled';
              programmeChanged: boolean;
              reviewReason: string | null;
              reviewedBy: string | null;
              reviewedAt: string | null;
              revision: number;
              reviewRevision: string;
              createdBy: string | null;
              /** Format: date-time */
              createdAt: string;
              /** Format: date-time */
              updatedAt: string;
              durationMs: number;
              /** @description the items the public page will show once aired: frozen at approval; for a schedule awaiting approval, what approving it would confirm */
              publicTitles: string[];
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/schedules/{id}/cancel': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Cancel the whole schedule: its future occurrences leave every plan (on air or emergency: approvers only) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              communeId: string;
              title: string;
              programmeId: string;
              programmeTitle: string | null;
              rule: {
                kind: 'once' | 'daily' | 'weekly';
                startDate: string;
                endDate?: string;
                times: string[];
                weekdays?: number[];
              };
              timezone: string;
              priority: 'normal' | 'priority' | 'emergency';
              volume: number | null;
              repeat: number;
              repeatGapMs: number;
              zones: string[];
              devices: string[];
              status: 'draft' | 'submitted' | 'approved' | 'rejected' | 'cancelled';
              programmeChanged: boolean;
              reviewReason: string | null;
              reviewedBy: string | null;
              reviewedAt: string | null;
              revision: number;
              reviewRevision: string;
              createdBy: string | null;
              /** Format: date-time */
              createdAt: string;
              /** Format: date-time */
              updatedAt: string;
              durationMs: number;
              /** @description the items the public page will show once aired: frozen at approval; for a schedule awaiting approval, what approving it would confirm */
              publicTitles: string[];
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/approvals': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The approval queue: submitted schedules and approved ones whose programme changed */
    get: {
      parameters: {
        query?: {
          /** @description a commune id (province users choose; commune users: their own) */
          commune?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              communeId: string;
              title: string;
              programmeId: string;
              programmeTitle: string | null;
              rule: {
                kind: 'once' | 'daily' | 'weekly';
                startDate: string;
                endDate?: string;
                times: string[];
                weekdays?: number[];
              };
              timezone: string;
              priority: 'normal' | 'priority' | 'emergency';
              volume: number | null;
              repeat: number;
              repeatGapMs: number;
              zones: string[];
              devices: string[];
              status: 'draft' | 'submitted' | 'approved' | 'rejected' | 'cancelled';
              programmeChanged: boolean;
              reviewReason: string | null;
              reviewedBy: string | null;
              reviewedAt: string | null;
              revision: number;
              reviewRevision: string;
              createdBy: string | null;
              /** Format: date-time */
              createdAt: string;
              /** Format: date-time */
              updatedAt: string;
              durationMs: number;
              /** @description the items the public page will show once aired: frozen at approval; for a schedule awaiting approval, what approving it would confirm */
              publicTitles: string[];
            }[];
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/calendar': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** What plays when (occurrences overlapping [from, to), at most 62 days) */
    get: {
      parameters: {
        query: {
          from: string;
          to: string;
          /** @description a commune id (province users choose; commune users: their own) */
          commune?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              occurrenceId: string;
              communeId: string;
              scheduleId: string | null;
              title: string;
              priority: 'normal' | 'priority' | 'emergency';
              start: string;
              end: string;
              cancelled: boolean;
              devices: number;
              finished: number;
              failed: number;
              /** @description the commune’s broadcast rules this play breaks (quiet hours, length, plays a day) */
              ruleBreaks: {
                rule: string;
                message: string;
              }[];
              /** @description a leader let this play through the rules, with a written reason */
              ruleOverride: {
                reason: string;
                by: string;
              } | null;
            }[];
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/reports/devices': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Per loudspeaker over [from, to) (default the last 30 days); `format=csv` downloads it */
    get: {
      parameters: {
        query?: {
          /** @description start, inclusive; default 30 days before to */
          from?: string;
          /** @description end, exclusive; default now */
          to?: string;
          format?: 'json' | 'csv';
          /** @description a commune id (province users choose; commune users: their own) */
          commune?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              /** Format: date-time */
              from: string;
              /** Format: date-time */
              to: string;
              devices: {
                deviceId: string;
                communeId: string;
                name: string;
                zones: string[];
                revoked: boolean;
                /** @description deliveries of non-cancelled occurrences starting in the period, up to now */
                broadcasts: number;
                finished: number;
                /** @description failed or skipped */
                failed: number;
                /** @description not started a minute after their planned start (offline, or no audio) */
                missed: number;
                /** @description not finished when someone stopped the broadcast: not a failure */
                stopped: number;
                /** @description finished / (broadcasts − stopped); null without any */
                successRate: number | null;
                /** @description summed duration of the finished ones */
                minutesOnAir: number;
                /** @description share of the observed part of the period (up to now, while the device existed) it was online */
                uptime: number | null;
              }[];
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/reports/communes': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The province roll-up: per commune, its loudspeakers online/offline now, broadcasts, success rate, minutes on air, last seen and bulletins played over [from, to); `format=csv` downloads it. A commune user gets their own commune’s row. */
    get: {
      parameters: {
        query?: {
          /** @description start, inclusive; default 30 days before to */
          from?: string;
          /** @description end, exclusive; default now */
          to?: string;
          format?: 'json' | 'csv';
          /** @description a commune id (province users choose; commune users: their own) */
          commune?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              /** Format: date-time */
              from: string;
              /** Format: date-time */
              to: string;
              communes: {
                communeId: string;
                name: string;
                /** @description active loudspeakers now */
                devices: number;
                /** @description of them online now */
                online: number;
                offline: number;
                /** Format: date-time */
                lastSeen: string | null;
                /** @description province bulletins that started on its loudspeakers in the period */
                bulletinsPlayed: number;
                /** @description deliveries of non-cancelled occurrences starting in the period, up to now */
                broadcasts: number;
                finished: number;
                /** @description failed or skipped */
                failed: number;
                /** @description not started a minute after their planned start (offline, or no audio) */
                missed: number;
                /** @description not finished when someone stopped the broadcast: not a failure */
                stopped: number;
                /** @description finished / (broadcasts − stopped); null without any */
                successRate: number | null;
                /** @description summed duration of the finished ones */
                minutesOnAir: number;
                /** @description share of the observed part of the period (up to now, while the device existed) it was online */
                uptime: number | null;
              }[];
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/reports/zones': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Per zone, over its current loudspeakers, over [from, to); `format=csv` downloads it */
    get: {
      parameters: {
        query?: {
          /** @description start, inclusive; default 30 days before to */
          from?: string;
          /** @description end, exclusive; default now */
          to?: string;
          format?: 'json' | 'csv';
          /** @description a commune id (province users choose; commune users: their own) */
          commune?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              /** Format: date-time */
              from: string;
              /** Format: date-time */
              to: string;
              zones: {
                zoneId: string;
                communeId: string;
                name: string;
                /** @description the zone's current devices counted */
                devices: number;
                /** @description deliveries of non-cancelled occurrences starting in the period, up to now */
                broadcasts: number;
                finished: number;
                /** @description failed or skipped */
                failed: number;
                /** @description not started a minute after their planned start (offline, or no audio) */
                missed: number;
                /** @description not finished when someone stopped the broadcast: not a failure */
                stopped: number;
                /** @description finished / (broadcasts − stopped); null without any */
                successRate: number | null;
                /** @description summed duration of the finished ones */
                minutesOnAir: number;
                /** @description share of the observed part of the period (up to now, while the device existed) it was online */
                uptime: number | null;
              }[];
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/devices/{id}/volume': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Set the loudspeaker volume (0–100); answers with the device’s ack when it comes within 3 s */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            level: number;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              commandId: string;
              /** @description "sent": no answer within 3 s (the device gets it when it connects, within 5 minutes) */
              result: 'finished' | 'skipped' | 'failed' | 'sent';
              detail: string | null;
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/devices/{id}/amp': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Switch the amplifier relay on (stays on) or off (now) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            on: boolean;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              commandId: string;
              /** @description "sent": no answer within 3 s (the device gets it when it connects, within 5 minutes) */
              result: 'finished' | 'skipped' | 'failed' | 'sent';
              detail: string | null;
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/devices/{id}/test-tone': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Play a 3-second 1 kHz test tone on this loudspeaker now (followed like a broadcast) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              occurrenceId: string;
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/occurrences/{id}/stop': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Stop a broadcast for good: on every loudspeaker where it still waits or plays, and in every plan */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              devices: string[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/settings': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The commune’s settings in force, where each comes from; keys only as set / not set */
    get: {
      parameters: {
        query?: {
          commune?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              loudness: {
                integratedLufs: number;
                truePeakDb: number;
                source: 'default' | 'environment' | 'saved';
                /** Format: date-time */
                updatedAt: string | null;
                updatedBy: string | null;
              };
              engines: {
                order: string[];
                source: 'default' | 'environment' | 'saved';
                /** Format: date-time */
                updatedAt: string | null;
                updatedBy: string | null;
                available: {
                  id: string;
                  ready: boolean;
                  problem: string | null;
                }[];
              };
              publicPage: {
                contact: string | null;
                /** Format: date-time */
                updatedAt: string | null;
                updatedBy: string | null;
              };
              rules: {
                quietHours: {
                  start: string;
                  end: string;
                } | null;
                maxSessionMinutes: number | null;
                maxSessionsPerDay: number | null;
                volumeByTime: {
                  from: string;
                  to: string;
                  volume: number;
                }[];
                source: 'default' | 'environment' | 'saved';
                /** Format: date-time */
                updatedAt: string | null;
                updatedBy: string | null;
              };
              alertRules: {
                rules: {
                  /** @description words the alert’s event contains (any of them; case and accents ignored), e.g. "lũ", "bão" */
                  events?: string[];
                  /** @description CAP categories (any of them) */
                  categories?: (
                    | 'Geo'
                    | 'Met'
                    | 'Safety'
                    | 'Security'
                    | 'Rescue'
                    | 'Fire'
                    | 'Health'
                    | 'Env'
                    | 'Transport'
                    | 'Infra'
                    | 'CBRNE'
                    | 'Other'
                  )[];
                  /** @description CAP severities (any of them) */
                  severities?: ('Extreme' | 'Severe' | 'Moderate' | 'Minor' | 'Unknown')[];
                  /** @description CAP urgencies (any of them) */
                  urgencies?: ('Immediate' | 'Expected' | 'Future' | 'Past' | 'Unknown')[];
                  /** @description CAP certainties (any of them) */
                  certainties?: ('Observed' | 'Likely' | 'Possible' | 'Unlikely' | 'Unknown')[];
                  /** @description auto: broadcast at once; confirm: a leader taps Phát ngay; show: on the Alerts page only */
                  decision: 'auto' | 'confirm' | 'show';
                  /** @description minutes before the first airing, between the first and the second, …; the last gap repeats until the alert ends */
                  repeatsMinutes?: number[];
                  /** @description a Cancel of the alert is broadcast as an all-clear */
                  allClear?: boolean;
                }[];
                source: 'default' | 'environment' | 'saved';
                /** Format: date-time */
                updatedAt: string | null;
                updatedBy: string | null;
              };
              credentials: {
                fpt: {
                  apiKey: {
                    set: boolean;
                    source: 'environment' | 'saved' | (never | null);
                    /** Format: date-time */
                    updatedAt: string | null;
                    updatedBy: string | null;
                  };
                };
                viettel: {
                  apiKey: {
                    set: boolean;
                    source: 'environment' | 'saved' | (never | null);
                    /** Format: date-time */
                    updatedAt: string | null;
                    updatedBy: string | null;
                  };
                };
                vbee: {
                  apiKey: {
                    set: boolean;
                    source: 'environment' | 'saved' | (never | null);
                    /** Format: date-time */
                    updatedAt: string | null;
                    updatedBy: string | null;
                  };
                  appId: {
                    value: string | null;
                    source: 'environment' | 'saved' | (never | null);
                    /** Format: date-time */
                    updatedAt: string | null;
                    updatedBy: string | null;
                  };
                };
                zalo: {
                  apiKey: {
                    set: boolean;
                    source: 'environment' | 'saved' | (never | null);
                    /** Format: date-time */
                    updatedAt: string | null;
                    updatedBy: string | null;
                  };
                };
                google: {
                  apiKey: {
                    set: boolean;
                    source: 'environment' | 'saved' | (never | null);
                    /** Format: date-time */
                    updatedAt: string | null;
                    updatedBy: string | null;
                  };
                };
                azure: {
                  apiKey: {
                    set: boolean;
                    source: 'environment' | 'saved' | (never | null);
                    /** Format: date-time */
                    updatedAt: string | null;
                    updatedBy: string | null;
                  };
                  region: {
                    value: string | null;
                    source: 'environment' | 'saved' | (never | null);
                    /** Format: date-time */
                    updatedAt: string | null;
                    updatedBy: string | null;
                  };
                };
              };
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    /** Change some of the commune’s settings (only the fields given; null returns one to the server’s environment value). Applies at once. */
    put: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            loudness?: {
              integratedLufs?: number;
              truePeakDb?: number;
            } | null;
            /** @description Engine ids in fallback order: fpt, viettel, vbee, zalo, google, azure, piper, espeak */
            engines?: string[] | null;
            rules?: {
              quietHours?: {
                /** @description HH:MM, the commune’s local time */
                start: string;
                /** @description HH:MM, the commune’s local time */
                end: string;
              } | null;
              maxSessionMinutes?: number | null;
              maxSessionsPerDay?: number | null;
              volumeByTime?: {
                /** @description HH:MM, the commune’s local time */
                from: string;
                /** @description HH:MM, the commune’s local time */
                to: string;
                volume: number;
              }[];
            } | null;
            /** @description disaster alert rules, tried in order (the first that fits decides); null: the default rule alone */
            alertRules?:
              | {
                  /** @description words the alert’s event contains (any of them; case and accents ignored), e.g. "lũ", "bão" */
                  events?: string[];
                  /** @description CAP categories (any of them) */
                  categories?: (
                    | 'Geo'
                    | 'Met'
                    | 'Safety'
                    | 'Security'
                    | 'Rescue'
                    | 'Fire'
                    | 'Health'
                    | 'Env'
                    | 'Transport'
                    | 'Infra'
                    | 'CBRNE'
                    | 'Other'
                  )[];
                  /** @description CAP severities (any of them) */
                  severities?: ('Extreme' | 'Severe' | 'Moderate' | 'Minor' | 'Unknown')[];
                  /** @description CAP urgencies (any of them) */
                  urgencies?: ('Immediate' | 'Expected' | 'Future' | 'Past' | 'Unknown')[];
                  /** @description CAP certainties (any of them) */
                  certainties?: ('Observed' | 'Likely' | 'Possible' | 'Unlikely' | 'Unknown')[];
                  /** @description auto: broadcast at once; confirm: a leader taps Phát ngay; show: on the Alerts page only */
                  decision: 'auto' | 'confirm' | 'show';
                  /** @description minutes before the first airing, between the first and the second, …; the last gap repeats until the alert ends */
                  repeatsMinutes?: number[];
                  /** @description a Cancel of the alert is broadcast as an all-clear */
                  allClear?: boolean;
                }[]
              | null;
            publicPage?: {
              /** @description who villagers contact, shown on the public page (phone, address) */
              contact?: string | null;
            };
            credentials?: {
              fpt?: {
                apiKey?: string | null;
              };
              viettel?: {
                apiKey?: string | null;
              };
              vbee?: {
                apiKey?: string | null;
                appId?: string | null;
              };
              zalo?: {
                apiKey?: string | null;
              };
              google?: {
                apiKey?: string | null;
              };
              azure?: {
                apiKey?: string | null;
                region?: string | null;
              };
            };
            commune?: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              loudness: {
                integratedLufs: number;
                truePeakDb: number;
                source: 'default' | 'environment' | 'saved';
                /** Format: date-time */
                updatedAt: string | null;
                updatedBy: string | null;
              };
              engines: {
                order: string[];
                source: 'default' | 'environment' | 'saved';
                /** Format: date-time */
                updatedAt: string | null;
                updatedBy: string | null;
                available: {
                  id: string;
                  ready: boolean;
                  problem: string | null;
                }[];
              };
              publicPage: {
                contact: string | null;
                /** Format: date-time */
                updatedAt: string | null;
                updatedBy: string | null;
              };
              rules: {
                quietHours: {
                  start: string;
                  end: string;
                } | null;
                maxSessionMinutes: number | null;
                maxSessionsPerDay: number | null;
                volumeByTime: {
                  from: string;
                  to: string;
                  volume: number;
                }[];
                source: 'default' | 'environment' | 'saved';
                /** Format: date-time */
                updatedAt: string | null;
                updatedBy: string | null;
              };
              alertRules: {
                rules: {
                  /** @description words the alert’s event contains (any of them; case and accents ignored), e.g. "lũ", "bão" */
                  events?: string[];
                  /** @description CAP categories (any of them) */
                  categories?: (
                    | 'Geo'
                    | 'Met'
                    | 'Safety'
                    | 'Security'
                    | 'Rescue'
                    | 'Fire'
                    | 'Health'
                    | 'Env'
                    | 'Transport'
                    | 'Infra'
                    | 'CBRNE'
                    | 'Other'
                  )[];
                  /** @description CAP severities (any of them) */
                  severities?: ('Extreme' | 'Severe' | 'Moderate' | 'Minor' | 'Unknown')[];
                  /** @description CAP urgencies (any of them) */
                  urgencies?: ('Immediate' | 'Expected' | 'Future' | 'Past' | 'Unknown')[];
                  /** @description CAP certainties (any of them) */
                  certainties?: ('Observed' | 'Likely' | 'Possible' | 'Unlikely' | 'Unknown')[];
                  /** @description auto: broadcast at once; confirm: a leader taps Phát ngay; show: on the Alerts page only */
                  decision: 'auto' | 'confirm' | 'show';
                  /** @description minutes before the first airing, between the first and the second, …; the last gap repeats until the alert ends */
                  repeatsMinutes?: number[];
                  /** @description a Cancel of the alert is broadcast as an all-clear */
                  allClear?: boolean;
                }[];
                source: 'default' | 'environment' | 'saved';
                /** Format: date-time */
                updatedAt: string | null;
                updatedBy: string | null;
              };
              credentials: {
                fpt: {
                  apiKey: {
                    set: boolean;
                    source: 'environment' | 'saved' | (never | null);
                    /** Format: date-time */
                    updatedAt: string | null;
                    updatedBy: string | null;
                  };
                };
                viettel: {
                  apiKey: {
                    set: boolean;
                    source: 'environment' | 'saved' | (never | null);
                    /** Format: date-time */
                    updatedAt: string | null;
                    updatedBy: string | null;
                  };
                };
                vbee: {
                  apiKey: {
                    set: boolean;
                    source: 'environment' | 'saved' | (never | null);
                    /** Format: date-time */
                    updatedAt: string | null;
                    updatedBy: string | null;
                  };
                  appId: {
                    value: string | null;
                    source: 'environment' | 'saved' | (never | null);
                    /** Format: date-time */
                    updatedAt: string | null;
                    updatedBy: string | null;
                  };
                };
                zalo: {
                  apiKey: {
                    set: boolean;
                    source: 'environment' | 'saved' | (never | null);
                    /** Format: date-time */
                    updatedAt: string | null;
                    updatedBy: string | null;
                  };
                };
                google: {
                  apiKey: {
                    set: boolean;
                    source: 'environment' | 'saved' | (never | null);
                    /** Format: date-time */
                    updatedAt: string | null;
                    updatedBy: string | null;
                  };
                };
                azure: {
                  apiKey: {
                    set: boolean;
                    source: 'environment' | 'saved' | (never | null);
                    /** Format: date-time */
                    updatedAt: string | null;
                    updatedBy: string | null;
                  };
                  region: {
                    value: string | null;
                    source: 'environment' | 'saved' | (never | null);
                    /** Format: date-time */
                    updatedAt: string | null;
                    updatedBy: string | null;
                  };
                };
              };
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/tts/engines/{id}/test': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Speak a short phrase with one of the commune’s engines (in its order or not) and say whether it worked */
    post: {
      parameters: {
        query?: {
          commune?: string;
        };
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              engine: string;
              ok: boolean;
              durationMs: number | null;
              error: string | null;
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/communes': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The communes you may see: all of the province for a province user, your own for a commune user */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              name: string;
              /** @description codes an alert’s <geocode> reaches this zone by: the value ("137") or scheme=value ("MA_DVHC=137"); its loudspeakers are reached even without a map position */
              geocodes: string[];
              revision: number;
              /** Format: date-time */
              createdAt: string;
            }[];
          };
        };
      };
    };
    put?: never;
    /** Create a commune (province admin); its id is made from the name */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              name: string;
              /** @description codes an alert’s <geocode> reaches this zone by: the value ("137") or scheme=value ("MA_DVHC=137"); its loudspeakers are reached even without a map position */
              geocodes: string[];
              revision: number;
              /** Format: date-time */
              createdAt: string;
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/communes/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** One commune */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              name: string;
              /** @description codes an alert’s <geocode> reaches this zone by: the value ("137") or scheme=value ("MA_DVHC=137"); its loudspeakers are reached even without a map position */
              geocodes: string[];
              revision: number;
              /** Format: date-time */
              createdAt: string;
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    /** Rename a commune and/or set the codes disaster alerts reach all its loudspeakers by (compare-and-set on `revision`: 409 with `current` if someone changed it first) */
    patch: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name?: string;
            /** @description codes an alert’s <geocode> reaches this zone by: the value ("137") or scheme=value ("MA_DVHC=137"); its loudspeakers are reached even without a map position */
            geocodes?: string[];
            revision: number;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              name: string;
              /** @description codes an alert’s <geocode> reaches this zone by: the value ("137") or scheme=value ("MA_DVHC=137"); its loudspeakers are reached even without a map position */
              geocodes: string[];
              revision: number;
              /** Format: date-time */
              createdAt: string;
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    trace?: never;
  };
  '/api/v1/bulletins': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Bulletins from the province, newest first: all for a province user, a commune’s inbox for a commune user */
    get: {
      parameters: {
        query?: {
          /** @description 1 to 999 */
          limit?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              title: string;
              text: string | null;
              priority: 'normal' | 'priority' | 'emergency';
              status: 'submitted' | 'sent' | 'rejected' | 'cancelled';
              allCommunes: boolean;
              sha256: string;
              durationMs: number;
              /** Format: date-time */
              expiresAt: string | null;
              /** @description shown on the communes’ public pages and podcasts once aired */
              public: boolean;
              reviewReason: string | null;
              reviewedBy: string | null;
              /** Format: date-time */
              sentAt: string | null;
              createdBy: string;
              /** Format: date-time */
              createdAt: string;
              revision: number;
              communes: {
                communeId: string;
                name: string;
                status: 'received' | 'scheduled' | 'aired' | 'declined';
                declineReason: string | null;
                detail: string | null;
                handledBy: string | null;
                /** Format: date-time */
                handledAt: string | null;
                revision: number;
                occurrences: {
                  id: string;
                  /** Format: date-time */
                  startAt: string;
                }[];
                devices: number;
                played: number;
                failed: number;
                deliveries?: {
                  deviceId: string;
                  occurrenceId: string;
                  stage: string;
                  /** Format: date-time */
                  at: string | null;
                  detail: string | null;
                }[];
              }[];
            }[];
          };
        };
      };
    };
    put?: never;
    /**
     * Write a bulletin for all or chosen communes with a TT39 priority (province)
     * @description Give `text` (spoken by the TTS) or `audio` (the sha256 of an uploaded file). A province approver’s or admin’s bulletin is sent at once; an editor’s waits for approval (POST /bulletins/{id}/approve). `normal` lands in each commune’s inbox; `priority` is placed just ahead of each commune’s next scheduled programme; `emergency` plays at once on every loudspeaker of the communes, preempting, and reaches loudspeakers that come back online until `expiresAt` (default one hour).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            title?: string;
            text?: string;
            audio?: string;
            priority: 'normal' | 'priority' | 'emergency';
            communes: 'all' | string[];
            /** Format: date-time */
            expiresAt?: string;
            voice?: string;
            /** @description shown on the communes’ public pages once aired (default: yes for text, no for audio) */
            public?: boolean;
            speed?: number;
          };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              title: string;
              text: string | null;
              priority: 'normal' | 'priority' | 'emergency';
              status: 'submitted' | 'sent' | 'rejected' | 'cancelled';
              allCommunes: boolean;
              sha256: string;
              durationMs: number;
              /** Format: date-time */
              expiresAt: string | null;
              /** @description shown on the communes’ public pages and podcasts once aired */
              public: boolean;
              reviewReason: string | null;
              reviewedBy: string | null;
              /** Format: date-time */
              sentAt: string | null;
              createdBy: string;
              /** Format: date-time */
              createdAt: string;
              revision: number;
              communes: {
                communeId: string;
                name: string;
                status: 'received' | 'scheduled' | 'aired' | 'declined';
                declineReason: string | null;
                detail: string | null;
                handledBy: string | null;
                /** Format: date-time */
                handledAt: string | null;
                revision: number;
                occurrences: {
                  id: string;
                  /** Format: date-time */
                  startAt: string;
                }[];
                devices: number;
                played: number;
                failed: number;
                deliveries?: {
                  deviceId: string;
                  occurrenceId: string;
                  stage: string;
                  /** Format: date-time */
                  at: string | null;
                  detail: string | null;
                }[];
              }[];
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/bulletins/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** One bulletin: each commune’s handling (received/scheduled/aired/declined) and per-device deliveries */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              title: string;
              text: string | null;
              priority: 'normal' | 'priority' | 'emergency';
              status: 'submitted' | 'sent' | 'rejected' | 'cancelled';
              allCommunes: boolean;
              sha256: string;
              durationMs: number;
              /** Format: date-time */
              expiresAt: string | null;
              /** @description shown on the communes’ public pages and podcasts once aired */
              public: boolean;
              reviewReason: string | null;
              reviewedBy: string | null;
              /** Format: date-time */
              sentAt: string | null;
              createdBy: string;
              /** Format: date-time */
              createdAt: string;
              revision: number;
              communes: {
                communeId: string;
                name: string;
                status: 'received' | 'scheduled' | 'aired' | 'declined';
                declineReason: string | null;
                detail: string | null;
                handledBy: string | null;
                /** Format: date-time */
                handledAt: string | null;
                revision: number;
                occurrences: {
                  id: string;
                  /** Format: date-time */
                  startAt: string;
                }[];
                devices: number;
                played: number;
                failed: number;
                deliveries?: {
                  deviceId: string;
                  occurrenceId: string;
                  stage: string;
                  /** Format: date-time */
                  at: string | null;
                  detail: string | null;
                }[];
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/bulletins/{id}/approve': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Approve a submitted bulletin and send it (compare-and-set on `revision`) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            revision: number;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              title: string;
              text: string | null;
              priority: 'normal' | 'priority' | 'emergency';
              status: 'submitted' | 'sent' | 'rejected' | 'cancelled';
              allCommunes: boolean;
              sha256: string;
              durationMs: number;
              /** Format: date-time */
              expiresAt: string | null;
              /** @description shown on the communes’ public pages and podcasts once aired */
              public: boolean;
              reviewReason: string | null;
              reviewedBy: string | null;
              /** Format: date-time */
              sentAt: string | null;
              createdBy: string;
              /** Format: date-time */
              createdAt: string;
              revision: number;
              communes: {
                communeId: string;
                name: string;
                status: 'received' | 'scheduled' | 'aired' | 'declined';
                declineReason: string | null;
                detail: string | null;
                handledBy: string | null;
                /** Format: date-time */
                handledAt: string | null;
                revision: number;
                occurrences: {
                  id: string;
                  /** Format: date-time */
                  startAt: string;
                }[];
                devices: number;
                played: number;
                failed: number;
                deliveries?: {
                  deviceId: string;
                  occurrenceId: string;
                  stage: string;
                  /** Format: date-time */
                  at: string | null;
                  detail: string | null;
                }[];
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/bulletins/{id}/reject': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Reject a submitted bulletin with a reason (compare-and-set on `revision`) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            revision: number;
            reason: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              title: string;
              text: string | null;
              priority: 'normal' | 'priority' | 'emergency';
              status: 'submitted' | 'sent' | 'rejected' | 'cancelled';
              allCommunes: boolean;
              sha256: string;
              durationMs: number;
              /** Format: date-time */
              expiresAt: string | null;
              /** @description shown on the communes’ public pages and podcasts once aired */
              public: boolean;
              reviewReason: string | null;
              reviewedBy: string | null;
              /** Format: date-time */
              sentAt: string | null;
              createdBy: string;
              /** Format: date-time */
              createdAt: string;
              revision: number;
              communes: {
                communeId: string;
                name: string;
                status: 'received' | 'scheduled' | 'aired' | 'declined';
                declineReason: string | null;
                detail: string | null;
                handledBy: string | null;
                /** Format: date-time */
                handledAt: string | null;
                revision: number;
                occurrences: {
                  id: string;
                  /** Format: date-time */
                  startAt: string;
                }[];
                devices: number;
                played: number;
                failed: number;
                deliveries?: {
                  deviceId: string;
                  occurrenceId: string;
                  stage: string;
                  /** Format: date-time */
                  at: string | null;
                  detail: string | null;
                }[];
              }[];
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/bulletins/{id}/place': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Place a bulletin from the commune’s inbox at a time on the commune’s zones
     * @description `revision` is the commune’s row revision (GET /bulletins/{id} → communes[].revision). A province user names the `commune` it acts for.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            commune?: string;
            /** Format: date-time */
            at: string;
            zones: 'all' | string[];
            revision: number;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              title: string;
              text: string | null;
              priority: 'normal' | 'priority' | 'emergency';
              status: 'submitted' | 'sent' | 'rejected' | 'cancelled';
              allCommunes: boolean;
              sha256: string;
              durationMs: number;
              /** Format: date-time */
              expiresAt: string | null;
              /** @description shown on the communes’ public pages and podcasts once aired */
              public: boolean;
              reviewReason: string | null;
              reviewedBy: string | null;
              /** Format: date-time */
              sentAt: string | null;
              createdBy: string;
              /** Format: date-time */
              createdAt: string;
              revision: number;
              communes: {
                communeId: string;
                name: string;
                status: 'received' | 'scheduled' | 'aired' | 'declined';
                declineReason: string | null;
                detail: string | null;
                handledBy: string | null;
                /** Format: date-time */
                handledAt: string | null;
                revision: number;
                occurrences: {
                  id: string;
                  /** Format: date-time */
                  startAt: string;
                }[];
                devices: number;
                played: number;
                failed: number;
                deliveries?: {
                  deviceId: string;
                  occurrenceId: string;
                  stage: string;
                  /** Format: date-time */
                  at: string | null;
                  detail: string | null;
                }[];
              }[];
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/bulletins/{id}/decline': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Decline a bulletin in the commune’s inbox, with a reason the province sees */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            commune?: string;
            reason: string;
            revision: number;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              title: string;
              text: string | null;
              priority: 'normal' | 'priority' | 'emergency';
              status: 'submitted' | 'sent' | 'rejected' | 'cancelled';
              allCommunes: boolean;
              sha256: string;
              durationMs: number;
              /** Format: date-time */
              expiresAt: string | null;
              /** @description shown on the communes’ public pages and podcasts once aired */
              public: boolean;
              reviewReason: string | null;
              reviewedBy: string | null;
              /** Format: date-time */
              sentAt: string | null;
              createdBy: string;
              /** Format: date-time */
              createdAt: string;
              revision: number;
              communes: {
                communeId: string;
                name: string;
                status: 'received' | 'scheduled' | 'aired' | 'declined';
                declineReason: string | null;
                detail: string | null;
                handledBy: string | null;
                /** Format: date-time */
                handledAt: string | null;
                revision: number;
                occurrences: {
                  id: string;
                  /** Format: date-time */
                  startAt: string;
                }[];
                devices: number;
                played: number;
                failed: number;
                deliveries?: {
                  deviceId: string;
                  occurrenceId: string;
                  stage: string;
                  /** Format: date-time */
                  at: string | null;
                  detail: string | null;
                }[];
              }[];
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/alerts/refused': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** CAP files refused whole (malformed or hostile), newest first: where from and why */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              /** Format: date-time */
              at: string;
              /** @description the file’s URL */
              source: string;
              /** @description where in the XML the problem is */
              path: string | null;
              reason: string;
            }[];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/alerts/feeds': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The CAP feeds polled, where each comes from and how its last read went */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              url: string;
              /** @description environment: LOAXA_CAP_FEEDS (changed there); saved: added in Settings */
              source: 'environment' | 'saved';
              savedBy: string | null;
              /** Format: date-time */
              savedAt: string | null;
              /** Format: date-time */
              polledAt: string | null;
              /** Format: date-time */
              okAt: string | null;
              error: string | null;
              /** @description reads failed in a row (the feed backs off, doubling up to 30 min) */
              failures: number;
              /**
               * Format: date-time
               * @description not read again before this while backing off
               */
              nextAt: string | null;
            }[];
          };
        };
      };
    };
    put?: never;
    /** Poll one more CAP feed (read at once, then every LOAXA_CAP_POLL_S seconds); province only */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /**
             * Format: uri
             * @description an http(s) URL serving a CAP 1.2 file, or an RSS/Atom index linking CAP files
             */
            url: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              url: string;
              /** @description environment: LOAXA_CAP_FEEDS (changed there); saved: added in Settings */
              source: 'environment' | 'saved';
              savedBy: string | null;
              /** Format: date-time */
              savedAt: string | null;
              /** Format: date-time */
              polledAt: string | null;
              /** Format: date-time */
              okAt: string | null;
              error: string | null;
              /** @description reads failed in a row (the feed backs off, doubling up to 30 min) */
              failures: number;
              /**
               * Format: date-time
               * @description not read again before this while backing off
               */
              nextAt: string | null;
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    /** Stop polling a feed added in Settings (those of LOAXA_CAP_FEEDS stay); province only */
    delete: {
      parameters: {
        query: {
          /** @description an http(s) URL serving a CAP 1.2 file, or an RSS/Atom index linking CAP files */
          url: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        /** @description Default Response */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/alerts': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Disaster alerts (CAP), newest first, with each commune’s decision, loudspeakers and plays */
    get: {
      parameters: {
        query?: {
          limit?: number;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              sender: string;
              identifier: string;
              /** Format: date-time */
              sentAt: string;
              msgType: string;
              /** @description CAP status: only Actual alerts go on air */
              status: string;
              state: 'active' | 'replaced' | 'cancelled' | 'expired' | 'not-actual';
              event: string;
              /** @description CAP categories (Met, Geo, Safety, …) */
              categories: string[];
              severity: string;
              urgency: string;
              certainty: string;
              /** @description risk level (Decision 18/2021) */
              level: number;
              headline: string | null;
              description: string | null;
              instruction: string | null;
              /** Format: date-time */
              expiresAt: string | null;
              areas: {
                areaDesc: string;
                polygons: number[][][];
                circles: {
                  lat: number;
                  lon: number;
                  radiusKm: number;
                }[];
                geocodes: {
                  valueName: string;
                  value: string;
                }[];
              }[];
              /** Format: date-time */
              receivedAt: string;
              replaces: string | null;
              communes: {
                communeId: string;
                communeName: string;
                decision: 'auto' | 'confirm' | 'show';
                /** @description the index of the commune’s alert rule that decided (Settings); null: the default rule */
                rule: number | null;
                /** @description a Cancel is followed by an all-clear here (or this is that all-clear) */
                allClear: boolean;
                status: 'waiting' | 'airing' | 'done' | 'dismissed';
                /** @description loudspeakers of the commune inside the alert’s area */
                devices: number;
                repeatsDone: number;
                /** Format: date-time */
                nextAt: string | null;
                decidedBy: string | null;
                revision: number;
                occurrences: {
                  id: string;
                  /** Format: date-time */
                  startAt: string;
                }[];
              }[];
            }[];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/alerts/{id}/confirm': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Air an alert that waits for a leader’s confirmation in a commune (compare-and-set on revision) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            revision: number;
            /** @description a commune id (province users choose; commune users: their own) */
            commune?: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              communeId: string;
              communeName: string;
              decision: 'auto' | 'confirm' | 'show';
              /** @description the index of the commune’s alert rule that decided (Settings); null: the default rule */
              rule: number | null;
              /** @description a Cancel is followed by an all-clear here (or this is that all-clear) */
              allClear: boolean;
              status: 'waiting' | 'airing' | 'done' | 'dismissed';
              /** @description loudspeakers of the commune inside the alert’s area */
              devices: number;
              repeatsDone: number;
              /** Format: date-time */
              nextAt: string | null;
              decidedBy: string | null;
              revision: number;
              occurrences: {
                id: string;
                /** Format: date-time */
                startAt: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/alerts/{id}/dismiss': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Dismiss an alert that waits for confirmation in a commune: it does not go on air */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            revision: number;
            /** @description a commune id (province users choose; commune users: their own) */
            commune?: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              communeId: string;
              communeName: string;
              decision: 'auto' | 'confirm' | 'show';
              /** @description the index of the commune’s alert rule that decided (Settings); null: the default rule */
              rule: number | null;
              /** @description a Cancel is followed by an all-clear here (or this is that all-clear) */
              allClear: boolean;
              status: 'waiting' | 'airing' | 'done' | 'dismissed';
              /** @description loudspeakers of the commune inside the alert’s area */
              devices: number;
              repeatsDone: number;
              /** Format: date-time */
              nextAt: string | null;
              decidedBy: string | null;
              revision: number;
              occurrences: {
                id: string;
                /** Format: date-time */
                startAt: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/live': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Live sessions on air */
    get: {
      parameters: {
        query?: {
          /** @description a commune id (province users choose; commune users: their own) */
          commune?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              communeId: string;
              title: string;
              priority: 'normal' | 'priority' | 'emergency';
              zones: string[];
              /** @description browser: the officer’s console over the WebSocket; line-in: the office microphone on the server */
              source: 'browser' | 'line-in';
              /** @description capture to loudspeaker on the server’s clock */
              latencyMs: number;
              maxDurationMs: number;
              startedBy: string;
              /** Format: date-time */
              startedAt: string;
              /** Format: date-time */
              endedAt: string | null;
              endReason: 'stopped' | 'silence' | 'max-duration' | 'dropped' | 'preempted' | 'restart' | (never | null);
              endedBy: string | null;
              occurrenceId: string | null;
              devices: number;
              frames: number;
              recording: {
                sha256: string;
                url: string;
                durationMs: number;
              } | null;
              /** @description set when a province officer went live to several communes at once: one session per commune */
              groupId: string | null;
              /** @description the other sessions of its group the caller may see */
              group: {
                id: string;
                communeId: string;
                zones: string[];
                devices: number;
                /** Format: date-time */
                endedAt: string | null;
                endReason:
                  'stopped' | 'silence' | 'max-duration' | 'dropped' | 'preempted' | 'restart' | (never | null);
                endedBy: string | null;
              }[];
              revision: number;
            }[];
          };
        };
      };
    };
    put?: never;
    /** Go live to zones: one session per zone; an emergency (broadcasts:emergency) preempts a normal one. Then send the audio over the WebSocket /api/v1/live/{id}/audio. A province user who names no commune may choose zones of several: one session per commune (its `group`), fed by one socket. */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            zones: string[];
            priority?: 'normal' | 'emergency';
            title?: string;
            /** @description play-out delay budget; 400 default, 200 low latency */
            latencyMs?: number;
            /** @description a commune id (province users choose; commune users: their own) */
            commune?: string;
            /** @description only a leader (approver or admin), for a single play; audited */
            overrideRules?: {
              reason: string;
            };
            /** @description browser (default): send the audio over the WebSocket; line-in: the office microphone on the server machine (LOAXA_LIVE_CAPTURE_DEVICE) speaks at once */
            source?: 'browser' | 'line-in';
          };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              communeId: string;
              title: string;
              priority: 'normal' | 'priority' | 'emergency';
              zones: string[];
              /** @description browser: the officer’s console over the WebSocket; line-in: the office microphone on the server */
              source: 'browser' | 'line-in';
              /** @description capture to loudspeaker on the server’s clock */
              latencyMs: number;
              maxDurationMs: number;
              startedBy: string;
              /** Format: date-time */
              startedAt: string;
              /** Format: date-time */
              endedAt: string | null;
              endReason: 'stopped' | 'silence' | 'max-duration' | 'dropped' | 'preempted' | 'restart' | (never | null);
              endedBy: string | null;
              occurrenceId: string | null;
              devices: number;
              frames: number;
              recording: {
                sha256: string;
                url: string;
                durationMs: number;
              } | null;
              /** @description set when a province officer went live to several communes at once: one session per commune */
              groupId: string | null;
              /** @description the other sessions of its group the caller may see */
              group: {
                id: string;
                communeId: string;
                zones: string[];
                devices: number;
                /** Format: date-time */
                endedAt: string | null;
                endReason:
                  'stopped' | 'silence' | 'max-duration' | 'dropped' | 'preempted' | 'restart' | (never | null);
                endedBy: string | null;
              }[];
              revision: number;
            };
          };
        };
        /** @description Default Response */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/live/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** One live session, on air or ended (its recording once ended) */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              communeId: string;
              title: string;
              priority: 'normal' | 'priority' | 'emergency';
              zones: string[];
              /** @description browser: the officer’s console over the WebSocket; line-in: the office microphone on the server */
              source: 'browser' | 'line-in';
              /** @description capture to loudspeaker on the server’s clock */
              latencyMs: number;
              maxDurationMs: number;
              startedBy: string;
              /** Format: date-time */
              startedAt: string;
              /** Format: date-time */
              endedAt: string | null;
              endReason: 'stopped' | 'silence' | 'max-duration' | 'dropped' | 'preempted' | 'restart' | (never | null);
              endedBy: string | null;
              occurrenceId: string | null;
              devices: number;
              frames: number;
              recording: {
                sha256: string;
                url: string;
                durationMs: number;
              } | null;
              /** @description set when a province officer went live to several communes at once: one session per commune */
              groupId: string | null;
              /** @description the other sessions of its group the caller may see */
              group: {
                id: string;
                communeId: string;
                zones: string[];
                devices: number;
                /** Format: date-time */
                endedAt: string | null;
                endReason:
                  'stopped' | 'silence' | 'max-duration' | 'dropped' | 'preempted' | 'restart' | (never | null);
                endedBy: string | null;
              }[];
              revision: number;
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/live/{id}/stop': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** End a live session (compare-and-set on revision): the loudspeakers go quiet */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            revision: number;
            /** @description also end every session of its group the caller may see (one officer, several communes) */
            group?: boolean;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              communeId: string;
              title: string;
              priority: 'normal' | 'priority' | 'emergency';
              zones: string[];
              /** @description browser: the officer’s console over the WebSocket; line-in: the office microphone on the server */
              source: 'browser' | 'line-in';
              /** @description capture to loudspeaker on the server’s clock */
              latencyMs: number;
              maxDurationMs: number;
              startedBy: string;
              /** Format: date-time */
              startedAt: string;
              /** Format: date-time */
              endedAt: string | null;
              endReason: 'stopped' | 'silence' | 'max-duration' | 'dropped' | 'preempted' | 'restart' | (never | null);
              endedBy: string | null;
              occurrenceId: string | null;
              devices: number;
              frames: number;
              recording: {
                sha256: string;
                url: string;
                durationMs: number;
              } | null;
              /** @description set when a province officer went live to several communes at once: one session per commune */
              groupId: string | null;
              /** @description the other sessions of its group the caller may see */
              group: {
                id: string;
                communeId: string;
                zones: string[];
                devices: number;
                /** Format: date-time */
                endedAt: string | null;
                endReason:
                  'stopped' | 'silence' | 'max-duration' | 'dropped' | 'preempted' | 'restart' | (never | null);
                endedBy: string | null;
              }[];
              revision: number;
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/media/{file}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Download an audio asset by its sha256 (session or device Basic auth); supports Range */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          file: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              statusCode: number;
              error: string;
              message: string;
              field?: string;
              code?: string;
              requestId?: string;
              current?: unknown;
              ruleBreaks?: {
                rule?: string;
                startAt?: string;
                message?: string;
              }[];
            };
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/public/': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The default commune's public page (HTML, no login) */
    get: {
      parameters: {
        query?: {
          lang?: 'vi' | 'en';
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/public/{commune}/': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A commune's public page: notices that aired, their audio (HTML, no login) */
    get: {
      parameters: {
        query?: {
          lang?: 'vi' | 'en';
        };
        header?: never;
        path: {
          commune: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/public/{commune}/widget': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A small page of the latest notices, to embed in the commune’s website (iframe) */
    get: {
      parameters: {
        query?: {
          lang?: 'vi' | 'en';
        };
        header?: never;
        path: {
          commune: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/public/{commune}/podcast.xml': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A commune's podcast feed (RSS 2.0 with iTunes tags) */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          commune: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/public/{commune}/audio/{file}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The audio of a public notice that has aired (Opus .ogg or .mp3); supports Range */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          commune: string;
          file: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}
export type webhooks = Record<string, never>;
export interface components {
  schemas: never;
  responses: never;
  parameters: never;
  requestBodies: never;
  headers: never;
  pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;

/** Every operation the server offers, as "METHOD /path": the console shows a page only when its API exists. */
export const API_OPERATIONS = [
  'DELETE /api/v1/alerts/feeds',
  'DELETE /api/v1/content/{id}',
  'DELETE /api/v1/dictionary/{abbreviation}',
  'DELETE /api/v1/occurrences/{id}',
  'DELETE /api/v1/programmes/{id}',
  'DELETE /api/v1/session',
  'DELETE /api/v1/zones/{id}',
  'GET /api/v1/alerts',
  'GET /api/v1/alerts/feeds',
  'GET /api/v1/alerts/refused',
  'GET /api/v1/approvals',
  'GET /api/v1/audit',
  'GET /api/v1/bulletins',
  'GET /api/v1/bulletins/{id}',
  'GET /api/v1/calendar',
  'GET /api/v1/communes',
  'GET /api/v1/communes/{id}',
  'GET /api/v1/content',
  'GET /api/v1/content/{id}',
  'GET /api/v1/deliveries/problems',
  'GET /api/v1/devices',
  'GET /api/v1/dictionary',
  'GET /api/v1/events',
  'GET /api/v1/health',
  'GET /api/v1/live',
  'GET /api/v1/live/{id}',
  'GET /api/v1/map',
  'GET /api/v1/occurrences',
  'GET /api/v1/occurrences/{id}',
  'GET /api/v1/programmes',
  'GET /api/v1/programmes/{id}',
  'GET /api/v1/reports/communes',
  'GET /api/v1/reports/devices',
  'GET /api/v1/reports/zones',
  'GET /api/v1/schedules',
  'GET /api/v1/schedules/{id}',
  'GET /api/v1/session',
  'GET /api/v1/settings',
  'GET /api/v1/time',
  'GET /api/v1/tts/engines',
  'GET /api/v1/users',
  'GET /api/v1/zones',
  'GET /media/{file}',
  'GET /public/',
  'GET /public/{commune}/',
  'GET /public/{commune}/audio/{file}',
  'GET /public/{commune}/podcast.xml',
  'GET /public/{commune}/widget',
  'PATCH /api/v1/communes/{id}',
  'PATCH /api/v1/devices/{id}',
  'PATCH /api/v1/users/{username}',
  'PATCH /api/v1/zones/{id}',
  'POST /api/v1/alerts/feeds',
  'POST /api/v1/alerts/{id}/confirm',
  'POST /api/v1/alerts/{id}/dismiss',
  'POST /api/v1/audio',
  'POST /api/v1/broadcasts',
  'POST /api/v1/bulletins',
  'POST /api/v1/bulletins/{id}/approve',
  'POST /api/v1/bulletins/{id}/decline',
  'POST /api/v1/bulletins/{id}/place',
  'POST /api/v1/bulletins/{id}/reject',
  'POST /api/v1/communes',
  'POST /api/v1/content',
  'POST /api/v1/devices',
  'POST /api/v1/devices/{id}/amp',
  'POST /api/v1/devices/{id}/revoke',
  'POST /api/v1/devices/{id}/test-tone',
  'POST /api/v1/devices/{id}/volume',
  'POST /api/v1/live',
  'POST /api/v1/live/{id}/stop',
  'POST /api/v1/occurrences/{id}/stop',
  'POST /api/v1/programmes',
  'POST /api/v1/schedules',
  'POST /api/v1/schedules/conflicts',
  'POST /api/v1/schedules/{id}/approve',
  'POST /api/v1/schedules/{id}/cancel',
  'POST /api/v1/schedules/{id}/reject',
  'POST /api/v1/schedules/{id}/submit',
  'POST /api/v1/session',
  'POST /api/v1/tts/engines/{id}/test',
  'POST /api/v1/tts/normalize',
  'POST /api/v1/tts/preview',
  'POST /api/v1/users',
  'POST /api/v1/users/{username}/unlock',
  'POST /api/v1/zones',
  'PUT /api/v1/content/{id}',
  'PUT /api/v1/devices/{id}/zones',
  'PUT /api/v1/dictionary/{abbreviation}',
  'PUT /api/v1/programmes/{id}',
  'PUT /api/v1/schedules/{id}',
  'PUT /api/v1/session/password',
  'PUT /api/v1/settings',
  'PUT /api/v1/users/{username}/password',
] as const;
export type ApiOperation = (typeof API_OPERATIONS)[number];
