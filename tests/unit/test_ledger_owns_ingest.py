"""The ledger is the one owner of the `ingest` schema: no string literal outside ledger/ (docstrings
aside) names an `ingest.` table, so no other module can send a statement on it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("schemas", "streams", "producers", "consumers", "simulator", "vcdb", "web", "bench")
INGEST = re.compile(r"\bingest\.[a-z_]+")


def _sql_literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings
            and INGEST.search(n.value)]


def test_no_module_outside_the_ledger_names_an_ingest_table() -> None:
    found = [f"{path.relative_to(ROOT)}:{line}: {text[:80]!r}"
             for pkg in PACKAGES for path in sorted((ROOT / pkg).rglob("*.py"))
             if "generated" not in path.parts for line, text in _sql_literals(path)]
    assert found == []


def test_the_check_sees_a_statement_on_ingest(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text('"""Reads ingest.runs (a docstring: allowed)."""\nQ = "SELECT * FROM ingest.runs"\n')
    assert _sql_literals(module) == [(2, "SELECT * FROM ingest.runs")]
