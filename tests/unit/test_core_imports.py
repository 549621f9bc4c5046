"""The pure domain core imports no framework: parsed imports, and a fresh interpreter's modules."""

from __future__ import annotations

import ast
import json
import subprocess
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
    "leadshare/leads/enums.py",
    "leadshare/leads/effective.py",
    "leadshare/leads/vin.py",
    "leadshare/leads/chain.py",
    "leadshare/auth/throttle.py",
    "leadshare/hours/schedule.py",
    "leadshare/errors.py",
    "leadshare/observability/context.py",
]
PURE = [
    "leadshare/rewards/rules.py",
    "leadshare/rewards/ledger.py",
    "leadshare/rewards/money.py",
    "leadshare/vocabulary.py",
    "leadshare/clock.py",
    "leadshare/rewards/enums.py",
    "leadshare/notify/enums.py",
    "leadshare/notify/formats.py",
    "leadshare/audit/figures.py",
    "leadshare/retail/rules.py",
]
CORE = STDLIB_ONLY + PURE
FRAMEWORKS = FORBIDDEN | {
    "flask_smorest",
    "flask_login",
    "flask_wtf",
    "flask_babel",
    "flask_migrate",
    "werkzeug",
    "apispec",
    "alembic",
    "jinja2",
}
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


@pytest.mark.parametrize("path", CORE)
def test_core_module_exists(path: str) -> None:
    """A core file that moved must move in this list too: a missing one fails, never skips."""
    assert (ROOT / path).is_file(), f"{path} is listed as core but does not exist"


def test_importing_the_core_loads_no_framework_in_a_fresh_interpreter() -> None:
    """`import leadshare.<core module>` runs package __init__ files too: none may build the app."""
    script = (
        "import importlib, json, sys\n"
        f"for name in {sorted(CORE_MODULES)!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = {top_level(name) for name in json.loads(done.stdout)}
    assert "leadshare" in loaded
    assert not loaded & FRAMEWORKS, sorted(loaded & FRAMEWORKS)


def test_the_fresh_interpreter_check_sees_a_framework_when_one_is_imported() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, sys, leadshare.app; print(json.dumps(sorted(sys.modules)))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert {"flask", "sqlalchemy"} <= {top_level(name) for name in json.loads(done.stdout)}
