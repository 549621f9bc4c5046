"""No developer English on a Chinese page (issue 15, item 9): every GET page of the web blueprint,
opened in Chinese by a role allowed to see it, and the error pages and flashed refusals (schema and
form validation messages included) show no message of the catalogue untranslated and none of
marshmallow's or WTForms' built-in English messages."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from babel.messages.pofile import read_po

from leadshare.vocabulary import Role

from ..api.lead_world import build_world
from ..api.test_rewards import claim, create_program, shared_lead
from ..retail_world import report_csv, vin
from .pages import Browser, lead_form
from .test_translations import MESSAGES

PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%\(\w+\)\.\d+f|%[sd]")
BUILT_IN_ENGLISH = (
    # marshmallow's default error messages
    "Missing data for required field",
    "Field may not be null",
    "Unknown field",
    "Not a valid",
    "Invalid input type",
    "Length must be",
    "Shorter than minimum length",
    "Longer than maximum length",
    "Must be one of",
    "Must be greater than",
    "Must be less than",
    "String does not match expected pattern",
    "Invalid value",
    # WTForms' default messages
    "This field is required",
    "Invalid input",
    "Field must be",
    "Invalid choice",
    "CSRF token",
    "The CSRF",
)
NOT_PAGES = {
    "web.static",  # assets
    "web.consent_notice_qr",  # an SVG image
    "web.wecom_start",  # redirects to WeCom
    "web.wecom_callback",  # WeCom's redirect back
    "web.live",  # the live inbox's JSON poll
}
"""GET routes of the web blueprint that answer no HTML page of their own."""


class VisibleText(HTMLParser):
    """The text a person reads: text outside scripts and styles, and the titles, placeholders,
    labels and alternatives of elements. Elements marked `lang="en"` (the language switch, the
    sign-in page's English heading) are English on purpose, and `<code>` is what a person types
    or a file holds as it is (CSV column names): both are left out."""

    ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden: list[str] = []  # the open elements whose text is not read as Chinese

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "code") or (tag != "html" and ("lang", "en") in attrs):
            self.hidden.append(tag)
        elif not self.hidden:
            self.parts += [value for name, value in attrs if name in self.ATTRIBUTES and value]

    def handle_endtag(self, tag):
        if self.hidden and self.hidden[-1] == tag:
            self.hidden.pop()

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def _fragments(msgid: str, msgstr: str) -> list[str]:
    """The literal parts of an English message worth looking for: two or more words of letters,
    not kept as they are in the Chinese (`CSV`, `VIN`)."""
    found = []
    for part in PLACEHOLDER.split(msgid):
        part = " ".join(part.split()).strip(" .,:;()›‹-—")
        words = re.findall(r"[A-Za-z]{2,}", part)
        if len(words) >= 2 and part not in msgstr:
            found.append(part)
    return found


@pytest.fixture(scope="module")
def english() -> list[re.Pattern]:
    with open(MESSAGES / "messages.po", "rb") as po:
        catalog = read_po(po, locale="zh_Hans_CN")
    fragments = set(BUILT_IN_ENGLISH)
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for msgid in ids:
            fragments.update(_fragments(msgid, " ".join(s or "" for s in strings)))
    return [
        re.compile(r"(?<![A-Za-z])" + re.escape(f) + r"(?![A-Za-z])")
        for f in sorted(fragments, key=len, reverse=True)
    ]


ENGLISH_RUN = re.compile(r"[A-Za-z]{2,}(?:[ ,;:'’-]+[A-Za-z]{2,}){3,}")
"""Four English words in a row: a sentence no catalogue knows (a service's own message)."""


def untranslated(html: str, english: list[re.Pattern]) -> list[str]:
    text = visible_text(html)
    found = [pattern.pattern for pattern in english if pattern.search(text)]
    return found + ENGLISH_RUN.findall(text)


@pytest.fixture
def world(make, auth):
    return build_world(make, auth)


@pytest.fixture
def people(app, client, world, make, auth):
    """A signed-in Chinese browser per role, and what the pages with ids show."""
    create_program(client, world)
    lead_id = shared_lead(client, world, 1)
    claim(client, world, lead_id)
    program = client.get("/api/v1/reward-programs", headers=world.headers["admin"]).json
    platform = make.user(Role.PLATFORM_ADMIN)
    auditor = make.user(Role.OEM_AUDITOR, oem=make.oem(brands=["奥迪"]))
    manager = make.user(Role.MANAGER, dealer=world.referrer)
    users = {
        "staff": world.users["referrer"],
        "holder": world.users["tianhe"],
        "manager": manager,
        "admin": world.users["admin"],
        "auditor": auditor,
        "platform": platform,
    }
    ids = {
        "lead_id": lead_id,
        "dealer_id": world.referrer.id,
        "user_id": world.users["referrer"].id,
        "program_id": program["items"][0]["id"],
        "group_id": world.group.id,
        "group_code": world.group.code,
        "report_id": client.post(
            "/api/v1/retail-reports",
            data=report_csv([(vin(1), "NOBODY", "2026-12-01")]),
            headers={**auth(auditor), "Content-Type": "text/csv"},
        ).json["id"],
    }
    return {name: Browser(app, user) for name, user in users.items()}, ids


def _pages(app, ids) -> dict[str, str]:
    """Every GET page of the web blueprint, by endpoint and rule, with its ids filled in."""
    pages = {}
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("web.") or "GET" not in rule.methods:
            continue
        if rule.endpoint in NOT_PAGES:
            continue
        path = rule.rule
        for name in rule.arguments:
            path = re.sub(rf"<(?:\w+:)?{name}>", str(ids[name]), path)
        pages[rule.rule] = path
    return pages


def test_every_page_in_chinese_shows_no_english_message(app, people, english):
    browsers, ids = people
    pages = _pages(app, ids)
    seen, leaks = set(), {}
    for rule, path in pages.items():
        for who, browser in browsers.items():
            response = browser.get(path)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            seen.add(rule)
            found = untranslated(response.text, english)
            if found:
                leaks[f"{who} {path}"] = found
    anonymous = Browser(app)
    for path in ("/login", f"/notice/{ids['group_code']}"):
        found = untranslated(anonymous.get(path).text, english)
        if found:
            leaks[f"anonymous {path}"] = found
        seen.add(path if path == "/login" else "/notice/<group_code>")
    assert leaks == {}
    assert sorted(set(pages) - seen) == [], "a page no role could open: give the test its role"


def test_error_pages_and_refusals_in_chinese_show_no_english(app, people, english):
    browsers, ids = people
    staff, admin = browsers["staff"], browsers["admin"]
    shown = {
        "404 page": staff.get("/no-such-page").text,
        "another store's lead": browsers["holder"].get("/leads/ld_0000000000000000").text,
        "staff on an admin page": staff.get("/admin/users").text,
        "empty share form": staff.post("/leads/new", **lead_form(name="", phone="", brand="")).text,
        "share form, bad values": staff.post(
            "/leads/new", **lead_form(phone="12", timeframe="someday", channel="fax")
        ).text,
        "share, unknown brand": staff.post(
            "/leads/new", follow_redirects=True, **lead_form(brand="BMW")
        ).text,
        "payout too large": admin.post(
            "/admin/payouts",
            follow_redirects=True,
            dealer_id=str(ids["dealer_id"]),
            amount="99999.00",
            memo="",
            confirmed="1",
        ).text,
        "payout not a number": admin.post(
            "/admin/payouts", follow_redirects=True, dealer_id="x", amount="abc", memo=""
        ).text,
        "program, bad values": admin.post(
            "/admin/programs", follow_redirects=True, name="", budget="-1", starts_on="soon"
        ).text,
        "bad statement month": admin.get("/admin/statements?month=2026-13").text,
        "new user, bad email": admin.post(
            "/admin/users/new", follow_redirects=True, email="not-an-email", password="1"
        ).text,
    }
    # Before a language is chosen the sign-in refusal is written in both languages on purpose
    # (tests/web/test_pages.py): only its English echo is left out.
    refused = Browser(app).post("/login", email="nobody@example.com", password="x").text
    assert "邮箱或密码错误" in refused or "密码" in refused
    shown["wrong password"] = refused.replace("Wrong email or password.", "")
    leaks = {name: found for name, html in shown.items() if (found := untranslated(html, english))}
    assert leaks == {}
    for refused in ("payout too large", "empty share form", "program, bad values"):
        assert "error" in shown[refused], refused  # each shows its refusal (checked above)


def test_the_check_finds_english_when_the_page_is_english(app, people, english):
    """The test above could not pass by looking at nothing: the English pages trip it."""
    browsers, _ids = people
    staff = browsers["staff"]
    staff.post("/language", lang="en", next="/referrals")
    assert untranslated(staff.get("/referrals").text, english)
    empty = staff.post("/leads/new", **lead_form(name="", phone="", brand="")).text
    assert untranslated(empty, english)
