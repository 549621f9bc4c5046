"""The offline gazetteer on real, messy lead addresses: what it resolves and how honestly."""

from __future__ import annotations

import csv
import json
import statistics
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadshare.routing.geocode import Gazetteer, Place, Precision, normalise_address
from leadshare.routing.geocode.coords import bd09_to_wgs84, haversine_km
from leadshare.routing.geocode.gazetteer import DEFAULT_CSV

D, C, P = "district", "city", "province"

# address, province, city, district, adcode prefix, precision
CASES = [
    # full addresses
    ("广东省深圳市南山区科技园", "广东省", "深圳市", "南山区", "440305", D),
    ("北京市朝阳区建国路88号", "北京市", "北京市", "朝阳区", "110105", D),
    ("重庆市渝中区", "重庆市", "重庆市", "渝中区", "500103", D),
    ("福建省厦门市思明区", "福建省", "厦门市", "思明区", "350203", D),
    ("湖南省长沙市岳麓区麓谷", "湖南省", "长沙市", "岳麓区", "430104", D),
    # suffix-less names
    ("上海浦东", "上海市", "上海市", "浦东新区", "310115", D),
    ("广州天河", "广东省", "广州市", "天河区", "440106", D),
    ("深圳南山", "广东省", "深圳市", "南山区", "440305", D),
    ("北京朝阳", "北京市", "北京市", "朝阳区", "110105", D),
    ("湖州南浔", "浙江省", "湖州市", "南浔区", "330503", D),
    ("浦东", "上海市", "上海市", "浦东新区", "310115", D),
    # city or province only
    ("杭州", "浙江省", "杭州市", None, "3301", C),
    ("广东深圳", "广东省", "深圳市", None, "4403", C),
    ("广东省", "广东省", None, None, "44", P),
    ("浙江", "浙江省", None, None, "33", P),
    ("北京", "北京市", "北京市", None, "110000", C),
    ("香港", "香港特别行政区", "香港特别行政区", None, "810000", C),
    ("吉林", "吉林省", None, None, "22", P),
    # shared district names, disambiguated by the city or province in the text
    ("吉林省长春市朝阳区", "吉林省", "长春市", "朝阳区", "220104", D),
    ("长春朝阳", "吉林省", "长春市", "朝阳区", "220104", D),
    ("南京鼓楼", "江苏省", "南京市", "鼓楼区", "320106", D),
    ("福州市鼓楼区", "福建省", "福州市", "鼓楼区", "350102", D),
    ("天津和平区南京路", "天津市", "天津市", "和平区", "120101", D),
    ("沈阳和平", "辽宁省", "沈阳市", "和平区", "210102", D),
    ("杭州西湖", "浙江省", "杭州市", "西湖区", "330106", D),
    ("西安长安区", "陕西省", "西安市", "长安区", "610116", D),
    ("石家庄长安区", "河北省", "石家庄市", "长安区", "130102", D),
    ("鹤岗南山区", "黑龙江省", "鹤岗市", "南山区", "230404", D),
    ("吉林省吉林市船营区", "吉林省", "吉林市", "船营区", "220204", D),
    # shared names without anything to disambiguate: never a guessed district
    ("朝阳区", None, None, None, None, None),
    ("鼓楼区", None, None, None, None, None),
    ("江北区", None, None, None, None, None),
    ("桥西区", "河北省", None, None, "13", P),
    ("井陉", "河北省", "石家庄市", None, "1301", C),
    # a district inconsistent with the city: the city
    ("北京市鼓楼区", "北京市", "北京市", None, "110000", C),
    ("广东省深圳市浦东新区", "广东省", "深圳市", None, "4403", C),
    # development zones and new areas
    ("苏州工业园区", "江苏省", "苏州市", None, "3205", C),
    ("成都高新区天府大道", "四川省", "成都市", None, "5101", C),
    ("武汉东湖高新区", "湖北省", "武汉市", None, "4201", C),
    ("东湖高新区光谷大道", "湖北省", "武汉市", None, "4201", C),
    ("西安高新区", "陕西省", "西安市", None, "6101", C),
    ("深圳前海", "广东省", "深圳市", None, "4403", C),
    ("天津滨海新区", "天津市", "天津市", "滨海新区", "120116", D),
    # autonomous regions and prefectures
    ("新疆乌鲁木齐市天山区", "新疆维吾尔自治区", "乌鲁木齐市", "天山区", "650102", D),
    ("内蒙古呼和浩特", "内蒙古自治区", "呼和浩特市", None, "1501", C),
    ("广西南宁青秀区", "广西壮族自治区", "南宁市", "青秀区", "450103", D),
    ("湖北恩施州", "湖北省", "恩施土家族苗族自治州", None, "4228", C),
    (
        "贵州省黔东南苗族侗族自治州凯里市",
        "贵州省",
        "黔东南苗族侗族自治州",
        "凯里市",
        "522601",
        D,
    ),
    # province-direct county-level units and cities without districts
    ("湖北仙桃", "湖北省", "仙桃市", None, "429004", C),
    ("河南省济源市", "河南省", "济源市", None, "419001", C),
    ("海南陵水", "海南省", "陵水黎族自治县", None, "469028", C),
    ("新疆石河子", "新疆维吾尔自治区", "石河子市", None, "659001", C),
    ("东莞市长安镇", "广东省", "东莞市", None, "441900", C),
    ("广东中山石岐", "广东省", "中山市", None, "442000", C),
    # renamed and newer districts
    ("重庆梁平区", "重庆市", "重庆市", "梁平区", "500155", D),
    ("重庆市渝北区", "重庆市", "重庆市", "两江新区", "500157", D),  # merged in 2025
    ("遵义市播州区", "贵州省", "遵义市", "播州区", "520304", D),
    ("昆明市晋宁区", "云南省", "昆明市", "晋宁区", "530115", D),
    ("榆林市横山区", "陕西省", "榆林市", "横山区", "610803", D),
    ("西安市鄠邑区", "陕西省", "西安市", "鄠邑区", "610118", D),
    ("杭州临平", "浙江省", "杭州市", "临平区", "330113", D),
    # old names answer their successor
    ("江苏省淮阴市", "江苏省", "淮安市", None, "320800", C),
    ("江苏淮阴市清河区", "江苏省", "淮安市", "清江浦区", "320812", D),
    ("云南思茅市", "云南省", "普洱市", None, "530800", C),
    ("安徽省巢湖市", "安徽省", "合肥市", "巢湖市", "340181", D),
    ("安徽省巢湖市和县", "安徽省", "马鞍山市", "和县", "340523", D),
    ("四川省资阳市简阳市", "四川省", "成都市", "简阳市", "510185", D),
    ("陕西户县", "陕西省", "西安市", "鄠邑区", "610118", D),
    ("遵义县", "贵州省", "遵义市", "播州区", "520304", D),
    ("深圳龙华", "广东省", "深圳市", "龙华区", "440309", D),
    ("河北省雄安新区", "河北省", "保定市", None, "1306", C),
    # typos, noise, full-width, latin junk
    ("广东省　深圳市　福田区　ＣＢＤ　１２３号", "广东省", "深圳市", "福田区", "440304", D),
    (
        "收货地址：广东省 广州市 天河区 体育西路191号 电话13800138000",
        "广东省",
        "广州市",
        "天河区",
        "440106",
        D,
    ),
    ("  杭州   西湖区  ", "浙江省", "杭州市", "西湖区", "330106", D),
    ("shenzhen 深圳市 nanshan qu 南山区 kejiyuan", "广东省", "深圳市", "南山区", "440305", D),
    ("广东深证南山区", "广东省", "深圳市", "南山区", "440305", D),
    ("深证南山区", None, None, None, None, None),
    # roads and words that contain place names
    ("南京市中山路", "江苏省", "南京市", None, "3201", C),
    ("南京中山北路1号", "江苏省", "南京市", None, "3201", C),
    ("上海市南京西路", "上海市", "上海市", None, "310000", C),
    ("上海市西藏中路", "上海市", "上海市", None, "310000", C),
    ("武汉东湖", "湖北省", "武汉市", None, "4201", C),
    ("阿里巴巴杭州", "浙江省", "杭州市", None, "3301", C),
    ("东方明珠", None, None, None, None, None),
    ("海南东方", "海南省", "东方市", None, "469007", C),
    ("XX小区东区", None, None, None, None, None),
    ("阳泉城区", "山西省", "阳泉市", "城区", "140302", D),
    # garbage and empty
    ("asdfgh", None, None, None, None, None),
    ("123456", None, None, None, None, None),
    ("中国", None, None, None, None, None),
    ("!!!", None, None, None, None, None),
    ("", None, None, None, None, None),
    ("   ", None, None, None, None, None),
]

