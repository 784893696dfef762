-- Loans and reminders (issue 7): lookups the borrower's and the manager's side need.

-- /mine-style questions ("my borrowers", overdue loans of a manager) read loans by manager.
CREATE INDEX loans_manager ON loans(manager_id, status);

-- A loan's payment history (/loan, the import's duplicate check) reads payments by loan.
CREATE INDEX payments_loan ON payments(loan_id, id);
