"""the change outbox and the fitment impact of releases; `vcdb diff` reads the outbox

`ingest.changes` holds what each release changed, per row, written by its publishing
transaction and relayed to the `.changes` topics; `ingest.releases.relayed_at` is the relayed
mark.  `ingest.fitment_impact` holds, per VCdb release, the live applications whose fitted
vehicles changed.  The row snapshots `vcdb diff` compared (`ingest.row_snapshots`,
`table_load.snapshot_at`) are gone: the diff answers from the outbox.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 16:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('releases', sa.Column('relayed_at', sa.DateTime(timezone=True), nullable=True,
                                        comment='when its changes reached the .changes topics (the relayed mark)'),
                  schema='ingest')
    # Releases published before the outbox have nothing to relay.
    op.execute("UPDATE ingest.releases SET relayed_at = now() WHERE status = 'published'")
    op.create_table(
        'changes',
        sa.Column('change_id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column('run_id', sa.BigInteger(), nullable=False, comment="the release's run"),
        sa.Column('db', sa.Text(), nullable=False),
        sa.Column('table_name', sa.Text(), nullable=False, comment='AutoCare table name'),
        sa.Column('op', sa.Text(), nullable=False,
                  comment='c (insert) | u (update) | d (end or delete) | r (loaded in place)'),
        sa.Column('row_key', postgresql.JSONB(), nullable=False, comment="the key's values, as the table topic's key"),
        sa.Column('before', sa.JSON(), nullable=True, comment='the row before, canonical column names'),
        sa.Column('after', sa.JSON(), nullable=True, comment='the row after, canonical column names'),
        sa.Column('changed', postgresql.ARRAY(sa.Text()), nullable=True,
                  comment='canonical columns an update changed'),
        sa.PrimaryKeyConstraint('change_id', name=op.f('pk_changes')),
        schema='ingest',
    )
    op.create_index('ix_changes_run', 'changes', ['run_id', 'db', 'table_name'], unique=False, schema='ingest')
    op.create_table(
        'fitment_impact',
        sa.Column('run_id', sa.BigInteger(), nullable=False, comment="the VCdb release's run"),
        sa.Column('app_key', sa.Text(), nullable=False),
        sa.Column('brand_aaia_id', sa.Text(), nullable=True),
        sa.Column('part_number', sa.Text(), nullable=True),
        sa.Column('status', sa.Text(), nullable=False, comment='lost_all | lost_some | gained | changed'),
        sa.Column('lost', postgresql.ARRAY(sa.BigInteger()), nullable=False, comment='vehicle ids it no longer fits'),
        sa.Column('gained', postgresql.ARRAY(sa.BigInteger()), nullable=False, comment='vehicle ids it now fits'),
        sa.Column('fits', sa.Integer(), nullable=False, comment='vehicles it fits after the release'),
        sa.PrimaryKeyConstraint('run_id', 'app_key', name=op.f('pk_fitment_impact')),
        schema='ingest',
    )
    op.create_index('ix_fitment_impact_brand', 'fitment_impact', ['brand_aaia_id', 'run_id'], unique=False,
                    schema='ingest')
    op.drop_table('row_snapshots', schema='ingest')
    op.drop_column('table_load', 'snapshot_at', schema='ingest')


def downgrade() -> None:
    op.add_column('table_load', sa.Column('snapshot_at', sa.DateTime(timezone=True), nullable=True), schema='ingest')
    op.create_table(
        'row_snapshots',
        sa.Column('run_id', sa.BigInteger(), nullable=False),
        sa.Column('table_name', sa.Text(), nullable=False),
        sa.Column('row_key', sa.Text(), nullable=False),
        sa.Column('row_hash', sa.Text(), nullable=False),
        sa.Column('column_hashes', postgresql.ARRAY(sa.Integer()), nullable=False),
        sa.PrimaryKeyConstraint('run_id', 'table_name', 'row_key', name=op.f('pk_row_snapshots')),
        schema='ingest',
    )
    op.drop_index('ix_fitment_impact_brand', table_name='fitment_impact', schema='ingest')
    op.drop_table('fitment_impact', schema='ingest')
    op.drop_index('ix_changes_run', table_name='changes', schema='ingest')
    op.drop_table('changes', schema='ingest')
    op.drop_column('releases', 'relayed_at', schema='ingest')
