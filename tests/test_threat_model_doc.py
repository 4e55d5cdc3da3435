"""docs/THREAT_MODEL.md cites tests by name: every one it names must exist."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "THREAT_MODEL.md"


@functools.lru_cache(maxsize=None)
def _defined(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}


def cited_tests(text: str) -> list[tuple[str, str | None]]:
    """(file, function or None) for each `file.py::name`, `::name` (same file as
    the last one named) and bare `test_x.py` citation."""
    out, last = [], None
    for m in re.finditer(r"`((?:tests/)?(test_[a-z0-9_]+\.py|conftest\.py))?(?:::([A-Za-z0-9_]+))?`", text):
        file, name = m.group(2), m.group(3)
        if file:
            last = file
        elif name:
            file = last
        else:
            continue
        out.append((file, name))
    return out


def test_every_cited_test_exists():
    cites = cited_tests(DOC.read_text(encoding="utf-8"))
    assert len(cites) > 40
    missing = []
    for file, name in cites:
        path = ROOT / "tests" / file
        if not path.is_file():
            missing.append(file)
        elif name and name not in _defined(path):
            missing.append(f"{file}::{name}")
    assert missing == []


def test_every_limit_test_is_in_the_table():
    text = DOC.read_text(encoding="utf-8")
    limit_tests = {n for n in _defined(ROOT / "tests" / "test_limits.py") if n.startswith("test_limit")}
    assert {n for n in limit_tests if n not in text} == set()
