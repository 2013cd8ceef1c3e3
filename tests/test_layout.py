"""The package's shape: layers without cycles, a small foundation, public names said once.

import-linter (``lint-imports``, contracts in pyproject.toml) keeps the layering in CI; these
tests keep what it cannot see: cycles inside one layer, the size of the root, and that the
three lists of public names (``__all__``, the lazy map, the type-checking imports) agree.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

import gong_authlib
import gong_authlib.stores

PACKAGE = Path(gong_authlib.__file__).parent
MAX_ROOT_MODULES = 12


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> Iterator[str]:
    """Every gong_authlib module ``path`` imports: module level, functions, TYPE_CHECKING."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("gong_authlib"):
                yield node.module
                for alias in node.names:  # `from gong_authlib.x import y` where y is a module
                    yield f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("gong_authlib"))


def import_graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {
        name: {target for target in _imports(path) if target in modules and target != name}
        for name, path in modules.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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


def _without_package_inits(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    # A package's __init__ that re-exports its own submodules lazily is not a cycle: the
    # submodule importing a sibling through the package is what would be, and is caught.
    return {
        name: {t for t in targets if not (name.startswith(t + ".") and t != "gong_authlib")}
        for name, targets in graph.items()
    }


def test_no_import_cycles_type_checking_and_function_imports_counted() -> None:
    assert cycles(_without_package_inits(import_graph())) == []


def test_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_root_holds_only_the_foundation() -> None:
    root = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(root) <= MAX_ROOT_MODULES, root


def test_no_root_module_imports_a_subpackage() -> None:
    graph = import_graph()
    for path in PACKAGE.glob("*.py"):
        name = _module_name(path)
        if name in ("gong_authlib", "gong_authlib.__main__"):
            continue  # the public surface and `python -m`: the top, not the foundation
        climbing = {t for t in graph[name] if t.count(".") >= 2 or _is_package(t)}
        assert not climbing, f"{name} imports {climbing}"


def _is_package(module: str) -> bool:
    return (PACKAGE.parent / module.replace(".", "/") / "__init__.py").exists()


def _type_checking_names(module: object) -> dict[str, str]:
    """``name -> module`` for every import inside the module's ``if TYPE_CHECKING:`` block."""
    path = Path(module.__file__)  # type: ignore[attr-defined]
    names: dict[str, str] = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom)
                assert statement.module
                names.update({alias.name: statement.module for alias in statement.names})
    return names


@pytest.mark.parametrize("package", [gong_authlib, gong_authlib.stores], ids=lambda p: p.__name__)
def test_public_names_are_listed_once_and_agree(package: object) -> None:
    lazy: dict[str, str] = package._LAZY  # type: ignore[attr-defined]
    exported = set(package.__all__)  # type: ignore[attr-defined]
    eager = {name for name in exported if name in vars(package) and name not in lazy}
    assert set(lazy) | eager == exported, "a lazy name missing from __all__, or the reverse"
    assert _type_checking_names(package) == lazy, "the TYPE_CHECKING imports and _LAZY differ"
    for name, module in lazy.items():
        defined = getattr(importlib.import_module(module), name)
        assert getattr(package, name) is defined
        # The map names the defining module, so the documented home is the real one.
        if hasattr(defined, "__module__") and isinstance(defined, type):
            assert defined.__module__ == module, f"{name} is defined in {defined.__module__}"


DOCUMENTED_IMPORTS = [
    "gong_authlib",
    "gong_authlib.web",
    "gong_authlib.web.flask",
    "gong_authlib.web.starlette",
    "gong_authlib.testing",
    "gong_authlib.stores",
]


@pytest.mark.parametrize("module", DOCUMENTED_IMPORTS)
def test_documented_import_paths_still_import(module: str) -> None:
    assert importlib.import_module(module).__name__ == module
