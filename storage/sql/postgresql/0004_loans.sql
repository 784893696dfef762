-- Loans and reminders (as sqlite/0004).
CREATE INDEX loans_manager ON loans(manager_id, status);
CREATE INDEX payments_loan ON payments(loan_id, id);
