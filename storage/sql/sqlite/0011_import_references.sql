-- Imports are idempotent (issue 17): every imported loan carries the lender's own loan
-- reference and every imported payment the bank's payment reference, each unique, so the
-- same file imported twice is reported (or skipped) instead of booked twice. Loans and
-- payments made in chat have none (NULL, which a unique index does not compare).
ALTER TABLE loans ADD COLUMN loan_ref TEXT;
CREATE UNIQUE INDEX loans_loan_ref ON loans(loan_ref) WHERE loan_ref IS NOT NULL;
ALTER TABLE payments ADD COLUMN payment_ref TEXT;
CREATE UNIQUE INDEX payments_payment_ref ON payments(payment_ref) WHERE payment_ref IS NOT NULL;
