-- A digest's leads (services/lead_cards.py: the size check on every join, the digest's
-- message, a claim refreshing it). Without it each lookup read the whole leads table, once
-- per new lead during a campaign. Partial: most leads never join a digest.
CREATE INDEX leads_by_digest ON leads(digest_id) WHERE digest_id IS NOT NULL;
