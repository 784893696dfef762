-- The whole schema of the first release. Money is TEXT holding a decimal string (never REAL);
-- moments are TEXT in ISO 8601 UTC ("2026-11-28T09:30:00+00:00"); calendar dates are
-- TEXT "YYYY-MM-DD" in the company's time zone.

-- People who talked to the bot (buyers and borrowers; managers are also here).
CREATE TABLE users (
    user_id          INTEGER PRIMARY KEY,            -- Telegram user id
    locale           TEXT NOT NULL DEFAULT 'en' CHECK (locale IN ('en', 'zh')),
    locale_chosen    INTEGER NOT NULL DEFAULT 0,     -- 1 once set with /language
    first_name       TEXT,
    consent_status   TEXT CHECK (consent_status IN ('given', 'refused', 'withdrawn')),
    consent_version  TEXT,
    consent_at       TEXT,
    unreachable_at   TEXT,                           -- set when the user blocked the bot
    reminders_paused INTEGER NOT NULL DEFAULT 0,     -- /stop: courtesy reminders off
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);

-- Every consent given, refused or withdrawn, with the version of the text shown.
CREATE TABLE consent_events (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    action     TEXT NOT NULL CHECK (action IN ('given', 'refused', 'withdrawn')),
    version    TEXT NOT NULL,
    at         TEXT NOT NULL
);

-- A pre-qualification application: the answers as JSON, contact details apart.
CREATE TABLE applications (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(user_id),
    status        TEXT NOT NULL DEFAULT 'submitted'
                  CHECK (status IN ('draft', 'submitted', 'abandoned', 'purged')),
    answers       TEXT NOT NULL,                     -- JSON of lending.Answers
    full_name     TEXT,
    phone         TEXT,
    locale        TEXT NOT NULL DEFAULT 'en',
    created_at    TEXT NOT NULL,
    submitted_at  TEXT
);
CREATE INDEX applications_user ON applications(user_id, id);
CREATE INDEX applications_submitted ON applications(submitted_at);

-- The lending engine's verdict on an application, as shown to the buyer.
CREATE TABLE assessments (
    id               INTEGER PRIMARY KEY,
    application_id   INTEGER NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    decision         TEXT NOT NULL CHECK (decision IN ('prequalified', 'review', 'declined')),
    tier             TEXT,
    score            INTEGER,
    loan_amount      TEXT NOT NULL,
    monthly_payment  TEXT NOT NULL,
    annual_rate      TEXT NOT NULL,
    apr              TEXT NOT NULL,
    result           TEXT NOT NULL,                  -- JSON: the full assessment
    created_at       TEXT NOT NULL
);
CREATE INDEX assessments_application ON assessments(application_id);

-- Loan managers and admins added at runtime (MANAGER_IDS / ADMIN_IDS are always allowed).
CREATE TABLE managers (
    user_id       INTEGER PRIMARY KEY,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL DEFAULT 'manager' CHECK (role IN ('manager', 'admin')),
    active        INTEGER NOT NULL DEFAULT 1,
    away          INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL
);

-- A prospect handed to the managers, and where it stands in the pipeline.
CREATE TABLE leads (
    id               INTEGER PRIMARY KEY,
    application_id   INTEGER UNIQUE REFERENCES applications(id),
    user_id          INTEGER NOT NULL REFERENCES users(user_id),
    status           TEXT NOT NULL DEFAULT 'new'
                     CHECK (status IN ('new', 'claimed', 'contacted', 'documents', 'submitted',
                                       'approved', 'disbursed', 'lost')),
    decision         TEXT,
    tier             TEXT,
    human_requested  INTEGER NOT NULL DEFAULT 0,
    owner_id         INTEGER,
    claimed_at       TEXT,
    contacted_at     TEXT,
    lost_reason      TEXT,
    escalation_level INTEGER NOT NULL DEFAULT 0,
    card_chat_id     INTEGER,
    card_message_id  INTEGER,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX leads_status ON leads(status, created_at);
CREATE INDEX leads_owner ON leads(owner_id, status);
CREATE INDEX leads_user ON leads(user_id);

-- The history of a lead: every change with who made it and when.
CREATE TABLE lead_events (
    id          INTEGER PRIMARY KEY,
    lead_id     INTEGER NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
    actor_id    INTEGER,                              -- NULL: the system
    kind        TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT,
    note        TEXT,
    at          TEXT NOT NULL
);
CREATE INDEX lead_events_lead ON lead_events(lead_id, id);

-- Papers the buyer sent after submitting, kept by Telegram file id.
CREATE TABLE lead_documents (
    id              INTEGER PRIMARY KEY,
    lead_id         INTEGER NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
    file_id         TEXT NOT NULL,
    file_unique_id  TEXT,
    kind            TEXT NOT NULL CHECK (kind IN ('photo', 'document')),
    file_name       TEXT,
    created_at      TEXT NOT NULL
);

-- A disbursed loan and its real terms.
CREATE TABLE loans (
    id              INTEGER PRIMARY KEY,
    lead_id         INTEGER UNIQUE REFERENCES leads(id),
    user_id         INTEGER NOT NULL REFERENCES users(user_id),
    manager_id      INTEGER,
    principal       TEXT NOT NULL,
    annual_rate     TEXT NOT NULL,
    rate_type       TEXT NOT NULL DEFAULT 'fixed' CHECK (rate_type IN ('fixed', 'floating')),
    term_months     INTEGER NOT NULL,
    method          TEXT NOT NULL,
    balloon_amount  TEXT NOT NULL DEFAULT '0',
    upfront_fee     TEXT NOT NULL DEFAULT '0',
    apr             TEXT NOT NULL,
    first_due_date  TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'closed')),
    disbursed_at    TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX loans_user ON loans(user_id);

