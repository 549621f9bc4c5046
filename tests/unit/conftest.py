"""Unit tests need no app and no database: switch the suite-wide rollback fixture off."""

import pytest


@pytest.fixture(autouse=True)
def _rollback():
    yield
