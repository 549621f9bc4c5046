"""Where the tile map of the provinces places a store inside its province's square."""

from leadshare.tenancy.models import Dealer
from leadshare.web.audit import STORE_SPREAD, store_offset, store_province


def test_a_store_sits_where_it_is_inside_its_provinces_square():
    shaoguan = Dealer(adcode="440203", latitude=24.81, longitude=113.60)  # north 广东
    zhanjiang = Dealer(adcode="440802", latitude=21.27, longitude=110.36)  # south-west
    north, south = store_offset(shaoguan), store_offset(zhanjiang)
    assert north[1] < 0 < south[1]  # up is north
    assert south[0] < north[0] and south[0] < 0
    far = store_offset(Dealer(adcode="440203", latitude=60.0, longitude=150.0))
    assert far == (STORE_SPREAD / 2, -STORE_SPREAD / 2)  # kept inside the square
    assert store_offset(Dealer(adcode="810000", latitude=22.3, longitude=114.2)) == (0.0, 0.0)
    assert store_offset(Dealer(adcode=None, latitude=22.3, longitude=114.2)) == (0.0, 0.0)


def test_a_store_without_a_code_finds_its_province_from_its_coordinates():
    assert store_province(Dealer(adcode=None, latitude=23.13, longitude=113.36)) == "44"
    assert store_province(Dealer(adcode="310115", latitude=None, longitude=None)) == "31"
    assert store_province(Dealer(adcode=None, latitude=None, longitude=None)) is None
    assert store_province(Dealer(adcode=None, latitude=0.0, longitude=0.0)) is None  # the sea
