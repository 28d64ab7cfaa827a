"""The `ingest` schema: runs, endpoint progress, table load state, consumer offsets, dead letters.

Producers and consumers talk to each other only through Kafka and these tables.  These are the
table definitions (for Alembic); every statement on them lives in ledger/, and the statuses written
in them are in ledger/statuses.py, which does not import SQLAlchemy.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Identity,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from schemas.metadata import metadata

SCHEMA = "ingest"


runs = Table(
    "runs",
    metadata,
    Column("run_id", BigInteger, primary_key=True, autoincrement=True),
    Column("db", Text, nullable=False),
    Column("kind", Text, nullable=False, comment="baseline | incremental | replay | import"),
    Column("as_of", Date, nullable=True),
    Column("since", Date, nullable=True),
    Column("status", Text, nullable=False, comment="running | succeeded | failed | interrupted"),
    Column("tables", JSONB, nullable=False, server_default=text("'[]'::jsonb"), comment="AutoCare table names"),
    Column("error", Text, nullable=True),
    Column("started_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("publication", Text, nullable=False, server_default=text("'staged'"),
           comment="staged (published whole when complete) | in_place (a first baseline, or --in-place)"),
    schema=SCHEMA,
)

endpoint_progress = Table(
    "endpoint_progress",
    metadata,
    Column("run_id", BigInteger, nullable=False),
    Column("table_name", Text, nullable=False),
    Column("status", Text, nullable=False,
           comment="pending | running | paged (end-of-table pending) | done | failed"),
    Column("next_link", Text, nullable=True, comment="nextPageLink of the last checkpointed page"),
    Column("next_page", Integer, nullable=False, server_default=text("1")),
    Column("entities_before", BigInteger, nullable=True,
           comment="a file run's checkpoint: entities of the file before the next page (producers/files/paging.py)"),
    Column("file_name", Text, nullable=True, comment="the file a file run's checkpoint was read from"),
    Column("pages_published", Integer, nullable=False, server_default=text("0")),
    Column("records_published", BigInteger, nullable=False, server_default=text("0")),
    Column("total_count", BigInteger, nullable=True, comment="X-Pagination totalCount"),
    Column("total_pages", Integer, nullable=True),
    Column("retries", Integer, nullable=False, server_default=text("0")),
    Column("last_error", Text, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("run_id", "table_name"),
    schema=SCHEMA,
)

table_load = Table(
    "table_load",
    metadata,
    Column("run_id", BigInteger, nullable=False),
    Column("table_name", Text, nullable=False),
    Column("partitions", Integer, nullable=False, comment="partitions of the topic"),
    Column("eot_partitions", JSONB, nullable=False, server_default=text("'[]'::jsonb"),
           comment="partitions whose end-of-table record was consumed"),
    Column("announced", BigInteger, nullable=True, comment="records the producer announced"),
    Column("loaded", BigInteger, nullable=False, server_default=text("0")),
    Column("dead_lettered", BigInteger, nullable=False, server_default=text("0")),
    Column("status", Text, nullable=False, comment="loading | sealed | mismatch"),
    Column("error", Text, nullable=True),
    Column("sealed_at", DateTime(timezone=True), nullable=True),
    PrimaryKeyConstraint("run_id", "table_name"),
    schema=SCHEMA,
)

page_receipts = Table(
    "page_receipts",
    metadata,
    Column("run_id", BigInteger, nullable=False),
    Column("table_name", Text, nullable=False),
    Column("page", Integer, nullable=False),
    Column("partition", Integer, nullable=False),
    Column("last_index", Integer, nullable=False, comment="index in the page of the last record consumed"),
    Column("records", Integer, nullable=False,
           comment="records of the page on this partition in its latest copy (a re-published page restarts)"),
    PrimaryKeyConstraint("run_id", "table_name", "page", "partition"),
    schema=SCHEMA,
)

consumer_offsets = Table(
    "consumer_offsets",
    metadata,
    Column("group_id", Text, nullable=False),
    Column("topic", Text, nullable=False),
    Column("partition", Integer, nullable=False),
    Column("next_offset", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("group_id", "topic", "partition"),
    schema=SCHEMA,
)

applied_batches = Table(
    "applied_batches",
    metadata,
    Column("topic", Text, nullable=False),
    Column("partition", Integer, nullable=False),
    Column("first_offset", BigInteger, nullable=False),
    Column("last_offset", BigInteger, nullable=False),
    Column("records", Integer, nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("topic", "partition", "first_offset"),
    comment="every applied batch, in the transaction that applied it: overlaps would mean a double apply",
    schema=SCHEMA,
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("dead_letter_id", BigInteger, primary_key=True, autoincrement=True),
    Column("db", Text, nullable=False),
    Column("table_name", Text, nullable=False),
    Column("run_id", BigInteger, nullable=True),
    Column("topic", Text, nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("record_key", Text, nullable=False),
    Column("record", JSONB, nullable=False, comment="the original API record"),
    Column("headers", JSONB, nullable=False, comment="original headers plus the error headers"),
    Column("reason", Text, nullable=False, comment="missing_parent | constraint | validation"),
    Column("sqlstate", Text, nullable=True),
    Column("constraint_name", Text, nullable=True),
    Column("missing_table", Text, nullable=True),
    Column("missing_key", Text, nullable=True),
    Column("message", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("1")),
    Column("status", Text, nullable=False, server_default=text("'open'"), comment="open | resolved | superseded"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    schema=SCHEMA,
)
Index("ix_dead_letters_source", dead_letters.c.topic, dead_letters.c.partition, dead_letters.c.offset)
Index("ix_dead_letters_waiting", dead_letters.c.db, dead_letters.c.missing_table, dead_letters.c.missing_key,
      postgresql_where=dead_letters.c.status == "open")
# One open dead letter per source record, whatever the offsets of its copies.
Index("ix_dead_letters_open", dead_letters.c.db, dead_letters.c.table_name, dead_letters.c.record_key, unique=True,
      postgresql_where=dead_letters.c.status == "open")

# A replay asked for from the explorer (vcdb serve): who, when, what, and what came of it.
replays = Table(
    "replays",
    metadata,
    Column("replay_id", BigInteger, primary_key=True, autoincrement=True),
    Column("actor", Text, nullable=False, comment="the name the operator gave"),
    Column("remote", Text, nullable=True, comment="the client address the request came from"),
    Column("requested_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("filter", JSONB, nullable=False, comment="the dead-letter filter replayed (ids, db, table, reason, run)"),
    Column("selected", Integer, nullable=False),
    Column("loaded", JSONB, nullable=False, server_default=text("'[]'::jsonb"), comment="dead letter ids resolved"),
    Column("failed", JSONB, nullable=False, server_default=text("'[]'::jsonb"),
           comment="[id, reason, message] of those still open"),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    schema=SCHEMA,
)

# One row per run that reached publication: published, refused by the automatic rule (counts off,
# orphans found: `vcdb release publish RUN --force` or `discard`), or discarded.
releases = Table(
    "releases",
    metadata,
    Column("release_id", BigInteger, primary_key=True, autoincrement=True),
    Column("db", Text, nullable=False),
    Column("run_id", BigInteger, nullable=False, unique=True),
    Column("status", Text, nullable=False, comment="published | refused | discarded"),
    Column("publication", Text, nullable=False, comment="staged | in_place"),
    Column("reason", Text, nullable=True, comment="why the automatic rule refused it"),
    Column("forced", Boolean, nullable=False, server_default=text("false")),
    Column("counts", JSONB, nullable=False, server_default=text("'{}'::jsonb"),
           comment="per AutoCare table: rows published"),
    Column("seconds", Float, nullable=True, comment="the publishing transaction's duration"),
    Column("decided_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_at", DateTime(timezone=True), nullable=True),
    Column("relayed_at", DateTime(timezone=True), nullable=True,
           comment="when its changes reached the .changes topics (the relayed mark)"),
    schema=SCHEMA,
)
Index("ix_releases_db", releases.c.db, releases.c.release_id)

# The change outbox: what each release changed, per row, written by the publishing transaction
# and relayed to `autocare.<db>.<table>.changes` (Debezium's envelope).  `vcdb changes` and
# `vcdb diff` read it; the fitment impact of a VCdb release is recorded here too (db `fitment`,
# table `application`).
changes = Table(
    "changes",
    metadata,
    Column("change_id", BigInteger, Identity(always=True), primary_key=True),
    Column("run_id", BigInteger, nullable=False, comment="the release's run"),
    Column("db", Text, nullable=False),
    Column("table_name", Text, nullable=False, comment="AutoCare table name"),
    Column("op", Text, nullable=False, comment="c (insert) | u (update) | d (end or delete) | r (loaded in place)"),
    Column("row_key", JSONB, nullable=False, comment="the key's values, as the table topic's key"),
    Column("before", JSON, nullable=True, comment="the row before, canonical column names"),
    Column("after", JSON, nullable=True, comment="the row after, canonical column names"),
    Column("changed", ARRAY(Text), nullable=True, comment="canonical columns an update changed"),
    schema=SCHEMA,
)
Index("ix_changes_run", changes.c.run_id, changes.c.db, changes.c.table_name)
# The relay reads a release in change order (migration 0012): no sort, whatever the statistics.
Index("ix_changes_run_change", changes.c.run_id, changes.c.change_id)

# The fitment a VCdb release changed: per live application whose fitted vehicles changed.
fitment_impact = Table(
    "fitment_impact",
    metadata,
    Column("run_id", BigInteger, nullable=False, comment="the VCdb release's run"),
    Column("app_key", Text, nullable=False),
    Column("brand_aaia_id", Text, nullable=True),
    Column("part_number", Text, nullable=True),
    Column("status", Text, nullable=False, comment="lost_all | lost_some | gained | changed"),
    Column("lost", ARRAY(BigInteger), nullable=False, comment="vehicle ids it no longer fits"),
    Column("gained", ARRAY(BigInteger), nullable=False, comment="vehicle ids it now fits"),
    Column("fits", Integer, nullable=False, comment="vehicles it fits after the release"),
    PrimaryKeyConstraint("run_id", "app_key"),
    schema=SCHEMA,
)
Index("ix_fitment_impact_brand", fitment_impact.c.brand_aaia_id, fitment_impact.c.run_id)
