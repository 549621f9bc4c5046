"""Imports point one way: surfaces -> domains -> core; no surface imports another surface.

(The pages importing no `api` module, and commits only in uow.py: test_transaction_boundary.py.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .parsed import PACKAGE, imports, modules


def imports_of(path: Path) -> set[str]:
    """The absolute dotted names of every module one file of leadshare/ imports."""
    name = path.relative_to(PACKAGE).as_posix()
    return imports(name, modules()[name])


def files_under(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def test_the_import_reader_resolves_relative_imports() -> None:
    names = imports_of(PACKAGE / "web" / "leads.py")
    assert any(name.startswith("leadshare.leads") for name in names), names


@pytest.mark.parametrize("path", files_under("api"), ids=lambda p: p.name)
def test_api_imports_no_page_module(path: Path) -> None:
    assert not {n for n in imports_of(path) if n.startswith("leadshare.web")}


DOMAINS = (
    "leads",
    "rewards",
    "notify",
    "audit",
    "tenancy",
    "routing",
    "auth",
    "hours",
    "brands",
    "privacy",
    "retail",
    "wecom",
)


@pytest.mark.parametrize(
    "path", [p for d in DOMAINS for p in files_under(d)], ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_domains_import_no_surface(path: Path) -> None:
    surfaces = {"leadshare.api", "leadshare.web", "leadshare.cli", "leadshare.app"}
    bad = {n for n in imports_of(path) if any(n == s or n.startswith(s + ".") for s in surfaces)}
    assert not bad, bad


LOWER = {
    "leads": ("rewards", "notify", "audit", "retail"),
    "routing": ("rewards", "notify", "audit", "retail"),
    "tenancy": ("leads", "rewards", "audit"),
}
"""The lead trail knows nothing of who listens to it: rewards and notifications subscribe to its
events, audit reads it. Routing (which places a lead's offers) and tenancy sit below them."""


@pytest.mark.parametrize(
    "path",
    [p for domain in LOWER for p in files_under(domain)],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_lower_domains_import_no_higher_one(path: Path) -> None:
    domain = path.relative_to(PACKAGE).parts[0]
    higher = tuple(f"leadshare.{name}" for name in LOWER[domain])
    assert not {n for n in imports_of(path) if n.startswith(higher)}
