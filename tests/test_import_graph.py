"""The import graph, read statically from every module's AST (nothing is imported).

- node/ and matcher/ never import each other: what both need (key kinds,
  scoring, errors, secret files) is in the shared core ``fedalert/``;
  the evaluator, which drives both, sits above them in fedalert/evaluation/.
- The shared core imports no role package, except the entry points named in
  CORE_MAY_IMPORT_ROLES.
- The matcher's SQL is all in its store: no other module of matcher/ (nor the
  evaluator) holds an SQL statement.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ROLES = ("fedalert.node", "fedalert.matcher", "fedalert.keys")

#: Core modules that may import role packages, and why.
CORE_MAY_IMPORT_ROLES = {
    "fedalert.cli": "the one console script dispatches to each role's cli (by name, importlib)",
    "fedalert.demo": "runs a whole federation: keys ceremony, nodes, matcher",
    "fedalert.evaluation": "eval-linkage drives the node's match keys and the matcher's engine in one process",
}

#: The matcher store's modules: the only ones in matcher/ that hold SQL.
STORE_MODULES = {"fedalert.matcher.store", "fedalert.matcher._schema", "fedalert.matcher._index"} | {
    f"fedalert.matcher.{p.stem}" for p in (ROOT / "matcher").glob("_sql_*.py")}
_SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE)\b\s+\S")


def _packages() -> dict[str, Path]:
    """Package name -> source folder, as pyproject.toml maps them."""
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    return {pkg: ROOT / folder for pkg, folder in conf.items()}


def _modules() -> dict[str, Path]:
    out = {}
    for pkg, folder in _packages().items():
        for path in folder.rglob("*.py"):
            rel = path.relative_to(folder).with_suffix("").parts
            if pkg == "fedalert" and rel[0] == "v1":
                continue  # generated protobuf code
            parts = rel[:-1] if rel[-1] == "__init__" else rel
            out[".".join((pkg, *parts))] = path
    return out


MODULES = _modules()


def _package_of(name: str, path: Path) -> str:
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def imports_of(name: str, path: Path) -> set[str]:
    """Every module `name` imports, at the top or inside a function, as absolute dotted names
    (``from a import b`` counts as both ``a`` and ``a.b``; ``importlib.import_module("x")`` counts too)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = _package_of(name, path).split(".")
                pkg = pkg[: len(pkg) - node.level + 1]
                base = ".".join([*pkg, base] if base else pkg)
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None))
              in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant)):
            out.add(str(node.args[0].value))
    return out


def _under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_graph_reads_every_package():
    # The checks below are only as good as the module list: every role and the core are in it.
    for pkg in ROLES:
        assert sum(1 for m in MODULES if _under(m, pkg)) >= 10, pkg
    assert "fedalert.node.matchkeys" in MODULES and "fedalert.matcher.engine" in MODULES
    for core in ("fedalert.kinds", "fedalert.scoring", "fedalert.transport", "fedalert.evaluation.linkage"):
        assert core in MODULES, core
    assert "fedalert.matcher.scoring" not in MODULES  # the model lives in the shared core
    assert STORE_MODULES <= MODULES.keys() and len(STORE_MODULES) >= 6


@pytest.mark.parametrize("role, other", [("fedalert.node", "fedalert.matcher"), ("fedalert.matcher", "fedalert.node")])
def test_node_and_matcher_never_import_each_other(role, other):
    bad = {m: sorted(i for i in imports_of(m, p) if _under(i, other) or _under(i, "fedalert.evaluation"))
           for m, p in MODULES.items() if _under(m, role)}
    assert not {m: i for m, i in bad.items() if i}, f"{role} imports {other} (or the evaluator above both)"


def test_the_shared_core_imports_no_role_package():
    core = {m: p for m, p in MODULES.items() if not any(_under(m, r) for r in ROLES)}
    bad = {}
    for m, p in core.items():
        if any(_under(m, allowed) for allowed in CORE_MAY_IMPORT_ROLES):
            continue
        roles = sorted(i for i in imports_of(m, p) if any(_under(i, r) for r in ROLES))
        if roles:
            bad[m] = roles
    assert not bad, "shared core modules import a role package: " + repr(bad)


def _strings(path: Path):
    """Every string literal of a module (f-string parts too), docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    docs = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docs.add(id(first.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            yield node.lineno, node.value


def test_only_the_store_holds_the_matchers_sql():
    assert any(_SQL.search(s) for _, s in _strings(MODULES["fedalert.matcher._index"]))  # the check sees SQL
    others = {m: p for m, p in MODULES.items()
              if (_under(m, "fedalert.matcher") and m not in STORE_MODULES) or _under(m, "fedalert.evaluation")}
    found = {m: [f"line {n}: {s[:60]!r}" for n, s in _strings(p) if _SQL.search(s)] for m, p in others.items()}
    assert not {m: f for m, f in found.items() if f}, "SQL outside the matcher's store"
