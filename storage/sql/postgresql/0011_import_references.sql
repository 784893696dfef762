-- Idempotent imports (as sqlite/0011): the lender's loan reference and the bank's payment
-- reference, each unique where present.
ALTER TABLE loans ADD COLUMN loan_ref TEXT;
CREATE UNIQUE INDEX loans_loan_ref ON loans(loan_ref) WHERE loan_ref IS NOT NULL;
ALTER TABLE payments ADD COLUMN payment_ref TEXT;
CREATE UNIQUE INDEX payments_payment_ref ON payments(payment_ref) WHERE payment_ref IS NOT NULL;
