"""The shape of the code: one road through (README, "Architecture").

Read from the source with :mod:`ast`, nothing imported:

* the services (``api/services``), the domain core (``matching``) and ``training`` never import a
  web framework, nor the HTTP layer (``api.routes``, ``api.web``, ``api.app``);
* no module imports another in a circle, counting imports inside functions too (a function-level
  import is how a cycle hides);
* no function-level import of a project module, except in the command-line tools (listed below with
  the reason);
* no source file over 600 lines and no function over 80, except the ones listed with the reason;
* a test module imports no other test module, only the shared helpers (:data:`TEST_HELPERS`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("matching", "training", "api", "bench")
WEB_FRAMEWORKS = ("fastapi", "starlette", "uvicorn")
HTTP_LAYER = ("api.app", "api.routes", "api.web", "api.security", "api.deps", "api.ops", "api.problems")
MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 80
# what test modules share (README, "Run the tests"); a helper another module needs moves here
TEST_HELPERS = ("tests.conftest", "tests.factories", "tests.oracles", "tests.postgres", "tests.web.browser")

# Exceptions, each with its reason. The test also fails when an entry is no longer needed.
LONG_FILES: dict[str, str] = {}
LONG_FUNCTIONS: dict[str, str] = {
    "api/migrations/versions/0001_schema_december_2026.py:upgrade": "data: the first migration creates every "
    "table of the schema it records (26 tables), as Alembic wrote it; later migrations are small",
    "api/migrations/versions/0001_schema_december_2026.py:downgrade": "data: drops the same 26 tables",
}
LAZY_IMPORTS: dict[str, str] = {
    "api/cli/": "a command imports what it runs: `werkmatch match` through the service must not load torch, "
    "mlflow and LightGBM first (the CLI search answers in under 2 s)",
    "bench/": "a load generator imports the service only in the process that serves",
}


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    imports: set[str] = field(default_factory=set)  # every import, module level or inside a function
    nested_project_imports: list[tuple[int, str]] = field(default_factory=list)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _targets(module: str, is_package: bool, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = node.module or ""
    if node.level:
        parts = module.split(".") if is_package else module.split(".")[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join([*parts, base] if base else parts)
    for alias in node.names:
        yield f"{base}.{alias.name}"  # a submodule or a name in ``base``: resolved against known modules


@cache
def modules() -> dict[str, Module]:
    found: dict[str, Module] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = _module_name(path)
            found[name] = Module(name, path, ast.parse(path.read_text(encoding="utf-8")))
    for module in found.values():
        is_package = module.path.name == "__init__.py"
        nested = {
            id(node)
            for function in ast.walk(module.tree)
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
            for node in ast.walk(function)
        }
        for node in ast.walk(module.tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for target in _targets(module.name, is_package, node):
                resolved = _known(found, target)
                module.imports.add(resolved or target)
                if resolved and id(node) in nested:
                    module.nested_project_imports.append((node.lineno, resolved))
    return found


def _known(found: dict[str, Module], target: str) -> str | None:
    while target and target not in found:
        target = target.rpartition(".")[0]
    return target or None


def _relative(module: Module) -> str:
    return module.path.relative_to(ROOT).as_posix()


def test_services_core_and_training_know_no_web_framework() -> None:
    lower = [m for m in modules().values() if m.name.startswith(("api.services", "matching", "training"))]
    assert len(lower) > 40
    offending = sorted(
        f"{_relative(module)} imports {target}"
        for module in lower
        for target in module.imports
        if target.split(".")[0] in WEB_FRAMEWORKS or target.startswith(HTTP_LAYER)
    )
    assert offending == []


def test_no_module_imports_in_a_circle() -> None:
    graph = {name: {t for t in module.imports if t in modules() and t != name} for name, module in modules().items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for name in graph:
        if name not in index:
            visit(name)
    assert cycles == []


def test_project_modules_are_imported_at_the_top() -> None:
    found = {
        f"{_relative(module)}:{line} {target}"
        for module in modules().values()
        for line, target in module.nested_project_imports
        if not _relative(module).startswith(tuple(LAZY_IMPORTS))
    }
    assert sorted(found) == []
    for place in LAZY_IMPORTS:
        assert any(_relative(m).startswith(place) and m.nested_project_imports for m in modules().values()), place


def test_files_and_functions_stay_small() -> None:
    long_files = {
        _relative(module)
        for module in modules().values()
        if len(module.path.read_text(encoding="utf-8").splitlines()) > MAX_FILE_LINES
    }
    long_functions = {
        f"{_relative(module)}:{node.name}"
        for module in modules().values()
        for node in ast.walk(module.tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    }
    assert sorted(long_files - set(LONG_FILES)) == []
    assert sorted(long_functions - set(LONG_FUNCTIONS)) == []
    assert sorted(set(LONG_FILES) - long_files) == [], "no longer needed: remove from LONG_FILES"
    assert sorted(set(LONG_FUNCTIONS) - long_functions) == [], "no longer needed: remove from LONG_FUNCTIONS"


def _borrowed_from_tests(name: str, source: str) -> list[str]:
    """The imports of test module ``name`` (its ``source``) from a test module other than the shared helpers."""
    return [
        f"{node.lineno} {target}"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for target in _targets(name, False, node)
        if target.startswith("tests.") and not any(target == h or target.startswith(f"{h}.") for h in TEST_HELPERS)
    ]


def test_test_modules_import_only_the_shared_helpers() -> None:
    found = {
        path.relative_to(ROOT).as_posix(): _borrowed_from_tests(_module_name(path), path.read_text(encoding="utf-8"))
        for path in sorted((ROOT / "tests").rglob("*.py"))
    }
    assert len(found) > 100
    assert {path: imports for path, imports in found.items() if imports} == {}
    borrowed = "from tests.factories import make_client\nfrom tests.api.test_reasons import T0\nfrom . import x\n"
    assert _borrowed_from_tests("tests.api.test_x", borrowed) == ["2 tests.api.test_reasons.T0", "3 tests.api.x"]
