"""Command line: create-admin, demo data, dealer and retail report import."""

import csv
import io
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from leadshare.auth.models import User
from leadshare.extensions import db
from leadshare.retail.models import RetailMatch, RetailReport
from leadshare.rewards.models import RewardCredit
from leadshare.tenancy.models import Dealer, Group
from leadshare.vocabulary import Role

from ..api.test_rewards import create_program
from ..retail_world import delivered, report_csv, retail_network, vin


def demo_args(app) -> list[str]:
    """`leadshare demo`, with --force when the suite runs on PostgreSQL."""
    on_sqlite = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    return ["leadshare", "demo", *([] if on_sqlite else ["--force"])]


def test_create_admin_makes_a_platform_admin(app, app_ctx):
    result = app.test_cli_runner().invoke(
        args=["leadshare", "create-admin", "Boss@Example.com", "--password", "s3cret-pass"]
    )
    assert result.exit_code == 0, result.output
    with app_ctx:
        user = db.session.scalar(select(User).where(User.email == "boss@example.com"))
        assert user.role == Role.PLATFORM_ADMIN and user.check_password("s3cret-pass")
    again = app.test_cli_runner().invoke(
        args=["leadshare", "create-admin", "boss@example.com", "--password", "s3cret-pass"]
    )
    assert again.exit_code != 0 and "already exists" in again.output


def test_demo_loads_forty_stores_in_fifteen_cities_and_every_role(app, app_ctx):
    result = app.test_cli_runner().invoke(args=demo_args(app))
    assert result.exit_code == 0, result.output
    with app_ctx:
        group = db.session.scalar(select(Group).where(Group.code == "DEMO"))
        dealers = group.dealers
        assert len(dealers) >= 40
        assert all(d.latitude and d.longitude and d.geo_precision == "district" for d in dealers)
        assert len({d.adcode[:4] for d in dealers}) >= 15
        assert len({b for d in dealers for b in d.brands}) == 4
        roles = set(db.session.scalars(select(User.role)))
        assert roles == {r.value for r in Role}
        count = len(dealers)
    second = app.test_cli_runner().invoke(args=demo_args(app))
    assert "already loaded" in second.output
    with app_ctx:
        assert (
            db.session.scalar(select(func.count(Dealer.id)).where(Dealer.group_id == group.id))
            == count
        )


def test_demo_login_works(app, client):
    app.test_cli_runner().invoke(args=demo_args(app))
    response = client.post(
        "/api/v1/auth/token",
        json={"email": "staff.sz01@demo.leadshare.cn", "password": "leadshare-demo"},
    )
    assert response.status_code == 200


HEADER = (
    "code,name,brands,address,latitude,longitude,service_radius_km,region_codes,daily_capacity,"
    "accepting_leads,active,webhook_url"
)
CSV = (
    "\ufeff"
    + HEADER
    + """
HZ01,杭州西湖宝马店,宝马|MINI,浙江省杭州市西湖区文三路,,,40,3301,10,true,true,
HZ02,杭州萧山大众店,大众,,30.18,120.26,,,,,,
BAD1,没有品牌店,,浙江省杭州市西湖区,,,,,,,,
BAD2,找不到店,丰田,qwertyuiop,,,,,,,,
BAD3,坏半径店,丰田,杭州,,,-5,,,,,
NJ01,南京鼓楼店,宝马;奥迪,江苏省南京市鼓楼区中山路1号,,,,,,false,,
"""
)


def test_import_dealers_imports_good_rows_and_reports_bad_lines(app, app_ctx, make, tmp_path):
    group = make.group(code="IMP")
    path = tmp_path / "dealers.csv"
    path.write_text(CSV, encoding="utf-8")
    result = app.test_cli_runner().invoke(
        args=["leadshare", "import-dealers", str(path), "--group", "IMP"]
    )
    assert result.exit_code == 1
    assert "3 created, 0 updated, 3 rejected" in result.output
    assert "line 4: brands" in result.output
    assert "line 5: address" in result.output
    assert "line 6: service_radius_km" in result.output
    with app_ctx:
        dealers = {
            d.code: d for d in db.session.scalars(select(Dealer).where(Dealer.group_id == group.id))
        }
        assert set(dealers) == {"HZ01", "HZ02", "NJ01"}
        hz = dealers["HZ01"]
        assert (
            hz.brands == ["宝马", "MINI"]
            and hz.region_codes == ["3301"]
            and hz.daily_capacity == 10
        )
        assert hz.adcode == "330106"
        assert dealers["NJ01"].adcode == "320106" and dealers["NJ01"].is_accepting is False
        assert dealers["HZ02"].geo_precision == "exact"


