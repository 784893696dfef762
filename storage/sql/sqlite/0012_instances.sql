-- Several bot processes (issue 21): each registers here and says what it is doing, so
-- `python -m bot status` can tell which one is active and which stand by. The active one
-- is whoever holds the lock (storage/leadership.py); these rows only describe it.
CREATE TABLE instances (
    id            TEXT PRIMARY KEY,       -- host:pid:random, new at every start
    host          TEXT NOT NULL,
    pid           INTEGER NOT NULL,
    role          TEXT NOT NULL,          -- standby | active | stopped | gone
    started_at    TEXT NOT NULL,
    active_since  TEXT,
    seen_at       TEXT NOT NULL
);
CREATE INDEX instances_seen ON instances(seen_at);

-- Who became active, lost the lock or stopped, and when: the audit of who did what.
CREATE TABLE instance_events (
    id           INTEGER PRIMARY KEY,
    instance_id  TEXT NOT NULL,
    event        TEXT NOT NULL,           -- active | fenced | stopped
    at           TEXT NOT NULL
);

-- The last run of each kind of scheduled work, and which process ran it.
CREATE TABLE scheduled_runs (
    name         TEXT PRIMARY KEY,
    instance_id  TEXT NOT NULL,
    finished_at  TEXT NOT NULL,
    queued       INTEGER NOT NULL
);
