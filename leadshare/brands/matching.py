"""Brand matching, pure: a typed brand -> the catalogue name it means, or the nearest names.

A catalogue is the brands a group's stores sell (their display names) with aliases: the built-in
list of brands sold in China (``data/builtin.csv``: `BMW` = 宝马, `VW` = `Volkswagen` = 大众 ...)
and the aliases the group's admins add. Every comparison goes through `brand_key` (case, width
and blanks ignored), so `ｂｍｗ`, `B M W` and `bmw` are one brand.
"""

from __future__ import annotations

import csv
import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..vocabulary import brand_key

BUILTIN_CSV = Path(__file__).resolve().parent / "data" / "builtin.csv"
MAX_SUGGESTIONS = 3
SUGGESTION_CUTOFF = 0.5


@dataclass(frozen=True)
class Builtin:
    """The built-in list: catalogue name -> its aliases, and every key -> its catalogue name."""

    aliases: Mapping[str, tuple[str, ...]]
    names_by_key: Mapping[str, str]

    def name_of(self, text: str) -> str | None:
        """The built-in catalogue name `text` means (`BMW` -> 宝马), or None."""
        return self.names_by_key.get(brand_key(text))


@lru_cache(maxsize=1)
def builtin() -> Builtin:
    """The built-in alias list, read once per process; a key claimed by two brands is a bug in
    the data file and fails loudly."""
    aliases: dict[str, tuple[str, ...]] = {}
    names_by_key: dict[str, str] = {}
    with open(BUILTIN_CSV, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            name = row["name"].strip()
            words = tuple(a.strip() for a in row["aliases"].split("|") if a.strip())
            aliases[name] = words
            for word in (name, *words):
                claimed = names_by_key.setdefault(brand_key(word), name)
                if claimed != name:
                    raise ValueError(f"brand alias {word!r} names both {claimed} and {name}")
    return Builtin(aliases=aliases, names_by_key=names_by_key)


def canonical_name(
    text: str, known: Iterable[str] = (), extra: Mapping[str, str] | None = None
) -> str:
    """The name a store's brand is stored under: a given alias's catalogue name (`extra` maps
    keys of the group's own aliases), else a known name with the same key, else the text with
    its blanks tidied (a new brand enters the catalogue as written)."""
    key = brand_key(text)
    if extra and key in extra:
        return extra[key]
    named = builtin().names_by_key.get(key)
    if named is not None:
        return named
    for name in known:
        if brand_key(name) == key:
            return name
    return " ".join(text.split())


@dataclass(frozen=True)
class Catalogue:
    """A set of catalogue names and the aliases that lead to them."""

    names: tuple[str, ...]
    own_aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, names: Iterable[str], own_aliases: Iterable[tuple[str, str]] = ()) -> Catalogue:
        """From the names sold and the (name, alias) pairs added; aliases of names no longer
        sold are dropped."""
        ordered = tuple(sorted(set(names), key=brand_key))
        sold = set(ordered)
        grouped: dict[str, list[str]] = {}
        for name, alias in own_aliases:
            if name in sold:
                grouped.setdefault(name, []).append(alias)
        return cls(ordered, {n: tuple(a) for n, a in grouped.items()})

    def aliases(self, name: str) -> list[str]:
        """Every alias of a name: the built-in ones, then the group's own."""
        return [*builtin().aliases.get(name, ()), *self.own_aliases.get(name, ())]

    def _keys(self) -> dict[str, str]:
        keys: dict[str, str] = {}
        for name in self.names:
            for word in (name, *self.aliases(name)):
                keys.setdefault(brand_key(word), name)
        return keys

    def resolve(self, text: str) -> str | None:
        """The catalogue name `text` means, or None when it is none of them."""
        return self._keys().get(brand_key(text or ""))

    def suggest(self, text: str) -> list[str]:
        """The nearest catalogue names: those whose name or alias the text contains or that
        contains it, then the closest spellings."""
        key = brand_key(text or "")
        keys = self._keys()
        found: list[str] = []
        if key:
            found += [name for k, name in keys.items() if k in key or key in k]
        found += [
            keys[k]
            for k in difflib.get_close_matches(key, list(keys), n=10, cutoff=SUGGESTION_CUTOFF)
        ]
        return list(dict.fromkeys(found))[:MAX_SUGGESTIONS]
