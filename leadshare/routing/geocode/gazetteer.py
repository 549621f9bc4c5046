"""Offline gazetteer of Chinese administrative divisions: free-text address -> centroid.

Data: cpca 0.5.5's ``adcodes.csv`` (MIT, see ``data/LICENSE-cpca``), read with :mod:`csv` once per
process. Its points are AMap centroids in GCJ-02 (北京市 is AMap's 116.407394,39.904211); every
Place converts them to WGS-84 so that gazetteer, client (GPS) and Nominatim points share one datum
(the shift is 0.3-0.6 km, far below the size of a district). The data predates 2017;
``_SUPPLEMENT`` adds a few later districts of big lead markets and the points cpca lacks for
定州/辛集.

Choices that keep the answer honest:

* ``precision`` is the precision of the *point* returned. A unit whose row has no point keeps its
  names and adcode but borrows its city's (then province's) point and reports that level.
* Municipalities (北京, 上海, 天津, 重庆) and 香港/澳门 are cities: alone they answer ``city`` with
  ``province == city``; their districts hang directly below them (cpca's ``市辖区``/``县`` rows are
  placeholders and never matched).
* Province-directly-administered county-level units (仙桃市, 济源市, 琼海市, 石河子市...) take the
  city slot (``city="仙桃市"``, ``district=None``, adcode ``429004``), like 东莞/中山/儋州/嘉峪关,
  which have no districts.
* Matching finds every alias in the text (full names, names without their suffix, a few
  development zones), scores the consistent province > city > district chains and never guesses:
  when the best chains disagree, the answer is their common ancestor (a city or province) or None.
  Bare names that are everyday words (东方, 和平, 龙湖...) count half and cannot stand alone; a bare
  name followed by 路/街/道... is a road (中山路) and does not count.
"""

from __future__ import annotations

import bisect
import csv
import math
import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from .coords import gcj02_to_wgs84, haversine_km, wgs84_to_gcj02

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_CSV = DATA_DIR / "adcodes.csv"
MAX_SCAN_CHARS = 200  # administrative names come first; the rest of a long text is noise


class Precision(StrEnum):
    EXACT = "exact"
    DISTRICT = "district"
    CITY = "city"
    PROVINCE = "province"


@dataclass(frozen=True)
class Place:
    latitude: float
    longitude: float
    precision: str
    province: str | None
    city: str | None
    district: str | None
    adcode: str | None  # 6-digit code of the most precise level resolved, e.g. "440305"
    source: str  # "gazetteer", "client" or the online provider's name

    def to_dict(self) -> dict:
        """Plain JSON-able fields; ``Place(**place.to_dict())`` round-trips (used by the cache)."""
        return asdict(self)


_NOISE_CATEGORIES = ("P", "S", "Z", "C")


def normalise_address(text: str) -> str:
    """Cache key and matching form: NFKC, lower-case, no whitespace/punctuation/symbols."""
    folded = unicodedata.normalize("NFKC", text or "").lower()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] not in _NOISE_CATEGORIES)


# --- data model -------------------------------------------------------------------------------

PROVINCE, CITY, DISTRICT = 0, 1, 2
_LEVEL_PRECISION = {
    PROVINCE: Precision.PROVINCE,
    CITY: Precision.CITY,
    DISTRICT: Precision.DISTRICT,
}
_CITY_LIKE_PROVINCES = frozenset({"11", "12", "31", "50", "81", "82"})  # municipalities, HK, Macau
_PLACEHOLDER_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})

# (adcode, name, longitude, latitude) in GCJ-02 like the CSV: districts created after cpca's data
# in big lead markets, and points for the two province-direct cities that cpca leaves empty.
_SUPPLEMENT: tuple[tuple[str, str, float, float], ...] = (
    ("440309", "龙华区", 114.044346, 22.691963),
    ("440310", "坪山区", 114.338441, 22.694230),
    ("440311", "光明区", 113.935895, 22.748816),
    ("330113", "临平区", 120.299376, 30.419025),
    ("330114", "钱塘区", 120.493972, 30.322904),
    ("139001", "定州市", 114.991389, 38.517602),
    ("139002", "辛集市", 115.217451, 37.929040),
)

