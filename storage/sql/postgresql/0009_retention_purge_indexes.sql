-- The retention purge's indexes (as sqlite/0009).
CREATE INDEX applications_unfinished_by_age
    ON applications(status, COALESCE(updated_at, submitted_at, created_at))
    WHERE status IN ('draft', 'abandoned');

CREATE INDEX assessments_declined ON assessments(application_id) WHERE decision = 'declined';

CREATE INDEX applications_based_on ON applications(based_on) WHERE based_on IS NOT NULL;

CREATE INDEX lead_documents_by_lead ON lead_documents(lead_id);

CREATE INDEX lead_relay_messages_by_lead ON lead_relay_messages(lead_id);
