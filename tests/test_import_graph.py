"""The import graph of ai_chat/ has no cycle.

Read statically (AST), so an import inside a function counts as much as one at the top:
a lazy import hides a circle from Python's import machinery, not from the design. `from
pkg import name` is an edge to `pkg` and, when `pkg.name` is a module, to it too. Relative
imports are resolved against the importing module's package.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "ai_chat"


def module_names(root: Path) -> dict[str, Path]:
    modules = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _absolute(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imports_of(module: str, path: Path) -> set[str]:
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, node, path.name == "__init__.py")
            targets.add(source)
            targets.update(f"{source}.{alias.name}" for alias in node.names)
    return targets


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    modules = module_names(root)
    return {
        name: {t for t in imports_of(name, path) if t in modules and t != name}
        for name, path in modules.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_the_cycle_finder_sees_lazy_and_from_imports(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from pkg.sub import b\n")  # lazy, via the package
    (pkg / "sub" / "b.py").write_text("from ..a import f\n")  # relative
    (pkg / "c.py").write_text("import pkg.a\n")  # into the circle, not part of it
    assert cycles(import_graph(pkg)) == [["pkg.a", "pkg.sub.b"]]


def test_ai_chat_has_no_import_cycle() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles in ai_chat/:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_only_the_tests_of_the_benchmarks_import_them() -> None:
    """Helpers flow one way: benchmarks/ imports tests/support/, not the other way round."""
    tests = PACKAGE.parent / "tests"
    offenders = sorted(
        str(path.relative_to(tests.parent))
        for path in tests.rglob("*.py")
        if "benchmarks" not in path.relative_to(tests).parts[:1]
        and any(t.split(".")[0] == "benchmarks" for t in imports_of("tests.x", path))
    )
    assert offenders == []
