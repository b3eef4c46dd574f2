/**
 * The PostgreSQL schema equal to SQLite's at POSTGRES_BASELINE_VERSION (migrations 1–28): a new
 * PostgreSQL database gets this in one transaction (migratePostgres in sql.ts), later versions
 * their own `postgres` SQL. The application's SQL is shared by both engines, so every table,
 * column (and its order), constraint, index and trigger keeps SQLite's name and meaning; the
 * parity is checked on a real PostgreSQL by server/test/postgres-schema.test.ts.
 *
 * Types: every time is epoch ms and every flag a 0/1 integer on both engines, so INTEGER is
 * BIGINT (never BOOLEAN), REAL is DOUBLE PRECISION, TEXT stays TEXT. The few places where
 * PostgreSQL cannot say the same thing the same way are commented where they occur.
 */
export const POSTGRES_BASELINE_VERSION = 28;

/**
 * The advisory lock that keeps summing a day and writing to the history it sums apart (PostgreSQL
 * only: SQLite has one writer at a time). Every *_rolled trigger below takes it shared, so writers
 * never wait for each other; the day roll-up (reports/day-rollup.ts) takes it exclusive as the
 * first statement of each day's transaction. A write therefore either commits before the roll-up
 * reads (which then sees it), or reaches its trigger's condition only after the roll-up committed
 * (and finds the day in rolled_days to take off). Any constant works if every instance uses the
 * same one: the first 8 bytes of sha256("loaxa:rollup") as a signed 64-bit integer (a string: a
 * JavaScript number cannot hold it), like the migration lock of sql.ts.
 */
export const ROLLUP_LOCK_KEY = '-4179942358659091529';

/**
 * The first statement of every *_rolled function, before its condition: unconditional, since the
 * wait is the point (see ROLLUP_LOCK_KEY). Taking it again in the same transaction costs a lookup
 * in the backend's own lock table. Each later statement of the (volatile) function takes a new
 * snapshot under READ COMMITTED, so after a wait it sees what the roll-up committed.
 */
const ROLLUP_SHARED_LOCK = `PERFORM pg_advisory_xact_lock_shared(${ROLLUP_LOCK_KEY});`;

