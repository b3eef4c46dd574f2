/**
 * Versioned schema migrations. Append only: never edit a migration that has
 * shipped; add a new one. Each runs in its own transaction.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  /**
   * The migration rebuilds tables (SQLite's 12-step ALTER): it runs with
   * foreign keys off, and the foreign key check must come out clean before it commits.
   */
  rebuildsTables?: boolean;
  /**
   * The same change for PostgreSQL. Versions up to POSTGRES_BASELINE_VERSION need none (a new
   * PostgreSQL database starts from that baseline, postgres-schema.ts); every later one does.
   */
  postgres?: string;
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
  {
    version: 5,
    name: "the commune's abbreviation dictionary (extends the built-in one)",
    sql: `
      CREATE TABLE abbreviations (
        abbreviation TEXT PRIMARY KEY,
        expansion    TEXT NOT NULL,
        updated_at   INTEGER NOT NULL,
        updated_by   TEXT NOT NULL
      );
    `,
  },
  {
    version: 6,
    name: 'login lock-out counters survive a restart',
    sql: `
      CREATE TABLE login_failures (
        username         TEXT PRIMARY KEY,
        failures         INTEGER NOT NULL,
        first_failure_at INTEGER NOT NULL,
        locked_until     INTEGER
      );
    `,
  },
  {
    version: 4,
    name: 'scheduling: content library, programmes, schedules with approval, materialised occurrences',
    sql: `
      CREATE TABLE content_items (
        id          TEXT PRIMARY KEY,
        kind        TEXT NOT NULL CHECK (kind IN ('notice','audio','stream','silence')),
        title       TEXT NOT NULL,
        tags        TEXT NOT NULL DEFAULT '[]',
        text        TEXT,
        voice       TEXT,
        speed       REAL,
        sha256      TEXT REFERENCES media(sha256),
        engine      TEXT,
        stream_url  TEXT,
        duration_ms INTEGER NOT NULL,
        created_by  TEXT,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL,
        deleted_at  INTEGER
      );
      CREATE INDEX content_items_updated ON content_items(updated_at);
      CREATE TABLE programmes (
        id          TEXT PRIMARY KEY,
        title       TEXT NOT NULL,
        created_by  TEXT,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL,
        deleted_at  INTEGER
      );
      CREATE TABLE programme_items (
        programme_id TEXT NOT NULL REFERENCES programmes(id) ON DELETE CASCADE,
        position     INTEGER NOT NULL,
        content_id   TEXT NOT NULL REFERENCES content_items(id),
        repeat       INTEGER NOT NULL DEFAULT 1,
        gap_ms       INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (programme_id, position)
      );
      CREATE INDEX programme_items_content ON programme_items(content_id);
      CREATE TABLE schedules (
        id             TEXT PRIMARY KEY,
        title          TEXT NOT NULL,
        programme_id   TEXT NOT NULL REFERENCES programmes(id),
        rule           TEXT NOT NULL,
        timezone       TEXT NOT NULL,
        priority       TEXT NOT NULL CHECK (priority IN ('normal','priority','emergency')),
        volume         INTEGER,
        repeat         INTEGER NOT NULL DEFAULT 1,
        repeat_gap_ms  INTEGER NOT NULL DEFAULT 0,
        status         TEXT NOT NULL CHECK (status IN ('draft','submitted','approved','rejected','cancelled')),
        -- What goes on air: the programme's assets frozen when the schedule was approved.
        approved_assets TEXT,
        -- Set when the programme changed after approval: it airs the frozen version until approved again.
        programme_changed INTEGER NOT NULL DEFAULT 0,
        review_reason  TEXT,
        reviewed_by    TEXT,
        reviewed_at    INTEGER,
        revision       INTEGER NOT NULL DEFAULT 1,
        created_by     TEXT,
        created_at     INTEGER NOT NULL,
        updated_at     INTEGER NOT NULL
      );
      CREATE INDEX schedules_status ON schedules(status);
      CREATE TABLE schedule_targets (
        schedule_id TEXT NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
        kind        TEXT NOT NULL CHECK (kind IN ('zone','device')),
        target_id   TEXT NOT NULL,
        PRIMARY KEY (schedule_id, kind, target_id)
      );
      ALTER TABLE occurrences ADD COLUMN schedule_id TEXT REFERENCES schedules(id);
      ALTER TABLE occurrences ADD COLUMN assets TEXT;
      ALTER TABLE occurrences ADD COLUMN volume INTEGER;
      CREATE INDEX occurrences_schedule ON occurrences(schedule_id, start_at);
    `,
  },
  {
    version: 7,
    name: 'device clock offset against the server, from telemetry',
    sql: `
      ALTER TABLE devices ADD COLUMN clock_offset_ms INTEGER;
      ALTER TABLE devices ADD COLUMN clock_offset_at INTEGER;
    `,
  },
  {
    version: 8,
    name: 'device online/offline log, for uptime reports',
    sql: `
      -- One row per real change of a device's online state (DeviceRegistry.setOnline and
      -- friends); uptime over a period is read from it. No row yet counts as offline.
      CREATE TABLE device_status (
        device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
        online    INTEGER NOT NULL CHECK (online IN (0, 1)),
        at        INTEGER NOT NULL
      );
      CREATE INDEX device_status_device_at ON device_status(device_id, at);
    `,
  },
  {
    version: 9,
    name: 'device location (WGS 84), for the console map',
    sql: `
      ALTER TABLE devices ADD COLUMN latitude REAL;
      ALTER TABLE devices ADD COLUMN longitude REAL;
    `,
  },
  {
    version: 10,
    name: 'commune settings (loudness target, TTS engine order and keys)',
    sql: `
      -- One row per saved setting (server/src/settings); a missing row means the
      -- environment's value (or the built-in default) applies.
      CREATE TABLE settings (
        key        TEXT PRIMARY KEY,
        value      TEXT NOT NULL CHECK (json_valid(value)),
        updated_by TEXT,
        updated_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 11,
    name: 'MP3 renditions for devices that ask for MP3',
    sql: `
      -- What the device's "online" status asked for: 'ogg' (Opus) or 'mp3'.
      ALTER TABLE devices ADD COLUMN audio_format TEXT NOT NULL DEFAULT 'ogg' CHECK (audio_format IN ('ogg','mp3'));
      -- The same audio in another format, made from the stored source (MediaStore.mp3Rendition).
      -- A rendition lives as long as its source (the retention clean-up drops them together).
      CREATE TABLE media_renditions (
        source_sha256 TEXT NOT NULL REFERENCES media(sha256),
        format        TEXT NOT NULL CHECK (format IN ('mp3')),
        sha256        TEXT NOT NULL REFERENCES media(sha256),
        created_at    INTEGER NOT NULL,
        PRIMARY KEY (source_sha256, format)
      );
      CREATE INDEX media_renditions_sha256 ON media_renditions(sha256);
    `,
  },
  {
    version: 12,
    name: 'trust: stops that stick, review revisions, a database generation for plan versions',
    sql: `
      -- Facts about this database itself. 'generation' changes whenever the database is
      -- created or restored, so a device can tell a restored server's plans from stale ones.
      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
      INSERT INTO meta (key, value) VALUES ('generation', lower(hex(randomblob(8))));
      -- A stopped occurrence leaves every plan and is shown as stopped, whoever was offline.
      ALTER TABLE occurrences ADD COLUMN stopped_at INTEGER;
      ALTER TABLE occurrences ADD COLUMN stopped_by TEXT;
      -- What an approver reviewed is named by these revisions (ScheduleService.reviewRevision).
      ALTER TABLE content_items ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
      ALTER TABLE programmes ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
    `,
  },
  {
    version: 13,
    name: 'loudspeakers whose agent plays no sound (null or simulated player)',
    sql: `
      -- From the device's "online" status: 1 when its agent runs a null or simulated player.
      ALTER TABLE devices ADD COLUMN simulated INTEGER NOT NULL DEFAULT 0 CHECK (simulated IN (0, 1));
    `,
  },
  {
    version: 14,
    name: 'accounts that must choose their own password',
    sql: `
      -- Set while the password is one its owner did not choose: generated at first start,
      -- or reset by an administrator. Such a session may only change it (http/auth.ts).
      ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0
        CHECK (must_change_password IN (0, 1));
    `,
  },
  {
    version: 15,
    name: 'a province of communes: every zone, device, notice, schedule, setting and commune user belongs to one',
    rebuildsTables: true,
    sql: `
      CREATE TABLE communes (
        id         TEXT PRIMARY KEY,
        name       TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        revision   INTEGER NOT NULL DEFAULT 1
      );
      -- The commune this database served before communes existed (and the first of a new install).
      INSERT INTO communes (id, name, created_at) VALUES ('default', 'Xã', CAST(strftime('%s', 'now') AS INTEGER) * 1000);
      INSERT INTO meta (key, value) VALUES ('default_commune', 'default');

      -- Zone names are unique within a commune ("Thôn 1" exists in many); ids stay unique per install.
      CREATE TABLE zones_new (
        id         TEXT PRIMARY KEY,
        commune_id TEXT NOT NULL REFERENCES communes(id),
        name       TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        UNIQUE (commune_id, name)
      );
      INSERT INTO zones_new (id, commune_id, name, created_at) SELECT id, 'default', name, created_at FROM zones;
      DROP TABLE zones;
      ALTER TABLE zones_new RENAME TO zones;

      ALTER TABLE devices ADD COLUMN commune_id TEXT NOT NULL DEFAULT 'default' REFERENCES communes(id);
      CREATE INDEX devices_commune ON devices(commune_id);
      ALTER TABLE content_items ADD COLUMN commune_id TEXT NOT NULL DEFAULT 'default' REFERENCES communes(id);
      CREATE INDEX content_items_commune ON content_items(commune_id, updated_at);
      ALTER TABLE programmes ADD COLUMN commune_id TEXT NOT NULL DEFAULT 'default' REFERENCES communes(id);
      CREATE INDEX programmes_commune ON programmes(commune_id);
      ALTER TABLE schedules ADD COLUMN commune_id TEXT NOT NULL DEFAULT 'default' REFERENCES communes(id);
      CREATE INDEX schedules_commune ON schedules(commune_id, status);
      ALTER TABLE occurrences ADD COLUMN commune_id TEXT NOT NULL DEFAULT 'default' REFERENCES communes(id);
      CREATE INDEX occurrences_commune_start ON occurrences(commune_id, start_at);

      -- NULL: a province user, acting across communes.
      ALTER TABLE users ADD COLUMN commune_id TEXT REFERENCES communes(id);
      UPDATE users SET commune_id = 'default';
      CREATE INDEX users_commune ON users(commune_id);

      -- NULL: a province-level action. Rows written before communes were the default commune's.
      DROP TRIGGER audit_log_no_update;
      ALTER TABLE audit_log ADD COLUMN commune_id TEXT;
      UPDATE audit_log SET commune_id = 'default';
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
      CREATE INDEX audit_log_commune_at ON audit_log(commune_id, at);

      CREATE TABLE abbreviations_new (
        commune_id   TEXT NOT NULL REFERENCES communes(id),
        abbreviation TEXT NOT NULL,
        expansion    TEXT NOT NULL,
        updated_at   INTEGER NOT NULL,
        updated_by   TEXT NOT NULL,
        PRIMARY KEY (commune_id, abbreviation)
      );
      INSERT INTO abbreviations_new SELECT 'default', abbreviation, expansion, updated_at, updated_by FROM abbreviations;
      DROP TABLE abbreviations;
      ALTER TABLE abbreviations_new RENAME TO abbreviations;

      CREATE TABLE settings_new (
        commune_id TEXT NOT NULL REFERENCES communes(id),
        key        TEXT NOT NULL,
        value      TEXT NOT NULL CHECK (json_valid(value)),
        updated_by TEXT,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (commune_id, key)
      );
      INSERT INTO settings_new SELECT 'default', key, value, updated_by, updated_at FROM settings;
      DROP TABLE settings;
      ALTER TABLE settings_new RENAME TO settings;
    `,
  },
  {
    version: 16,
    name: "the province's bulletins (Circular 39 source tier): targets, each commune's handling, their occurrences",
    sql: `
      -- A bulletin the province sends down to communes with a TT39 priority.
      CREATE TABLE bulletins (
        id            TEXT PRIMARY KEY,
        title         TEXT NOT NULL,
        text          TEXT,
        priority      TEXT NOT NULL CHECK (priority IN ('normal','priority','emergency')),
        sha256        TEXT NOT NULL REFERENCES media(sha256),
        duration_ms   INTEGER NOT NULL,
        engine        TEXT,
        -- 1 when sent to every commune (the list below is what "all" meant at sending).
        all_communes  INTEGER NOT NULL CHECK (all_communes IN (0, 1)),
        status        TEXT NOT NULL CHECK (status IN ('submitted','sent','rejected','cancelled')),
        -- Until when an emergency still reaches a loudspeaker that comes back online.
        expires_at    INTEGER,
        review_reason TEXT,
        reviewed_by   TEXT,
        reviewed_at   INTEGER,
        sent_at       INTEGER,
        revision      INTEGER NOT NULL DEFAULT 1,
        created_by    TEXT NOT NULL,
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL
      );
      CREATE INDEX bulletins_created ON bulletins(created_at);
      -- One row per target commune: what the commune did with it.
      CREATE TABLE bulletin_communes (
        bulletin_id    TEXT NOT NULL REFERENCES bulletins(id) ON DELETE CASCADE,
        commune_id     TEXT NOT NULL REFERENCES communes(id),
        status         TEXT NOT NULL CHECK (status IN ('received','scheduled','aired','declined')),
        decline_reason TEXT,
        detail         TEXT,
        handled_by     TEXT,
        handled_at     INTEGER,
        revision       INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (bulletin_id, commune_id)
      );
      CREATE INDEX bulletin_communes_commune ON bulletin_communes(commune_id, status);
      -- The plays a bulletin became, in each commune.
      ALTER TABLE occurrences ADD COLUMN bulletin_id TEXT REFERENCES bulletins(id);
      CREATE INDEX occurrences_bulletin ON occurrences(bulletin_id);
    `,
  },
  {
    version: 17,
    name: 'a province of 15,000 loudspeakers: the device list pages in id order within a commune',
    sql: `
      -- GET /devices?commune=…&limit=…: a commune's devices in id order straight from the index,
      -- stopping at the page's end. It covers every use of the commune-only index it replaces.
      CREATE INDEX devices_commune_id ON devices(commune_id, id);
      DROP INDEX devices_commune;
    `,
  },
  {
    version: 18,
    name: 'a province report over many days: each closed day of each loudspeaker summed once',
    sql: `
      -- One loudspeaker's numbers over one closed day (reports/day-rollup.ts): a day starts at
      -- midnight in Asia/Ho_Chi_Minh (UTC ms); deliveries count on the day their occurrence starts.
      CREATE TABLE device_days (
        device_id   TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
        day         INTEGER NOT NULL,
        broadcasts  INTEGER NOT NULL,
        finished    INTEGER NOT NULL,
        failed      INTEGER NOT NULL,
        missed      INTEGER NOT NULL,
        stopped     INTEGER NOT NULL,
        on_air_ms   INTEGER NOT NULL,
        online_ms   INTEGER NOT NULL,
        observed_ms INTEGER NOT NULL,
        PRIMARY KEY (device_id, day)
      ) WITHOUT ROWID;
      -- No index by day: a report sums a period in device order straight from the key (85 ms for
      -- 30 days of 10,000 loudspeakers, against 250 through an index by day and a sort).
      -- The days whose device_days rows are complete and current. Anything that would change a
      -- summed day takes it off this list (the triggers below); the next report sums it again.
      CREATE TABLE rolled_days (day INTEGER PRIMARY KEY);

      -- The day of an instant: ((t + 7 h) / 24 h) * 24 h - 7 h, in integer arithmetic.
      CREATE TRIGGER device_status_rolled AFTER INSERT ON device_status
        WHEN NEW.at < (SELECT MAX(day) FROM rolled_days) + 86400000
      BEGIN
        DELETE FROM rolled_days WHERE day + 86400000 > NEW.at;
      END;
      CREATE TRIGGER devices_added_rolled AFTER INSERT ON devices
        WHEN NEW.created_at < (SELECT MAX(day) FROM rolled_days) + 86400000
      BEGIN
        DELETE FROM rolled_days WHERE day + 86400000 > NEW.created_at;
      END;
      CREATE TRIGGER devices_dates_rolled AFTER UPDATE OF created_at, revoked_at ON devices
        WHEN EXISTS (SELECT 1 FROM rolled_days)
      BEGIN
        DELETE FROM rolled_days WHERE day + 86400000 > MIN(OLD.created_at, NEW.created_at,
          COALESCE(OLD.revoked_at, NEW.created_at), COALESCE(NEW.revoked_at, NEW.created_at));
      END;
      CREATE TRIGGER deliveries_added_rolled AFTER INSERT ON deliveries
        WHEN EXISTS (SELECT 1 FROM rolled_days)
      BEGIN
        DELETE FROM rolled_days WHERE day =
          (SELECT (o.start_at + 25200000) / 86400000 * 86400000 - 25200000 FROM occurrences o
           WHERE o.id = NEW.occurrence_id);
      END;
      CREATE TRIGGER deliveries_changed_rolled AFTER UPDATE OF stage ON deliveries
        WHEN EXISTS (SELECT 1 FROM rolled_days)
      BEGIN
        DELETE FROM rolled_days WHERE day =
          (SELECT (o.start_at + 25200000) / 86400000 * 86400000 - 25200000 FROM occurrences o
           WHERE o.id = NEW.occurrence_id);
      END;
      CREATE TRIGGER deliveries_removed_rolled AFTER DELETE ON deliveries
        WHEN EXISTS (SELECT 1 FROM rolled_days)
      BEGIN
        DELETE FROM rolled_days WHERE day =
          (SELECT (o.start_at + 25200000) / 86400000 * 86400000 - 25200000 FROM occurrences o
           WHERE o.id = OLD.occurrence_id);
      END;
      CREATE TRIGGER occurrences_changed_rolled
        AFTER UPDATE OF start_at, duration_ms, stopped_at, cancelled_at ON occurrences
        WHEN EXISTS (SELECT 1 FROM rolled_days)
      BEGIN
        DELETE FROM rolled_days WHERE day IN (
          (OLD.start_at + 25200000) / 86400000 * 86400000 - 25200000,
          (NEW.start_at + 25200000) / 86400000 * 86400000 - 25200000);
      END;
      CREATE TRIGGER occurrences_removed_rolled AFTER DELETE ON occurrences
        WHEN EXISTS (SELECT 1 FROM rolled_days)
      BEGIN
        DELETE FROM rolled_days WHERE day = (OLD.start_at + 25200000) / 86400000 * 86400000 - 25200000;
      END;
    `,
  },
  {
    version: 19,
    name: "the villagers' public page and podcast: what of a broadcast may be shown once it has aired",
    sql: `
      -- Whether a library item may be shown on the public page once aired: set by its author,
      -- confirmed by the approver (approval binds to the item's revision). Text notices default on.
      ALTER TABLE content_items ADD COLUMN public INTEGER NOT NULL DEFAULT 0 CHECK (public IN (0, 1));
      UPDATE content_items SET public = 1 WHERE kind = 'notice';
      -- The public items of the approved programme, frozen with its audio at approval (JSON).
      ALTER TABLE schedules ADD COLUMN approved_public TEXT;
      -- A province bulletin's public flag; bulletins sent before this never were public.
      ALTER TABLE bulletins ADD COLUMN public INTEGER NOT NULL DEFAULT 0 CHECK (public IN (0, 1));
      -- What of an occurrence may be shown once it has aired: a JSON array of
      -- {title, text, sha256, durationMs, language}; NULL: nothing. Occurrences made before
      -- this stay private: nobody marked them public.
      ALTER TABLE occurrences ADD COLUMN public_items TEXT;
      CREATE INDEX occurrences_public ON occurrences(commune_id, start_at) WHERE public_items IS NOT NULL;
    `,
  },
  {
    version: 20,
    name: "notices in the villagers' own languages: each zone's languages, in the order they are heard",
    sql: `
      -- JSON array of language codes (public/languages.ts), Vietnamese first unless the commune says otherwise.
      ALTER TABLE zones ADD COLUMN languages TEXT NOT NULL DEFAULT '["vi"]';
    `,
  },
  {
    version: 21,
    name: "library notices in the villagers' languages: versions of an item, frozen per language at approval",
    sql: `
      -- JSON array of {language, sha256, durationMs, title, text}: the item in other languages.
      ALTER TABLE content_items ADD COLUMN versions TEXT NOT NULL DEFAULT '[]';
      -- JSON array of {language, assets, publicItems}: what plays in each other language, frozen at approval.
      ALTER TABLE schedules ADD COLUMN approved_versions TEXT;
    `,
  },
  {
    version: 22,
    name: 'disaster alerts from CAP 1.2 feeds: each alert, what each commune decided, the feeds polled',
    sql: `
      -- One CAP alert as received (de-duplicated on sender and identifier).
      CREATE TABLE alerts (
        id          TEXT PRIMARY KEY,
        sender      TEXT NOT NULL,
        identifier  TEXT NOT NULL,
        sent_at     INTEGER NOT NULL,
        msg_type    TEXT NOT NULL,
        status      TEXT NOT NULL,
        event       TEXT NOT NULL,
        severity    TEXT NOT NULL,
        urgency     TEXT NOT NULL,
        certainty   TEXT NOT NULL,
        level       INTEGER NOT NULL,
        headline    TEXT,
        description TEXT,
        instruction TEXT,
        expires_at  INTEGER,
        -- JSON: the areas (polygons, circles, geocodes) as parsed.
        areas       TEXT NOT NULL,
        source_url  TEXT,
        received_at INTEGER NOT NULL,
        -- active | replaced (by an Update) | cancelled | expired | not-actual (Test, Exercise, System, Draft)
        state       TEXT NOT NULL CHECK (state IN ('active','replaced','cancelled','expired','not-actual')),
        -- The alert an Update or Cancel refers to.
        replaces    TEXT REFERENCES alerts(id),
        UNIQUE (sender, identifier)
      );
      CREATE INDEX alerts_received ON alerts(received_at);
      -- What each commune with loudspeakers inside the alert's area does with it.
      CREATE TABLE alert_communes (
        alert_id     TEXT NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
        commune_id   TEXT NOT NULL REFERENCES communes(id),
        decision     TEXT NOT NULL CHECK (decision IN ('auto','confirm','show')),
        -- waiting (for a leader) | airing (repeats due) | done | dismissed
        status       TEXT NOT NULL CHECK (status IN ('waiting','airing','done','dismissed')),
        device_ids   TEXT NOT NULL,
        repeats_done INTEGER NOT NULL DEFAULT 0,
        next_at      INTEGER,
        decided_by   TEXT,
        decided_at   INTEGER,
        revision     INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (alert_id, commune_id)
      );
      CREATE INDEX alert_communes_due ON alert_communes(status, next_at);
      -- Each feed's conditional-GET state and backoff.
      CREATE TABLE alert_feeds (
        url           TEXT PRIMARY KEY,
        etag          TEXT,
        last_modified TEXT,
        polled_at     INTEGER,
        ok_at         INTEGER,
        error         TEXT,
        failures      INTEGER NOT NULL DEFAULT 0,
        next_at       INTEGER
      );
      -- The CAP files already read from an index (by URL and the validator that came with them).
      CREATE TABLE alert_files (url TEXT PRIMARY KEY, etag TEXT, read_at INTEGER NOT NULL);
      ALTER TABLE occurrences ADD COLUMN alert_id TEXT REFERENCES alerts(id);
    `,
  },
  {
    version: 23,
    name: "alerts by administrative code: the geocodes a zone carries (a village's or district's code)",
    sql: `
      -- JSON array of codes ("137", or "MA_DVHC=137" to name the scheme) an alert's geocodes reach.
      ALTER TABLE zones ADD COLUMN geocodes TEXT NOT NULL DEFAULT '[]';
    `,
  },
  {
    version: 24,
    name: 'alerts decided by each commune’s rules (repeats, all-clear), feeds saved in Settings, zone areas',
    sql: `
      -- The commune's rule that decided: its repeats (JSON ms gaps; NULL: the install's), whether a
      -- Cancel is followed by an all-clear, and which rule it was (its index, or NULL for the default).
      ALTER TABLE alert_communes ADD COLUMN repeats_ms TEXT;
      ALTER TABLE alert_communes ADD COLUMN all_clear INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE alert_communes ADD COLUMN rule_index INTEGER;
      -- A feed added in Settings (the environment's feeds have no saved_at).
      ALTER TABLE alert_feeds ADD COLUMN saved_at INTEGER;
      ALTER TABLE alert_feeds ADD COLUMN saved_by TEXT;
      -- JSON [[lat, lon], ...]: the zone's area drawn on the map; an alert reaches the zone's
      -- loudspeakers without a position when it overlaps this area.
      ALTER TABLE zones ADD COLUMN area TEXT;
      -- JSON: the CAP categories of the alert's info (Met, Geo, Safety, ...).
      ALTER TABLE alerts ADD COLUMN categories TEXT NOT NULL DEFAULT '[]';
      -- JSON array of administrative codes an alert's geocodes reach the whole commune by.
      ALTER TABLE communes ADD COLUMN geocodes TEXT NOT NULL DEFAULT '[]';
    `,
  },
  {
    version: 25,
    name: 'live sessions: the officer speaking live to zones, recorded',
    sql: `
      CREATE TABLE live_sessions (
        id           TEXT PRIMARY KEY,
        commune_id   TEXT NOT NULL REFERENCES communes(id),
        -- In every frame (u32): loudspeakers ignore frames of another session.
        key          INTEGER NOT NULL,
        title        TEXT NOT NULL,
        priority     TEXT NOT NULL CHECK (priority IN ('normal','priority','emergency')),
        -- JSON array of zone ids.
        zones        TEXT NOT NULL,
        latency_ms   INTEGER NOT NULL,
        max_ms       INTEGER NOT NULL,
        started_by   TEXT NOT NULL,
        started_at   INTEGER NOT NULL,
        ended_at     INTEGER,
        -- stopped | silence | max-duration | dropped | preempted | restart
        end_reason   TEXT,
        ended_by     TEXT,
        occurrence_id TEXT,
        frames       INTEGER NOT NULL DEFAULT 0,
        recording    TEXT REFERENCES media(sha256),
        revision     INTEGER NOT NULL DEFAULT 1
      );
      CREATE INDEX live_sessions_open ON live_sessions(commune_id, ended_at);
      ALTER TABLE occurrences ADD COLUMN live_session_id TEXT REFERENCES live_sessions(id);
    `,
  },
  {
    version: 26,
    name: 'audit log by action: the refused alert files and the rule overrides are read by it',
    sql: `CREATE INDEX audit_log_action ON audit_log(action, id);`,
  },
  {
    version: 27,
    name: 'live sessions from the office microphone on the server machine',
    sql: `
      -- browser (the officer's console over a WebSocket) | line-in (ALSA capture on the server machine)
      ALTER TABLE live_sessions ADD COLUMN source TEXT NOT NULL DEFAULT 'browser';
    `,
  },
  {
    version: 28,
    name: 'live to several communes at once: one session per commune, fed by one officer',
    sql: `
      -- The sessions a province officer started together share it (null: a session of its own).
      ALTER TABLE live_sessions ADD COLUMN group_id TEXT;
      CREATE INDEX live_sessions_group ON live_sessions(group_id) WHERE group_id IS NOT NULL;
    `,
  },
  {
    version: 29,
    name: 'the online/offline log in the order it was written: changes at the same millisecond keep theirs',
    rebuildsTables: true,
    // seq is the first column on SQLite and the last on PostgreSQL: every query names its columns.
    sql: `
      -- The rowid, which already numbered the rows as logged, becomes a column (INTEGER PRIMARY KEY
      -- is the rowid), its values kept. A new row gets one more than the largest there, so it
      -- follows every row still logged, whatever was pruned.
      CREATE TABLE device_status_new (
        seq       INTEGER PRIMARY KEY,
        device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
        online    INTEGER NOT NULL CHECK (online IN (0, 1)),
        at        INTEGER NOT NULL
      );
      INSERT INTO device_status_new (seq, device_id, online, at) SELECT rowid, device_id, online, at FROM device_status;
      DROP TABLE device_status;
      ALTER TABLE device_status_new RENAME TO device_status;
      -- The drop took the table's index and trigger: as migrations 8 and 18 made them.
      CREATE INDEX device_status_device_at ON device_status(device_id, at);
      CREATE TRIGGER device_status_rolled AFTER INSERT ON device_status
        WHEN NEW.at < (SELECT MAX(day) FROM rolled_days) + 86400000
      BEGIN
        DELETE FROM rolled_days WHERE day + 86400000 > NEW.at;
      END;
    `,
    postgres: `
      -- No order was kept: the rows there are numbered in their physical order (ctid), which is the
      -- order they were written in unless VACUUM let later rows fill the room pruned ones left. It
      -- is the best there is, and is read before anything moves a row: a column added with its
      -- identity at once is filled by the table's rewrite, in whatever order its scan goes (a
      -- synchronized scan may start mid-table). The identity then continues after the largest.
      ALTER TABLE device_status ADD COLUMN seq BIGINT;
      UPDATE device_status d SET seq = n.seq
        FROM (SELECT ctid, ROW_NUMBER() OVER (ORDER BY ctid) AS seq FROM device_status) n
       WHERE d.ctid = n.ctid;
      ALTER TABLE device_status
        ALTER COLUMN seq SET NOT NULL,
        ALTER COLUMN seq ADD GENERATED BY DEFAULT AS IDENTITY,
        ADD PRIMARY KEY (seq);
      SELECT setval(pg_get_serial_sequence('device_status', 'seq'), COALESCE(MAX(seq), 0) + 1, false)
        FROM device_status;
    `,
  },
  {
    version: 30,
    name: 'media files in the database too, for every server instance (PostgreSQL)',
    // On SQLite one server's media directory is the store and this table stays empty; it exists on
    // both engines so their schemas stay the same.
    sql: `
      CREATE TABLE media_blobs (
        sha256 TEXT NOT NULL REFERENCES media(sha256) ON DELETE CASCADE,
        seq    INTEGER NOT NULL CHECK (seq >= 0),
        data   BLOB NOT NULL,
        PRIMARY KEY (sha256, seq)
      );
    `,
    postgres: `
      CREATE TABLE media_blobs (
        sha256 TEXT NOT NULL REFERENCES media(sha256) ON DELETE CASCADE,
        seq    BIGINT NOT NULL CHECK (seq >= 0),
        data   BYTEA NOT NULL,
        PRIMARY KEY (sha256, seq)
      );
    `,
  },
  {
    version: 31,
    name: 'which server instance holds a live session; occurrences found by their alert; status order',
    // Several instances share a PostgreSQL database: a live session's audio runs through the one
    // instance the officer is connected to, so only that instance (or, when it died, the leader)
    // may end it as left over. `instance` is that process's name in pg_stat_activity.
    // Instances take one device's messages side by side (NATS mode): `status_seq` is the broker's
    // sequence of the status a device's online flag was set from, so an older one is not applied.
    sql: `
      ALTER TABLE live_sessions ADD COLUMN instance TEXT;
      CREATE INDEX occurrences_alert ON occurrences(alert_id) WHERE alert_id IS NOT NULL;
      ALTER TABLE devices ADD COLUMN status_seq INTEGER;
    `,
    postgres: `
      ALTER TABLE live_sessions ADD COLUMN instance TEXT;
      CREATE INDEX occurrences_alert ON occurrences(alert_id) WHERE alert_id IS NOT NULL;
      ALTER TABLE devices ADD COLUMN status_seq BIGINT;
    `,
  },
  {
    version: 32,
    name: 'loudspeakers that read inline audio as raw bytes',
    // From the device's "online" status: 1 when its agent reads framed play-now commands (the
    // audio after the JSON, protocol encodeFramed); a zone gets them once all its devices do.
    sql: `
      ALTER TABLE devices ADD COLUMN framed_commands INTEGER NOT NULL DEFAULT 0 CHECK (framed_commands IN (0, 1));
    `,
    postgres: `
      ALTER TABLE devices ADD COLUMN framed_commands BIGINT NOT NULL DEFAULT 0 CHECK (framed_commands IN (0, 1));
    `,
  },
];
