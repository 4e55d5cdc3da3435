"""The shape of node/: no import cycles, and front ends that use only the disclosure service API.

Both checks read the source (every import statement, at module level or
inside a function), so a lazy import that closes a circle counts as one.
Importing ``a.b.c`` runs ``a/__init__`` and ``a/b/__init__`` first, so it
is also an edge to those packages, unless the importing module sits inside
them (a package's own modules import each other while it initialises).
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NODE = ROOT / "node"
PACKAGE = "fedalert.node"

#: The front ends of the disclosure workflow and what each may import from fedalert
#: besides the service API itself (fedalert.node.disclosure).
FRONT_ENDS = {
    "fedalert.node.disclose_cli": {"fedalert.errors", "fedalert.node._config", "fedalert.node._auth_cli"},
    "fedalert.node.user_cli": {"fedalert.errors", "fedalert.node._config", "fedalert.node._auth_cli"},
    "fedalert.node._auth_cli": {"fedalert.errors", "fedalert.node._config", "fedalert.keys"},
    "fedalert.node.console": set(),
}
#: What no front end may import: the database, the transport, the domain modules.
FORBIDDEN_TOP = {"sqlite3", "sqlite_utils", "grpc"}
API = "fedalert.node.disclosure"


def _modules(root: Path, package: str) -> dict[str, Path]:
    out = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join([package, *parts])] = path
    return out


def _imports(path: Path, name: str) -> list[tuple[str, list[str], int]]:
    """Every import in a file: (module, names imported from it, line)."""
    is_pkg = path.name == "__init__.py"
    here = name if is_pkg else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = here.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([base] if base else []))
            found.append((base, [a.name for a in node.names], node.lineno))
    return found


def import_graph(root: Path = NODE, package: str = PACKAGE) -> dict[str, set[str]]:
    mods = _modules(root, package)
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        for module, names, _line in _imports(path, name):
            targets = [module] + [f"{module}.{n}" for n in names]  # "from pkg import mod" imports pkg.mod
            for target in targets:
                parts = target.split(".")
                for i in range(1, len(parts) + 1):
                    cand = ".".join(parts[:i])
                    inside = name == cand or name.startswith(cand + ".")
                    if cand in mods and not inside:
                        graph[name].add(cand)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), plus self-loops."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph[v]:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_lazy_circle(tmp_path):
    """The finder itself: a function-level import that closes a circle through a package counts."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from pkg.sub.a import f\n")
    (pkg / "sub" / "a.py").write_text("def f():\n    from pkg import b\n")
    (pkg / "b.py").write_text("from pkg.sub import a\n")
    assert cycles(import_graph(pkg, "pkg")) == [["pkg.b", "pkg.sub", "pkg.sub.a"]]
    (pkg / "b.py").write_text("X = 1\n")
    assert cycles(import_graph(pkg, "pkg")) == []


def test_node_has_no_import_cycles():
    graph = import_graph()
    assert "fedalert.node.disclosure.service" in graph and "fedalert.node.store" in graph
    assert cycles(graph) == []


def test_the_store_and_schema_sit_below_the_disclosure_package():
    graph = import_graph()
    for low in ("fedalert.node.store", "fedalert.node.schema"):
        reach = _reachable(graph, low)
        assert not any(m.startswith("fedalert.node.disclosure") for m in reach), (low, sorted(reach))


def _reachable(graph, start):
    seen, todo = set(), [start]
    while todo:
        for w in graph[todo.pop()]:
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


def _front_end_files():
    mods = _modules(NODE, PACKAGE)
    for front, allowed in FRONT_ENDS.items():
        files = {m: p for m, p in mods.items() if m == front or m.startswith(front + ".")}
        assert files, f"front end {front} not found"
        yield front, allowed, files


@pytest.mark.parametrize("front", sorted(FRONT_ENDS))
def test_front_ends_import_only_the_service_api(front):
    api = importlib.import_module(API)
    public = set(api.__all__)
    importlib.import_module(front)  # it imports cleanly
    problems = []
    for name, allowed, files in _front_end_files():
        if name != front:
            continue
        for mod, path in files.items():
            for module, names, line in _imports(path, mod):
                where = f"{path.relative_to(ROOT)}:{line}"
                top = module.split(".")[0]
                if top in FORBIDDEN_TOP:
                    problems.append(f"{where}: imports {module}")
                elif module == API:
                    problems += [f"{where}: {n} is not in the service API" for n in names if n not in public]
                elif module == "fedalert.node" and names:
                    problems.append(f"{where}: imports {names} from fedalert.node; use {API}")
                elif module.startswith("fedalert") and module not in allowed and not module.startswith(front):
                    problems.append(f"{where}: imports {module}, past the service API")
            problems += _private_reach(path, mod)
    assert problems == []


def _private_reach(path: Path, mod: str) -> list[str]:
    """``x._name`` on anything but self/cls, and the service's storage by any name."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute):
            base = node.value.id if isinstance(node.value, ast.Name) else ""
            private = node.attr.startswith("_") and not node.attr.startswith("__")
            if (private and base not in ("self", "cls", "argparse")) or node.attr in ("db", "conn", "store"):
                out.append(f"{path.name}:{node.lineno}: reaches .{node.attr}")
    return out


def test_the_reach_check_catches_a_front_end_that_reaches_past(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f(svc):\n    from fedalert.node.store import NodeStore\n    return svc._store.db\n")
    assert [m for m, _n, _l in _imports(bad, "x.bad")] == ["fedalert.node.store"]
    assert len(_private_reach(bad, "x.bad")) == 2
