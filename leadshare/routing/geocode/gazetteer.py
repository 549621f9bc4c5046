"""Offline gazetteer of Chinese administrative divisions: free-text address -> centroid.

Data: ``data/divisions.csv``, today's divisions (codes and names as China's national place-name
database listed them in September 2026) with a point for each unit, and ``data/history.csv``, every
unit renamed, merged or moved since 1980 with its current successor; both rebuilt from their
MIT-licensed sources by ``build_table.py`` (see ``data/SOURCE.md``), read with :mod:`csv` once per
process. Points are GCJ-02 like AMap's (北京市 is AMap's 116.407394,39.904211); every Place
converts them to WGS-84 so that gazetteer, client (GPS) and Nominatim points share one datum (the
shift is 0.3-0.6 km, far below the size of a district).

Choices that keep the answer honest:

* ``precision`` is the precision of the *point* returned. A unit whose row has no point keeps its
  names and adcode but borrows its city's (then province's) point and reports that level.
* Municipalities (北京, 上海, 天津, 重庆) and 香港/澳门 are cities: alone they answer ``city`` with
  ``province == city``; their districts hang directly below them (the ``市辖区``/``县`` rows are
  placeholders and never matched).
* Province-directly-administered county-level units (仙桃市, 济源市, 琼海市, 石河子市...) take the
  city slot (``city="仙桃市"``, ``district=None``, adcode ``429004``), like 东莞/中山/儋州/嘉峪关,
  which have no districts.
* Old names (淮阴市, 思茅市, 地级巢湖市, 资阳市简阳市, 户县...) are read with their old parents
  and answer their current successor (淮安市, 普洱市, 合肥市巢湖市, 成都市简阳市, 鄠邑区).
* Matching finds every alias in the text (full names, names without their suffix, everyday short
  forms such as 科左中旗, a few development zones), scores the consistent province > city >
  district chains and never guesses: when the best chains disagree, the answer is their common
  ancestor (a city or province) or None, and ``candidates`` lists the units that fit.
  Bare names that are everyday words (东方, 和平, 龙湖...) count half and cannot stand alone; a bare
  name followed by 路/街/道... is a road (中山路) and does not count.
* The administrative chain wins: a name after an explicit unit (written in full, or closed by a
  suffix) that contradicts it is part of a street, estate or shop name (``海淀区中关村大连海鲜``),
  and a name never starts inside another word (``镇江`` in ``松陵镇江兴路``).
"""

from __future__ import annotations

import bisect
import csv
import math
import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from .coords import gcj02_to_wgs84, haversine_km, wgs84_to_gcj02

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_CSV = DATA_DIR / "divisions.csv"
HISTORY_CSV = DATA_DIR / "history.csv"
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
    # The units the text fits equally well when it does not settle one (the answer is then
    # their common ancestor); empty when the answer is the only reading.
    candidates: tuple[Candidate, ...] = field(default=(), compare=True)

    def __post_init__(self) -> None:
        # a cached answer comes back from JSON as a list of dicts
        if not isinstance(self.candidates, tuple) or any(
            not isinstance(c, Candidate) for c in self.candidates
        ):
            object.__setattr__(
                self,
                "candidates",
                tuple(c if isinstance(c, Candidate) else Candidate(**c) for c in self.candidates),
            )

    def to_dict(self) -> dict:
        """Plain JSON-able fields; ``Place(**place.to_dict())`` round-trips (used by the cache).

        ``candidates`` only when there are some: a settled answer keeps the fields it had."""
        data = asdict(self)
        data.pop("candidates")
        if self.candidates:
            data["candidates"] = [asdict(c) for c in self.candidates]
        return data


@dataclass(frozen=True)
class Candidate:
    """One unit an ambiguous text may mean (the "which city?" question lists them)."""

    province: str | None
    city: str | None
    district: str | None
    adcode: str


@dataclass(frozen=True)
class Match:
    """The gazetteer's full answer: the place it settles on (or None) and the candidates."""

    place: Place | None
    candidates: tuple[Candidate, ...] = ()


