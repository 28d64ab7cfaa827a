"""The change outbox read in change order per release by an index

The relay reads a release's outbox rows in change order.  With only ix_changes_run (run_id, db,
table_name), and no statistics right after the publishing commit, that was planned as a bitmap
scan and a sort of every row of the release (their after-images: 360 MB for a 200k-application
FULL ACES file) before the first chunk: 6.3 s.  ix_changes_run_change gives the release's first
and last change id at once, and each window of ids between them (ledger/changes.rows) reads at
most a chunk of rows whatever plan it gets.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 19:40:00.000000
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_changes_run_change', 'changes', ['run_id', 'change_id'], unique=False, schema='ingest')


def downgrade() -> None:
    op.drop_index('ix_changes_run_change', table_name='changes', schema='ingest')
