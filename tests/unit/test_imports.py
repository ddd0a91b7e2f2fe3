"""The project's import graph: no cycles, and the layers import-linter checks (pyproject.toml).

A cycle among modules makes the import order matter (one side sees the other half-built); a
cycle among packages means neither can be understood, tested or moved without the other. Both
are read from the source with `ast`, so an import hidden in a function still counts for the
packages.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = (
    "domain",
    "adapters",
    "ledger",
    "audit",
    "telemetry",
    "workflows",
    "activities",
    "office",
    "store",
    "api",
    "pages",
    "bench",
)


def project_modules() -> dict[str, Path]:
    """Every module of the project by dotted name (the root modules, the packages' modules)."""
    modules = {path.stem: path for path in REPO.glob("*.py")}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            if "versions" in path.parts:  # alembic revisions are loaded by alembic, not imported
                continue
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _statements(tree: ast.Module, everywhere: bool) -> Iterable[ast.AST]:
    """The top-level statements, or every node; never what `if TYPE_CHECKING:` guards."""
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if _is_type_checking(node):
            continue
        yield node
        if everywhere:
            pending.extend(ast.iter_child_nodes(node))


def imports_of(name: str, path: Path, modules: Mapping[str, Path], everywhere: bool) -> set[str]:
    """The project modules `name` imports: at its top level, or `everywhere` (functions too).

    `from package import module` names the module; a module's own packages are left out (they
    are always initialised before it, so naming them is no cycle).
    """
    found: set[str] = set()
    for node in _statements(ast.parse(path.read_text(encoding="utf-8")), everywhere):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    ancestors = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
    return {module for module in found if module in modules and module != name and module not in ancestors}


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def module_graph(everywhere: bool) -> dict[str, set[str]]:
    """Module → the project modules it imports."""
    modules = project_modules()
    return {name: imports_of(name, path, modules, everywhere) for name, path in modules.items()}


def package_graph() -> dict[str, set[str]]:
    """Top-level package (or root module) → the others it imports anywhere in its code."""
    graph: dict[str, set[str]] = {}
    for module, imported in module_graph(everywhere=True).items():
        top = module.split(".")[0]
        graph.setdefault(top, set()).update(other.split(".")[0] for other in imported)
        graph[top].discard(top)
    return graph


def test_the_walk_sees_the_imports_it_must_see() -> None:
    graph = module_graph(everywhere=False)
    assert "store.metadata" in graph["store.notify_tables"]
    assert "cli_support" in graph["cli"]
    assert "bootstrap" not in graph["cli"]  # imported by the commands that run the parts, not at the top
    assert "bootstrap" in module_graph(everywhere=True)["cli"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_imports_itself_through_others_at_import_time() -> None:
    assert cycles(module_graph(everywhere=False)) == []


def test_no_two_packages_import_each_other_even_inside_functions() -> None:
    assert cycles(package_graph()) == []


def test_the_import_linter_contracts_are_kept() -> None:
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint_imports is not None, "import-linter is a test dependency (pyproject.toml)"
    result = subprocess.run(  # noqa: S603 — our own tool, our own config
        [lint_imports, "--no-cache"], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout  # the contracts in pyproject.toml ran


def test_the_statistics_come_from_the_office_not_from_the_activities() -> None:
    graph = module_graph(everywhere=True)
    assert "office.figures" in graph["api.stats"]
    assert "office.figures" in graph["activities.rhythms"]
    assert not any(module.startswith("activities") for module in graph["api.stats"])
    assert not any(module.startswith(("activities", "api", "pages")) for module in graph["office.figures"])
