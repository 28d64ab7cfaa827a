"""a file run's checkpoint in its own columns: entities before the next page, and the file

`ingest.endpoint_progress.entities_before` and `file_name` hold a file run's cursor
(producers/files/paging.py, `FileCursor`); `next_link` is the API's again.  Checkpoints a file
run stored before, packed into `next_link` as `entities=N;file=NAME`, are moved into the new
columns, so an interrupted file run resumes across the upgrade; a downgrade packs them back.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 10:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('endpoint_progress', sa.Column(
        'entities_before', sa.BigInteger(), nullable=True,
        comment="a file run's checkpoint: entities of the file before the next page (producers/files/paging.py)"),
        schema='ingest')
    op.add_column('endpoint_progress', sa.Column(
        'file_name', sa.Text(), nullable=True, comment="the file a file run's checkpoint was read from"),
        schema='ingest')
    # The old packed form: only file runs wrote it, and no API link starts so.
    op.execute(
        "UPDATE ingest.endpoint_progress SET "
        "entities_before = substring(next_link FROM '^entities=([0-9]+)')::bigint, "
        "file_name = NULLIF(substring(next_link FROM ';file=(.*)$'), ''), next_link = NULL "
        "WHERE next_link ~ '^entities=[0-9]+'")


def downgrade() -> None:
    op.execute(
        "UPDATE ingest.endpoint_progress SET next_link = 'entities=' || entities_before || "
        "coalesce(';file=' || file_name, '') WHERE entities_before IS NOT NULL")
    op.drop_column('endpoint_progress', 'file_name', schema='ingest')
    op.drop_column('endpoint_progress', 'entities_before', schema='ingest')
