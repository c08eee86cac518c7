"""Rules for graph/, kyt/, cases/ and ui/: at most three positional parameters, no other module's private names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("graph", "kyt", "cases", "ui")
MAX_POSITIONAL = 3
"""Parameters a function may take by position (self and cls not counted); the rest go after `*`."""

TYPER_DECORATORS = ("command", "callback")
"""Decorator attributes (`@app.command(...)`, `@app.callback()`) that mark a function Typer calls by keyword."""
TYPER_PARAMETERS = ("Option", "Argument")
"""`typer.Option(...)` and `typer.Argument(...)` defaults mark a command registered elsewhere (`app.command()(f)`)."""

ALLOWED_POSITIONAL: set[tuple[str, str]] = set()
"""(file, function) pairs that still break the positional rule, to be cleared with the files being rewritten."""

ALLOWED_PRIVATE: set[tuple[str, str]] = set()
"""(file, module._name) uses of another module's private name still allowed, in files being rewritten elsewhere."""


def project_files() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


PROJECT_MODULES = frozenset(module_name(path) for path in project_files())


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def is_typer_command(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether Typer calls the function (by keyword): decorated as a command, or declaring typer options."""
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute) and target.attr in TYPER_DECORATORS:
            return True
    defaults = function.args.defaults + [d for d in function.args.kw_defaults if d is not None]
    return any(isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr in TYPER_PARAMETERS
               and isinstance(d.func.value, ast.Name) and d.func.value.id == "typer" for d in defaults)


def long_signatures(source: str) -> list[tuple[int, str]]:
    """(line, name) of every function taking over MAX_POSITIONAL parameters by position (self, cls not counted)."""
    tree = ast.parse(source)
    methods = {
        id(node)
        for parent in ast.walk(tree)
        if isinstance(parent, ast.ClassDef)
        for node in parent.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or is_typer_command(node):
            continue
        names = [arg.arg for arg in node.args.posonlyargs + node.args.args]
        if id(node) in methods and names and names[0] in ("self", "cls"):
            names = names[1:]
        if len(names) > MAX_POSITIONAL:
            found.append((node.lineno, node.name))
    return found


def private_uses(source: str, own: str, package: bool = False) -> list[tuple[int, str]]:
    """(line, "module._name") for every private name module `own` takes from another project module."""
    tree = ast.parse(source)
    modules: dict[str, str] = {}
    """Local names bound to project modules or packages ("fields" -> "graph.fields", "graph" -> "graph")."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PACKAGES:
                    if alias.asname:
                        modules[alias.asname] = alias.name
                    else:
                        modules[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            source_module = absolute(node, own, package)
            if source_module is None or source_module.split(".")[0] not in PACKAGES:
                continue
            for alias in node.names:
                submodule = f"{source_module}.{alias.name}"
                if submodule in PROJECT_MODULES:
                    modules[alias.asname or alias.name] = submodule
                elif is_private(alias.name) and source_module != own:
                    found.append((node.lineno, f"{source_module}.{alias.name}"))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or not is_private(node.attr):
            continue
        base = dotted(node.value, modules)
        if base in PROJECT_MODULES and base != own:
            found.append((node.lineno, f"{base}.{node.attr}"))
    return found


def absolute(node: ast.ImportFrom, own: str, package: bool) -> str | None:
    """The module a `from ... import` names, relative ones (`from .x import y`) resolved against `own`."""
    if node.level == 0:
        return node.module
    parts = own.split(".") if package else own.split(".")[:-1]
    if node.level - 1 > len(parts):
        return None
    parts = parts[:len(parts) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


def dotted(node: ast.expr, modules: dict[str, str]) -> str | None:
    """The project module an expression such as `fields` or `graph.fields` names, or None when it is not one."""
    if isinstance(node, ast.Name):
        return modules.get(node.id)
    if isinstance(node, ast.Attribute):
        base = dotted(node.value, modules)
        return f"{base}.{node.attr}" if base is not None else None
    return None


def scanned() -> list[tuple[str, str, str, bool]]:
    """(file relative to the root, its text, its module, whether it is a package) of every project file."""
    return [(path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8"), module_name(path),
             path.name == "__init__.py") for path in project_files()]


def test_the_checks_see_the_project():
    assert {"graph.fields", "cases.service", "ui.cases_cli"} <= PROJECT_MODULES


@pytest.mark.parametrize("source, found", [
    ("def f(a, b, c, d): pass", [(1, "f")]),
    ("def f(a, b, c, *, d): pass", []),
    ("def f(a, /, b, c, d): pass", [(1, "f")]),
    ("class C:\n    def m(self, a, b, c): pass\n    @classmethod\n    def k(cls, a, b, c, d): pass", [(4, "k")]),
    ("def f(self, a, b, c): pass", [(1, "f")]),  # not a method: self counts
    ("def outer():\n    def add(a, b, c, d): pass", [(2, "add")]),
    ("@app.command('x')\ndef c(a, b, c, d): pass", []),
    ("@app.callback()\ndef c(a, b, c, d): pass", []),
    ("def c(a=typer.Option(1), b=typer.Option(2), c=typer.Argument(3), d=typer.Option(4)): pass", []),
])
def test_long_signatures_are_found(source, found):
    assert long_signatures(source) == found


@pytest.mark.parametrize("source, found", [
    ("from graph.fields import _text", [(1, "graph.fields._text")]),
    ("from graph.fields import as_text, __doc__", []),
    ("from graph import fields\nfields._mask(x)", [(2, "graph.fields._mask")]),
    ("import graph.fields\ngraph.fields._mask(x)", [(2, "graph.fields._mask")]),
    ("import graph.fields as f\nf._mask(x)", [(2, "graph.fields._mask")]),
    ("from . import fields\nfields._mask(x)", [(2, "graph.fields._mask")]),
    ("from .fields import _mask", [(1, "graph.fields._mask")]),
    ("from graph.pruned import _normal", []),  # its own private name
    ("row._replace(usd_value=1)", []),
    ("from pyspark import SparkContext\nSparkContext._ensure_initialized()", []),
    ("from graph import fields\nfields.__name__", []),
])
def test_private_uses_are_found(source, found):
    assert private_uses(source, "graph.pruned") == found


def test_no_function_takes_more_than_three_positional_parameters():
    broken = [f"{relative}:{line} {name}" for relative, source, _, _ in scanned()
              for line, name in long_signatures(source) if (relative, name) not in ALLOWED_POSITIONAL]
    assert not broken, "put `*` after the first parameters (at most three):\n" + "\n".join(broken)


def test_no_module_uses_another_modules_private_names():
    broken = [f"{relative}:{line} {name}" for relative, source, module, package in scanned()
              for line, name in private_uses(source, module, package) if (relative, name) not in ALLOWED_PRIVATE]
    assert not broken, "give these names a public spelling:\n" + "\n".join(broken)


def test_the_allowed_lists_hold_no_cleared_entries():
    """Every allowed exception still occurs, so that the lists shrink as the files are fixed."""
    files = scanned()
    positional = {(relative, name) for relative, source, _, _ in files for _, name in long_signatures(source)}
    private = {(relative, name) for relative, source, module, package in files
               for _, name in private_uses(source, module, package)}
    assert not ALLOWED_POSITIONAL - positional, sorted(ALLOWED_POSITIONAL - positional)
    assert not ALLOWED_PRIVATE - private, sorted(ALLOWED_PRIVATE - private)
