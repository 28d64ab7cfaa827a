"""one open dead letter per source record; lazy diff snapshots

A page re-published after a producer crash, or a later run delivering an orphan again, used to
open a second dead letter for the same record (the index was unique per topic offset).  Now
the index holds one open dead letter per (db, table, record key): existing duplicates keep the
newest copy open and the others become 'superseded' (their history stays readable).

Diff snapshots are taken lazily (just before the next run changes the table, or when `vcdb diff`
asks), not in the sealing transaction: `table_load.snapshot_at` says when one was taken.  Tables
sealed before this revision were snapshotted at their seal.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 21:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('table_load', sa.Column('snapshot_at', sa.DateTime(timezone=True), nullable=True,
                  comment="when the table's rows after this run were snapshotted for `vcdb diff` (taken lazily)"),
                  schema='ingest')
    op.execute("UPDATE ingest.table_load SET snapshot_at = sealed_at WHERE status = 'sealed'")
    op.execute(
        "UPDATE ingest.dead_letters d SET status = 'superseded', updated_at = now() "
        "FROM (SELECT dead_letter_id, row_number() OVER (PARTITION BY db, table_name, record_key "
        "ORDER BY run_id DESC NULLS LAST, dead_letter_id DESC) AS n FROM ingest.dead_letters "
        "WHERE status = 'open') o WHERE d.dead_letter_id = o.dead_letter_id AND o.n > 1")
    op.drop_index('ix_dead_letters_open', table_name='dead_letters', schema='ingest',
                  postgresql_where=sa.text("status = 'open'"))
    op.create_index('ix_dead_letters_open', 'dead_letters', ['db', 'table_name', 'record_key'], unique=True,
                    schema='ingest', postgresql_where=sa.text("status = 'open'"))
    op.drop_index('ix_dead_letters_source', table_name='dead_letters', schema='ingest')
    op.create_index('ix_dead_letters_source', 'dead_letters', ['topic', 'partition', 'offset'], unique=False,
                    schema='ingest')
    op.alter_column('dead_letters', 'status', comment='open | resolved | superseded', existing_type=sa.Text(),
                    existing_comment='open | resolved', existing_nullable=False, schema='ingest')


def downgrade() -> None:
    op.drop_column('table_load', 'snapshot_at', schema='ingest')
    op.alter_column('dead_letters', 'status', comment='open | resolved', existing_type=sa.Text(),
                    existing_comment='open | resolved | superseded', existing_nullable=False, schema='ingest')
    op.drop_index('ix_dead_letters_source', table_name='dead_letters', schema='ingest')
    op.execute(
        "DELETE FROM ingest.dead_letters d USING ingest.dead_letters e WHERE d.topic = e.topic "
        "AND d.partition = e.partition AND d.\"offset\" = e.\"offset\" AND d.dead_letter_id < e.dead_letter_id")
    op.create_index('ix_dead_letters_source', 'dead_letters', ['topic', 'partition', 'offset'], unique=True,
                    schema='ingest')
    op.drop_index('ix_dead_letters_open', table_name='dead_letters', schema='ingest',
                  postgresql_where=sa.text("status = 'open'"))
    op.create_index('ix_dead_letters_open', 'dead_letters', ['db', 'table_name', 'record_key'], unique=False,
                    schema='ingest', postgresql_where=sa.text("status = 'open'"))
