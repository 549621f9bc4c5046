"""Grouping keys of the funnel: one aggregate query grouped by several keys at once.

A key is a lead column (group, province, holder, channel) or None for the total of every counted
lead. On PostgreSQL one scan answers every key (GROUPING SETS); elsewhere one query per key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, func, tuple_

from ..leads.models import Lead
from .query import dealer_refs, group_refs, ref

GROUP_BYS = ("none", "group", "province", "dealer", "channel")

Key = ColumnElement | None
"""What funnel figures are grouped by; None stands for the total of every counted lead."""


def lead_key(group_by: str) -> ColumnElement | None:
    """The lead column a funnel is grouped by (`dealer`: the holder); None for no grouping."""
    return {
        "none": None,
        "group": Lead.group_id,
        "province": Lead.province,
        "dealer": Lead.holder_id,
        "channel": Lead.channel,
    }[group_by]


def by_key(query: Select, key: Key) -> Select:
    """Group the query by key, selected last as `key`; without a key it stays one row."""
    return query if key is None else query.add_columns(key.label("key")).group_by(key)


def in_sets(
    query: Select, keys: Sequence[Key], extra: Sequence[ColumnElement] = ()
) -> tuple[Select, list[ColumnElement], Callable[[Mapping[str, Any]], list[tuple[int, Any]]]]:
    """PostgreSQL: group one aggregate query by every key at once (GROUPING SETS), one scan.

    Each set is also grouped by `extra`. Answers the query, the columns that tell sets and key
    values apart (to partition a window by), and a function placing a result row as
    [(position in keys, key value)].
    """
    exprs: list[ColumnElement] = []
    for key in keys:
        if key is not None and not any(key is seen for seen in exprs):
            exprs.append(key)
    flags = [func.grouping(expr) for expr in exprs]
    sets = [tuple_(expr, *extra) for expr in exprs]
    if any(key is None for key in keys):
        sets.append(tuple_(*extra))
    query = query.add_columns(
        *(expr.label(f"k{i}") for i, expr in enumerate(exprs)),
        *(flag.label(f"g{i}") for i, flag in enumerate(flags)),
    ).group_by(func.grouping_sets(*sets))

    def place(row: Mapping[str, Any]) -> list[tuple[int, Any]]:
        found = next((i for i in range(len(exprs)) if row[f"g{i}"] == 0), None)
        value = None if found is None else row[f"k{found}"]
        key = None if found is None else exprs[found]
        return [(p, value) for p, k in enumerate(keys) if (k is None if key is None else k is key)]

    return query, [*flags, *exprs], place


def key_refs(group_by: str, keys: Iterable[Any]) -> dict[Any, dict[str, Any] | None]:
    """Each key of a grouped funnel as {id, code, name}; None for leads without one."""
    keys = set(keys)
    if group_by == "dealer":
        found = dealer_refs(keys)
    elif group_by == "group":
        found = group_refs(keys)
    else:
        found = {key: ref(None, None, key) for key in keys if key is not None}
    return {key: found.get(key) for key in keys}