# Known city centres (WGS-84) for a plausibility check of the returned points.
CENTRES = {
    "广东省深圳市南山区科技园": (22.543, 114.058),
    "北京朝阳": (39.904, 116.407),
    "上海浦东": (31.230, 121.474),
    "杭州": (30.274, 120.155),
    "新疆乌鲁木齐市天山区": (43.825, 87.617),
    "广州天河": (23.129, 113.264),
    "长春朝阳": (43.817, 125.324),
    "武汉东湖高新区": (30.593, 114.305),
    "湖北仙桃": (30.363, 113.454),
}


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer.default()


@pytest.mark.parametrize(
    ("address", "province", "city", "district", "adcode", "precision"),
    CASES,
    ids=[case[0].strip() or "blank" for case in CASES],
)
def test_lookup_resolves_what_the_text_supports(
    gazetteer, address, province, city, district, adcode, precision
):
    place = gazetteer.lookup(address)
    if precision is None:
        assert place is None
        return
    assert place is not None
    assert (place.province, place.city, place.district) == (province, city, district)
    assert place.adcode.startswith(adcode)
    assert len(place.adcode) == 6
    assert place.precision == precision
    assert place.source == "gazetteer"


def test_table_is_large_and_varied():
    assert len(CASES) >= 40
    assert {case[5] for case in CASES} == {D, C, P, None}


