"""The run state: every statement on PostgreSQL's `ingest` schema (DESIGN.md, "ledger/")."""
