"""Money and files people can read (issue 15, item 8): CSV headers in the reader's language (the
API's stable English keys unless `lang=zh`, a page's download in the page's language), times in
the group's time zone with the offset written (each row in its own group's zone for a
cross-group auditor), statement lines with the lead, the masked customer, the program, the event
and the memo, and the store's earnings total on the referrals page."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from leadshare.audit.export import LEAD_HEADER
from leadshare.csv_headers import TABLES
from leadshare.rewards.statements import HEADER as STATEMENT_HEADER
from leadshare.vocabulary import Role

from ..web.pages import Browser
from .lead_world import SZ_NANSHAN, build_world, lead_payload
from .test_rewards import MONTH, claim, create_program, shared_lead

CJK = re.compile(r"[\u4e00-\u9fff]")
OFFSET = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d\d:\d\d$")
STATEMENT_ZH = [
    "日期",
    "分录",
    "账户",
    "线索",
    "客户",
    "奖励方案",
    "节点",
    "金额",
    "解冻时间",
    "备注",
]


@pytest.fixture
def world(make, auth):
    return build_world(make, auth)


def _rows(response) -> list[list[str]]:
    body = response.get_data()
    response.close()
    assert response.status_code == 200, body[:300]
    assert response.mimetype == "text/csv" and body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def _local(iso_z: str, zone: str) -> str:
    moment = datetime.fromisoformat(iso_z.replace("Z", "+00:00")).astimezone(ZoneInfo(zone))
    return moment.replace(microsecond=0).isoformat(sep=" ")


def _credited(client, world) -> str:
    create_program(client, world)
    lead_id = shared_lead(client, world, 7)
    claim(client, world, lead_id)
    paid = client.post(
        "/api/v1/payouts",
        json={"dealer_id": world.referrer.id, "amount": "20.00", "memo": "十二月结算"},
        headers=world.headers["admin"],
    )
    assert paid.status_code == 201, paid.json
    return lead_id


def _statement(client, world, query: str = ""):
    return client.get(
        f"/api/v1/dealers/{world.referrer.id}/statement?month={MONTH}&format=csv{query}",
        headers=world.headers["admin"],
    )


# --- statement ----------------------------------------------------------------------------


def test_the_api_statement_keeps_english_keys_and_gives_chinese_with_lang_zh(client, world):
    _credited(client, world)
    english = _rows(_statement(client, world))
    assert english[0] == list(STATEMENT_HEADER)
    assert english[0] == ["date", "kind", "account", "lead", "customer", "program", "event"] + [
        "amount",
        "releases_at",
        "memo",
    ]
    chinese = _rows(_statement(client, world, "&lang=zh"))
    assert chinese[0] == STATEMENT_ZH
    assert chinese[1:] == english[1:]  # only the header changes language


def test_a_language_outside_the_list_is_refused(client, world):
    response = _statement(client, world, "&lang=fr")
    assert response.status_code == 422
    assert "lang" in str(response.json)


def test_statement_lines_carry_lead_masked_customer_program_event_and_memo(client, world):
    lead_id = _credited(client, world)
    data = client.get(
        f"/api/v1/dealers/{world.referrer.id}/statement?month={MONTH}",
        headers=world.headers["admin"],
    ).json
    assert data["timezone"] == "Asia/Shanghai"
    [credit] = [line for line in data["lines"] if line["kind"] == "credit"]
    assert credit["lead_id"] == lead_id and credit["customer"] == "客**"  # 客户7, masked
    assert credit["program"] == "2026 转介绍奖励" and credit["event"] == "accepted"
    rows = {r["kind"]: r for r in csv.DictReader(io.StringIO(_statement(client, world).text[1:]))}
    line = rows["credit"]
    assert (line["lead"], line["customer"], line["program"], line["event"]) == (
        lead_id,
        "客**",
        "2026 转介绍奖励",
        "accepted",
    )
    assert "客户7" not in _statement(client, world).text  # never the full name
    assert rows["payout"]["memo"] == "十二月结算"
    assert line["date"] == _local(credit["at"], "Asia/Shanghai")
    assert OFFSET.match(line["date"]) and line["date"].endswith("+08:00")


def test_statement_times_follow_the_groups_time_zone(client, make, auth):
    world = build_world(make, auth, timezone="Asia/Tokyo")
    _credited(client, world)
    rows = list(csv.DictReader(io.StringIO(_statement(client, world).text[1:])))
    dated = [r["date"] for r in rows if r["date"]]
    assert dated and all(OFFSET.match(d) and d.endswith("+09:00") for d in dated)


def test_the_statement_page_downloads_with_the_pages_language(app, client, world, make):
    _credited(client, world)
    manager = make.user(Role.MANAGER, dealer=world.referrer)
    page = Browser(app, manager).get(f"/store/statement?month={MONTH}").text
    assert "客**" in page and "十二月结算" in page  # the page's lines: masked customer, memo
    path = f"/store/statement?month={MONTH}&format=csv"
    assert _rows(Browser(app, manager).get(path))[0] == STATEMENT_ZH  # Chinese is the default
    assert _rows(Browser(app, manager, lang="en").get(path))[0] == list(STATEMENT_HEADER)


# --- audit --------------------------------------------------------------------------------


def _two_groups(client, make, auth, world):
    """A lead in the Shanghai-time world's group and one in a Tokyo-time group, both 奥迪."""
    east = make.group(timezone="Asia/Tokyo")
    store = make.dealer(east, code="T1", name="东京奥迪", brands=["奥迪"], at=SZ_NANSHAN)
    here = shared_lead(client, world, 1)
    there = client.post(
        "/api/v1/leads",
        json=lead_payload(customer={"name": "王五", "phone": "13800009999"}),
        headers=auth(make.user(Role.STAFF, dealer=store)),
    )
    assert there.status_code == 201, there.json
    auditor = make.user(Role.OEM_AUDITOR, oem=make.oem(brands=["奥迪"]))
    return here, there.json["id"], auditor


