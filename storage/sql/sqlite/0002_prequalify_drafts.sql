-- Pre-qualification drafts: when a prospect last answered, where they stopped, and whether
-- they were nudged, so the nudge is planned from the database (a restart loses none).
-- `based_on` links an application made from a counter-offer to the declined one it came from.
ALTER TABLE applications ADD COLUMN updated_at TEXT;
ALTER TABLE applications ADD COLUMN step TEXT;
ALTER TABLE applications ADD COLUMN nudged_at TEXT;
ALTER TABLE applications ADD COLUMN based_on INTEGER REFERENCES applications(id);
CREATE INDEX applications_open_drafts ON applications(updated_at) WHERE status = 'draft';
