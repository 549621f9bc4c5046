"""One transaction boundary: no module of leadshare/ commits or rolls back but uow.py, and the
pages import no `api` module and run no queries of their own (parsed, not run)."""

from __future__ import annotations

import ast

from .parsed import imports, modules

BOUNDARY = {"uow.py"}
ENDINGS = {"commit", "rollback"}


def ending_calls(tree: ast.Module) -> list[str]:
    """`x.commit()` / `x.rollback()` calls of the module, as "line: name"."""
    return [
        f"{node.lineno}: {node.func.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ENDINGS
    ]


def test_only_the_unit_of_work_commits_or_rolls_back():
    offenders = {
        path: calls
        for path, tree in modules().items()
        if path not in BOUNDARY and (calls := ending_calls(tree))
    }
    assert not offenders, f"commit/rollback outside leadshare/uow.py: {offenders}"


def test_the_unit_of_work_is_where_commits_are():
    assert ending_calls(modules()["uow.py"])


def test_pages_import_no_api_module():
    offenders = {
        path: sorted(m for m in imports(path, tree) if m.startswith("leadshare.api"))
        for path, tree in modules().items()
        if path.startswith("web/")
    }
    assert not {path: found for path, found in offenders.items() if found}


def test_pages_run_no_queries_of_their_own():
    """Pages call services: no page module imports SQLAlchemy or the database handle."""
    offenders = {
        path: sorted(
            m
            for m in imports(path, tree)
            if m.startswith("sqlalchemy") or m.startswith("leadshare.extensions.db")
        )
        for path, tree in modules().items()
        if path.startswith("web/")
    }
    assert not {path: found for path, found in offenders.items() if found}


def test_the_import_reader_sees_a_page_reaching_the_database():
    tree = ast.parse("from ..extensions import db\nfrom sqlalchemy import select\n")
    assert {"leadshare.extensions.db", "sqlalchemy.select"} <= imports("web/x.py", tree)
