"""Chinese comes first: the catalogue translates every English message, and its .mo is current."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = ROOT / "leadshare" / "translations" / "zh_Hans_CN" / "LC_MESSAGES"


def _source_dir(path: str) -> bool:
    name = Path(path).name
    return not name.startswith((".", "_")) and name not in {"tests", "docs", "migrations"}


def extracted_ids() -> set:
    """What `pybabel extract -F babel.cfg -k _l` finds in the code and templates."""
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {**DEFAULT_KEYWORDS, "_l": None}
    found = extract_from_dir(
        ROOT, method_map, options_map, keywords=keywords, directory_filter=_source_dir
    )
    return {message for _file, _line, message, _comments, _context in found}


def translations(catalog) -> dict:
    """{msgid: msgstr}; plural forms as tuples, however the reader returned them."""

    def plain(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    return {plain(m.id): plain(m.string) for m in catalog if m.id}


def test_every_message_of_the_pages_has_a_chinese_translation():
    with open(MESSAGES / "messages.po", "rb") as po:
        catalog = translations(read_po(po, locale="zh_Hans_CN"))
    missing = sorted(str(m) for m in extracted_ids() if not catalog.get(m))
    assert missing == [], "translate these in messages.po (README, Translations)"


def test_compiled_catalogue_matches_the_po_file():
    with open(MESSAGES / "messages.po", "rb") as po, open(MESSAGES / "messages.mo", "rb") as mo:
        source, compiled = translations(read_po(po)), translations(read_mo(mo))
    assert source == compiled, "run: pybabel compile -d leadshare/translations"
