-- The rest of the loan manager's desk (issue 10): where leads come from, and the
-- disbursement checklist.

-- Named lead sources (a car show, a dealership event, a campaign). `code` is the deep-link
-- start parameter: https://t.me/<bot>?start=<code>.
CREATE TABLE sources (
    code        TEXT PRIMARY KEY CHECK (length(code) BETWEEN 1 AND 64),
    name        TEXT NOT NULL UNIQUE,
    created_by  INTEGER,                              -- admin's Telegram id; NULL: the CLI
    created_at  TEXT NOT NULL
);

-- First touch and latest touch, by source code ('unknown' for a start parameter that is
-- malformed or names no source); NULL: the user never came through a deep link ("direct").
ALTER TABLE users ADD COLUMN first_source TEXT;
ALTER TABLE users ADD COLUMN latest_source TEXT;
ALTER TABLE users ADD COLUMN latest_source_at TEXT;
ALTER TABLE leads ADD COLUMN first_source TEXT;
ALTER TABLE leads ADD COLUMN latest_source TEXT;
CREATE INDEX leads_first_source ON leads(first_source, created_at);
CREATE INDEX users_first_source ON users(first_source);

-- A lead takes its buyer's sources when it is opened, whichever code path opens it, so the
-- attribution cannot be forgotten by one of them.
CREATE TRIGGER leads_take_user_source AFTER INSERT ON leads
BEGIN
    UPDATE leads
       SET first_source = (SELECT first_source FROM users WHERE user_id = NEW.user_id),
           latest_source = (SELECT latest_source FROM users WHERE user_id = NEW.user_id)
     WHERE id = NEW.id AND first_source IS NULL;
END;

-- Steps between approval and disbursement: the vehicle's insurance, the lien (mortgage)
-- registration on the vehicle, the transfer of funds. A lead cannot be marked disbursed
-- while one is open; a waived step keeps the reason.
CREATE TABLE lead_checklist (
    id           INTEGER PRIMARY KEY,
    lead_id      INTEGER NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
    step         TEXT NOT NULL CHECK (step IN ('insurance', 'lien', 'funds')),
    status       TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'waived')),
    owner_id     INTEGER,                             -- who is to do it (the lead's owner)
    opened_at    TEXT NOT NULL,
    closed_by    INTEGER,                             -- who marked it done or waived it
    closed_at    TEXT,
    reason       TEXT,                                -- why it was waived
    reminded_at  TEXT,                                -- the owner was reminded it is late
    UNIQUE (lead_id, step)
);
CREATE INDEX lead_checklist_open ON lead_checklist(status, opened_at);