@pytest.mark.parametrize(("address", "centre"), CENTRES.items())
def test_points_lie_near_the_known_city_centre(gazetteer, address, centre):
    place = gazetteer.lookup(address)
    assert haversine_km(place.latitude, place.longitude, *centre) < 50


def test_ambiguous_district_without_city_is_not_guessed(gazetteer):
    for name in ("朝阳区", "鼓楼区", "和平区", "长安区", "南山区", "西湖区", "新华区"):
        assert gazetteer.lookup(name) is None, name


def test_same_named_districts_in_one_province_answer_the_province(gazetteer):
    place = gazetteer.lookup("桥西区")  # 石家庄, 邢台 and 张家口: all in 河北
    assert (place.precision, place.province, place.city, place.adcode) == (
        P,
        "河北省",
        None,
        "130000",
    )


def test_district_inconsistent_with_city_falls_back_to_the_city(gazetteer):
    place = gazetteer.lookup("北京市鼓楼区")
    assert (place.precision, place.city, place.district) == (C, "北京市", None)


def test_road_named_after_a_city_is_not_that_city(gazetteer):
    assert gazetteer.lookup("中山路100号") is None
    assert gazetteer.lookup("解放大道1号") is None
    assert gazetteer.lookup("杭州市中山北路").city == "杭州市"


def test_generic_district_names_need_a_city(gazetteer):
    assert gazetteer.lookup("老城区") is None
    assert gazetteer.lookup("洛阳老城区").adcode == "410302"


def test_row_without_point_borrows_the_city_point_and_says_so(gazetteer):
    place = gazetteer.lookup("新疆和田地区和安县")  # created in 2024, no published point yet
    city = gazetteer.lookup("和田地区")
    assert (place.district, place.adcode, place.precision) == ("和安县", "653229", C)
    assert (place.latitude, place.longitude) == (city.latitude, city.longitude)


def test_every_unit_is_found_by_its_full_names(gazetteer):
    units = gazetteer._units
    for code, unit in units.items():
        province = units[unit.province_code]
        names = [province.name]
        if unit.city_code:
            names.append(units[unit.city_code].name)
        if unit is not province:
            names.append(unit.name)
        assert gazetteer.lookup("".join(names)).adcode == code, names


def test_alias_shared_inside_one_city_answers_the_city(gazetteer):
    place = gazetteer.lookup("石家庄井陉")  # 井陉县 and 井陉矿区
    assert (place.precision, place.city, place.district) == (C, "石家庄市", None)


def test_full_name_straddling_another_match_does_not_hide_the_district(gazetteer):
    assert gazetteer.lookup("信阳新县").adcode == "411523"  # not 阳新县 (湖北)


