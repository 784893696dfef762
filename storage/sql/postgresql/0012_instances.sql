-- Several bot processes (as sqlite/0012): the registry `status` reads, the audit of who
-- became active and when, and the last run of the scheduled work.
CREATE TABLE instances (
    id            TEXT PRIMARY KEY,
    host          TEXT NOT NULL,
    pid           INTEGER NOT NULL,
    role          TEXT NOT NULL,
    started_at    TIMESTAMPTZ NOT NULL,
    active_since  TIMESTAMPTZ,
    seen_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX instances_seen ON instances(seen_at);

CREATE TABLE instance_events (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    instance_id  TEXT NOT NULL,
    event        TEXT NOT NULL,
    at           TIMESTAMPTZ NOT NULL
);

CREATE TABLE scheduled_runs (
    name         TEXT PRIMARY KEY,
    instance_id  TEXT NOT NULL,
    finished_at  TIMESTAMPTZ NOT NULL,
    queued       INTEGER NOT NULL
);
