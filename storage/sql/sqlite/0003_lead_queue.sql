-- The manager lead queue (issue 6): digests of lead cards for the group, and the
-- buyer <-> manager relay of the human hand-off.

-- When leads arrive faster than a group may receive messages (about 20 a minute), cards
-- are combined into one digest message; every lead in it points at the digest.
CREATE TABLE lead_digests (
    id          INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL,
    message_id  INTEGER,                              -- set when Telegram accepted it
    send_at     TEXT NOT NULL,                        -- when the outbox row becomes due
    created_at  TEXT NOT NULL
);
ALTER TABLE leads ADD COLUMN digest_id INTEGER REFERENCES lead_digests(id);

-- A buyer who pressed "Talk to a manager" on a claimed lead: their next message goes to
-- the owner. One waiting hand-off per buyer.
CREATE TABLE lead_relay_waits (
    user_id   INTEGER PRIMARY KEY,
    lead_id   INTEGER NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
    armed_at  TEXT NOT NULL
);

-- A buyer's message relayed to a manager; the manager's reply to that message (by its
-- message id in the manager's chat) goes back to the buyer.
CREATE TABLE lead_relay_messages (
    id                  INTEGER PRIMARY KEY,
    lead_id             INTEGER NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
    buyer_id            INTEGER NOT NULL,
    manager_id          INTEGER NOT NULL,
    manager_message_id  INTEGER,                      -- set by the outbox hook once sent
    created_at          TEXT NOT NULL
);
CREATE INDEX lead_relay_messages_by_message ON lead_relay_messages(manager_id, manager_message_id);

-- The group budget counts what was queued to a chat in the last minute.
CREATE INDEX outbox_chat_created ON outbox(chat_id, created_at);
