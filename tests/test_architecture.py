"""The house: rooms, one-way dependencies, no circles, no private names across walls.

import-linter (run by `make test`) holds the layer arrows between rooms; these tests hold
what it does not: circles between modules inside a room, private names crossing a room's
wall, imports hidden inside functions, and a front door whose names all resolve.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

import vip2analysis

PACKAGE = Path(vip2analysis.__file__).resolve().parent
ROOT = PACKAGE.parent

# Imports a module may make inside a function: the front door loads names on first use
# (and names them under TYPE_CHECKING), the CLI loads each subcommand's room on
# demand (so `vip2 --help` starts fast), and the notebook helper loads IPython only
# when it displays.
LAZY_ALLOWED = {
    "vip2analysis",
    "vip2analysis.__main__",
    "vip2analysis.cli",
    "vip2analysis.notebook",
}


def _modules() -> dict[str, ast.Module]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        out[name] = ast.parse(path.read_text(encoding="utf-8"))
    return out


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _own_imports(tree: ast.Module) -> list[tuple[ast.ImportFrom, bool]]:
    """(import node, at module level?) for every `from vip2analysis... import`."""
    top = {id(n) for n in tree.body}
    return [
        (node, id(node) in top)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and node.module
        and node.module.startswith("vip2analysis")
    ]


def test_no_private_name_crosses_a_room_wall():
    crossing = []
    for module, tree in _modules().items():
        for node, _ in _own_imports(tree):
            if _room(node.module) == _room(module):
                continue
            crossing += [
                f"{module}: {node.module}.{a.name}" for a in node.names if a.name[0] == "_"
            ]
    assert crossing == []


def test_no_import_cycles_between_modules():
    graph: dict[str, set[str]] = defaultdict(set)
    for module, tree in _modules().items():
        for node, top in _own_imports(tree):
            if top:
                graph[module].add(node.module)

    def visit(node: str, path: list[str], done: set[str]) -> list[str] | None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in path:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in done:
                found = visit(nxt, [*path, nxt], done)
                if found:
                    return found
        done.add(node)
        return None

    done: set[str] = set()
    for module in sorted(graph):
        assert visit(module, [module], done) is None


def test_library_imports_sit_at_module_level():
    hidden = [
        f"{module}:{node.lineno} {node.module}"
        for module, tree in _modules().items()
        if module not in LAZY_ALLOWED
        for node, top in _own_imports(tree)
        if not top
    ]
    assert hidden == []


def test_every_module_declares_all():
    missing = [
        module
        for module, tree in _modules().items()
        if not module.endswith("__main__")
        and not any(
            isinstance(n, ast.Assign | ast.AnnAssign)
            and "__all__" in ast.unparse(n.targets[0] if isinstance(n, ast.Assign) else n.target)
            for n in tree.body
        )
    ]
    assert missing == []


def test_front_door_names_resolve_and_say_where_they_live():
    assert set(vip2analysis.__all__) == {"__version__", *vip2analysis._HOMES}
    for name in vip2analysis.__all__:
        value = getattr(vip2analysis, name)
        home = getattr(value, "__module__", None)
        if home is not None and callable(value):
            assert home.startswith("vip2analysis."), name


def test_unknown_front_door_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        vip2analysis.nope  # noqa: B018


def test_importing_the_core_loads_no_jupyter_or_plotting():
    code = (
        "import sys, vip2analysis as v; v.clean_tables; v.rates; v.adjusted_differences; "
        "v.load_processed; heavy = {'matplotlib', 'seaborn', 'papermill', 'nbconvert', "
        "'IPython', 'typer', 'jupyterlab'} & {m.split('.')[0] for m in sys.modules}; "
        "print(sorted(heavy))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "[]"
