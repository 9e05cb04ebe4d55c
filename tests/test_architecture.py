"""The package's shape, enforced: layers import downwards only; modules and functions stay short;
no docstring or comment points at the retired DESIGN document.

Layers, lowest first (docs/architecture.md, "Packages"): a module may import modules of its
own layer and of lower layers only, and ``allocation`` and ``suitability`` (one level) not
each other. Every import counts, also one inside a function; imports under
``if TYPE_CHECKING:`` (annotations only) do not. ``gridcarbon/__init__.py`` (the lazy public
API) and ``gridcarbon/testing.py`` (fixtures for tests) are exempt from the layer rule.
"""
from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import gridcarbon

PACKAGE = Path(gridcarbon.__file__).resolve().parent
#: layers lowest first; names in one tuple share a level but are separate layers
ORDER = [("core",), ("inputs",), ("config",), ("inventory",), ("allocation", "suitability"), ("evolution",),
         ("coupling",), ("output",), ("result",), ("job",), ("ensembles", "shipped"), ("cli",)]
LEVEL = {layer: level for level, layers in enumerate(ORDER) for layer in layers}
EXEMPT = {"__init__.py", "testing.py"}
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
STALE_REFERENCE = re.compile(r"DESIGN\s+sections?", re.IGNORECASE)


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def rel(path: Path) -> str:
    return path.relative_to(PACKAGE.parent).as_posix()


def layer_of(dotted: str) -> str | None:
    """The layer of a ``gridcarbon...`` module name, None for the package root itself."""
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else None


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports(tree: ast.AST, package: str):
    """Every ``(line, imported module)`` of gridcarbon in ``tree``, skipping ``if TYPE_CHECKING:`` bodies.

    ``from gridcarbon import name`` yields ``gridcarbon.name``: a layer when ``name`` is one,
    else the package root's public API.
    """
    def visit(node):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                yield from visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the importing module's package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}" if base == "gridcarbon" else base
        for child in ast.iter_child_nodes(node):
            yield from visit(child)

    for line, name in visit(tree):
        if name == "gridcarbon" or name.startswith("gridcarbon."):
            yield line, name


def layer_violations(path: Path) -> list[str]:
    """Imports of ``path`` that reach above its layer, or across allocation / suitability."""
    own = layer_of(module_name(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = []
    for line, name in imports(ast.parse(path.read_text(encoding="utf-8")), package):
        target = layer_of(name)
        if target == own:
            continue
        if target not in LEVEL:
            found.append(f"{rel(path)}:{line}: {own} imports {name}, the package root's API (import its home module)")
        elif LEVEL[target] >= LEVEL[own]:
            where = "beside" if LEVEL[target] == LEVEL[own] else "above"
            found.append(f"{rel(path)}:{line}: {own} imports {name} ({target} is {where} {own})")
    return found


def test_every_module_belongs_to_a_layer():
    stray = [rel(p) for p in modules() if p.relative_to(PACKAGE).as_posix() not in EXEMPT
             and layer_of(module_name(p)) not in LEVEL]
    assert stray == [], f"modules outside every layer (add them to ORDER): {stray}"


def test_layers_import_only_their_own_and_lower_layers():
    found = [v for p in modules() if p.relative_to(PACKAGE).as_posix() not in EXEMPT for v in layer_violations(p)]
    assert found == [], "imports against the layer order:\n" + "\n".join(found)


def test_the_layer_walk_sees_function_imports_and_skips_type_checking_blocks():
    tree = ast.parse("from typing import TYPE_CHECKING\n"
                     "from gridcarbon.core.grid import Grid\n"
                     "if TYPE_CHECKING:\n    from gridcarbon.result import RunResult\n"
                     "def f():\n    import gridcarbon.job\n    from gridcarbon import output\n"
                     "from . import sibling\n")
    assert list(imports(tree, "gridcarbon.inputs")) == [
        (2, "gridcarbon.core.grid"), (6, "gridcarbon.job"), (7, "gridcarbon.output"), (8, "gridcarbon.inputs")]


def test_no_module_is_longer_than_the_limit():
    long = {rel(p): n for p in modules() if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert long == {}, f"modules above {MAX_MODULE_LINES} lines: {long}"


def test_no_function_is_longer_than_the_limit():
    long = []
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{rel(path)}:{node.lineno}: {node.name} has {n} lines")
    assert long == [], f"functions above {MAX_FUNCTION_LINES} lines:\n" + "\n".join(long)


def test_no_docstring_or_comment_mentions_design_sections():
    found = []
    for path in modules():
        text = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node, clean=False)
                if doc and STALE_REFERENCE.search(doc):
                    found.append(f"{rel(path)}:{getattr(node, 'lineno', 1)}: docstring of "
                                 f"{getattr(node, 'name', 'the module')}")
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT and STALE_REFERENCE.search(tok.string):
                found.append(f"{rel(path)}:{tok.start[0]}: comment {tok.string.strip()!r}")
    assert found == [], "stale 'DESIGN section' references (point at docs/architecture.md):\n" + "\n".join(found)


def test_every_package_folder_ships_and_its_data_with_it():
    """The wheel lists every package folder of the source tree (a folder left out installs
    without its modules), and the installed package finds its boundaries and data files."""
    import tomllib

    from gridcarbon.inputs.data import boundary_dir, data_path

    repo = Path(__file__).resolve().parents[1]
    listed = set(tomllib.loads((repo / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {init.parent.relative_to(repo).as_posix().replace("/", ".")
               for init in (repo / "gridcarbon").rglob("__init__.py")}
    assert folders <= listed, f"not in pyproject's packages: {sorted(folders - listed)}"
    assert (boundary_dir() / "yrd.gpkg").is_file() and (boundary_dir() / "china.gpkg").is_file()
    for name in ("yrd_plants.csv", "scenarios/yrd-enhanced.yaml", "facilities/coal_units.csv",
                 "layers/mcd12c1_2019_igbp_0p05deg.tif", "layers/county_storage.csv"):
        assert data_path(name).is_file(), name
