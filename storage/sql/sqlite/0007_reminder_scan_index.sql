-- The daily reminder scan (services/reminders.py find_due, issue 7): each kind's due-date
-- range of unpaid installments, read from the index alone. due_date leads (the ranges);
-- loan_id and status are what the scan needs from the row, and the rowid (installment id)
-- comes with every index entry, so no installment row is read. Partial: paid installments,
-- nearly all of a book's rows, are not in it.
CREATE INDEX installments_unpaid_by_due ON installments(due_date, loan_id, status)
    WHERE status != 'paid';

-- The index above serves every query the old one did (same condition, same leading column).
DROP INDEX installments_open_by_due;
