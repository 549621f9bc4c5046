"""Service tests run inside one pushed app context, on the per-test rolled-back connection."""

from __future__ import annotations

import pytest

from leadshare.settings import Settings


@pytest.fixture
def ctx(app):
    """An app context held for the whole test, so services and factories share one session."""
    with app.app_context() as context:
        yield context


@pytest.fixture
def settings(app) -> Settings:
    """The typed settings the test app runs with, to hand to services that take them."""
    return Settings.from_config(app.config)
