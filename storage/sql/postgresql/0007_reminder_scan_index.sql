-- The daily reminder scan (as sqlite/0007): unpaid installments by due date, with the
-- columns the scan reads; the id is INCLUDEd since PostgreSQL has no rowid in its entries.
CREATE INDEX installments_unpaid_by_due ON installments(due_date, loan_id, status)
    INCLUDE (id) WHERE status != 'paid';

DROP INDEX installments_open_by_due;
