"""The import graph of ``gridsim/``, built from the source with :mod:`ast`.

Every ``import`` and ``from ... import`` anywhere in a file counts, inside functions and under
``if TYPE_CHECKING:`` too (an import moved into a function hides a cycle from the interpreter,
not from the design). Relative imports are resolved. ``from pkg import name`` is an edge to the
module ``pkg.name`` when there is one, else to ``pkg``. Importing ``a.b.c`` is an edge to
``a.b.c`` only: Python runs the parents' ``__init__`` first, but a submodule's import is not an
edge to its parent package unless it imports the package itself.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "gridsim"
#: The most cycles a failure message lists (all of them are counted).
SHOWN = 60


@dataclass(repr=False)
class ImportGraph:
    """Modules of a package (name -> file) and the import edges between them."""

    package: str
    modules: dict[str, Path]
    graph: nx.DiGraph
    #: (importer, line, name) of imports of the package that name no module of it
    unresolved: list[tuple[str, int, str]] = field(default_factory=list)
    #: importer -> top-level names of the outside packages it imports (e.g. "hydra")
    external: dict[str, set[str]] = field(default_factory=dict)
    #: (importer, line) of every import inside a function, and whether a comment explains it
    local: list[tuple[str, int, bool]] = field(default_factory=list)

    def __repr__(self) -> str:  # short, for assertion messages
        return (f"ImportGraph({self.package}: {len(self.modules)} modules, "
                f"{self.graph.number_of_edges()} edges)")

    def cycles(self) -> list[list[str]]:
        """Every elementary cycle, each rotated to start at its smallest module, sorted."""
        out = []
        for c in nx.simple_cycles(self.graph):
            k = c.index(min(c))
            out.append(c[k:] + c[:k])
        return sorted(out, key=lambda c: (len(c), c))


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _import_groups(tree: ast.AST) -> list[list[ast.Import | ast.ImportFrom]]:
    """Runs of consecutive import statements in every statement list of ``tree``."""
    groups: list[list[ast.Import | ast.ImportFrom]] = []
    for node in ast.walk(tree):
        for value in ast.iter_fields(node):
            body = value[1]
            if not (isinstance(body, list) and body and isinstance(body[0], ast.stmt)):
                continue
            run: list[ast.Import | ast.ImportFrom] = []
            for stmt in [*body, None]:
                if isinstance(stmt, ast.Import | ast.ImportFrom):
                    run.append(stmt)
                elif run:
                    groups.append(run)
                    run = []
    return groups


def _explained(lines: list[str], group: list[ast.Import | ast.ImportFrom]) -> bool:
    """A comment on the group's lines or on the line just above it."""
    first, last = group[0].lineno, group[-1].end_lineno or group[-1].lineno
    above = lines[first - 2].strip() if first >= 2 else ""
    return above.startswith("#") or any("#" in lines[i - 1] for i in range(first, last + 1))


def _from_targets(mod: str, is_package: bool, node: ast.ImportFrom, modules: dict[str, Path]
                  ) -> list[str]:
    """What ``from ... import ...`` in module ``mod`` imports: ``src.name`` for each name that is
    a module, else ``src`` itself. A relative import above the top gives ``"." * level``."""
    if node.level:
        here = mod.split(".") if is_package else mod.split(".")[:-1]
        if node.level > len(here):
            return ["." * node.level + (node.module or "")]
        base = here[: len(here) - (node.level - 1)]
        src = ".".join(base + ([node.module] if node.module else []))
    else:
        src = node.module or ""
    return [f"{src}.{a.name}" if f"{src}.{a.name}" in modules else src for a in node.names]


def build_graph(root: Path, package: str) -> ImportGraph:
    """The import graph of the package ``root/package`` (``root`` holds the package folder)."""
    modules = {module_name(root, p): p for p in sorted((root / package).rglob("*.py"))}
    g = ImportGraph(package=package, modules=modules, graph=nx.DiGraph())
    g.graph.add_nodes_from(modules)

    def target(importer: str, line: int, name: str) -> None:
        top = name.split(".")[0]
        if name.startswith("."):  # relative, above the top of the package
            g.unresolved.append((importer, line, name))
        elif top != package:
            g.external.setdefault(importer, set()).add(top)
        elif name not in modules:
            g.unresolved.append((importer, line, name))
        elif name != importer:
            g.graph.add_edge(importer, name)

    for mod, path in modules.items():
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        tree = ast.parse(source, filename=str(path))
        is_package = path.name == "__init__.py"
        in_function: set[int] = set()
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                in_function.update(id(n) for n in ast.walk(fn) if n is not fn)
        for group in _import_groups(tree):
            ok = _explained(lines, group)
            for node in group:
                if isinstance(node, ast.Import):
                    for alias in node.names:
                        target(mod, node.lineno, alias.name)
                else:
                    for name in _from_targets(mod, is_package, node, modules):
                        target(mod, node.lineno, name)
                if id(node) in in_function:
                    g.local.append((mod, node.lineno, ok))
    return g


@pytest.fixture(scope="module")
def gridsim_graph() -> ImportGraph:
    return build_graph(ROOT, PACKAGE)


