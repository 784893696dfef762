"""The database. `db` (connections, transactions), `migrations` and `sql/` (the schema),
`outbox`, `persistence` (conversation state) and `backup`; and every statement the
services run, behind named functions, one module or package per capability of services/
(`applications`, `leads/`, `loans/`, `people`, `privacy/`). Services pass back the
`Connection` of their transaction and read the `Row`s they get by column name, so a
change of database or driver changes this folder only."""
