"""Retail pages (issue 17 item 3): an OEM auditor and a group admin upload a retail report and
read its rows, the retail audit per store, the group admin's flags; each page only for its
roles."""

from __future__ import annotations

import io
from datetime import date

import pytest

from ..retail_world import delivered, report_csv, retail_network, vin
from .pages import Browser

TODAY = date.today()


@pytest.fixture
def world(make, auth, client):
    return retail_network(make, auth, client)


def upload(browser, rows, **fields):
    content = report_csv(rows)
    return browser.post(
        "/retail/reports",
        follow_redirects=True,
        file=(io.BytesIO(content), "零售-12月.csv"),
        **fields,
    )


def test_an_auditor_uploads_a_report_and_reads_the_rows_not_counted(app, client, world):
    delivered(client, world, 1)
    auditor = Browser(app, world.users["auditor"])
    page = auditor.get("/retail/reports").text
    assert "上传零售报表" in page and "一汽-大众" in page and 'name="oem_id"' in page
    done = upload(auditor, [(vin(1), "FAW-GZ1", TODAY), (vin(2), "NOPE", TODAY), (vin(1), "X", "")])
    assert done.status_code == 200
    assert "已导入：计入 1 行，确认 1 次交车。" in done.text
    assert "该主机厂没有门店使用这个经销商代码" in done.text and "有一列为空" in done.text
    again = upload(
        auditor, [(vin(1), "FAW-GZ1", TODAY), (vin(2), "NOPE", TODAY), (vin(1), "X", "")]
    )
    assert "这个文件之前已导入：以下是那次导入的结果。" in again.text
    listed = auditor.get("/retail/reports").text
    assert listed.count('href="/retail/reports/') == 1 and "零售-12月.csv" in listed


def test_a_bad_file_is_explained_on_the_page(app, world):
    auditor = Browser(app, world.users["auditor"])
    refused = auditor.post(
        "/retail/reports", file=(io.BytesIO(b"a,b\n1,2\n"), "x.csv"), oem_id=str(world.audi.id)
    )
    assert refused.status_code == 422
    assert "第一行必须是列名" in refused.text
    missing = auditor.post("/retail/reports")
    assert missing.status_code == 422 and "请选择 CSV 文件" in missing.text


def test_a_group_admin_chooses_the_oem_and_sees_the_audit_and_flags(app, client, world):
    delivered(client, world, 1)
    delivered(client, world, 2, 1)  # the same VIN delivered again
    admin = Browser(app, world.users["admin"])
    form = admin.get("/retail/reports").text
    assert "一汽-大众" in form and f'name="oem_id" value="{world.audi.id}"' in form
    unnamed = upload(admin, [(vin(1), "FAW-GZ2", TODAY)])
    assert "请选择这份报表所属的主机厂。" in unnamed.text
    done = upload(admin, [(vin(1), "FAW-GZ2", TODAY)], oem_id=str(world.audi.id))
    assert "已导入" in done.text
    audit = admin.get("/retail/audit").text
    assert "零售核查" in audit and "广州天河奥迪" in audit and 'href="/retail/flags"' in audit
    flags = admin.get("/retail/flags").text
    assert "集团内重复交车" in flags and "报给了其他门店" in flags and vin(1) in flags
    only = admin.get("/retail/flags?kind=other_store").text
    assert only.count('class="card retail-flag"') == 2  # both deliveries of the VIN


def test_each_retail_page_opens_only_for_its_roles(app, world):
    auditor, admin = Browser(app, world.users["auditor"]), Browser(app, world.users["admin"])
    staff, manager = Browser(app, world.users["tianhe"]), Browser(app, world.users["tianhe2"])
    for path in ("/retail/reports", "/retail/audit"):
        assert auditor.get(path).status_code == 200
        assert admin.get(path).status_code == 200
        assert staff.get(path).status_code == 403
        assert manager.get(path).status_code == 403
    assert admin.get("/retail/flags").status_code == 200
    assert auditor.get("/retail/flags").status_code == 403
    assert auditor.get("/retail/reports/999999").status_code == 404
    assert "零售核查" in auditor.get("/retail/audit").text
    assert 'href="/retail/flags"' not in auditor.get("/retail/audit").text


def test_a_group_admin_whose_stores_two_oems_know_chooses_one(app, client, make, world):
    toyota = make.oem(name="广汽丰田", brands=["丰田"])
    answer = client.put(
        f"/api/v1/dealers/{world.futian_toyota.id}/oem-codes",
        json={"codes": [{"oem_id": toyota.id, "code": "GTMC-SZ2"}]},
        headers=world.headers["admin"],
    )
    assert answer.status_code == 200, answer.json
    form = Browser(app, world.users["admin"]).get("/retail/reports").text
    assert "请选择主机厂" in form and "一汽-大众" in form and "广汽丰田" in form


def test_a_group_admin_sets_a_stores_oem_codes_on_its_page(app, client, world):
    admin = Browser(app, world.users["admin"])
    url = f"/admin/dealers/{world.tianhe.id}"
    page = admin.get(url).text
    box = f'name="oem_{world.audi.id}" value="FAW-GZ1"'
    assert "主机厂经销商代码" in page and box in page
    saved = admin.post(
        f"{url}/oem-codes", follow_redirects=True, **{f"oem_{world.audi.id}": "FAW-GZ9"}
    )
    assert saved.status_code == 200 and "的主机厂经销商代码已保存" in saved.text
    codes = client.get(
        f"/api/v1/dealers/{world.tianhe.id}/oem-codes", headers=world.headers["admin"]
    )
    assert [row["code"] for row in codes.json["codes"]] == ["FAW-GZ9"]
    taken = admin.post(f"{url}/oem-codes", **{f"oem_{world.audi.id}": "FAW-GZ2"})  # Baiyun's
    assert taken.status_code == 409 and "该主机厂下已有其他门店使用此代码" in taken.text
    assert f'name="oem_{world.audi.id}" value="FAW-GZ2"' in taken.text  # what was typed stays
    bad = admin.post(f"{url}/oem-codes", **{f"oem_{world.audi.id}": "代码 1"})
    assert bad.status_code == 422 and "经销商代码为 1-50 位" in bad.text
    cleared = admin.post(f"{url}/oem-codes", follow_redirects=True, **{f"oem_{world.audi.id}": ""})
    assert cleared.status_code == 200
    codes = client.get(
        f"/api/v1/dealers/{world.tianhe.id}/oem-codes", headers=world.headers["admin"]
    )
    assert codes.json["codes"] == []
    manager = Browser(app, world.users["tianhe2"])
    assert manager.post(f"{url}/oem-codes", **{f"oem_{world.audi.id}": "X"}).status_code == 403