# Development zones and new areas that are not divisions: alias -> the unit that contains them.
_ZONES: dict[str, str] = {
    "东湖高新": "420100",
    "光谷": "420100",
    "前海": "440300",
    "横琴": "440400",
    "两江新区": "500000",
    "天府新区": "510100",
    "雄安": "130600",
    "雄安新区": "130600",  # longer than 安新 + 区 (安新县) inside it
    "西咸新区": "610100",
    "金普新区": "210200",
    "西海岸新区": "370211",
    "湘江新区": "430100",
    "赣江新区": "360100",
    "滇中新区": "530100",
    "舟山群岛新区": "330900",
}


def _words(text: str) -> list[str]:
    return text.split()


# Full names that are generic words: usable only next to a city/province, no suffix-less alias.
_GENERIC_NAMES = frozenset(
    _words(
        "城区 郊区 矿区 东区 西区 市中区 城中区 城关区 城东区 城西区 城北区 城南区 城厢区 "
        "新城区 老城区 市北区 市南区"
    )
)
# Suffix-less names that are everyday words, car brands or estate names: half weight, need support.
_WEAK_ALIASES = frozenset(
    _words(
        "东方 东风 中原 上街 七星 前进 前锋 友好 友谊 和平 向阳 复兴 大东 南海 太平 太和 安定 安居 "
        "安宁 宏伟 平安 建华 振兴 新华 新兴 新市 新建 新民 民权 永安 永和 永定 江南 江北 江东 江口 "
        "河东 河西 河口 海港 湖滨 滨江 滨海 滨湖 爱民 白云 红旗 红星 红山 红河 红桥 解放 花山 铁东 "
        "铁西 铁山 长安 长寿 阳明 阿里 雨花 青山 龙华 龙城 龙湖 龙凤 金山 金沙 金水 金牛 东湖 南湖 "
        "北湖 西湖 东山 西山 南山 凤凰 莲花 芙蓉 牡丹 龙泉 龙门 龙山 龙潭 吉利 商城 商都 站前 路北 "
        "路南 港口 工农 山城 古城 东城 西城 南关 北关 三江 大厂 青龙 通道 互助 大通 白塔 双桥 双塔 "
        "西市 桥东 桥西 光明 朝阳 兴隆 三元 宝塔 天山 万年 天元 天心 城阳"
    )
)
_ETHNIC_GROUPS = sorted(
    _words(
        "蒙古族 回族 藏族 维吾尔族 苗族 彝族 壮族 布依族 朝鲜族 满族 侗族 瑶族 白族 土家族 哈尼族 "
        "哈萨克族 傣族 黎族 傈僳族 佤族 畲族 高山族 拉祜族 水族 东乡族 纳西族 景颇族 柯尔克孜族 "
        "土族 达斡尔族 仫佬族 羌族 布朗族 撒拉族 毛南族 仡佬族 锡伯族 阿昌族 普米族 塔吉克族 怒族 "
        "乌孜别克族 俄罗斯族 鄂温克族 德昂族 保安族 裕固族 京族 塔塔尔族 独龙族 鄂伦春族 赫哲族 "
        "门巴族 珞巴族 基诺族 各族 蒙古 维吾尔 哈萨克 柯尔克孜 锡伯 塔吉克 鄂伦春 鄂温克 达斡尔"
    ),
    key=len,
    reverse=True,
)
_AUTONOMOUS = re.compile(r"^(.+?)自治[区州县旗]$")
_PLAIN_SUFFIXES = (
    "特别行政区",
    "联合旗",
    "新区",
    "地区",
    "林区",
    "特区",
    "矿区",
    "省",
    "市",
    "区",
    "县",
    "州",
    "盟",
    "旗",
)
# A suffix written after a suffix-less name, and the levels it can close
# (梁平 + 区 = 梁平县 renamed).
# 市 followed by 场/中心/民... starts another word (河南市场), so it closes nothing there.
_TEXT_SUFFIXES: tuple[tuple[re.Pattern[str], frozenset[int]], ...] = tuple(
    (re.compile(pattern), frozenset(levels))
    for pattern, levels in (
        ("自治区", {PROVINCE}),
        ("自治州", {CITY}),
        ("自治县", {DISTRICT}),
        ("新区", {DISTRICT}),
        ("地区", {CITY}),
        ("省", {PROVINCE}),
        ("市(?![场中民政委级内外郊])", {CITY, DISTRICT}),
        ("州", {CITY}),
        ("盟", {CITY}),
        ("区", {DISTRICT}),
        ("县", {DISTRICT}),
        ("旗", {DISTRICT}),
    )
)
_ROAD_AFTER = re.compile(
    r"[东南西北中]?[一二三四五六七八九十0-9]*(?:路|街|道|巷|弄|胡同|大道|大街)"
)


