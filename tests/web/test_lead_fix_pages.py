"""Issue 15 on the pages: honest share messages, correcting and withdrawing an unheld lead, lost
reasons from the list, undoing a step, void shown as void, refused duplicates in the funnel, and
the steps that ask first."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from leadshare.extensions import db
from leadshare.leads.models import Lead
from tests.api.lead_world import SZ_FUTIAN, build_world, lead_payload

from .pages import Browser, lead_form, lead_id_from

FUTIAN = {"latitude": SZ_FUTIAN[0] + 0.01, "longitude": SZ_FUTIAN[1]}


@pytest.fixture
def world(make, auth):
    return build_world(make, auth)


def browser(app, world, who: str) -> Browser:
    return Browser(app, world.users[who])


def status_of(app, lead_id: str) -> str:
    with app.app_context():
        return db.session.scalar(select(Lead.status).where(Lead.public_id == lead_id))


def unroutable_by_api(client, world) -> str:
    response = client.post(
        "/api/v1/leads",
        json=lead_payload(brand="大众", location=FUTIAN),
        headers=world.headers["baiyun"],
    )
    assert response.json["status"] == "unroutable"
    return response.json["id"]


def held(app, world) -> tuple[str, Browser]:
    posted = browser(app, world, "referrer").post("/leads/new", **lead_form())
    lead_id = lead_id_from(posted.location)
    receiver = browser(app, world, "tianhe")
    assert receiver.post(f"/leads/{lead_id}/claim").status_code == 302
    return lead_id, receiver


def test_a_share_nobody_can_take_is_not_green_and_says_what_to_do(app, world):
    baiyun = browser(app, world, "baiyun")
    page = baiyun.post(
        "/leads/new", follow_redirects=True, **lead_form(brand="大众", address="广东省深圳市福田区")
    )
    assert 'class="flash success"' not in page.text
    assert 'class="flash warning"' in page.text
    assert (
        "未分享：集团内没有其他门店经营 大众。请检查品牌并在本页更正，或撤回这条线索。" in page.text
    )
    assert "data-correct" in page.text and "/withdraw" in page.text  # both ways out are offered


def test_a_share_that_was_offered_is_green(app, world):
    page = browser(app, world, "referrer").post("/leads/new", follow_redirects=True, **lead_form())
    assert 'class="flash success"' in page.text and "已分享：派给 广州天河奥迪" in page.text


def test_the_referrer_corrects_an_unroutable_lead_on_its_page(app, world, client):
    lead_id = unroutable_by_api(client, world)
    baiyun = browser(app, world, "baiyun")
    page = baiyun.post(
        f"/leads/{lead_id}/correct", follow_redirects=True, brand="奥迪", model="A6L", address=""
    )
    assert "已分享：派给" in page.text and 'class="flash success"' in page.text
    assert "推荐门店已更正" in page.text and "大众 → 奥迪" in page.text
    assert status_of(app, lead_id) == "offered"
    late = baiyun.post(f"/leads/{lead_id}/correct", brand="奥迪", model="A4L", address="")
    assert late.status_code == 409  # offered now: no longer correctable
    assert "这条线索已不能更正" in late.text


def test_a_correction_that_changes_nothing_says_so(app, world, client):
    lead_id = unroutable_by_api(client, world)
    page = browser(app, world, "baiyun").post(
        f"/leads/{lead_id}/correct", brand="大众", model="A6L", address=""
    )
    assert page.status_code == 422 and "请修改品牌、车型或地址后再更正线索。" in page.text


def test_the_holder_loses_a_lead_with_a_listed_reason_after_confirming(app, world):
    lead_id, receiver = held(app, world)
    page = receiver.get(f"/leads/{lead_id}").text
    assert '<option value="bought_elsewhere">在别家经销商购车</option>' in page
    bare = receiver.post(
        f"/leads/{lead_id}/progress", status="lost", lost_reason="other", lost_note=""
    )
    assert bare.status_code == 422 and "选择“其他原因”时需要填写说明。" in bare.text
    asked = receiver.post(f"/leads/{lead_id}/progress", status="lost", lost_reason="price")
    assert asked.status_code == 200 and "将线索标记为战败（价格）" in asked.text
    assert status_of(app, lead_id) == "accepted"
    lost = receiver.post(
        f"/leads/{lead_id}/progress",
        follow_redirects=True,
        status="lost",
        lost_reason="price",
        confirmed="1",
    )
    assert status_of(app, lead_id) == "lost"
    assert "战败原因" in lost.text and "价格" in lost.text and "未记录任何联系即战败" in lost.text


def test_a_next_step_is_recorded_at_once_and_a_skip_asks_first(app, world):
    lead_id, receiver = held(app, world)
    receiver.post(f"/leads/{lead_id}/progress", status="contacted")
    assert status_of(app, lead_id) == "contacted"
    asked = receiver.post(f"/leads/{lead_id}/progress", status="ordered", order_ref="SO-9")
    assert "将以下阶段记录为已达成：已到店, 已下单。" in asked.text
    assert 'name="order_ref" value="SO-9"' in asked.text  # confirming posts the same step
    assert status_of(app, lead_id) == "contacted"


def test_the_holder_undoes_its_last_step_on_the_lead_page(app, world):
    lead_id, receiver = held(app, world)
    receiver.post(f"/leads/{lead_id}/progress", status="contacted")
    page = receiver.get(f"/leads/{lead_id}").text
    assert "data-undo" in page
    empty = receiver.post(f"/leads/{lead_id}/progress/undo", follow_redirects=True, reason="")
    assert "请说明撤销这一步的原因。" in empty.text and status_of(app, lead_id) == "contacted"
    undone = receiver.post(f"/leads/{lead_id}/progress/undo", follow_redirects=True, reason="点错")
    assert "已撤销：线索退回到「已接收」。" in undone.text
    assert "已撤销一步" in undone.text and "退回到" in undone.text  # the timeline says it
    assert status_of(app, lead_id) == "accepted"
    assert "data-undo" not in undone.text  # a claim is not a progress step


def test_a_voided_lead_shows_as_void_with_its_reason_in_the_lists(app, world, client):
    lead_id, _receiver = held(app, world)
    admin = browser(app, world, "admin")
    admin.post(f"/leads/{lead_id}/void", reason="虚假客户", confirmed="1")
    for who, path in (("admin", "/leads"), ("referrer", "/referrals"), ("tianhe", "/held")):
        page = browser(app, world, who).get(path).text
        assert "已作废" in page and "作废原因：虚假客户" in page, (who, path)
    detail = browser(app, world, "referrer").get(f"/leads/{lead_id}").text
    assert "已作废的线索没有奖励：奖励为 0" in detail
    assert "这条线索的所有奖励均已冲销" in detail  # the voided timeline event reads as text


def test_the_funnel_page_lists_refused_duplicates_per_store_and_channel(app, world):
    referrer = browser(app, world, "referrer")
    referrer.post("/leads/new", **lead_form())
    refused = referrer.post("/leads/new", **lead_form())
    assert refused.status_code == 409
    page = browser(app, world, "admin").get("/audit/funnel").text
    assert "因重复被拒的客户" in page and "共 1 位客户" in page
    assert "SZ1 深圳南山奥迪" in page and "直播" in page
