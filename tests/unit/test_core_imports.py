"""The pure domain core imports no framework: parsed imports, module by module."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {"flask", "sqlalchemy", "flask_sqlalchemy", "marshmallow", "geopy"}
STDLIB_ONLY = [
    "leadshare/routing/eligibility.py",
    "leadshare/routing/ranking.py",
    "leadshare/routing/geo.py",
    "leadshare/leads/states.py",
    "leadshare/leads/vin.py",
    "leadshare/audit/chain.py",
    "leadshare/auth/throttle.py",
]
OPTIONAL = [
    "leadshare/rewards/rules.py",
    "leadshare/rewards/ledger.py",
    "leadshare/rewards/money.py",
]
CORE = STDLIB_ONLY + [path for path in OPTIONAL if (ROOT / path).exists()]
CORE_MODULES = {path.removesuffix(".py").replace("/", ".") for path in CORE}


def imported_modules(source: str) -> set[str]:
    """Every module a source file imports, at any depth of the file, as dotted names."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
        elif isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
    return found


def top_level(module: str) -> str:
    return module.split(".")[0]


def test_detector_sees_plain_from_and_nested_imports() -> None:
    source = (
        "import flask\n"
        "from sqlalchemy.orm import Session\n"
        "def f():\n"
        "    import geopy.geocoders\n"
        "from . import sibling\n"
    )
    assert imported_modules(source) == {"flask", "sqlalchemy.orm", "geopy.geocoders", "."}
    assert {top_level(m) for m in imported_modules(source)} & FORBIDDEN == {
        "flask",
        "sqlalchemy",
        "geopy",
    }


@pytest.mark.parametrize("path", CORE)
def test_core_module_imports_no_framework(path: str) -> None:
    modules = imported_modules((ROOT / path).read_text(encoding="utf-8"))
    assert not {top_level(m) for m in modules} & FORBIDDEN, modules


@pytest.mark.parametrize("path", STDLIB_ONLY)
def test_core_module_imports_only_stdlib_and_other_core_modules(path: str) -> None:
    modules = imported_modules((ROOT / path).read_text(encoding="utf-8"))
    outside = {
        m for m in modules if top_level(m) not in sys.stdlib_module_names and m not in CORE_MODULES
    }
    assert not outside, f"{path} imports {sorted(outside)}"


@pytest.mark.parametrize("path", STDLIB_ONLY)
def test_core_module_and_public_functions_state_their_rule(path: str) -> None:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), f"{path} has no module docstring"
    undocumented = [
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.ClassDef)
        and not node.name.startswith("_")
        and not ast.get_docstring(node)
    ]
    assert not undocumented, f"{path}: {undocumented}"