export const POSTGRES_BASELINE_SQL = `
-- Tables in foreign-key order: each one after the tables it references.

CREATE TABLE communes (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  revision   BIGINT NOT NULL DEFAULT 1,
  -- JSON array of administrative codes an alert's geocodes reach the whole commune by.
  geocodes   TEXT NOT NULL DEFAULT '[]'
);

CREATE TABLE media (
  sha256      TEXT PRIMARY KEY,
  format      TEXT NOT NULL CHECK (format IN ('ogg','mp3')),
  bytes       BIGINT NOT NULL,
  duration_ms BIGINT NOT NULL,
  created_at  BIGINT NOT NULL
);

CREATE TABLE users (
  username             TEXT PRIMARY KEY,
  password_hash        TEXT NOT NULL,
  role                 TEXT NOT NULL CHECK (role IN ('admin','approver','editor','technician','viewer')),
  created_at           BIGINT NOT NULL,
  disabled             BIGINT NOT NULL DEFAULT 0,
  must_change_password BIGINT NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1)),
  -- NULL: a province user, acting across communes.
  commune_id           TEXT REFERENCES communes(id)
);
CREATE INDEX users_commune ON users(commune_id);

CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  username   TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions(expires_at);

CREATE TABLE zones (
  id         TEXT PRIMARY KEY,
  commune_id TEXT NOT NULL REFERENCES communes(id),
  name       TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  languages  TEXT NOT NULL DEFAULT '["vi"]',
  geocodes   TEXT NOT NULL DEFAULT '[]',
  area       TEXT,
  UNIQUE (commune_id, name)
);

CREATE TABLE devices (
  id              TEXT PRIMARY KEY,
  name            TEXT NOT NULL,
  secret_hash     TEXT NOT NULL,
  created_at      BIGINT NOT NULL,
  revoked_at      BIGINT,
  online          BIGINT NOT NULL DEFAULT 0,
  last_seen       BIGINT,
  agent_version   TEXT,
  plan_version    BIGINT NOT NULL DEFAULT 0,
  clock_offset_ms BIGINT,
  clock_offset_at BIGINT,
  latitude        DOUBLE PRECISION,
  longitude       DOUBLE PRECISION,
  audio_format    TEXT NOT NULL DEFAULT 'ogg' CHECK (audio_format IN ('ogg','mp3')),
  simulated       BIGINT NOT NULL DEFAULT 0 CHECK (simulated IN (0, 1)),
  commune_id      TEXT NOT NULL DEFAULT 'default' REFERENCES communes(id)
);
CREATE INDEX devices_commune_id ON devices(commune_id, id);

CREATE TABLE device_zones (
  device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  zone_id   TEXT NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
  PRIMARY KEY (device_id, zone_id)
);
CREATE INDEX device_zones_zone ON device_zones(zone_id);

CREATE TABLE renders (
  cache_key       TEXT PRIMARY KEY,
  sha256          TEXT NOT NULL REFERENCES media(sha256),
  engine          TEXT NOT NULL,
  created_at      BIGINT NOT NULL,
  integrated_lufs DOUBLE PRECISION,
  true_peak_dbtp  DOUBLE PRECISION
);

CREATE TABLE alerts (
  id          TEXT PRIMARY KEY,
  sender      TEXT NOT NULL,
  identifier  TEXT NOT NULL,
  sent_at     BIGINT NOT NULL,
  msg_type    TEXT NOT NULL,
  status      TEXT NOT NULL,
  event       TEXT NOT NULL,
  severity    TEXT NOT NULL,
  urgency     TEXT NOT NULL,
  certainty   TEXT NOT NULL,
  level       BIGINT NOT NULL,
  headline    TEXT,
  description TEXT,
  instruction TEXT,
  expires_at  BIGINT,
  -- JSON: the areas (polygons, circles, geocodes) as parsed.
  areas       TEXT NOT NULL,
  source_url  TEXT,
  received_at BIGINT NOT NULL,
  state       TEXT NOT NULL CHECK (state IN ('active','replaced','cancelled','expired','not-actual')),
  -- The alert an Update or Cancel refers to.
  replaces    TEXT REFERENCES alerts(id),
  categories  TEXT NOT NULL DEFAULT '[]',
  UNIQUE (sender, identifier)
);
CREATE INDEX alerts_received ON alerts(received_at);

CREATE TABLE bulletins (
  id            TEXT PRIMARY KEY,
  title         TEXT NOT NULL,
  text          TEXT,
  priority      TEXT NOT NULL CHECK (priority IN ('normal','priority','emergency')),
  sha256        TEXT NOT NULL REFERENCES media(sha256),
  duration_ms   BIGINT NOT NULL,
  engine        TEXT,
  all_communes  BIGINT NOT NULL CHECK (all_communes IN (0, 1)),
  status        TEXT NOT NULL CHECK (status IN ('submitted','sent','rejected','cancelled')),
  expires_at    BIGINT,
  review_reason TEXT,
  reviewed_by   TEXT,
  reviewed_at   BIGINT,
  sent_at       BIGINT,
  revision      BIGINT NOT NULL DEFAULT 1,
  created_by    TEXT NOT NULL,
  created_at    BIGINT NOT NULL,
  updated_at    BIGINT NOT NULL,
  public        BIGINT NOT NULL DEFAULT 0 CHECK (public IN (0, 1))
);
CREATE INDEX bulletins_created ON bulletins(created_at);

CREATE TABLE bulletin_communes (
  bulletin_id    TEXT NOT NULL REFERENCES bulletins(id) ON DELETE CASCADE,
  commune_id     TEXT NOT NULL REFERENCES communes(id),
  status         TEXT NOT NULL CHECK (status IN ('received','scheduled','aired','declined')),
  decline_reason TEXT,
  detail         TEXT,
  handled_by     TEXT,
  handled_at     BIGINT,
  revision       BIGINT NOT NULL DEFAULT 1,
  PRIMARY KEY (bulletin_id, commune_id)
);
CREATE INDEX bulletin_communes_commune ON bulletin_communes(commune_id, status);

CREATE TABLE content_items (
  id          TEXT PRIMARY KEY,
  kind        TEXT NOT NULL CHECK (kind IN ('notice','audio','stream','silence')),
  title       TEXT NOT NULL,
  tags        TEXT NOT NULL DEFAULT '[]',
  text        TEXT,
  voice       TEXT,
  speed       DOUBLE PRECISION,
  sha256      TEXT REFERENCES media(sha256),
  engine      TEXT,
  stream_url  TEXT,
  duration_ms BIGINT NOT NULL,
  created_by  TEXT,
  created_at  BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL,
  deleted_at  BIGINT,
  revision    BIGINT NOT NULL DEFAULT 1,
  commune_id  TEXT NOT NULL DEFAULT 'default' REFERENCES communes(id),
  public      BIGINT NOT NULL DEFAULT 0 CHECK (public IN (0, 1)),
  versions    TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX content_items_updated ON content_items(updated_at);
CREATE INDEX content_items_commune ON content_items(commune_id, updated_at);

CREATE TABLE programmes (
  id         TEXT PRIMARY KEY,
  title      TEXT NOT NULL,
  created_by TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  deleted_at BIGINT,
  revision   BIGINT NOT NULL DEFAULT 1,
  commune_id TEXT NOT NULL DEFAULT 'default' REFERENCES communes(id)
);
CREATE INDEX programmes_commune ON programmes(commune_id);

CREATE TABLE programme_items (
  programme_id TEXT NOT NULL REFERENCES programmes(id) ON DELETE CASCADE,
  position     BIGINT NOT NULL,
  content_id   TEXT NOT NULL REFERENCES content_items(id),
  repeat       BIGINT NOT NULL DEFAULT 1,
  gap_ms       BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (programme_id, position)
);
CREATE INDEX programme_items_content ON programme_items(content_id);

CREATE TABLE schedules (
  id                TEXT PRIMARY KEY,
  title             TEXT NOT NULL,
  programme_id      TEXT NOT NULL REFERENCES programmes(id),
  rule              TEXT NOT NULL,
  timezone          TEXT NOT NULL,
  priority          TEXT NOT NULL CHECK (priority IN ('normal','priority','emergency')),
  volume            BIGINT,
  repeat            BIGINT NOT NULL DEFAULT 1,
  repeat_gap_ms     BIGINT NOT NULL DEFAULT 0,
  status            TEXT NOT NULL CHECK (status IN ('draft','submitted','approved','rejected','cancelled')),
  -- What goes on air: the programme's assets frozen when the schedule was approved.
  approved_assets   TEXT,
  -- Set when the programme changed after approval: it airs the frozen version until approved again.
  programme_changed BIGINT NOT NULL DEFAULT 0,
  review_reason     TEXT,
  reviewed_by       TEXT,
  reviewed_at       BIGINT,
  revision          BIGINT NOT NULL DEFAULT 1,
  created_by        TEXT,
  created_at        BIGINT NOT NULL,
  updated_at        BIGINT NOT NULL,
  commune_id        TEXT NOT NULL DEFAULT 'default' REFERENCES communes(id),
  approved_public   TEXT,
  approved_versions TEXT
);
CREATE INDEX schedules_status ON schedules(status);
CREATE INDEX schedules_commune ON schedules(commune_id, status);

CREATE TABLE schedule_targets (
  schedule_id TEXT NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
  kind        TEXT NOT NULL CHECK (kind IN ('zone','device')),
  target_id   TEXT NOT NULL,
  PRIMARY KEY (schedule_id, kind, target_id)
);

CREATE TABLE live_sessions (
  id            TEXT PRIMARY KEY,
  commune_id    TEXT NOT NULL REFERENCES communes(id),
  -- In every frame (u32): loudspeakers ignore frames of another session.
  key           BIGINT NOT NULL,
  title         TEXT NOT NULL,
  priority      TEXT NOT NULL CHECK (priority IN ('normal','priority','emergency')),
  -- JSON array of zone ids.
  zones         TEXT NOT NULL,
  latency_ms    BIGINT NOT NULL,
  max_ms        BIGINT NOT NULL,
  started_by    TEXT NOT NULL,
  started_at    BIGINT NOT NULL,
  ended_at      BIGINT,
  end_reason    TEXT,
  ended_by      TEXT,
  occurrence_id TEXT,
  frames        BIGINT NOT NULL DEFAULT 0,
  recording     TEXT REFERENCES media(sha256),
  revision      BIGINT NOT NULL DEFAULT 1,
  source        TEXT NOT NULL DEFAULT 'browser',
  -- The sessions a province officer started together share it (null: a session of its own).
  group_id      TEXT
);
CREATE INDEX live_sessions_open ON live_sessions(commune_id, ended_at);
CREATE INDEX live_sessions_group ON live_sessions(group_id) WHERE group_id IS NOT NULL;

CREATE TABLE occurrences (
  id              TEXT PRIMARY KEY,
  title           TEXT NOT NULL,
  text            TEXT,
  priority        TEXT NOT NULL CHECK (priority IN ('normal','priority','emergency')),
  start_at        BIGINT NOT NULL,
  duration_ms     BIGINT NOT NULL,
  sha256          TEXT NOT NULL REFERENCES media(sha256),
  engine          TEXT,
  command_id      TEXT,
  created_by      TEXT,
  created_at      BIGINT NOT NULL,
  cancelled_at    BIGINT,
  schedule_id     TEXT REFERENCES schedules(id),
  assets          TEXT,
  volume          BIGINT,
  stopped_at      BIGINT,
  stopped_by      TEXT,
  commune_id      TEXT NOT NULL DEFAULT 'default' REFERENCES communes(id),
  bulletin_id     TEXT REFERENCES bulletins(id),
  -- JSON array of what may be shown once aired; NULL: nothing.
  public_items    TEXT,
  alert_id        TEXT REFERENCES alerts(id),
  live_session_id TEXT REFERENCES live_sessions(id)
);
CREATE INDEX occurrences_start ON occurrences(start_at);
CREATE INDEX occurrences_schedule ON occurrences(schedule_id, start_at);
CREATE INDEX occurrences_commune_start ON occurrences(commune_id, start_at);
CREATE INDEX occurrences_bulletin ON occurrences(bulletin_id);
CREATE INDEX occurrences_public ON occurrences(commune_id, start_at) WHERE public_items IS NOT NULL;

CREATE TABLE deliveries (
  occurrence_id TEXT NOT NULL REFERENCES occurrences(id) ON DELETE CASCADE,
  device_id     TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  stage         TEXT NOT NULL DEFAULT 'pending',
  at            BIGINT,
  detail        TEXT,
  PRIMARY KEY (occurrence_id, device_id)
);
CREATE INDEX deliveries_device ON deliveries(device_id);

CREATE TABLE acks (
  device_id   TEXT NOT NULL,
  ref_id      TEXT NOT NULL,
  stage       TEXT NOT NULL,
  at          BIGINT NOT NULL,
  detail      TEXT,
  received_at BIGINT NOT NULL,
  PRIMARY KEY (device_id, ref_id, stage)
);

-- SQLite's INTEGER PRIMARY KEY AUTOINCREMENT: ids from 1, never reused.
CREATE TABLE audit_log (
  id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  at         BIGINT NOT NULL,
  actor      TEXT NOT NULL,
  action     TEXT NOT NULL,
  target     TEXT,
  detail     TEXT,
  ip         TEXT,
  -- NULL: a province-level action.
  commune_id TEXT
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_commune_at ON audit_log(commune_id, at);
CREATE INDEX audit_log_action ON audit_log(action, id);

CREATE TABLE abbreviations (
  commune_id   TEXT NOT NULL REFERENCES communes(id),
  abbreviation TEXT NOT NULL,
  expansion    TEXT NOT NULL,
  updated_at   BIGINT NOT NULL,
  updated_by   TEXT NOT NULL,
  PRIMARY KEY (commune_id, abbreviation)
);

CREATE TABLE login_failures (
  username         TEXT PRIMARY KEY,
  failures         BIGINT NOT NULL,
  first_failure_at BIGINT NOT NULL,
  locked_until     BIGINT
);

-- One row per real change of a device's online state; uptime over a period is read from it.
CREATE TABLE device_status (
  device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  online    BIGINT NOT NULL CHECK (online IN (0, 1)),
  at        BIGINT NOT NULL
);
CREATE INDEX device_status_device_at ON device_status(device_id, at);

-- SQLite's CHECK (json_valid(value)). The json cast (not jsonb) accepts what json_valid does,
-- \\u0000 included, but an invalid value fails with the cast's error, not a check violation.
CREATE TABLE settings (
  commune_id TEXT NOT NULL REFERENCES communes(id),
  key        TEXT NOT NULL,
  value      TEXT NOT NULL CHECK (value::json IS NOT NULL),
  updated_by TEXT,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (commune_id, key)
);

CREATE TABLE media_renditions (
  source_sha256 TEXT NOT NULL REFERENCES media(sha256),
  format        TEXT NOT NULL CHECK (format IN ('mp3')),
  sha256        TEXT NOT NULL REFERENCES media(sha256),
  created_at    BIGINT NOT NULL,
  PRIMARY KEY (source_sha256, format)
);
CREATE INDEX media_renditions_sha256 ON media_renditions(sha256);

-- Facts about this database itself ('generation', 'default_commune').
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- One loudspeaker's numbers over one closed day (reports/day-rollup.ts). SQLite's WITHOUT ROWID
-- has no counterpart: a PostgreSQL table is always a heap with its primary key index.
CREATE TABLE device_days (
  device_id   TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  day         BIGINT NOT NULL,
  broadcasts  BIGINT NOT NULL,
  finished    BIGINT NOT NULL,
  failed      BIGINT NOT NULL,
  missed      BIGINT NOT NULL,
  stopped     BIGINT NOT NULL,
  on_air_ms   BIGINT NOT NULL,
  online_ms   BIGINT NOT NULL,
  observed_ms BIGINT NOT NULL,
  PRIMARY KEY (device_id, day)
);

-- The days whose device_days rows are complete and current; the triggers below take off any day
-- a change would alter.
CREATE TABLE rolled_days (day BIGINT PRIMARY KEY);

CREATE TABLE alert_communes (
  alert_id     TEXT NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
  commune_id   TEXT NOT NULL REFERENCES communes(id),
  decision     TEXT NOT NULL CHECK (decision IN ('auto','confirm','show')),
  status       TEXT NOT NULL CHECK (status IN ('waiting','airing','done','dismissed')),
  device_ids   TEXT NOT NULL,
  repeats_done BIGINT NOT NULL DEFAULT 0,
  next_at      BIGINT,
  decided_by   TEXT,
  decided_at   BIGINT,
  revision     BIGINT NOT NULL DEFAULT 1,
  repeats_ms   TEXT,
  all_clear    BIGINT NOT NULL DEFAULT 0,
  rule_index   BIGINT,
  PRIMARY KEY (alert_id, commune_id)
);
CREATE INDEX alert_communes_due ON alert_communes(status, next_at);

CREATE TABLE alert_feeds (
  url           TEXT PRIMARY KEY,
  etag          TEXT,
  last_modified TEXT,
  polled_at     BIGINT,
  ok_at         BIGINT,
  error         TEXT,
  failures      BIGINT NOT NULL DEFAULT 0,
  next_at       BIGINT,
  saved_at      BIGINT,
  saved_by      TEXT
);

CREATE TABLE alert_files (url TEXT PRIMARY KEY, etag TEXT, read_at BIGINT NOT NULL);

-- The rows SQLite's migrations 12 and 15 insert: the database generation (8 random bytes in
-- hex), and the commune that owns everything by default (created now, in whole seconds).
INSERT INTO meta (key, value) VALUES ('generation', substr(md5(gen_random_uuid()::text), 1, 16));
INSERT INTO communes (id, name, created_at)
  VALUES ('default', 'Xã', floor(extract(epoch FROM statement_timestamp()))::bigint * 1000);
INSERT INTO meta (key, value) VALUES ('default_commune', 'default');

-- The audit log is append-only. Class 23 because SQLite reports RAISE(ABORT) in a trigger as a
-- constraint failure (SQLITE_CONSTRAINT_TRIGGER). TRUNCATE is refused too: SQLite has no way
-- around its DELETE trigger, so neither should PostgreSQL.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit log is append-only' USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- The day roll-up's invalidation (migration 18), one function per SQLite trigger and named
-- after it. A day is the UTC ms of midnight in Asia/Ho_Chi_Minh (UTC+7, no DST):
-- (t + 7 h) / 24 h * 24 h - 7 h. BIGINT division truncates toward zero as SQLite's integer
-- division does, so the days are the same, even before 1970. SQLite's WHEN clauses read
-- rolled_days, and PostgreSQL allows no subquery in a trigger's WHEN, so each is the IF around
-- the function's body. Row triggers only: SQLite's are all FOR EACH ROW. (PostgreSQL runs AFTER
-- row triggers at the end of the statement rather than after each row; deleting from
-- rolled_days only ever removes days, so the result is the same.)
--
-- Each first takes the roll-up lock shared (ROLLUP_LOCK_KEY), added to the baseline before any
-- PostgreSQL database existed in the field, hence in the baseline and not a migration: without it
-- a write committed while its day was being summed (READ COMMITTED) could be missed by the sums
-- and find no rolled_days row to delete yet, leaving the day marked summed without it.
-- Why this cannot deadlock: DayRollup.ensure in reports/day-rollup.ts.

CREATE FUNCTION device_status_rolled() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  ${ROLLUP_SHARED_LOCK}
  IF NEW.at < (SELECT MAX(day) FROM rolled_days) + 86400000 THEN
    DELETE FROM rolled_days WHERE day + 86400000 > NEW.at;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER device_status_rolled AFTER INSERT ON device_status
  FOR EACH ROW EXECUTE FUNCTION device_status_rolled();

CREATE FUNCTION devices_added_rolled() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  ${ROLLUP_SHARED_LOCK}
  IF NEW.created_at < (SELECT MAX(day) FROM rolled_days) + 86400000 THEN
    DELETE FROM rolled_days WHERE day + 86400000 > NEW.created_at;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER devices_added_rolled AFTER INSERT ON devices
  FOR EACH ROW EXECUTE FUNCTION devices_added_rolled();

-- SQLite's MIN(a, b, …) is LEAST: the same here because no argument can be NULL (created_at is
-- NOT NULL, revoked_at is coalesced), where LEAST would skip a NULL and MIN would return it.
CREATE FUNCTION devices_dates_rolled() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  ${ROLLUP_SHARED_LOCK}
  IF EXISTS (SELECT 1 FROM rolled_days) THEN
    DELETE FROM rolled_days WHERE day + 86400000 > LEAST(OLD.created_at, NEW.created_at,
      COALESCE(OLD.revoked_at, NEW.created_at), COALESCE(NEW.revoked_at, NEW.created_at));
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER devices_dates_rolled AFTER UPDATE OF created_at, revoked_at ON devices
  FOR EACH ROW EXECUTE FUNCTION devices_dates_rolled();

CREATE FUNCTION deliveries_added_rolled() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  ${ROLLUP_SHARED_LOCK}
  IF EXISTS (SELECT 1 FROM rolled_days) THEN
    DELETE FROM rolled_days WHERE day =
      (SELECT (o.start_at + 25200000) / 86400000 * 86400000 - 25200000 FROM occurrences o
       WHERE o.id = NEW.occurrence_id);
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER deliveries_added_rolled AFTER INSERT ON deliveries
  FOR EACH ROW EXECUTE FUNCTION deliveries_added_rolled();

CREATE FUNCTION deliveries_changed_rolled() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  ${ROLLUP_SHARED_LOCK}
  IF EXISTS (SELECT 1 FROM rolled_days) THEN
    DELETE FROM rolled_days WHERE day =
      (SELECT (o.start_at + 25200000) / 86400000 * 86400000 - 25200000 FROM occurrences o
       WHERE o.id = NEW.occurrence_id);
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER deliveries_changed_rolled AFTER UPDATE OF stage ON deliveries
  FOR EACH ROW EXECUTE FUNCTION deliveries_changed_rolled();

CREATE FUNCTION deliveries_removed_rolled() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  ${ROLLUP_SHARED_LOCK}
  IF EXISTS (SELECT 1 FROM rolled_days) THEN
    DELETE FROM rolled_days WHERE day =
      (SELECT (o.start_at + 25200000) / 86400000 * 86400000 - 25200000 FROM occurrences o
       WHERE o.id = OLD.occurrence_id);
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER deliveries_removed_rolled AFTER DELETE ON deliveries
  FOR EACH ROW EXECUTE FUNCTION deliveries_removed_rolled();

CREATE FUNCTION occurrences_changed_rolled() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  ${ROLLUP_SHARED_LOCK}
  IF EXISTS (SELECT 1 FROM rolled_days) THEN
    DELETE FROM rolled_days WHERE day IN (
      (OLD.start_at + 25200000) / 86400000 * 86400000 - 25200000,
      (NEW.start_at + 25200000) / 86400000 * 86400000 - 25200000);
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER occurrences_changed_rolled
  AFTER UPDATE OF start_at, duration_ms, stopped_at, cancelled_at ON occurrences
  FOR EACH ROW EXECUTE FUNCTION occurrences_changed_rolled();

CREATE FUNCTION occurrences_removed_rolled() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  ${ROLLUP_SHARED_LOCK}
  IF EXISTS (SELECT 1 FROM rolled_days) THEN
    DELETE FROM rolled_days WHERE day = (OLD.start_at + 25200000) / 86400000 * 86400000 - 25200000;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER occurrences_removed_rolled AFTER DELETE ON occurrences
  FOR EACH ROW EXECUTE FUNCTION occurrences_removed_rolled();
`;