-- One row per scheduled payment.
CREATE TABLE installments (
    id           INTEGER PRIMARY KEY,
    loan_id      INTEGER NOT NULL REFERENCES loans(id) ON DELETE CASCADE,
    n            INTEGER NOT NULL,
    due_date     TEXT NOT NULL,
    payment      TEXT NOT NULL,
    principal    TEXT NOT NULL,
    interest     TEXT NOT NULL,
    balance      TEXT NOT NULL,
    paid_amount  TEXT NOT NULL DEFAULT '0',
    status       TEXT NOT NULL DEFAULT 'due' CHECK (status IN ('due', 'reported', 'paid')),
    reported_at  TEXT,
    paid_at      TEXT,
    UNIQUE (loan_id, n)
);
-- The daily reminder scan reads unpaid installments by due date.
CREATE INDEX installments_open_by_due ON installments(due_date) WHERE status != 'paid';

CREATE TABLE payments (
    id              INTEGER PRIMARY KEY,
    loan_id         INTEGER NOT NULL REFERENCES loans(id) ON DELETE CASCADE,
    installment_id  INTEGER REFERENCES installments(id) ON DELETE SET NULL,
    amount          TEXT NOT NULL,
    recorded_by     INTEGER,
    source          TEXT NOT NULL,                   -- 'manager', 'import', 'borrower-confirmed'
    paid_on         TEXT NOT NULL,
    created_at      TEXT NOT NULL
);

-- Which reminder of which installment went out: the key that makes each one exactly-once.
CREATE TABLE reminders_sent (
    installment_id  INTEGER NOT NULL REFERENCES installments(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,                   -- 'before-3', 'due', 'overdue-7', ...
    user_id         INTEGER NOT NULL,
    sent_on         TEXT NOT NULL,                   -- local date, for "one a day"
    created_at      TEXT NOT NULL,
    PRIMARY KEY (installment_id, kind)
);
CREATE INDEX reminders_sent_user_day ON reminders_sent(user_id, sent_on);

-- Bot API calls waiting to be delivered. A service inserts its rows in the same
-- transaction as the state change that causes them; bot/outbox.py delivers them.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    dedup_key        TEXT UNIQUE,
    chat_id          INTEGER NOT NULL,
    method           TEXT NOT NULL,
    payload          TEXT NOT NULL,                  -- JSON Bot API parameters
    on_sent          TEXT,                           -- "hook:argument" run after delivery
    status           TEXT NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'sent', 'failed', 'dropped')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    last_error       TEXT,
    message_id       INTEGER,
    created_at       TEXT NOT NULL,
    sent_at          TEXT
);
CREATE INDEX outbox_pending ON outbox(status, chat_id, id);

-- python-telegram-bot persistence, as JSON.
CREATE TABLE ptb_user_data (user_id INTEGER PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE ptb_chat_data (chat_id INTEGER PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE ptb_bot_data (id INTEGER PRIMARY KEY CHECK (id = 1), data TEXT NOT NULL);
CREATE TABLE ptb_conversations (
    name   TEXT NOT NULL,
    key    TEXT NOT NULL,                            -- JSON array of the conversation key
    state  TEXT NOT NULL,                            -- JSON of the state
    PRIMARY KEY (name, key)
);
