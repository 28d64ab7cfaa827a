"""Replays asked for from the explorer are recorded: ingest.replays

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 07:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'replays',
        sa.Column('replay_id', sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column('actor', sa.Text(), nullable=False, comment='the name the operator gave'),
        sa.Column('remote', sa.Text(), nullable=True, comment='the client address the request came from'),
        sa.Column('requested_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column('filter', postgresql.JSONB(), nullable=False,
                  comment='the dead-letter filter replayed (ids, db, table, reason, run)'),
        sa.Column('selected', sa.Integer(), nullable=False),
        sa.Column('loaded', postgresql.JSONB(), server_default=sa.text("'[]'::jsonb"), nullable=False,
                  comment='dead letter ids resolved'),
        sa.Column('failed', postgresql.JSONB(), server_default=sa.text("'[]'::jsonb"), nullable=False,
                  comment='[id, reason, message] of those still open'),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        schema='ingest',
    )


def downgrade() -> None:
    op.drop_table('replays', schema='ingest')
