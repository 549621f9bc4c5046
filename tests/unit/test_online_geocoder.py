"""The optional online geocoder against a fake Nominatim on 127.0.0.1: it may fail, never raise."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from geopy.location import Location

from leadshare.routing.geocode import (
    Gazetteer,
    GeocodeChain,
    OnlineGeocoder,
    Precision,
    make_online_geocoder,
)
from leadshare.routing.geocode.coords import haversine_km
from leadshare.routing.geocode.online import _baidu_point

TIANANMEN = {
    "display_name": "天安门, 东城区, 北京市, 中国",
    "lat": "39.9075",
    "lon": "116.3914",
    "addresstype": "tourism",
    "type": "attraction",
}


def answer(lat: str, lon: str, addresstype: str) -> list[dict]:
    return [{"display_name": "somewhere", "lat": lat, "lon": lon, "addresstype": addresstype}]


class FakeNominatim(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = "ok"
        self.answer: list[dict] = [TIANANMEN]
        self.queries: list[dict[str, list[str]]] = []

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeNominatim

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.server.queries.append(parse_qs(urlparse(self.path).query))
        mode = self.server.mode
        try:
            if mode == "slow":
                time.sleep(2.0)
            if mode in ("500", "503"):
                self._send(int(mode), b"unavailable", "text/plain")
            elif mode == "garbage":
                self._send(200, b"<html>not json", "application/json")
            else:
                self._send(200, json.dumps(self.server.answer).encode(), "application/json")
        except OSError:  # the client gave up (timeout): nothing to answer
            pass

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:  # noqa: A002 - silence the test output
        pass


@pytest.fixture
def fake():
    server = FakeNominatim()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def online(fake: FakeNominatim, timeout: float = 2.0, min_delay: float = 0.0) -> OnlineGeocoder:
    geocoder = make_online_geocoder(
        "nominatim",
        domain=fake.domain,
        scheme="http",
        api_key=None,
        timeout=timeout,
        min_delay_seconds=min_delay,
        user_agent="leadshare-tests",
    )
    assert isinstance(geocoder, OnlineGeocoder)
    return geocoder


def test_successful_answer_becomes_an_exact_place(fake):
    place = online(fake).lookup("天安门广场")
    assert place is not None
    assert (place.latitude, place.longitude) == (39.9075, 116.3914)
    assert (place.precision, place.source) == (Precision.EXACT, "nominatim")
    assert fake.queries[0]["q"] == ["天安门广场"]
    assert fake.queries[0]["countrycodes"] == ["cn"]


def test_city_answer_reports_city_precision(fake):
    fake.answer = answer("30.27", "120.15", "city")
    assert online(fake).lookup("Hangzhou").precision == Precision.CITY


def test_country_answer_locates_nothing(fake):
    fake.answer = answer("35.0", "103.0", "country")
    assert online(fake).lookup("中国") is None


def test_no_result_is_none(fake):
    fake.answer = []
    assert online(fake).lookup("nowhere at all") is None


@pytest.mark.parametrize("mode", ["500", "503", "garbage"])
def test_server_error_answers_none_without_raising(fake, mode):
    fake.mode = mode
    assert online(fake).lookup("天安门广场") is None


def test_slow_answer_beyond_the_timeout_is_none_quickly(fake):
    fake.mode = "slow"
    start = time.perf_counter()
    assert online(fake, timeout=0.3).lookup("天安门广场") is None
    assert time.perf_counter() - start < 1.5


def test_unreachable_server_is_none():
    server = FakeNominatim()
    domain = server.domain
    server.server_close()  # nothing listens there any more
    geocoder = make_online_geocoder(
        "nominatim",
        domain=domain,
        scheme="http",
        api_key=None,
        timeout=1.0,
        min_delay_seconds=0.0,
        user_agent="leadshare-tests",
    )
    assert geocoder.lookup("天安门广场") is None


def test_rate_limiter_spaces_requests(fake):
    geocoder = online(fake, min_delay=0.3)
    start = time.perf_counter()
    geocoder.lookup("a")
    geocoder.lookup("b")
    assert time.perf_counter() - start >= 0.3
    assert len(fake.queries) == 2


def test_unexpected_exception_is_swallowed():
    class Broken:
        def geocode(self, *args, **kwargs):
            raise RuntimeError("boom")

    assert OnlineGeocoder(Broken(), "broken", min_delay_seconds=0).lookup("x") is None


def test_baidu_bd09_answer_is_converted_to_wgs84():
    class FakeBaidu:
        def geocode(self, query, exactly_one=True):
            raw = {"location": {"lat": 39.9151, "lng": 116.4039}, "level": "旅游景点"}
            return Location("旅游景点", (39.9151, 116.4039), raw)

    geocoder = OnlineGeocoder(FakeBaidu(), "baiduv3", min_delay_seconds=0, interpret=_baidu_point)
    place = geocoder.lookup("天安门")
    assert haversine_km(place.latitude, place.longitude, 39.9075, 116.3914) < 0.3
    assert (place.precision, place.source) == (Precision.EXACT, "baiduv3")
    assert _baidu_point({"level": "城市"}, 39.9, 116.4)[2] == Precision.CITY


@pytest.mark.parametrize(
    ("provider", "api_key"),
    [("none", None), ("", None), (None, None), ("baiduv3", None), ("bogus", "key")],
)
def test_factory_returns_none_when_disabled_or_misconfigured(provider, api_key):
    geocoder = make_online_geocoder(
        provider,
        domain=None,
        scheme=None,
        api_key=api_key,
        timeout=1.0,
        min_delay_seconds=1.0,
        user_agent="leadshare-tests",
    )
    assert geocoder is None


def test_factory_builds_baidu_with_a_key():
    geocoder = make_online_geocoder(
        "BaiduV3",
        domain=None,
        scheme="https",
        api_key="k",
        timeout=1.0,
        min_delay_seconds=1.0,
        user_agent="leadshare-tests",
    )
    assert geocoder is not None and geocoder.provider == "baiduv3"


# --- the chain ----------------------------------------------------------------------------------


def test_chain_uses_the_online_answer_when_the_gazetteer_finds_nothing(fake):
    chain = GeocodeChain(Gazetteer.default(), online(fake))
    place = chain.geocode("Tiananmen Square")
    assert place.source == "nominatim"
    assert place.precision == Precision.EXACT
    assert (place.province, place.city) == ("北京市", "北京市")
    assert place.adcode.startswith("11")  # admin code from the nearest district


def test_chain_keeps_the_gazetteer_answer_when_online_fails(fake):
    fake.mode = "503"
    chain = GeocodeChain(Gazetteer.default(), online(fake))
    place = chain.geocode("广东省某某镇")
    assert (place.source, place.precision, place.province) == ("gazetteer", "province", "广东省")
    assert len(fake.queries) == 1


def test_chain_does_not_ask_online_when_the_gazetteer_knows_the_city(fake):
    chain = GeocodeChain(Gazetteer.default(), online(fake))
    assert chain.geocode("深圳南山").source == "gazetteer"
    assert fake.queries == []


def test_chain_refines_a_province_with_a_consistent_online_point(fake):
    fake.answer = answer("22.5405", "113.9345", "building")
    chain = GeocodeChain(Gazetteer.default(), online(fake))
    place = chain.geocode("广东省某某大厦")
    assert (place.source, place.province, place.district) == ("nominatim", "广东省", "南山区")


def test_chain_rejects_an_online_point_in_another_province(fake):
    chain = GeocodeChain(Gazetteer.default(), online(fake))  # answers Beijing
    place = chain.geocode("广东省某某大厦")
    assert (place.source, place.province) == ("gazetteer", "广东省")


def test_chain_without_online_is_the_gazetteer():
    chain = GeocodeChain(Gazetteer.default())
    assert chain.geocode("asdfgh") is None
    assert chain.geocode("杭州").city == "杭州市"


def test_client_coordinates_get_an_admin_code():
    place = GeocodeChain(Gazetteer.default()).from_coordinates(22.5405, 113.9345)
    assert (place.latitude, place.longitude, place.precision) == (22.5405, 113.9345, "exact")
    assert (place.source, place.adcode, place.district) == ("client", "440305", "南山区")