def test_a_cross_group_audit_file_writes_each_row_in_its_groups_zone(client, world, make, auth):
    here, there, auditor = _two_groups(client, make, auth, world)
    headers = auth(auditor)
    rows = _rows(client.get("/api/v1/audit/leads?format=csv", headers=headers))
    assert rows[0] == list(LEAD_HEADER) and "created_at" in rows[0]
    by_id = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    listed = client.get("/api/v1/audit/leads", headers=headers).json["items"]
    shared_at = {item["id"]: item["created_at"] for item in listed}
    assert by_id[here]["created_at"] == _local(shared_at[here], "Asia/Shanghai")
    assert by_id[here]["created_at"].endswith("+08:00")
    assert by_id[there]["created_at"] == _local(shared_at[there], "Asia/Tokyo")
    assert by_id[there]["created_at"].endswith("+09:00")


def test_every_audit_csv_speaks_chinese_with_lang_zh_and_english_by_default(client, world, auth):
    shared_lead(client, world, 1)
    headers = world.headers["admin"]
    reports = {
        "leads": "/api/v1/audit/leads?format=csv",
        "funnel": "/api/v1/audit/funnel?format=csv&group_by=dealer",
        "lost-by-holder": "/api/v1/audit/funnel?format=csv&table=lost_by_holder",
        "flows": "/api/v1/audit/flows?format=csv",
        "reciprocity": "/api/v1/audit/flows?format=csv&table=reciprocity",
        "verify": "/api/v1/audit/verify?from=2000-01-01T00:00:00Z&to=2999-01-01T00:00:00Z"
        "&format=csv",
        "league": "/api/v1/audit/league?format=csv",
    }
    for name, path in reports.items():
        english = _rows(client.get(path, headers=headers))[0]
        chinese = _rows(client.get(path + "&lang=zh", headers=headers))[0]
        assert all(key.isascii() for key in english), name
        assert set(english) <= set(TABLES[name]), (name, set(english) - set(TABLES[name]))
        assert len(chinese) == len(english), name
        assert all(CJK.search(label) for label in chinese), (name, chinese)
    assert _rows(client.get(reports["leads"] + "&lang=zh", headers=headers))[0][:2] == [
        "线索",
        "分享时间",
    ]


def test_audit_pages_link_their_csv_in_the_pages_language(app, client, world, make, auth):
    *_, auditor = _two_groups(client, make, auth, world)
    chinese, english = Browser(app, auditor), Browser(app, auditor, lang="en")
    page = chinese.get("/audit/funnel").text
    link = re.search(r'href="(/api/v1/audit/funnel\?format=csv[^"]*)"', page).group(1)
    assert "lang=zh" in link
    rows = _rows(chinese.get(link.replace("&amp;", "&")))
    assert rows[0][:4] == ["范围", "维度编号", "维度编码", "维度"]
    assert "lang=en" in english.get("/audit/funnel").text
    listed = _rows(chinese.get("/leads?format=csv"))  # the auditor's lead list download
    assert listed[0][:2] == ["线索", "分享时间"]
    assert _rows(english.get("/leads?format=csv"))[0] == list(LEAD_HEADER)


# --- referrals ----------------------------------------------------------------------------


def test_staff_see_their_stores_earnings_total_on_the_referrals_page(app, client, world):
    create_program(client, world)
    for n in (1, 2):
        claim(client, world, shared_lead(client, world, n))
    page = Browser(app, world.users["referrer"]).get("/referrals").text
    total = re.search(r'<p class="earnings-total">([^<]*)</p>', page).group(1)
    assert (
        "160.00" in total and "CNY" in total
    )  # two livestream leads, 80.00 each and "本店转介绍共获奖励" in total
    other = Browser(app, world.users["futian"]).get("/referrals").text
    assert "0.00" in re.search(r'<p class="earnings-total">([^<]*)</p>', other).group(1)