@dataclass(frozen=True, slots=True)
class _Unit:
    code: str  # 6 digits
    name: str
    level: int
    lat: float | None  # GCJ-02 as in the CSV; converted when a Place is built
    lon: float | None
    city_code: str | None  # the city unit above a district (None under a municipality)

    @property
    def province_code(self) -> str:
        return self.code[:2] + "0000"


class _Alias(NamedTuple):
    code: str
    level: int
    explicit: bool  # a full name, or a name closed by a suffix written in the text
    weak: bool


@dataclass(frozen=True, slots=True)
class _Entry:
    """One reading of one match: this span of the text names this unit."""

    unit: _Unit
    start: int
    end: int
    weight: float
    explicit: bool
    weak: bool


@lru_cache(maxsize=4)
def _read_rows(path: str) -> tuple[tuple[str, str, str, str], ...]:
    """The CSV's (adcode, name, longitude, latitude) rows, parsed once per process."""
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader, None)
        return tuple((row[0], row[1], row[2], row[3]) for row in reader if len(row) >= 4)


def _aliases_of(name: str) -> set[str]:
    """Suffix-less forms of a full name, never shorter than two characters."""
    found: set[str] = set()
    auto = _AUTONOMOUS.match(name)
    if auto:
        base = auto.group(1)
        if len(base) >= 2:
            found.add(base)
        stripped = True
        while stripped:
            stripped = False
            for group in _ETHNIC_GROUPS:
                if base.endswith(group) and len(base) - len(group) >= 2:
                    base = base[: -len(group)]
                    stripped = True
                    break
        if len(base) >= 2:
            found.add(base)
    else:
        for suffix in _PLAIN_SUFFIXES:
            if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                found.add(name[: -len(suffix)])
                break
    found.discard(name)
    return found


def _parse_float(value: str) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


