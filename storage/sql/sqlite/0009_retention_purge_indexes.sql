-- The retention purge (services/privacy.py purge_expired_applications). Submitted
-- applications that are kept (pre-qualified, under review) pile up forever; the purge used
-- to read every one past the cutoff to find the few it deletes. These let it read only
-- its candidates, and delete each without a scan of a whole table.

-- Drafts and abandoned applications by the age the purge judges them by (the same
-- expression as the query's, or SQLite cannot use it). Partial: submitted ones are not in it.
CREATE INDEX applications_unfinished_by_age
    ON applications(status, COALESCE(updated_at, submitted_at, created_at))
    WHERE status IN ('draft', 'abandoned');

-- Declined assessments: the way to the declined applications without passing the others.
CREATE INDEX assessments_declined ON assessments(application_id) WHERE decision = 'declined';

-- Deleting an application clears `based_on` in counter-offer applications that point at it,
-- and the foreign key is checked on the same column: without an index, both read every
-- application, once per application deleted. Partial: most applications have none.
CREATE INDEX applications_based_on ON applications(based_on) WHERE based_on IS NOT NULL;

-- Deleting a lead deletes its papers (ON DELETE CASCADE), found by lead; so do the
-- desk's document list and the upload's duplicate check, which read the whole table.
CREATE INDEX lead_documents_by_lead ON lead_documents(lead_id);

-- Likewise the relayed messages of a deleted lead.
CREATE INDEX lead_relay_messages_by_lead ON lead_relay_messages(lead_id);
