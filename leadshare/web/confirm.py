"""Steps that ask first (issue 15): a page naming what a step will do before it is done.

The form posts once without `confirmed`: the page answers with what will happen and the same
values to post again with `confirmed=1`. The API never asks (its callers decide for themselves).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask import render_template, request
from flask_babel import gettext as _

from ..rewards.money import format_amount
from .i18n import label


def confirmed() -> bool:
    """The person has seen the confirmation page and confirmed."""
    return request.form.get("confirmed") == "1"


def credit_lines(credits: Iterable[Mapping[str, Any]], store: str, *, reversed_: bool) -> list[str]:
    """One sentence per credit a step makes or reverses: store, program, event and amount."""
    text = (
        _("Reversed from %(store)s: %(amount)s of %(program)s (%(event)s).")
        if reversed_
        else _("Credited to %(store)s: %(amount)s of %(program)s (%(event)s).")
    )
    return [
        text
        % {
            "store": store,
            "amount": format_amount(int(c["amount_minor"])),
            "program": c["program"],
            "event": label("reward_event", str(c["event"])),
        }
        for c in credits
    ]


def render_confirm(
    *,
    title: str,
    lines: list[str],
    action: str,
    fields: Mapping[str, Any],
    button: str,
    back: str,
    danger: bool = False,
):
    """The confirmation page: what will happen, then Confirm (posting `fields` again) or Back."""
    return render_template(
        "confirm.html",
        title=title,
        lines=lines,
        action=action,
        fields={k: v for k, v in fields.items() if v not in (None, "")},
        button=button,
        back=back,
        danger=danger,
    )
