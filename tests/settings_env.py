"""Which environment variables a Python module reads, found in its syntax tree.

Every read counts, whatever its form: ``os.environ.get("X")``, ``os.getenv("X")``,
``os.environ["X"]``, ``"X" in os.environ``, ``os.environ.setdefault/pop("X")`` (also through
``from os import environ, getenv``), and a call of any function of the same module that itself
reads the environment with a name it is given (``env_int("X", 5)``, and helpers added later
such as ``env_float``). A read whose name is not a literal string is reported apart, since no
check can know what it reads.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

_METHODS = {"get", "setdefault", "pop"}


@dataclass
class EnvironmentReads:
    names: set[str] = field(default_factory=set)
    unnamed: list[int] = field(default_factory=list)  # line numbers of reads of unknown names


def _is_environ(node: ast.AST) -> bool:
    """``os.environ`` or ``environ``."""
    if isinstance(node, ast.Attribute):
        return node.attr == "environ" and isinstance(node.value, ast.Name) and node.value.id == "os"
    return isinstance(node, ast.Name) and node.id == "environ"


def _is_getenv(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr == "getenv" and isinstance(node.value, ast.Name) and node.value.id == "os"
    return isinstance(node, ast.Name) and node.id == "getenv"


def _read_name(node: ast.AST, helpers: set[str]) -> ast.AST | None:
    """The expression naming the variable if ``node`` reads the environment, else None."""
    if isinstance(node, ast.Call):
        func = node.func
        reads = (
            _is_getenv(func)
            or (
                isinstance(func, ast.Attribute)
                and func.attr in _METHODS
                and _is_environ(func.value)
            )
            or (isinstance(func, ast.Name) and func.id in helpers)
        )
        if reads:
            if node.args:
                return node.args[0]
            return next((kw.value for kw in node.keywords), ast.Constant(None))
    elif isinstance(node, ast.Subscript) and _is_environ(node.value):
        return node.slice
    elif (
        isinstance(node, ast.Compare)
        and any(isinstance(op, ast.In | ast.NotIn) for op in node.ops)
        and any(_is_environ(comparator) for comparator in node.comparators)
    ):
        return node.left
    return None


def _helpers(tree: ast.Module) -> set[str]:
    """Functions of the module that read the environment with a name they are given."""
    found: set[str] = set()
    while True:
        more = {
            function.name
            for function in ast.walk(tree)
            if isinstance(function, ast.FunctionDef)
            and function.name not in found
            and any(
                isinstance(name := _read_name(node, found), ast.Name)
                and name.id in {arg.arg for arg in function.args.args}
                for node in ast.walk(function)
            )
        }
        if not more:
            return found
        found |= more


def environment_reads(source: str) -> EnvironmentReads:
    """Every environment variable ``source`` (a module's text) reads."""
    tree = ast.parse(source)
    helpers = _helpers(tree)
    reads = EnvironmentReads()
    inside_helpers = {
        id(node)
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef) and function.name in helpers
        for node in ast.walk(function)
    }
    for node in ast.walk(tree):
        name = _read_name(node, helpers)
        if name is None:
            continue
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            reads.names.add(name.value)
        elif id(node) not in inside_helpers:
            reads.unnamed.append(node.lineno)
    return reads


def file_environment_reads(path: Path) -> EnvironmentReads:
    return environment_reads(path.read_text())
