"""The run state in PostgreSQL's `ingest` schema, and its one owner.

Every statement on the `ingest` tables (runs, endpoint progress, table loads, page receipts,
applied batches, consumer offsets, dead letters, replays, releases, the change outbox) lives in this package;
producers, consumers, the CLI and the explorer call its functions.  A function takes the
connection (or, for a plain read, the pool) it runs on as its first argument, so a batch's fence,
receipts, counters and offset stay in the batch's own transaction, which the caller opened.

`pools` is the one module here that imports asyncpg: it builds the pools and sorts asyncpg's
errors; `errors` holds the error tree, `statuses` the StrEnums the tables hold.  The tables'
definitions (for Alembic) stay in schemas/ingest.py.
"""
