"""After disbursement: the loan `book` (disburse, book, read back, arrears), `payments`
against installments, the repayment `reminders` planned from the database, and the CSV
`imports` of loans booked elsewhere and payments received."""
