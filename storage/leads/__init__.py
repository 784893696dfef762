"""The statements behind services/leads, module by module of the same names (`reports`
holds the whole-book reads of stats and export)."""

# Every status a lead can have: the leads table's CHECK list (storage/sql/*/0001_initial.sql),
# in the pipeline's order.
STATUSES = (
    "new",
    "claimed",
    "contacted",
    "documents",
    "submitted",
    "approved",
    "disbursed",
    "lost",
)
