/**
 * Versioned schema migrations. Append only: never edit a migration that has
 * shipped; add a new one. Each runs in its own transaction.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'walking skeleton: users, sessions, zones, devices, media, occurrences, deliveries, acks',
    sql: `
      CREATE TABLE users (
        username      TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        role          TEXT NOT NULL CHECK (role IN ('admin','approver','editor','technician','viewer')),
        created_at    INTEGER NOT NULL,
        disabled      INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        username   TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX sessions_expiry ON sessions(expires_at);
      CREATE TABLE zones (
        id         TEXT PRIMARY KEY,
        name       TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE devices (
        id            TEXT PRIMARY KEY,
        name          TEXT NOT NULL,
        secret_hash   TEXT NOT NULL,
        created_at    INTEGER NOT NULL,
        revoked_at    INTEGER,
        online        INTEGER NOT NULL DEFAULT 0,
        last_seen     INTEGER,
        agent_version TEXT,
        plan_version  INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE device_zones (
        device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
        zone_id   TEXT NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
        PRIMARY KEY (device_id, zone_id)
      );
      CREATE INDEX device_zones_zone ON device_zones(zone_id);
      CREATE TABLE media (
        sha256      TEXT PRIMARY KEY,
        format      TEXT NOT NULL CHECK (format IN ('ogg','mp3')),
        bytes       INTEGER NOT NULL,
        duration_ms INTEGER NOT NULL,
        created_at  INTEGER NOT NULL
      );
      CREATE TABLE renders (
        cache_key  TEXT PRIMARY KEY,
        sha256     TEXT NOT NULL REFERENCES media(sha256),
        engine     TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE occurrences (
        id           TEXT PRIMARY KEY,
        title        TEXT NOT NULL,
        text         TEXT,
        priority     TEXT NOT NULL CHECK (priority IN ('normal','priority','emergency')),
        start_at     INTEGER NOT NULL,
        duration_ms  INTEGER NOT NULL,
        sha256       TEXT NOT NULL REFERENCES media(sha256),
        engine       TEXT,
        command_id   TEXT,
        created_by   TEXT,
        created_at   INTEGER NOT NULL,
        cancelled_at INTEGER
      );
      CREATE INDEX occurrences_start ON occurrences(start_at);
      CREATE TABLE deliveries (
        occurrence_id TEXT NOT NULL REFERENCES occurrences(id) ON DELETE CASCADE,
        device_id     TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
        stage         TEXT NOT NULL DEFAULT 'pending',
        at            INTEGER,
        detail        TEXT,
        PRIMARY KEY (occurrence_id, device_id)
      );
      CREATE INDEX deliveries_device ON deliveries(device_id);
      CREATE TABLE acks (
        device_id   TEXT NOT NULL,
        ref_id      TEXT NOT NULL,
        stage       TEXT NOT NULL,
        at          INTEGER NOT NULL,
        detail      TEXT,
        received_at INTEGER NOT NULL,
        PRIMARY KEY (device_id, ref_id, stage)
      );
    `,
  },
  {
    version: 2,
    name: 'append-only audit log',
    sql: `
      CREATE TABLE audit_log (
        id     INTEGER PRIMARY KEY AUTOINCREMENT,
        at     INTEGER NOT NULL,
        actor  TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT,
        detail TEXT,
        ip     TEXT
      );
      CREATE INDEX audit_log_at ON audit_log(at);
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
    `,
  },
  {
    version: 3,
    name: 'measured loudness of rendered audio',
    sql: `
      ALTER TABLE renders ADD COLUMN integrated_lufs REAL;
      ALTER TABLE renders ADD COLUMN true_peak_dbtp REAL;
    `,
  },
];
