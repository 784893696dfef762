"""The statements behind services/loans, module by module of the same names."""