class Gazetteer:
    """Province / city / district centroids and a matcher for messy address text."""

    _default: Gazetteer | None = None
    _default_lock = threading.Lock()

    def __init__(self, csv_path: str | Path = DEFAULT_CSV) -> None:
        self._units: dict[str, _Unit] = {}
        self._placeholders: set[str] = set()
        self._build_units(_read_rows(str(csv_path)))
        self._index: dict[str, tuple[_Alias, ...]] = {}
        self._lengths: tuple[int, ...] = ()
        self._build_index()
        self._places: dict[str, Place] = {}
        self._leaf_lats: list[float] = []
        self._leaves: list[_Unit] = []
        self._build_leaves()

    @classmethod
    def default(cls) -> Gazetteer:
        """The shipped data, loaded once per process."""
        if cls._default is None:
            with cls._default_lock:
                if cls._default is None:
                    cls._default = cls()
        return cls._default

    # --- loading -----------------------------------------------------------------------------

    def _build_units(self, rows: Iterable[tuple[str, str, str, str]]) -> None:
        raw: dict[str, tuple[str, float | None, float | None]] = {}
        for adcode, name, lon, lat in rows:
            code = adcode.strip()[:6]
            if len(code) != 6 or not code.isdigit():
                continue
            raw[code] = (name.strip(), _parse_float(lat), _parse_float(lon))
        for code, name, lon, lat in _SUPPLEMENT:
            old = raw.get(code)
            if old is None or old[1] is None:
                raw[code] = (name, lat, lon)
        county_groups = set()  # 省直辖县级行政区划: its members stand in for cities
        for code, (name, _, _) in raw.items():
            if name in _PLACEHOLDER_NAMES:
                self._placeholders.add(code)
                if "直辖" in name:
                    county_groups.add(code)
        for code, (name, lat, lon) in raw.items():
            if code in self._placeholders:
                continue
            if code.endswith("0000"):
                level, city_code = PROVINCE, None
            elif code.endswith("00") or code[:4] + "00" in county_groups:
                # a real city, or a county-level unit governed directly by its province
                level, city_code = CITY, None
            else:
                level = DISTRICT
                parent = code[:4] + "00"
                city_code = parent if parent in raw and parent not in self._placeholders else None
            if lat is None or lon is None:
                lat = lon = None
            self._units[code] = _Unit(code, name, level, lat, lon, city_code)

    def _build_index(self) -> None:
        index: dict[str, list[_Alias]] = {}
        for unit in self._units.values():
            generic = unit.name in _GENERIC_NAMES
            index.setdefault(unit.name, []).append(_Alias(unit.code, unit.level, True, generic))
            if generic:
                continue
            for alias in _aliases_of(unit.name):
                weak = alias in _WEAK_ALIASES
                index.setdefault(alias, []).append(_Alias(unit.code, unit.level, False, weak))
        for key, code in _ZONES.items():
            index.setdefault(key, []).append(_Alias(code, self._units[code].level, False, False))
        self._index = {key: tuple(aliases) for key, aliases in index.items()}
        self._lengths = tuple(sorted({len(key) for key in self._index}, reverse=True))

    def _build_leaves(self) -> None:
        """Units nothing else hangs below, with a point: the targets of a reverse hint."""
        parents = {u.city_code or u.province_code for u in self._units.values() if u.level}
        leaves = [
            u
            for u in self._units.values()
            if u.lat is not None and (u.level == DISTRICT or u.code not in parents)
        ]
        leaves.sort(key=lambda u: u.lat)
        self._leaves = leaves
        self._leaf_lats = [u.lat for u in leaves]

    # --- places ------------------------------------------------------------------------------

    def _place(self, unit: _Unit) -> Place:
        cached = self._places.get(unit.code)
        if cached is not None:
            return cached
        province = self._units.get(unit.province_code)
        city_like = unit.code[:2] in _CITY_LIKE_PROVINCES
        city_unit = self._units.get(unit.city_code) if unit.city_code else None
        province_name = province.name if province else None
        if unit.level == PROVINCE:
            city_name, district_name = (unit.name if city_like else None), None
        elif unit.level == CITY:
            city_name, district_name = unit.name, None
        else:
            city_name = city_unit.name if city_unit else province_name
            district_name = unit.name
        source_unit = next(
            (u for u in (unit, city_unit, province) if u is not None and u.lat is not None), None
        )
        if source_unit is None:  # no point anywhere up the tree: nothing honest to answer
            raise LookupError(unit.code)
        precision = _LEVEL_PRECISION[source_unit.level]
        if source_unit.level == PROVINCE and city_like:
            precision = Precision.CITY
        latitude, longitude = gcj02_to_wgs84(source_unit.lat, source_unit.lon)
        place = Place(
            latitude=round(latitude, 6),
            longitude=round(longitude, 6),
            precision=precision.value,
            province=province_name,
            city=city_name,
            district=district_name,
            adcode=unit.code,
            source="gazetteer",
        )
        self._places[unit.code] = place
        return place

    def by_adcode(self, adcode: str) -> Place | None:
        """Place of a 2/4/6/9/12-digit code; placeholder codes (110100...) answer their parent."""
        code = (adcode or "").strip()
        if not code.isdigit() or len(code) not in (2, 4, 6, 9, 12):
            return None
        code = (code + "0000")[:6]
        if code in self._placeholders:
            code = code[:4] + "00" if code[4:] != "00" else code[:2] + "0000"
            if code in self._placeholders:
                code = code[:2] + "0000"
        unit = self._units.get(code)
        return self._place(unit) if unit is not None else None

    def nearest_district(
        self, latitude: float, longitude: float, max_km: float = 30
    ) -> Place | None:
        """The leaf unit (district, or city without districts) whose centroid is nearest.

        A reverse hint that gives client coordinates an admin code; the returned point is the
        centroid, not the input. None when nothing lies within ``max_km``.
        """
        try:
            lat, lon = float(latitude), float(longitude)
        except (TypeError, ValueError):
            return None
        if not (math.isfinite(lat) and math.isfinite(lon)) or max_km < 0:
            return None
        lat, lon = wgs84_to_gcj02(lat, lon)  # compare in the data's datum
        dlat = max_km / 111.0 + 1e-9
        lo = bisect.bisect_left(self._leaf_lats, lat - dlat)
        hi = bisect.bisect_right(self._leaf_lats, lat + dlat)
        best: _Unit | None = None
        best_km = max_km
        for unit in self._leaves[lo:hi]:
            km = haversine_km(lat, lon, unit.lat, unit.lon)
            if km <= best_km:
                best, best_km = unit, km
        return self._place(best) if best is not None else None

    # --- matching ----------------------------------------------------------------------------

    def lookup(self, text: str) -> Place | None:
        """Resolve free text to the most precise unit it supports, or None."""
        normal = normalise_address(text)[:MAX_SCAN_CHARS]
        if len(normal) < 2:
            return None
        unit = self._resolve(normal)
        return self._place(unit) if unit is not None else None

    def _matches(self, text: str) -> list[tuple[int, int, tuple[_Alias, ...]]]:
        """The longest alias starting at each position, minus those inside a longer match.

        A match inside a longer one survives when that longer one straddles a third match:
        in 信阳新县 the full name 阳新县 straddles 信阳, so 新县 stays a candidate.
        """
        found = []
        n = len(text)
        index = self._index
        for i in range(n - 1):
            for length in self._lengths:
                if i + length <= n:
                    aliases = index.get(text[i : i + length])
                    if aliases:
                        found.append((i, i + length, aliases))
                        break

        def straddles(outer: tuple) -> bool:
            return any(
                o[0] < outer[0] < o[1] < outer[1] or outer[0] < o[0] < outer[1] < o[1]
                for o in found
            )

        return [
            m
            for m in found
            if not any(
                o is not m and o[0] <= m[0] and m[1] <= o[1] and not straddles(o) for o in found
            )
        ]

    def _entries(self, text: str) -> list[_Entry]:
        entries: list[_Entry] = []
        for start, end, aliases in self._matches(text):
            explicit = [a for a in aliases if a.explicit]
            if explicit:
                aliases = tuple(explicit)
            else:
                rest = text[end:]
                for pattern, levels in _TEXT_SUFFIXES:
                    suffix = pattern.match(rest)
                    if suffix:
                        closed = tuple(a for a in aliases if a.level in levels)
                        if closed:
                            aliases, end = closed, end + suffix.end()
                            explicit = list(closed)
                        break
                if not explicit and _ROAD_AFTER.match(rest):
                    continue  # 中山路, 解放大道: a road named after a place, not the place
            top = min(a.level for a in aliases)
            per_level: dict[int, int] = {}
            for a in aliases:
                per_level[a.level] = per_level.get(a.level, 0) + 1
            for a in aliases:
                weight = (1.0 if a.level == top else 0.5) / per_level[a.level]
                if a.weak:
                    weight *= 0.5
                entries.append(
                    _Entry(self._units[a.code], start, end, weight, bool(explicit), a.weak)
                )
        return entries

    def _resolve(self, text: str) -> _Unit | None:
        entries = self._entries(text)
        if not entries:
            return None
        by_code: dict[str, list[_Entry]] = {}
        for e in entries:
            by_code.setdefault(e.unit.code, []).append(e)
        best_score: tuple | None = None
        best_units: list[_Unit] = []
        for e in entries:
            unit = e.unit
            city_opts: list[_Entry | None] = [None]
            if unit.level == DISTRICT and unit.city_code:
                city_opts += by_code.get(unit.city_code, [])
            province_opts: list[_Entry | None] = [None]
            if unit.level != PROVINCE:
                province_opts += by_code.get(unit.province_code, [])
            for city in city_opts:
                for province in province_opts:
                    chain = [x for x in (province, city, e) if x is not None]
                    score = _score(chain)
                    if score is None:
                        continue
                    if best_score is None or score > best_score:
                        best_score, best_units = score, [unit]
                    elif score == best_score:
                        best_units.append(unit)
        return self._common_ancestor(best_units) if best_units else None

    def _common_ancestor(self, units: list[_Unit]) -> _Unit | None:
        """The single answer all equally good readings agree on, if any."""
        codes = {u.code for u in units}
        if len(codes) == 1:
            return units[0]
        cities = {u.code if u.level == CITY else u.city_code for u in units}
        if len(cities) == 1 and None not in cities:
            return self._units.get(cities.pop())
        provinces = {u.province_code for u in units}
        if len(provinces) == 1:
            return self._units.get(provinces.pop())
        return None


def _score(chain: list[_Entry]) -> tuple | None:
    """Rank a consistent province > city > district chain; None when it is not a valid reading."""
    spans = sorted((e.start, e.end) for e in chain)
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        if start < end:
            return None
    if all(e.weak for e in chain):
        return None
    return (
        round(sum(e.weight for e in chain), 9),
        -min(e.unit.level for e in chain),  # contradictory text: trust the larger unit
        sum(e.explicit for e in chain),
        sum(e.end - e.start for e in chain),
        -spans[0][0],  # addresses run from large to small: earlier names are the frame
    )