def test_import_dealers_twice_updates_instead_of_duplicating(app, app_ctx, make, tmp_path):
    make.group(code="IMP2")
    path = tmp_path / "dealers.csv"
    path.write_text(
        "code,name,brands,latitude,longitude\nA1,店一,丰田,30.1,120.1\n", encoding="utf-8"
    )
    runner = app.test_cli_runner()
    assert (
        runner.invoke(args=["leadshare", "import-dealers", str(path), "--group", "IMP2"]).exit_code
        == 0
    )
    path.write_text(
        "code,name,brands,latitude,longitude\nA1,店一改名,丰田,30.1,120.1\n", encoding="utf-8"
    )
    result = runner.invoke(args=["leadshare", "import-dealers", str(path), "--group", "IMP2"])
    assert "0 created, 1 updated" in result.output
    with app_ctx:
        assert db.session.scalar(select(Dealer.name).where(Dealer.code == "A1")) == "店一改名"


def test_import_dealers_into_unknown_group_fails_clearly(app, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("code,name,brands\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(
        args=["leadshare", "import-dealers", str(path), "--group", "NOPE"]
    )
    assert result.exit_code != 0 and "No group with code 'NOPE'" in result.output


def test_import_report_is_an_excel_csv_with_typed_formulas_inert(app, make, tmp_path):
    make.group(code="IMPR")
    source, report = tmp_path / "dealers.csv", tmp_path / "report.csv"
    source.write_text(
        "code,name,brands,latitude,longitude\n"
        'R1,"=HYPERLINK(""http://evil.example"",""点我"")",丰田,30.18,120.26\n'
        "-R2,@坏店,,30.18,120.26\n",
        encoding="utf-8",
    )
    result = app.test_cli_runner().invoke(
        args=[
            "leadshare",
            "import-dealers",
            str(source),
            "--group",
            "IMPR",
            "--report",
            str(report),
        ]
    )
    assert result.exit_code == 1, result.output
    raw = report.read_bytes()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [(r["line"], r["code"], r["outcome"]) for r in rows] == [
        ("2", "R1", "created"),
        ("3", "'-R2", "rejected"),
    ]
    assert rows[0]["name"] == '\'=HYPERLINK("http://evil.example","点我")'
    assert rows[1]["name"] == "'@坏店" and "brands: Missing data" in rows[1]["message"]


def test_retail_import_confirms_and_answers_the_same_file_once(
    app, app_ctx, client, make, auth, tmp_path
):
    world = retail_network(make, auth, client)
    delivered(client, world, 1)
    path = tmp_path / "retail.csv"
    path.write_bytes(
        report_csv([(vin(1), "FAW-GZ1", date.today()), (vin(2), "NOPE", date.today())])
    )
    runner = app.test_cli_runner()
    result = runner.invoke(args=["leadshare", "retail-import", str(path), "--oem", "一汽-大众"])
    assert result.exit_code == 1, result.output  # one row refused
    assert "1 rows counted, 1 refused, 0 repeated; 1 deliveries confirmed" in result.output
    assert "line 3: unknown_dealer_code" in result.output
    again = runner.invoke(
        args=["leadshare", "retail-import", str(path), "--oem", str(world.audi.id)]
    )
    assert "Already imported report" in again.output
    unknown = runner.invoke(args=["leadshare", "retail-import", str(path), "--oem", "Nobody"])
    assert unknown.exit_code != 0 and "No OEM named Nobody" in unknown.output
    with app_ctx:
        [report] = db.session.scalars(select(RetailReport)).all()
        assert report.uploaded_by_id is None and report.group_id is None
        assert db.session.scalar(select(func.count(RetailMatch.id))) == 1


def test_the_sweep_as_of_the_deadline_reverses_an_unconfirmed_delivery_credit(
    app, app_ctx, client, make, auth
):
    world = retail_network(make, auth, client)
    create_program(client, world, requires_retail_confirmation=True, retail_deadline_days=10)
    delivered(client, world, 1)
    deadline = datetime.now(UTC) + timedelta(days=10, minutes=1)
    runner = app.test_cli_runner()
    early = runner.invoke(args=["leadshare", "sweep", "--as-of", "2000-01-01T00:00:00Z"])
    assert "0 delivery credits reversed unconfirmed" in early.output, early.output
    late = runner.invoke(args=["leadshare", "sweep", "--as-of", deadline.isoformat()])
    assert late.exit_code == 0 and "1 delivery credits reversed unconfirmed" in late.output
    with app_ctx:
        credit = db.session.scalar(select(RewardCredit).where(RewardCredit.event == "delivered"))
        assert credit.reversal_entry_id is not None and credit.release_entry_id is None
