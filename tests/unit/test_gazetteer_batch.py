"""The batch entry of the geocoding chain (the dealer import locates all its rows at once)."""

from __future__ import annotations

from leadshare.routing.geocode import Gazetteer, GeocodeChain, Place


class CountingOnline:
    """A fake online geocoder that answers every address with a point in Shenzhen."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def lookup(self, text: str) -> Place:
        self.asked.append(text)
        return Place(22.54, 114.06, "exact", None, None, None, None, "fake")


def test_geocode_many_answers_like_geocode_and_asks_online_only_where_needed():
    addresses = ["深圳市南山区科技园", "广东省某某路1号", "asdfgh", "杭州西湖区"]
    single = [GeocodeChain(Gazetteer.default(), CountingOnline()).geocode(a) for a in addresses]
    online = CountingOnline()
    batch = GeocodeChain(Gazetteer.default(), online).geocode_many(addresses)
    assert batch == single
    assert online.asked == ["广东省某某路1号", "asdfgh"]  # a province only, and nothing
    assert batch[1].source == "fake" and batch[1].province == "广东省"


def test_geocode_many_offline_is_the_gazetteer_batch():
    addresses = ["北京朝阳", "朝阳区", "上海浦东"]
    chain = GeocodeChain(Gazetteer.default())
    assert chain.geocode_many(addresses) == Gazetteer.default().lookup_many(addresses)
