"""OEM retail confirmation (issue 17 item 3) through the services: the import's per-row report,
matching in both orders, flags, and delivery credits held until the OEM confirms them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from leadshare.auth.models import User
from leadshare.clock import utcnow
from leadshare.errors import Invalid, NotFound
from leadshare.extensions import db
from leadshare.leads import progress
from leadshare.leads.events import lead_events, verify_lead_chain
from leadshare.leads.models import Lead
from leadshare.retail import codes
from leadshare.retail.audit import audit_by_store
from leadshare.retail.models import RetailFlag, RetailMatch, RetailReportRow
from leadshare.retail.reports import import_report
from leadshare.rewards.enums import AccountKind
from leadshare.rewards.holds import release_due_credits
from leadshare.rewards.models import RewardCredit
from leadshare.vocabulary import Role
from leadshare.worker import sweep_once

from ..retail_world import report_csv, vin
from .reward_world import accepted_lead, assert_ledger_balanced, balance, build, program

NOW = utcnow().replace(microsecond=0)
DELIVERED_AT = NOW - timedelta(days=3)
TODAY = DELIVERED_AT.date()


@pytest.fixture
def group_settings():
    return {}


@pytest.fixture
def world(ctx, make, group_settings):
    world = build(make, **group_settings)
    world.oem = make.oem(name="一汽-大众", brands=["奥迪"])
    world.other_oem = make.oem(name="广汽丰田", brands=["丰田"])
    admin = world.user("admin")
    codes.set_oem_codes(admin, world.holder.id, [{"oem_id": world.oem.id, "code": "FAW-GZ1"}])
    codes.set_oem_codes(admin, world.referrer.id, [{"oem_id": world.oem.id, "code": "FAW-SZ1"}])
    world.user_ids["auditor"] = make.user(Role.OEM_AUDITOR, oem=world.oem).id
    world.user_ids["toyota"] = make.user(Role.OEM_AUDITOR, oem=world.other_oem).id
    return world


def deliver(world, n: int, at=DELIVERED_AT, **payload) -> Lead:
    lead = accepted_lead(world, n, at=at - timedelta(hours=1), **payload)
    data = {"status": "delivered", "order_ref": f"SO-{n}", "vin": vin(n)}
    return progress.record_progress(world.user("holder"), lead.public_id, data, now=at)


def upload(world, rows, who="auditor", oem_id=None, **kw):
    return import_report(world.user(who), oem_id, report_csv(rows), "retail.csv", now=NOW, **kw)


def types(lead: Lead) -> list[str]:
    return [event.type for event in lead_events(lead)]


def test_the_import_reports_good_bad_and_duplicate_rows(world):
    rows = [
        (vin(1), "FAW-GZ1", TODAY.isoformat()),
        (vin(2).lower(), "FAW-SZ1", TODAY.strftime("%Y/%m/%d")),
        ("LSVAU2A31N2123457", "FAW-GZ1", TODAY.isoformat()),  # check digit
        (vin(3), "NOBODY", TODAY.isoformat()),
        (vin(4), "FAW-GZ1", "31/12/2026"),
        (vin(5), "FAW-GZ1", (NOW + timedelta(days=5)).date().isoformat()),
        (vin(1), "FAW-SZ1", TODAY.isoformat()),
        (vin(6), "", TODAY.isoformat()),
    ]
    done = upload(world, rows)
    report = done.report
    assert done.created and report.oem_id == world.oem.id and report.group_id is None
    assert (report.rows_total, report.rows_good, report.rows_bad, report.rows_duplicate) == (
        8,
        2,
        5,
        1,
    )
    assert [(row.row_number, row.status, row.reason) for row in done.problems] == [
        (4, "bad", "invalid_vin"),
        (5, "bad", "unknown_dealer_code"),
        (6, "bad", "invalid_date"),
        (7, "bad", "invalid_date"),
        (8, "duplicate", "duplicate_vin"),
        (9, "bad", "missing_field"),
    ]
    assert "row 2" in done.problems[4].detail and "check digit" in done.problems[0].detail
    good = db.session.scalars(
        select(RetailReportRow).where(
            RetailReportRow.report_id == report.id, RetailReportRow.status == "good"
        )
    ).all()
    assert {(row.vin, row.dealer_id) for row in good} == {
        (vin(1), world.holder.id),
        (vin(2), world.referrer.id),
    }


def test_the_same_file_again_answers_the_earlier_import(world):
    rows = [(vin(1), "FAW-GZ1", TODAY), ("BAD", "FAW-GZ1", TODAY)]
    first = upload(world, rows)
    again = upload(world, rows)
    assert not again.created and again.report.id == first.report.id
    assert [row.reason for row in again.problems] == ["invalid_vin"]
    assert db.session.query(RetailReportRow).count() == 2
    other_group_admin_copy = upload(world, rows, who="admin", oem_id=world.oem.id)
    assert other_group_admin_copy.created  # a group's upload is its own scope


def test_a_file_that_cannot_be_read_is_refused(world):
    with pytest.raises(Invalid) as refused:
        import_report(world.user("auditor"), None, b"vin;code;date\n1;2;3\n", now=NOW)
    assert refused.value.reason == "bad_header"
    with pytest.raises(Invalid) as empty:
        import_report(world.user("auditor"), None, b"vin,dealer_code,retail_date\n", now=NOW)
    assert empty.value.reason == "no_rows"
    chinese = (
        "车架号,经销商代码,零售日期\n".encode("gb18030") + f"{vin(1)},FAW-GZ1,{TODAY}\n".encode()
    )
    assert import_report(world.user("auditor"), None, chinese, now=NOW).report.rows_good == 1


def test_a_report_confirms_a_past_delivery_by_its_holder_within_the_window(world):
    lead = deliver(world, 1)
    done = upload(world, [(vin(1), "FAW-GZ1", TODAY + timedelta(days=2))])
    assert done.report.confirmed == 1 and done.report.flagged == 0
    match = db.session.scalar(select(RetailMatch))
    assert (match.lead_id, match.dealer_id, match.delivered_at) == (
        lead.id,
        world.holder.id,
        DELIVERED_AT,
    )
    confirmed = lead_events(lead)[-1]
    assert confirmed.type == "retail_confirmed" and confirmed.actor_id == world.user_ids["auditor"]
    assert confirmed.data["vin"] == vin(1) and confirmed.data["row"] == 2
    assert verify_lead_chain(lead).ok
    again = upload(world, [(vin(1), "FAW-GZ1", TODAY)])
    assert again.report.confirmed == 0 and types(lead).count("retail_confirmed") == 1


@pytest.mark.parametrize("group_settings", [{"retail_match_days": 5}])
def test_a_retail_date_outside_the_groups_window_confirms_nothing(world):
    lead = deliver(world, 1)
    done = upload(world, [(vin(1), "FAW-GZ1", TODAY - timedelta(days=6))])
    assert done.report.confirmed == 0 and db.session.scalar(select(RetailMatch)) is None
    assert "retail_confirmed" not in types(lead)


def test_a_delivery_finds_the_report_imported_before(world):
    upload(world, [(vin(7), "FAW-GZ1", TODAY)])
    lead = deliver(world, 7)
    assert types(lead)[-2:] == ["delivered", "retail_confirmed"]
    assert lead_events(lead)[-1].actor_id == world.user_ids["auditor"]
    assert db.session.scalar(select(RetailMatch.lead_id)) == lead.id
    assert verify_lead_chain(lead).ok


def test_another_oems_report_and_another_brand_confirm_nothing(world):
    codes.set_oem_codes(
        world.user("admin"),
        world.holder.id,
        [{"oem_id": world.oem.id, "code": "FAW-GZ1"}, {"oem_id": world.other_oem.id, "code": "T1"}],
    )
    upload(world, [(vin(1), "T1", TODAY)], who="toyota")
    lead = deliver(world, 1)  # an Audi: Toyota's report does not speak for it
    assert "retail_confirmed" not in types(lead)
    with pytest.raises(NotFound):
        upload(world, [(vin(2), "T1", TODAY)], who="toyota", oem_id=world.oem.id)


def test_a_vin_reported_for_another_store_is_flagged_in_both_orders(world):
    past = deliver(world, 1)
    done = upload(world, [(vin(1), "FAW-SZ1", TODAY), (vin(2), "FAW-SZ1", TODAY)])
    assert done.report.flagged == 1 and done.report.confirmed == 0
    later = deliver(world, 2)
    flags = db.session.scalars(select(RetailFlag).order_by(RetailFlag.id)).all()
    assert [(f.lead_id, f.kind, f.holder_id, f.other_dealer_id) for f in flags] == [
        (past.id, "other_store", world.holder.id, world.referrer.id),
        (later.id, "other_store", world.holder.id, world.referrer.id),
    ]
    assert types(past)[-1] == types(later)[-1] == "retail_flagged"
    assert lead_events(later)[-1].data["kind"] == "other_store"


def test_the_same_vin_delivered_twice_in_the_group_is_flagged(world):
    first = deliver(world, 1)
    second = accepted_lead(world, 2, at=DELIVERED_AT)
    data = {"status": "delivered", "order_ref": "SO-2", "vin": vin(1)}
    progress.record_progress(world.user("holder"), second.public_id, data, now=DELIVERED_AT)
    [flag] = db.session.scalars(select(RetailFlag)).all()
    assert (flag.kind, flag.lead_id, flag.other_lead_id) == (
        "duplicate_delivery",
        second.id,
        first.id,
    )
    flagged = lead_events(second)[-1]
    assert flagged.type == "retail_flagged" and flagged.actor_id == world.user_ids["holder"]
    assert flagged.data["other_lead_id"] == first.public_id


def test_a_group_admins_report_names_only_its_groups_stores(world, make):
    other_group = make.group()
    stranger = make.dealer(other_group, brands=["奥迪"])
    other_admin = make.user(Role.GROUP_ADMIN, group=other_group)
    codes.set_oem_codes(
        db.session.get(User, other_admin.id),
        stranger.id,
        [{"oem_id": world.oem.id, "code": "FAW-XX9"}],
    )
    done = upload(
        world, [(vin(1), "FAW-GZ1", TODAY), (vin(2), "FAW-XX9", TODAY)], "admin", world.oem.id
    )
    assert done.report.group_id == world.group.id
    assert [(row.row_number, row.reason) for row in done.problems] == [(3, "unknown_dealer_code")]


def test_the_audit_counts_confirmed_unconfirmed_and_flagged_deliveries_per_store(world):
    deliver(world, 1)
    deliver(world, 2)
    deliver(world, 3)
    upload(world, [(vin(1), "FAW-GZ1", TODAY), (vin(3), "FAW-SZ1", TODAY)])
    expected = [
        {
            "dealer_id": world.holder.id,
            "dealer_code": "GZ1",
            "dealer": world.holder.name,
            "delivered": 3,
            "confirmed": 1,
            "unconfirmed": 2,
            "flagged": 1,
        }
    ]
    assert audit_by_store(world.user("admin")) == expected
    assert audit_by_store(world.user("auditor")) == expected
    assert audit_by_store(world.user("toyota")) == []


# --- delivery credits that wait for the OEM ---------------------------------------------------


def _delivery_credit() -> RewardCredit:
    return db.session.scalar(select(RewardCredit).where(RewardCredit.event == "delivered"))


def test_a_delivery_credit_waits_for_confirmation_then_is_released(world):
    program(world, requires_retail_confirmation=True, retail_deadline_days=20)
    deliver(world, 1)
    credit = _delivery_credit()
    assert credit.is_pending and credit.awaits_retail
    assert credit.retail_deadline_at == DELIVERED_AT + timedelta(days=20)
    assert release_due_credits(NOW) == 0
    assert balance(AccountKind.DEALER_PENDING, world.referrer.id) == 30_000
    assert balance(AccountKind.DEALER_REWARDS, world.referrer.id) == 21_000  # the earlier steps
    upload(world, [(vin(1), "FAW-GZ1", TODAY)])
    credit = _delivery_credit()
    assert credit.retail_confirmed_at == NOW and credit.release_entry_id is not None
    assert balance(AccountKind.DEALER_PENDING, world.referrer.id) == 0
    assert balance(AccountKind.DEALER_REWARDS, world.referrer.id) == 21_000 + 30_000
    assert_ledger_balanced()


def test_a_confirmed_credit_still_waits_for_its_hold(world):
    program(world, hold_days=30, requires_retail_confirmation=True)
    upload(world, [(vin(1), "FAW-GZ1", TODAY)])
    deliver(world, 1)
    credit = _delivery_credit()
    assert credit.retail_confirmed_at == DELIVERED_AT and credit.is_pending
    assert release_due_credits(NOW) == 0
    assert release_due_credits(DELIVERED_AT + timedelta(days=30)) >= 1
    assert _delivery_credit().release_entry_id is not None
    assert_ledger_balanced()


def test_the_sweep_reverses_a_delivery_credit_unconfirmed_at_its_deadline(world):
    chosen = program(world, requires_retail_confirmation=True, retail_deadline_days=10)
    lead = deliver(world, 1)
    before = balance(AccountKind.PROGRAM, chosen.id)
    deadline = DELIVERED_AT + timedelta(days=10)
    assert sweep_once(deadline - timedelta(seconds=1)).unconfirmed == 0
    assert sweep_once(deadline).unconfirmed == 1
    credit = _delivery_credit()
    assert credit.reversal_entry_id is not None and credit.release_entry_id is None
    assert balance(AccountKind.PROGRAM, chosen.id) == before + 30_000
    assert balance(AccountKind.DEALER_PENDING, world.referrer.id) == 0
    assert types(lead)[-1] == "retail_unconfirmed"
    assert sweep_once(deadline + timedelta(days=1)).unconfirmed == 0
    upload(world, [(vin(1), "FAW-GZ1", TODAY)])  # too late: the credit stays reversed
    assert _delivery_credit().release_entry_id is None
    assert verify_lead_chain(lead).ok
    assert_ledger_balanced()


def test_a_program_without_confirmation_keeps_delivery_credits_as_before(world):
    program(world)
    deliver(world, 1)
    credit = _delivery_credit()
    assert credit.retail_deadline_at is None and not credit.is_pending
