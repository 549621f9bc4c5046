"""One transaction boundary: no module of leadshare/ commits or rolls back but uow.py, and the
pages import no `api` module and run no queries of their own (parsed, not run)."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "leadshare"
BOUNDARY = {"uow.py"}
ENDINGS = {"commit", "rollback"}

# Files other helpers of issue 12 are converting to units of work on their branches. It must end
# empty: the lead removes each entry as its branch merges (the test below fails on stale ones).
NOT_YET_CONVERTED = {
    "routing/geocode/service.py",
    "web/leads.py",
}
# Pages whose schemas still live in api/ until their domain's branch merges; must end empty too.
PAGES_STILL_ON_API: set[str] = set()
QUERY_FREE_PAGES = {"web/admin.py", "web/staff.py", "web/lookups.py", "web/errors.py"}


@cache
def modules() -> dict[str, ast.Module]:
    return {
        path.relative_to(PACKAGE).as_posix(): ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def ending_calls(tree: ast.Module) -> list[str]:
    """`x.commit()` / `x.rollback()` calls of the module, as "line: name"."""
    return [
        f"{node.lineno}: {node.func.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ENDINGS
    ]


def imports(path: str, tree: ast.Module) -> set[str]:
    """Every module the file imports, as absolute dotted names."""
    package = ["leadshare", *path.split("/")[:-1]]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module or "").split(".")]).strip(".")
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def test_only_the_unit_of_work_commits_or_rolls_back():
    offenders = {
        path: calls
        for path, tree in modules().items()
        if path not in BOUNDARY | NOT_YET_CONVERTED and (calls := ending_calls(tree))
    }
    assert not offenders, f"commit/rollback outside leadshare/uow.py: {offenders}"


def test_the_not_yet_converted_list_names_only_files_that_still_end_transactions():
    found = modules()
    stale = {path for path in NOT_YET_CONVERTED if not ending_calls(found.get(path, ast.Module()))}
    assert not stale, f"converted (or gone): remove from NOT_YET_CONVERTED: {sorted(stale)}"


def test_the_unit_of_work_is_where_commits_are():
    assert ending_calls(modules()["uow.py"])


def test_pages_import_no_api_module():
    offenders = {
        path: sorted(m for m in imports(path, tree) if m.startswith("leadshare.api"))
        for path, tree in modules().items()
        if path.startswith("web/") and path not in PAGES_STILL_ON_API
    }
    assert not {path: found for path, found in offenders.items() if found}


def test_pages_still_on_api_do_import_it():
    found = modules()
    stale = {
        path
        for path in PAGES_STILL_ON_API
        if not any(m.startswith("leadshare.api") for m in imports(path, found[path]))
    }
    assert not stale, f"remove from PAGES_STILL_ON_API: {sorted(stale)}"


def test_admin_and_store_pages_and_their_lookups_run_no_queries():
    found = modules()
    for path in QUERY_FREE_PAGES:
        database = {
            m
            for m in imports(path, found[path])
            if m.startswith(("sqlalchemy", "leadshare.extensions"))
        }
        assert not database, f"{path} reaches the database itself: {sorted(database)}"