def test_every_resolved_unit_has_a_point(gazetteer):
    for adcode, *_ in gazetteer._units.items():
        place = gazetteer.by_adcode(adcode)
        assert place is not None and -90 <= place.latitude <= 90


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("440305", ("南山区", D)),
        ("440305000000", ("南山区", D)),
        ("4403", ("深圳市", C)),
        ("44", ("广东省", P)),
        ("110100", ("北京市", C)),  # cpca's 市辖区 placeholder: the municipality
        ("429004", ("仙桃市", C)),
    ],
)
def test_by_adcode_answers_the_unit(gazetteer, code, expected):
    place = gazetteer.by_adcode(code)
    assert (place.district or place.city or place.province, place.precision) == expected


@pytest.mark.parametrize("code", ["999999", "abc", "", "44030", "1234567"])
def test_by_adcode_rejects_unknown_codes(gazetteer, code):
    assert gazetteer.by_adcode(code) is None


def test_nearest_district_gives_client_coordinates_an_admin_code(gazetteer):
    place = gazetteer.nearest_district(22.5405, 113.9345)  # 深圳湾 / 南山
    assert (place.district, place.adcode) == ("南山区", "440305")
    dongguan = gazetteer.nearest_district(23.02, 113.75)  # a city without districts
    assert dongguan.adcode == "441900"


def test_nearest_district_is_none_far_from_everything(gazetteer):
    assert gazetteer.nearest_district(10.0, 150.0) is None  # Pacific Ocean
    assert gazetteer.nearest_district(22.5405, 113.9345, max_km=0.1) is None
    assert gazetteer.nearest_district(float("nan"), 113.9) is None


def test_nearest_district_of_a_centroid_is_that_district(gazetteer):
    for address in ("上海浦东", "广州天河", "新疆乌鲁木齐市天山区", "湖北仙桃"):
        place = gazetteer.lookup(address)
        assert gazetteer.nearest_district(place.latitude, place.longitude).adcode == place.adcode


def test_gazetteer_points_are_wgs84():
    """cpca's points are GCJ-02 (AMap); the gazetteer converts them so datums agree."""
    place = Gazetteer.default().by_adcode("110000")
    assert haversine_km(place.latitude, place.longitude, 39.904211, 116.407394) > 0.3


def test_bd09_converts_to_wgs84_within_a_few_hundred_metres():
    lat, lon = bd09_to_wgs84(39.9151, 116.4039)  # 天安门 on Baidu's map
    assert haversine_km(lat, lon, 39.9075, 116.3914) < 0.3


def test_normalise_address_is_a_stable_cache_key():
    assert normalise_address(" 广东省，深圳市  南山区 ") == "广东省深圳市南山区"
    assert normalise_address("ＳＨＥＮＺＨＥＮ　１２３号") == "shenzhen123号"
    assert normalise_address("!!!") == ""
    assert normalise_address("") == ""


def test_place_round_trips_through_a_dict(gazetteer):
    place = gazetteer.lookup("深圳南山")
    assert Place(**place.to_dict()) == place
    assert place.to_dict()["precision"] == Precision.DISTRICT


def test_default_is_loaded_once():
    assert Gazetteer.default() is Gazetteer.default()


def test_lookup_is_well_under_a_millisecond(gazetteer):
    addresses = [case[0] for case in CASES]
    timings = []
    for _ in range(5):
        for address in addresses:
            start = time.perf_counter()
            gazetteer.lookup(address)
            timings.append(time.perf_counter() - start)
    assert statistics.median(timings) < 0.001


PLACE_WORDS = ["广东", "深圳", "南山区", "朝阳", "北京", "鼓楼区", "中山", "路", "市", "区", "省"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PLACE_WORDS) | st.text(max_size=4), max_size=8))
def test_lookup_never_raises_and_agrees_with_by_adcode(parts):
    gazetteer = Gazetteer.default()
    text = "".join(parts)
    place = gazetteer.lookup(text)
    assert place == gazetteer.lookup(" ".join(parts))  # whitespace never changes the answer
    if place is not None:
        assert place.precision in {p.value for p in Precision} - {"exact"}
        again = gazetteer.by_adcode(place.adcode)
        assert (again.province, again.city, again.district) == (
            place.province,
            place.city,
            place.district,
        )


# --- issue 18: today's divisions, the chain wins, short forms, candidates ----------------------


@pytest.mark.parametrize(
    ("address", "adcode"),
    [
        ("杭州市西湖区文三路兰州拉面馆", "330106"),
        ("海淀区中关村大连海鲜酒楼", "110108"),
        ("苏州市吴江区松陵镇江兴路", "320509"),
        ("福田区华强北苏州街", "440304"),
        ("广州市天河区湖南大厦", "440106"),
        ("北京市朝阳区上海城", "110105"),
    ],
)
def test_the_administrative_chain_wins_over_names_inside_street_or_shop_names(
    gazetteer, address, adcode
):
    assert gazetteer.lookup(address).adcode == adcode


