"""The statements behind services/leads, module by module of the same names (`reports`
holds the whole-book reads of stats and export)."""
