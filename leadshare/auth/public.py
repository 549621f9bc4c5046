"""The marker for views anyone may call: every other API view authenticates before it parses."""

from __future__ import annotations

import functools
import inspect
from typing import TypeVar

View = TypeVar("View")


def public(view: View) -> View:
    """Mark a view function or MethodView class as open to callers who are not signed in."""
    if inspect.ismethod(view):  # a bound method (flask-smorest's docs) takes no attribute
        view = functools.wraps(view)(functools.partial(view))
    view.__leadshare_public__ = True
    return view


def is_public(view) -> bool:
    """Whether a registered view (a function, or a MethodView's as_view function) is public."""
    return bool(
        getattr(view, "__leadshare_public__", False)
        or getattr(getattr(view, "view_class", None), "__leadshare_public__", False)
    )