def _describe(package: str, cycles: list[list[str]]) -> str:
    shown = [" -> ".join([*c, c[0]]) for c in cycles[:SHOWN]]
    more = [f"... and {len(cycles) - SHOWN} more"] if len(cycles) > SHOWN else []
    return "\n".join([f"{len(cycles)} import cycle(s) in {package}/:", *shown, *more])


def check_acyclic(g: ImportGraph) -> None:
    cycles = g.cycles()
    assert not cycles, _describe(g.package, cycles)


def test_gridsim_has_no_import_cycle(gridsim_graph: ImportGraph) -> None:
    assert len(gridsim_graph.modules) > 50  # the whole package was read
    assert gridsim_graph.graph.number_of_edges() > 100
    check_acyclic(gridsim_graph)


def test_every_import_of_gridsim_names_a_module_of_it(gridsim_graph: ImportGraph) -> None:
    """A stale path left by a move (``gridsim.config`` after it became ``gridsim.model.params``)
    would only fail when the function holding it first runs."""
    bad = [f"{m} line {line}: {name}" for m, line, name in gridsim_graph.unresolved]
    assert not bad, "imports of modules that do not exist:\n" + "\n".join(bad)


def test_only_one_module_imports_hydra_or_omegaconf(gridsim_graph: ImportGraph) -> None:
    users = sorted(m for m, tops in gridsim_graph.external.items()
                   if tops & {"hydra", "omegaconf"})
    assert len(users) == 1, f"modules of gridsim/ importing hydra or omegaconf: {users}"
    assert users[0].startswith(f"{PACKAGE}.app."), users  # the boundary is the CLI's layer


def test_every_function_level_import_says_why(gridsim_graph: ImportGraph) -> None:
    """An import inside a function is there for a reason (start-up time, mostly: pyproj,
    matplotlib, Hydra, the layer a command needs) and says so in a comment on its line or above
    its group; any other import belongs at the top of its module."""
    unexplained = [f"{m} line {line}" for m, line, ok in gridsim_graph.local if not ok]
    assert len(gridsim_graph.local) > 50  # there are such imports: the check looked at them
    assert not unexplained, (
        f"{len(unexplained)} imports inside functions without a comment saying why; explain "
        "them or move them to the top of their module:\n" + "\n".join(unexplained))


# ------------------------------------------------------------------------------------------
# the graph builder itself, on hand-made packages
# ------------------------------------------------------------------------------------------
def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


def test_a_cycle_hidden_in_a_function_is_found(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/low/__init__.py": "",
        "pkg/low/a.py": "from pkg.low.b import thing\n",
        "pkg/low/b.py": """
            thing = 1

            def late():
                from ..high import c  # a relative import two levels up
                return c
            """,
        "pkg/high/__init__.py": "",
        "pkg/high/c.py": "from pkg.low import a\n",
    })
    g = build_graph(root, "pkg")
    assert g.cycles() == [["pkg.high.c", "pkg.low.a", "pkg.low.b"]]
    assert g.local == [("pkg.low.b", 5, True)]
    with pytest.raises(AssertionError, match=r"(?s)1 import cycle.*pkg\.high\.c -> pkg\.low\.a -> "
                                             r"pkg\.low\.b -> pkg\.high\.c"):
        check_acyclic(g)


def test_parents_and_names_resolve_as_specified(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "pkg/__init__.py": "from pkg.sub import api\n",  # the package imports its child
        "pkg/sub/__init__.py": "from .api import run\n",
        "pkg/sub/api.py": """
            import pkg.sub.impl              # an edge to pkg.sub.impl only, not to pkg, pkg.sub
            from pkg.sub import helper, CONSTANT   # a module and a name of the package
            from . import impl as again
            from pkg.gone import x
            import numpy, hydra.core

            def run():
                import pkg.sub.impl
                return helper
            """,
        "pkg/sub/impl.py": "",
        "pkg/sub/helper.py": "",
    })
    g = build_graph(root, "pkg")
    assert set(g.graph.edges) == {
        ("pkg", "pkg.sub.api"), ("pkg.sub", "pkg.sub.api"),
        ("pkg.sub.api", "pkg.sub.impl"), ("pkg.sub.api", "pkg.sub.helper"),
        ("pkg.sub.api", "pkg.sub")}
    # pkg.sub.api -> pkg.sub (for CONSTANT) -> pkg.sub.api: a real cycle through the __init__
    assert g.cycles() == [["pkg.sub", "pkg.sub.api"]]
    assert g.unresolved == [("pkg.sub.api", 5, "pkg.gone")]
    assert g.external == {"pkg.sub.api": {"numpy", "hydra"}}
    assert g.local == [("pkg.sub.api", 9, False)]


def test_without_the_name_import_there_is_no_cycle(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/sub/__init__.py": "from .api import run\n",
        "pkg/sub/api.py": "import pkg.sub.impl\nfrom pkg.sub import impl\n",
        "pkg/sub/impl.py": "",
    })
    g = build_graph(root, "pkg")
    assert g.cycles() == []
    assert set(g.graph.edges) == {("pkg.sub", "pkg.sub.api"), ("pkg.sub.api", "pkg.sub.impl")}