_NOISE_CATEGORIES = ("P", "S", "Z", "C")


class _NoiseTable(dict):
    """str.translate table that drops whitespace, punctuation, symbols and controls; each
    character's category is looked up once per process."""

    def __missing__(self, code: int) -> str | None:
        ch = chr(code)
        kept = None if unicodedata.category(ch)[0] in _NOISE_CATEGORIES else ch
        self[code] = kept
        return kept


_NOISE_TABLE = _NoiseTable()


def normalise_address(text: str) -> str:
    """Cache key and matching form: NFKC, lower-case, no whitespace/punctuation/symbols."""
    return unicodedata.normalize("NFKC", text or "").lower().translate(_NOISE_TABLE)


# --- data model -------------------------------------------------------------------------------

PROVINCE, CITY, DISTRICT = 0, 1, 2
_LEVEL_PRECISION = {
    PROVINCE: Precision.PROVINCE,
    CITY: Precision.CITY,
    DISTRICT: Precision.DISTRICT,
}
_CITY_LIKE_PROVINCES = frozenset({"11", "12", "31", "50", "81", "82"})  # municipalities, HK, Macau
_PLACEHOLDER_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})

# Development zones and new areas that are not divisions: alias -> the unit that contains them.
_ZONES: dict[str, str] = {
    "东湖高新": "420100",
    "光谷": "420100",
    "前海": "440300",
    "横琴": "440400",
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
    # Shenzhen's former new areas, now districts (and 大鹏, still a zone)
    "龙华新区": "440309",
    "坪山新区": "440310",
    "光明新区": "440311",
    "大鹏新区": "440300",
}


def _words(text: str) -> list[str]:
    return text.split()


