-- Pre-qualification drafts (as sqlite/0002): when a prospect last answered, where they
-- stopped, whether they were nudged; `based_on` links a counter-offer's application to the
-- declined one it came from.
ALTER TABLE applications ADD COLUMN updated_at TIMESTAMPTZ;
ALTER TABLE applications ADD COLUMN step TEXT;
ALTER TABLE applications ADD COLUMN nudged_at TIMESTAMPTZ;
ALTER TABLE applications ADD COLUMN based_on BIGINT REFERENCES applications(id);
CREATE INDEX applications_open_drafts ON applications(updated_at) WHERE status = 'draft';
