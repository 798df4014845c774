"""List the long units of ganeval: functions over 60 lines and modules over 500 lines.

A function's length runs from its ``def`` line to its last line (docstring included,
decorators not); the ``code`` column is that length less the docstring, which is what a
reader has to follow. Nested functions and methods are listed under their qualified name.
Usage: ``python tools/long_units.py [--function-lines N] [--module-lines N] [PATH ...]``
(default paths: ``ganeval`` and ``cli`` next to this folder).
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def iter_functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Yield (qualified name, node) for every function and method, nested ones included."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            name = f"{prefix}{node.name}"
            yield name, node
            yield from iter_functions(node, f"{name}.")
        elif isinstance(node, ast.ClassDef):
            yield from iter_functions(node, f"{prefix}{node.name}.")
        else:
            yield from iter_functions(node, prefix)


def function_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines from the ``def`` line to the function's last line."""
    return (node.end_lineno or node.lineno) - node.lineno + 1


def docstring_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines taken by the function's docstring (0 when it has none)."""
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return (first.end_lineno or first.lineno) - first.lineno + 1
    return 0


def python_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[ROOT / "ganeval", ROOT / "cli"])
    parser.add_argument("--function-lines", type=int, default=60, help="list functions longer than this")
    parser.add_argument("--module-lines", type=int, default=500, help="list modules longer than this")
    args = parser.parse_args()

    long_functions: list[tuple[int, str]] = []
    long_modules: list[tuple[int, str]] = []
    for file in python_files(args.paths):
        text = file.read_text(encoding="utf-8")
        shown = file.relative_to(ROOT) if file.is_relative_to(ROOT) else file
        n_lines = len(text.splitlines())
        if n_lines > args.module_lines:
            long_modules.append((n_lines, str(shown)))
        for name, node in iter_functions(ast.parse(text, filename=str(file))):
            n = function_lines(node)
            if n > args.function_lines:
                code = n - docstring_lines(node)
                long_functions.append((n, f"{code:5d}  {shown}:{node.lineno} {name}"))

    print(f"functions over {args.function_lines} lines: {len(long_functions)}  (lines, code lines, where)")
    for n, where in sorted(long_functions, reverse=True):
        print(f"  {n:5d}  {where}")
    print(f"modules over {args.module_lines} lines: {len(long_modules)}")
    for n, where in sorted(long_modules, reverse=True):
        print(f"  {n:5d}  {where}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
