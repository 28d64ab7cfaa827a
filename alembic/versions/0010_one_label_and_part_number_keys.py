"""One label per configuration in part_vehicle; part numbers indexed normalized

Re-creates the fitment view `part_vehicle` with the configuration labels of
schemas/config_labels.py (the explorer's pages read the same), where migration 0004 had its own
(engine liter from EngineBlock first, transmissions in another word order); the view's columns are
unchanged.  Adds the expression indexes of schemas/part_numbers.py: part numbers with case and
punctuation removed, on ACES applications and PIES items, for the explorer's part-number search.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 17:00:00.000000
"""
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from alembic import op
from schemas import part_numbers

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _views() -> ModuleType:
    """Migration 0004, whose view builder reads schemas/ (config_labels now) at upgrade time."""
    path = Path(__file__).with_name("0004_fitment_views.py")
    spec = importlib.util.spec_from_file_location("fitment_views_0004", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    views = _views()
    op.execute(f"CREATE OR REPLACE VIEW {views.SCHEMA}.part_vehicle AS {views.VIEWS['part_vehicle']}")
    for schema, table, name in part_numbers.INDEXED:
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {schema}.{table} "
                   f"({part_numbers.normalized('part_number')} text_pattern_ops)")


def downgrade() -> None:
    # The view keeps its labels: 0004's old label text is not kept anywhere to restore.
    for schema, _, name in part_numbers.INDEXED:
        op.execute(f"DROP INDEX IF EXISTS {schema}.{name}")
