/**
 * Every route the application registers, with the access it declares. The
 * role × route test walks this list, so a route added anywhere is checked
 * without editing the test.
 */
import type { FastifyInstance } from 'fastify';
import type { Permission } from '../auth/permissions';

export interface RouteEntry {
  method: string;
  url: string;
  public: boolean;
  permission: Permission | null;
}

declare module 'fastify' {
  interface FastifyInstance {
    routeTable: readonly RouteEntry[];
  }
}

/** Call on the root instance before any route is registered. */
export function recordRoutes(app: FastifyInstance): void {
  const table: RouteEntry[] = [];
  app.decorate('routeTable', table);
  app.addHook('onRoute', (route) => {
    const config = route.config as { public?: boolean; permission?: Permission } | undefined;
    for (const method of [route.method].flat()) {
      table.push({ method, url: route.url, public: !!config?.public, permission: config?.permission ?? null });
    }
  });
}
