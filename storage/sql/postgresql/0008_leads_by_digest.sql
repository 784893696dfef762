-- A digest's leads (as sqlite/0008). Partial: most leads never join a digest.
CREATE INDEX leads_by_digest ON leads(digest_id) WHERE digest_id IS NOT NULL;
