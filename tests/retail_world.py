"""OEM retail reports for tests: valid VINs, a report's CSV bytes, an OEM knowing the stores."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from leadshare.leads.vin import CHECK_DIGIT_INDEX, check_digit

HEADER = ("vin", "dealer_code", "retail_date")


def vin(n: int) -> str:
    """A valid VIN numbered n (its check digit computed)."""
    body = f"LSVAU2A30N2{n:06d}"
    return body[:CHECK_DIGIT_INDEX] + check_digit(body) + body[CHECK_DIGIT_INDEX + 1 :]


def report_csv(rows: Iterable[tuple[str, str, date | str]], header=HEADER) -> bytes:
    """A retail report's bytes: a header row, then one line per (VIN, dealer code, date)."""
    lines = [",".join(header)]
    lines += [f"{v},{code},{when}" for v, code, when in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def retail_network(make, auth, client):
    """The API tests' dealer network, with an Audi OEM knowing Tianhe as FAW-GZ1 and Baiyun as
    FAW-GZ2, and that OEM's auditor (`auditor`)."""
    from leadshare.vocabulary import Role

    from .api.lead_world import build_world

    world = build_world(make, auth)
    world.audi = make.oem(name="一汽-大众", brands=["奥迪"])
    for store, code in ((world.tianhe, "FAW-GZ1"), (world.baiyun, "FAW-GZ2")):
        answer = client.put(
            f"/api/v1/dealers/{store.id}/oem-codes",
            json={"codes": [{"oem_id": world.audi.id, "code": code}]},
            headers=world.headers["admin"],
        )
        assert answer.status_code == 200, answer.json
    world.users["auditor"] = make.user(Role.OEM_AUDITOR, oem=world.audi)
    world.headers["auditor"] = auth(world.users["auditor"])
    return world


def delivered(client, world, n: int, vin_number: int | None = None) -> str:
    """A lead the referrer shares, Tianhe claims and delivers with VIN number `vin_number`
    (else n), through the API; its public id."""
    from .api.test_rewards import claim, progress, shared_lead

    lead_id = shared_lead(client, world, n)
    claim(client, world, lead_id)
    answer = progress(
        client, world, lead_id, status="delivered", order_ref=f"SO-{n}", vin=vin(vin_number or n)
    )
    assert answer.status_code == 200, answer.json
    return lead_id