# Full names that are generic words: usable only next to a city/province, no suffix-less alias.
_GENERIC_NAMES = frozenset(
    _words(
        "城区 郊区 矿区 东区 西区 市中区 城中区 城关区 城东区 城西区 城北区 城南区 城厢区 "
        "新城区 老城区"
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
        "西市 桥东 桥西 光明 朝阳 兴隆 三元 宝塔 天山 万年 天元 天心 城阳 合作"
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
_SUFFIX_FIRST = frozenset("自新地省市州盟区县旗")
# characters a road's name may go on with after a place name (东南西北中, numerals, 路街道...)
_ROAD_FIRST = frozenset("东南西北中一二三四五六七八九十0123456789路街道巷弄胡大")
# A name starting with one of these right after an unmatched word is that word's end (松陵镇江兴路:
# 镇 closes 松陵镇, so 镇江 is not there); after a closed unit (江苏省镇江市) it may start a name.
_INSTITUTION_AFTER = re.compile(
    r"(?:师范|交通|理工|科技|工业|农业|医科|财经|政法|外国语|中医药|石油|电力)?(?:大学|学院)"
)
_INSTITUTION_FIRST = frozenset("师交理科工农医财政外中石电大学")
_WORD_ENDINGS = frozenset("镇乡村路街巷弄号")
_CLOSING = frozenset("省市区县州旗盟")
# Everyday short forms people write for long names: short form -> (province code, full name).
_SHORT_FORMS: dict[str, tuple[str, str]] = {
    short: (province, name)
    for short, province, name in (
        ("土左旗", "150000", "土默特左旗"),
        ("土右旗", "150000", "土默特右旗"),
        ("达茂旗", "150000", "达尔罕茂明安联合旗"),
        ("阿旗", "150000", "阿鲁科尔沁旗"),
        ("克旗", "150000", "克什克腾旗"),
        ("翁旗", "150000", "翁牛特旗"),
        ("喀旗", "150000", "喀喇沁旗"),
        ("科左中旗", "150000", "科尔沁左翼中旗"),
        ("科左后旗", "150000", "科尔沁左翼后旗"),
        ("科右前旗", "150000", "科尔沁右翼前旗"),
        ("科右中旗", "150000", "科尔沁右翼中旗"),
        ("达旗", "150000", "达拉特旗"),
        ("准旗", "150000", "准格尔旗"),
        ("鄂前旗", "150000", "鄂托克前旗"),
        ("伊旗", "150000", "伊金霍洛旗"),
        ("莫旗", "150000", "莫力达瓦达斡尔族自治旗"),
        ("陈旗", "150000", "陈巴尔虎旗"),
        ("新左旗", "150000", "新巴尔虎左旗"),
        ("新右旗", "150000", "新巴尔虎右旗"),
        ("乌前旗", "150000", "乌拉特前旗"),
        ("乌中旗", "150000", "乌拉特中旗"),
        ("乌后旗", "150000", "乌拉特后旗"),
        ("杭后旗", "150000", "杭锦后旗"),
        ("察右前旗", "150000", "察哈尔右翼前旗"),
        ("察右中旗", "150000", "察哈尔右翼中旗"),
        ("察右后旗", "150000", "察哈尔右翼后旗"),
        ("东乌旗", "150000", "东乌珠穆沁旗"),
        ("西乌旗", "150000", "西乌珠穆沁旗"),
        ("东苏旗", "150000", "苏尼特左旗"),
        ("西苏旗", "150000", "苏尼特右旗"),
        ("太旗", "150000", "太仆寺旗"),
        ("阿左旗", "150000", "阿拉善左旗"),
        ("阿右旗", "150000", "阿拉善右旗"),
        ("额旗", "150000", "额济纳旗"),
        ("昆区", "150000", "昆都仑区"),
        ("呼市", "150000", "呼和浩特市"),
        ("内蒙", "150000", "内蒙古自治区"),
        ("乌市", "650000", "乌鲁木齐市"),
        ("博州", "650000", "博尔塔拉蒙古自治州"),
        ("克州", "650000", "克孜勒苏柯尔克孜自治州"),
        ("巴州", "650000", "巴音郭楞蒙古自治州"),
        ("前郭", "220000", "前郭尔罗斯蒙古族自治县"),
    )
}


@dataclass(frozen=True, slots=True)
class _Unit:
    code: str  # 6 digits
    name: str
    level: int
    lat: float | None  # GCJ-02 as in the CSV; converted when a Place is built
    lon: float | None
    city_code: str | None  # the city unit above a district (None under a municipality)
    successor: str | None = None  # an old unit: the code of the current unit it became
    province_code: str = ""  # derived from the code

    def __post_init__(self) -> None:
        object.__setattr__(self, "province_code", self.code[:2] + "0000")


class _Alias(NamedTuple):
    unit: _Unit
    explicit: bool  # a full name, or a name closed by a suffix written in the text
    weak: bool

    @property
    def level(self) -> int:
        return self.unit.level

    @property
    def target(self) -> str:
        return self.unit.successor or self.unit.code


@dataclass(frozen=True, slots=True)
class _Entry:
    """One reading of one match: this span of the text names this unit."""

    unit: _Unit
    start: int
    end: int
    weight: float
    explicit: bool
    weak: bool
    share: int  # how many units of its level the span may name (its weight is 1/share of it)
    frames: bool = True  # may frame later names (not inside an institution's name)


@lru_cache(maxsize=4)
def _read_rows(path: str, width: int = 4) -> tuple[tuple[str, ...], ...]:
    """A CSV's rows (its first ``width`` columns), parsed once per process."""
    try:
        handle = open(path, encoding="utf-8", newline="")  # noqa: SIM115
    except FileNotFoundError:
        return ()
    with handle:
        reader = csv.reader(handle)
        next(reader, None)
        return tuple(tuple(row[:width]) for row in reader if len(row) >= width)


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

    def __init__(
        self, csv_path: str | Path = DEFAULT_CSV, history_path: str | Path | None = HISTORY_CSV
    ) -> None:
        self._units: dict[str, _Unit] = {}
        self._placeholders: set[str] = set()
        self._build_units(_read_rows(str(csv_path)))
        self._old_units: list[_Unit] = []
        self._old_codes: dict[str, str] = {}  # retired code -> its successor's code
        if history_path is not None:
            self._build_history(_read_rows(str(history_path), 4))
        self._index: dict[str, tuple[_Alias, ...]] = {}
        self._lengths_from: dict[str, tuple[int, ...]] = {}
        self._longest = 1
        self._build_index()
        self._places: dict[str, Place] = {}
        self._bounds_cache: dict[str, tuple[float, float, float, float] | None] = {}
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

    def _build_units(self, rows: Iterable[tuple[str, ...]]) -> None:
        raw: dict[str, tuple[str, float | None, float | None]] = {}
        for adcode, name, lon, lat in rows:
            code = adcode.strip()[:6]
            if len(code) != 6 or not code.isdigit():
                continue
            raw[code] = (name.strip(), _parse_float(lat), _parse_float(lon))
        county_groups = set()  # 省直辖县级行政区划: its members stand in for cities
        for code, (name, _, _) in raw.items():
            if name in _PLACEHOLDER_NAMES:
                self._placeholders.add(code)
                if "直辖" in name:
                    county_groups.add(code)
        self._county_groups = frozenset(county_groups)
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

    def _build_history(self, rows: Iterable[tuple[str, ...]]) -> None:
        """Old units with their old parents, each pointing at the current unit it became."""
        for old_code, old_name, old_parent, successor in rows:
            if successor not in self._units:
                continue
            if old_code not in self._units and old_code not in self._placeholders:
                self._old_codes.setdefault(old_code, successor)
            if old_code.endswith("0000"):
                level, city_code = PROVINCE, None
            elif old_code.endswith("00") or old_code[2:4] == "90":
                level, city_code = CITY, None
            else:
                level = DISTRICT
                under_city = old_parent[4:] == "00" and old_parent[2:] != "0000"
                city_code = old_parent if under_city else None
            self._old_units.append(
                _Unit(old_code, old_name, level, None, None, city_code, successor)
            )

    def _build_index(self) -> None:
        index: dict[str, list[_Alias]] = {}

        def add(key: str, alias: _Alias) -> None:
            found = index.setdefault(key, [])
            if alias not in found:
                found.append(alias)

        for unit in self._units.values():
            generic = unit.name in _GENERIC_NAMES
            add(unit.name, _Alias(unit, True, generic))
            if generic:
                continue
            for alias in _aliases_of(unit.name):
                add(alias, _Alias(unit, False, alias in _WEAK_ALIASES))
        current_names = set(index)
        for unit in self._old_units:
            # an old full name, unless a current unit of its province has it (威海市 was also a
            # county-level city); a retired name that nothing current uses also without suffix
            if _generic_old_name(unit.name) or any(
                a.unit.province_code == unit.province_code and a.target != unit.successor
                for a in index.get(unit.name, ())
                if a.explicit
            ):
                continue
            add(unit.name, _Alias(unit, True, unit.name in _GENERIC_NAMES))
            if unit.level == CITY:
                for alias in _aliases_of(unit.name):
                    if alias not in current_names and alias not in _WEAK_ALIASES:
                        add(alias, _Alias(unit, False, False))
        by_name: dict[tuple[str, str], _Unit] = {
            (u.province_code, u.name): u for u in self._units.values()
        }
        for short, (province, name) in _SHORT_FORMS.items():
            unit = by_name.get((province, name))
            if unit is not None:
                add(short, _Alias(unit, True, False))
                if short.endswith("旗") and len(short) >= 3:
                    add(short[:-1], _Alias(unit, False, False))
        for key, code in _ZONES.items():
            add(key, _Alias(self._units[code], False, False))
        self._index = {key: tuple(aliases) for key, aliases in index.items()}
        lengths: dict[str, set[int]] = {}
        for key in self._index:  # every key has two characters or more
            lengths.setdefault(key[:2], set()).add(len(key))
        self._lengths_from = {
            first: tuple(sorted(found, reverse=True)) for first, found in lengths.items()
        }
        self._longest = max((len(key) for key in self._index), default=1)

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

    def _current(self, unit: _Unit) -> _Unit:
        return self._units[unit.successor] if unit.successor else unit

    def _names(self, unit: _Unit) -> tuple[str | None, str | None, str | None]:
        """(province, city, district) names of a current unit."""
        province = self._units.get(unit.province_code)
        province_name = province.name if province else None
        if unit.level == PROVINCE:
            city_like = unit.code[:2] in _CITY_LIKE_PROVINCES
            return province_name, (unit.name if city_like else None), None
        if unit.level == CITY:
            return province_name, unit.name, None
        city_unit = self._units.get(unit.city_code) if unit.city_code else None
        return province_name, (city_unit.name if city_unit else province_name), unit.name

    def _place(self, unit: _Unit, candidates: tuple[Candidate, ...] = ()) -> Place:
        cached = self._places.get(unit.code)
        if cached is not None:
            return replace(cached, candidates=candidates) if candidates else cached
        province = self._units.get(unit.province_code)
        city_like = unit.code[:2] in _CITY_LIKE_PROVINCES
        city_unit = self._units.get(unit.city_code) if unit.city_code else None
        province_name, city_name, district_name = self._names(unit)
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
        return replace(place, candidates=candidates) if candidates else place

    def _candidate(self, unit: _Unit) -> Candidate:
        province, city, district = self._names(unit)
        return Candidate(province=province, city=city, district=district, adcode=unit.code)

    def by_adcode(self, adcode: str) -> Place | None:
        """Place of a 2/4/6/9/12-digit code; placeholder codes (110100...) answer their parent,
        retired codes (320802 清河区, 500112 渝北区) their successor."""
        code = (adcode or "").strip()
        if not code.isdigit() or len(code) not in (2, 4, 6, 9, 12):
            return None
        code = (code + "0000")[:6]
        code = self._old_codes.get(code, code)
        if code in self._placeholders:
            code = code[:4] + "00" if code[4:] != "00" else code[:2] + "0000"
            if code in self._placeholders:
                code = code[:2] + "0000"
        unit = self._units.get(code)
        return self._place(unit) if unit is not None else None

    def province_bounds(self, province: str) -> tuple[float, float, float, float] | None:
        """(west, south, east, north) of the points of a province's divisions (its two-digit
        code or a longer code starting with it), in the data's GCJ-02 degrees; None when the
        province is unknown or has no points. A map uses it to place a store inside the
        province's square; it is a box around the division seats, not the border."""
        key = (province or "")[:2]
        if key not in self._bounds_cache:
            points = [
                (u.lon, u.lat)
                for u in self._units.values()
                if u.code.startswith(key) and u.lon is not None and u.lat is not None
            ]
            self._bounds_cache[key] = (
                (
                    min(p[0] for p in points),
                    min(p[1] for p in points),
                    max(p[0] for p in points),
                    max(p[1] for p in points),
                )
                if len(key) == 2 and points
                else None
            )
        return self._bounds_cache[key]

    def successor_code(self, adcode: str) -> str | None:
        """The current code of a 6-digit code retired since 1980 (None when it is not retired)."""
        return self._old_codes.get(adcode)

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
        return self.match(text).place

    def lookup_many(self, texts: Iterable[str]) -> list[Place | None]:
        """``lookup`` of each text, in order; a text seen before is resolved once."""
        seen: dict[str, Place | None] = {}
        answers = []
        for text in texts:
            normal = normalise_address(text)[:MAX_SCAN_CHARS]
            if normal not in seen:
                seen[normal] = self._match_normal(normal).place
            answers.append(seen[normal])
        return answers

    def match(self, text: str) -> Match:
        """The place the text supports and, when it does not settle one unit, the candidates."""
        return self._match_normal(normalise_address(text)[:MAX_SCAN_CHARS])

    def _match_normal(self, normal: str) -> Match:
        if len(normal) < 2:
            return Match(None)
        units = self._resolve(normal)
        if not units:
            return Match(None)
        candidates = (
            tuple(self._candidate(u) for u in sorted(units, key=lambda u: u.code))
            if len(units) > 1
            else ()
        )
        unit = self._common_ancestor(units)
        return Match(self._place(unit, candidates) if unit else None, candidates)

    def _matches(self, text: str) -> list[tuple[int, int, tuple[_Alias, ...]]]:
        """The longest alias starting at each position, minus those inside a longer match.

        A match inside a longer one survives when that longer one straddles a third match:
        in 信阳新县 the full name 阳新县 straddles 信阳, so 新县 stays a candidate.
        """
        found = []
        n = len(text)
        index = self._index
        lengths_from = self._lengths_from
        for i in range(n - 1):
            lengths = lengths_from.get(text[i : i + 2])
            if not lengths:
                continue
            for length in lengths:
                if i + length <= n:
                    aliases = index.get(text[i : i + length])
                    if aliases:
                        found.append((i, i + length, aliases))
                        break
        if len(found) < 2:
            return found
        # One match per start, in order: the matches that can overlap one lie within the
        # longest alias's length of it, so each check looks at a few neighbours only (linear).
        reach = self._longest
        straddling: dict[int, bool] = {}

        def straddles(k: int) -> bool:
            if k not in straddling:
                o_start, o_end = found[k][0], found[k][1]
                j = k - 1
                hit = False
                while not hit and j >= 0 and found[j][0] > o_start - reach:
                    hit = o_start < found[j][1] < o_end
                    j -= 1
                j = k + 1
                while not hit and j < len(found) and found[j][0] < o_end:
                    hit = found[j][1] > o_end
                    j += 1
                straddling[k] = hit
            return straddling[k]

        kept = []
        for j, m in enumerate(found):
            inside = False
            k = j - 1
            while k >= 0 and found[k][0] > m[0] - reach:
                if m[1] <= found[k][1] and not straddles(k):
                    inside = True
                    break
                k -= 1
            if not inside:
                kept.append(m)
        return kept

    def _entries(self, text: str) -> list[_Entry]:
        entries: list[_Entry] = []
        matches = self._matches(text)
        ends = {end for _, end, _ in matches}
        for start, end, aliases in matches:
            if (
                start
                and text[start] in _WORD_ENDINGS
                and start not in ends
                and text[start - 1] not in _CLOSING
                and _is_cjk(text[start - 1])
            ):
                continue  # 松陵镇江兴路: 镇 ends the word before it, 镇江 is not named here
            explicit = [a for a in aliases if a.explicit]
            if explicit:
                aliases = tuple(explicit)
            elif text[end : end + 1] in _SUFFIX_FIRST or text[end : end + 1] in _ROAD_FIRST:
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
            # 青海师范大学, 中山大学: an institution named after a place, maybe elsewhere
            institution = (
                not explicit
                and text[end : end + 1] in _INSTITUTION_FIRST
                and _INSTITUTION_AFTER.match(text, end) is not None
            )
            top = min(a.level for a in aliases)
            per_level: dict[int, set[str]] = {}
            for a in aliases:
                per_level.setdefault(a.level, set()).add(a.target)
            for a in aliases:
                share = len(per_level[a.level])
                weight = (1.0 if a.level == top else 0.5) / share
                if a.weak or institution:
                    weight *= 0.5
                entries.append(
                    _Entry(
                        a.unit, start, end, weight, bool(explicit), a.weak, share, not institution
                    )
                )
        return _within_the_frame(entries)

    def _resolve(self, text: str) -> list[_Unit]:
        """The current units of the best readings of the text (several when it is ambiguous)."""
        entries = self._entries(text)
        if not entries:
            return []
        # A name the text repeats reads the same each time: its first two readings of each
        # kind are enough (the earliest wins a tie, the second one serves chains that need a
        # span after an overlapping one), which keeps the work linear in the text's length.
        seen: dict[tuple, int] = {}
        readings: list[_Entry] = []
        for e in entries:
            kind = (id(e.unit), e.weight, e.explicit, e.end - e.start, e.frames)
            if seen.get(kind, 0) < 2:
                seen[kind] = seen.get(kind, 0) + 1
                readings.append(e)
        by_code: dict[str, list[_Entry]] = {}
        for e in readings:
            by_code.setdefault(e.unit.code, []).append(e)
        best_score: tuple | None = None
        best_units: list[_Unit] = []
        for e in readings:
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
        unique: dict[str, _Unit] = {}
        for unit in best_units:
            current = self._current(unit)
            unique.setdefault(current.code, current)
        return list(unique.values())

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


def _generic_old_name(name: str) -> bool:
    """An old name that is an everyday word (唐山's 新区, 郊区, 东区...): never matched."""
    return name in _GENERIC_NAMES or (len(name) <= 2 and name[0] in "新老城郊矿东西南北中市")


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _lineage(unit: _Unit) -> tuple[str, ...]:
    codes = [unit.code, unit.province_code]
    if unit.city_code:
        codes.append(unit.city_code)
    if unit.successor:
        codes.append(unit.successor)
    return tuple(codes)


def _related(a: _Unit, b: _Unit) -> bool:
    """One unit lies within the other (or they are the same, old or new)."""
    return (
        a.code in _lineage(b)
        or b.code in _lineage(a)
        or bool(a.successor and a.successor == (b.successor or b.code))
    )


def _within_the_frame(entries: list[_Entry]) -> list[_Entry]:
    """Drop names that contradict an explicit unit written before them.

    Addresses run from large to small: once the text has named a unit in full (or closed a name
    with its suffix), a later name that lies neither above nor below any reading of it belongs
    to a road, estate, shop or building name (海淀区中关村大连海鲜酒楼 is not in 大连). A bare
    name frames later bare names the same way (启东台湾风情街 is not in 台湾), but never a
    name written in full (中山大学广州市海珠区 is in 广州).
    """
    spans: dict[tuple[int, int], list[_Entry]] = {}
    for e in entries:
        spans.setdefault((e.start, e.end), []).append(e)
    frames = [
        (span, readings, all(e.explicit for e in readings))
        for span, readings in spans.items()
        if not any(e.weak or not e.frames for e in readings)
    ]
    if not frames:
        return entries
    kept = []
    for e in entries:
        contradicted = any(
            span[1] <= e.start
            and (explicit or not e.explicit)  # a bare name never overrides one written in full
            and not any(_related(r.unit, e.unit) for r in readings)
            for span, readings, explicit in frames
        )
        if not contradicted:
            kept.append(e)
    return kept


def _score(chain: list[_Entry]) -> tuple | None:
    """Rank a consistent province > city > district chain; None when it is not a valid reading."""
    if len(chain) == 1:  # the common case, the same ranking without the bookkeeping
        e = chain[0]
        if e.weak:
            return None
        return (round(e.weight, 9), -e.unit.level, int(e.explicit), e.end - e.start, -e.start)
    spans = sorted((e.start, e.end) for e in chain)
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        if start < end:
            return None
    if all(e.weak for e in chain):
        return None
    codes = {e.unit.code for e in chain}
    weight = 0.0
    for e in chain:
        # a same-named unit written with its city or province counts fully
        parent = e.unit.city_code or (e.unit.province_code if e.unit.level else None)
        weight += e.weight * (e.share if parent in codes else 1)
    return (
        round(weight, 9),
        -min(e.unit.level for e in chain),  # contradictory text: trust the larger unit
        sum(e.explicit for e in chain),
        sum(e.end - e.start for e in chain),
        -spans[0][0],  # addresses run from large to small: earlier names are the frame
    )
