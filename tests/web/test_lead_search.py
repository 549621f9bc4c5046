"""Finding a lead on every list: by id for everyone; by phone and name for the referrer, the
holder and group admins (results masked as before); OEM auditors by id only, with a group
column, a group filter and a CSV."""

from __future__ import annotations

import csv
import io

import pytest

from leadshare.vocabulary import Role
from tests.api.lead_world import build_world, lead_payload

from .pages import Browser

PHONE = "138 1234 5678"
OTHER_PHONE = "139 8765 4321"


@pytest.fixture
def world(make, auth):
    return build_world(make, auth)


@pytest.fixture
def leads(client, world):
    """Two leads shared by Nanshan: 张三 (claimed by Tianhe) and 李四 (offered to Tianhe)."""
    made = {}
    for name, phone in (("张三", PHONE), ("李四", OTHER_PHONE)):
        response = client.post(
            "/api/v1/leads",
            json=lead_payload(customer={"name": name, "phone": phone}),
            headers=world.headers["referrer"],
        )
        assert response.status_code == 201, response.json
        made[name] = response.json["id"]
    claimed = client.post(f"/api/v1/leads/{made['张三']}/claim", headers=world.headers["tianhe"])
    assert claimed.status_code == 200, claimed.json
    return made


def found(page: str, leads: dict[str, str]) -> set[str]:
    return {name for name, lead_id in leads.items() if f"/leads/{lead_id}" in page}


@pytest.mark.parametrize("path", ["/referrals", "/leads"])
def test_referrer_finds_by_id_phone_in_any_form_and_name(app, world, leads, path):
    referrer = Browser(app, world.users["referrer"])
    assert found(referrer.get(path, query_string={"q": leads["李四"]}).text, leads) == {"李四"}
    for typed in ("13812345678", "+86 138-1234-5678", "１３８１２３４５６７８"):
        page = referrer.get(path, query_string={"q": typed}).text
        assert found(page, leads) == {"张三"}, typed
    assert found(referrer.get(path, query_string={"q": "李"}).text, leads) == {"李四"}
    assert found(referrer.get(path, query_string={"q": "王五"}).text, leads) == set()


def test_holder_finds_its_lead_by_phone_but_an_offered_store_does_not(app, world, leads):
    holder = Browser(app, world.users["tianhe"])
    assert found(holder.get("/held", query_string={"q": PHONE}).text, leads) == {"张三"}
    # Tianhe is only offered 李四: neither phone nor name finds it, its id does
    page = holder.get("/leads", query_string={"q": OTHER_PHONE}).text
    assert found(page, leads) == set()
    assert found(holder.get("/leads", query_string={"q": "李四"}).text, leads) == set()
    assert found(holder.get("/leads", query_string={"q": leads["李四"]}).text, leads) == {"李四"}


def test_group_admin_finds_by_phone_and_the_result_stays_masked(app, world, leads):
    admin = Browser(app, world.users["admin"])
    page = admin.get("/leads", query_string={"q": PHONE}).text
    assert found(page, leads) == {"张三"}
    assert "138****5678" in page and "13812345678" not in page and "张三" not in page


def test_a_bad_phone_says_so_next_to_the_box(app, world, leads):
    page = Browser(app, world.users["referrer"]).get("/leads", query_string={"q": "138 1234"}).text
    assert found(page, leads) == set()
    assert page.count('id="search-note"') == 1 and "不是有效的手机号" in page


def test_auditor_searches_by_lead_id_only(app, world, leads, make):
    oem = make.oem(brands=["奥迪"])
    auditor = Browser(app, make.user(Role.OEM_AUDITOR, oem=oem))
    page = auditor.get("/leads", query_string={"q": PHONE}).text
    assert found(page, leads) == set() and 'id="search-note"' in page
    assert found(auditor.get("/leads", query_string={"q": "张"}).text, leads) == set()
    assert found(auditor.get("/leads", query_string={"q": leads["张三"]}).text, leads) == {"张三"}


def test_lists_sort_by_date_and_status(app, world, leads):
    referrer = Browser(app, world.users["referrer"])

    def order(sort: str) -> list[str]:
        page = referrer.get("/referrals", query_string={"sort": sort}).text
        return sorted(leads, key=lambda name: page.index(f"/leads/{leads[name]}"))

    assert order("newest") == ["李四", "张三"]
    assert order("oldest") == ["张三", "李四"]
    assert order("status") == ["张三", "李四"]  # accepted before offered
    page = referrer.get("/referrals", query_string={"sort": "status"}).text
    assert '<option value="status" selected>' in page


def test_search_keeps_the_status_chip(app, world, leads):
    holder = Browser(app, world.users["tianhe"])
    page = holder.get("/held", query_string={"status": "accepted", "q": "张"}).text
    assert '<input type="hidden" name="status" value="accepted">' in page
    assert found(page, leads) == {"张三"}
    assert "没有符合条件的线索" in holder.get("/held", query_string={"q": "王五"}).text


def test_auditor_list_has_a_group_column_filter_and_csv(app, world, leads, make):
    other_group = make.group(name="另一集团")
    make.dealer(other_group, code="OT1", brands=["奥迪"], at=(23.13, 113.36))
    oem = make.oem(brands=["奥迪"])
    auditor = Browser(app, make.user(Role.OEM_AUDITOR, oem=oem))
    page = auditor.get("/leads").text
    assert f'<option value="{world.group.id}"' in page
    assert f'<option value="{other_group.id}"' not in page  # no Audi lead there yet
    assert world.group.name in page  # the column

    def in_group(group_id: int) -> set[str]:
        return found(auditor.get("/leads", query_string={"group_id": group_id}).text, leads)

    assert in_group(world.group.id) == {"张三", "李四"}
    assert in_group(other_group.id) == set()
    response = auditor.get("/leads", query_string={"format": "csv", "status": "accepted"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [row[0] for row in rows[1:]] == [leads["张三"]]
    assert PHONE.replace(" ", "") not in response.get_data(as_text=True)
    assert "下载 CSV" in page and "format=csv" in page


def test_only_auditors_get_the_csv(app, world, leads):
    admin = Browser(app, world.users["admin"])
    response = admin.get("/leads", query_string={"format": "csv"})
    assert response.mimetype == "text/html" and "下载 CSV" not in response.text
