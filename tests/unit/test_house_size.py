"""The size rule of issue 12: no module in tmail/ over 750 lines, no class over 45 methods.

A module or class past these has grown a second job; give that job its own module (ARCHITECTURE.md,
"Where do I add..."). Data tables belong in data files, not in code.
"""

from __future__ import annotations

import ast
from pathlib import Path

import tmail

MAX_MODULE_LINES = 750
MAX_CLASS_METHODS = 45

PACKAGE = Path(tmail.__file__).parent
MODULES = sorted(PACKAGE.rglob("*.py"))


def _where(path: Path) -> str:
    return str(path.relative_to(PACKAGE.parent))


def test_the_package_is_found() -> None:
    # the rule below must look at the real tree, not at nothing
    assert len(MODULES) > 50 and PACKAGE / "mime" / "parse.py" in MODULES


def test_no_module_is_over_750_lines() -> None:
    too_long = {
        _where(path): lines
        for path in MODULES
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert too_long == {}, f"split these by job (lines): {too_long}"


def test_no_class_has_over_45_methods() -> None:
    too_big = {}
    for path in MODULES:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                methods = sum(
                    isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) for item in node.body
                )
                if methods > MAX_CLASS_METHODS:
                    too_big[f"{_where(path)}:{node.name}"] = methods
    assert too_big == {}, f"give these classes' jobs their own modules (methods): {too_big}"