def test_a_name_never_matches_across_a_word_boundary(gazetteer):
    place = gazetteer.lookup("松陵镇江兴路")  # 镇 ends 松陵镇: no 镇江 here
    assert place is None
    assert gazetteer.lookup("江苏省镇江市").adcode == "321100"  # after a closed unit it may start
    assert gazetteer.lookup("江苏镇江").adcode == "321100"  # right after another name too


@pytest.mark.parametrize(
    ("address", "adcode"),
    [
        ("科左中旗", "150521"),
        ("内蒙古通辽市科左后旗", "150522"),
        ("包头达茂旗", "150223"),
        ("呼和浩特土左旗", "150121"),
        ("乌兰察布察右前旗", "150926"),
        ("呼市新城区", "150102"),
        ("前郭县", "220721"),
        ("湖北长阳县", "420528"),  # 长阳土家族自治县
        ("云南元江县", "530428"),  # 元江哈尼族彝族傣族自治县
        ("新疆博州", "652700"),
    ],
)
def test_short_and_everyday_forms_resolve(gazetteer, address, adcode):
    assert gazetteer.lookup(address).adcode == adcode


@pytest.mark.parametrize(
    ("address", "adcode", "precision"),
    [
        ("杭州经开区白杨街道", "330100", C),
        ("成都高新区", "510100", C),
        ("西安市高新区锦业路", "610100", C),
        ("南京市江宁区江宁经开区", "320115", D),
    ],
)
def test_development_zones_answer_the_precision_the_text_supports(
    gazetteer, address, adcode, precision
):
    place = gazetteer.lookup(address)
    assert (place.adcode, place.precision) == (adcode, precision)


def test_ambiguity_lists_the_candidates_and_guesses_nothing(gazetteer):
    match = gazetteer.match("朝阳区")
    assert match.place is None
    assert [(c.city, c.district, c.adcode) for c in match.candidates] == [
        ("北京市", "朝阳区", "110105"),
        ("长春市", "朝阳区", "220104"),
    ]
    province = gazetteer.lookup("桥西区")  # 石家庄 and 张家口 (邢台's is 信都区 since 2020)
    assert province.precision == P
    assert {c.adcode for c in province.candidates} == {"130104", "130703"}
    assert gazetteer.lookup("北京市朝阳区").candidates == ()
    assert gazetteer.match("江北区").place is None  # 宁波, or 重庆's (now 两江新区)


def test_candidates_round_trip_through_the_cache_form(gazetteer):
    place = gazetteer.lookup("桥西区")
    again = Place(**json.loads(json.dumps(place.to_dict())))
    assert again == place
    assert again.candidates[0].adcode == "130104"
    old_cache_row = {k: v for k, v in place.to_dict().items() if k != "candidates"}
    assert Place(**old_cache_row).candidates == ()  # answers cached before the field existed
    settled = gazetteer.lookup("北京市朝阳区").to_dict()
    assert "candidates" not in settled  # a settled answer keeps the fields it had


def test_retired_codes_answer_their_successor(gazetteer):
    assert gazetteer.by_adcode("500112").adcode == "500157"  # 渝北区 -> 两江新区
    assert gazetteer.by_adcode("320802").district == "清江浦区"  # 淮安 清河区
    assert gazetteer.by_adcode("341400").adcode == "340181"  # 地级巢湖市
    assert gazetteer.successor_code("610125") == "610118"  # 户县 -> 鄠邑区
    assert gazetteer.successor_code("440305") is None


def test_lookup_many_answers_like_lookup(gazetteer):
    texts = [case[0] for case in CASES] * 2
    assert gazetteer.lookup_many(texts) == [gazetteer.lookup(t) for t in texts]


def test_every_row_has_its_point_source():
    with open(DEFAULT_CSV, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["adcode", "name", "longitude", "latitude", "point"]
    sources = {row[4] for row in rows[1:]}
    assert sources <= {"seat", "seat-2016", "centroid", "predecessor", ""}
    pointless = [row[1] for row in rows[1:] if not row[4]]
    assert len(pointless) <= 10, pointless
