"""Geocoding endpoint, health check, OpenAPI document and offline docs."""

from sqlalchemy import select, update

from leadshare.extensions import db
from leadshare.routing.geocode.models import GeocodeCacheEntry
from leadshare.routing.geocode.service import geocode_address
from leadshare.vocabulary import Role

from .. import TEST_SECRET_KEY


def test_geocode_answers_the_place_and_stores_nothing(client, make, auth, app_ctx):
    headers = auth(make.user(Role.STAFF, dealer=make.dealer(make.group())))
    response = client.get(
        "/api/v1/geocode", query_string={"q": "广东省深圳市南山区科技园"}, headers=headers
    )
    assert response.status_code == 200
    body = response.json
    assert (body["city"], body["district"], body["adcode"]) == ("深圳市", "南山区", "440305")
    assert body["precision"] == "district" and body["source"] == "gazetteer"
    with app_ctx:
        assert db.session.scalars(select(GeocodeCacheEntry)).all() == []  # reads never write


def test_geocode_answers_from_the_cache_intake_keeps(client, make, auth, app_ctx):
    headers = auth(make.user(Role.STAFF, dealer=make.dealer(make.group())))
    with app_ctx:
        place = geocode_address("广东省深圳市南山区科技园")  # what intake does, and stores
        db.session.commit()
        cached = {**place.to_dict(), "source": "amap"}
        db.session.execute(update(GeocodeCacheEntry).values(result=cached))
        db.session.commit()
    again = client.get(
        "/api/v1/geocode", query_string={"q": " 广东省深圳市南山区科技园 "}, headers=headers
    )
    assert again.status_code == 200 and again.json == cached
    with app_ctx:
        assert len(db.session.scalars(select(GeocodeCacheEntry)).all()) == 1


def test_geocode_of_garbage_is_404_not_found(client, make, auth):
    headers = auth(make.user(Role.PLATFORM_ADMIN))
    response = client.get("/api/v1/geocode", query_string={"q": "qwertyuiop"}, headers=headers)
    assert response.status_code == 404 and response.json["reason"] == "not_found"


def test_geocode_needs_q_and_sign_in(client, make, auth):
    assert client.get("/api/v1/geocode?q=杭州").status_code == 401
    response = client.get("/api/v1/geocode", headers=auth(make.user(Role.PLATFORM_ADMIN)))
    assert response.status_code == 422 and "q" in response.json["errors"]["query"]


def test_healthz_reports_database_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_database_is_unreachable(tmp_path):
    from leadshare.app import create_app

    app = create_app(
        {
            "SECRET_KEY": TEST_SECRET_KEY,
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none",
        }
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["database"] == "unreachable"


def test_openapi_document_lists_the_resources(client):
    spec = client.get("/api/v1/openapi.json").json
    for path in (
        "/api/v1/auth/token",
        "/api/v1/groups",
        "/api/v1/groups/{group_id}",
        "/api/v1/oems",
        "/api/v1/dealers",
        "/api/v1/dealers/{dealer_id}",
        "/api/v1/users",
        "/api/v1/geocode",
    ):
        assert path in spec["paths"], path
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_docs_page_and_its_assets_are_served_locally(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in html and "//cdn" not in html
    asset = client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.data) > 100_000


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.json["reason"] == "not_found"


def test_malformed_json_is_a_clear_error_not_500(client, make, auth):
    headers = {**auth(make.user(Role.PLATFORM_ADMIN)), "Content-Type": "application/json"}
    response = client.post("/api/v1/groups", data="{not json", headers=headers)
    assert response.status_code in (400, 422)
    assert response.json["message"]
