"""Brand matching (leadshare/brands/matching.py): case, width, blanks, aliases, suggestions."""

from __future__ import annotations

import pytest

from leadshare.brands.matching import Catalogue, builtin, canonical_name

GROUP = Catalogue.of(["宝马", "大众", "奥迪", "极氪 Zeekr"], [("奥迪", "四个圈"), ("保时捷", "P")])


@pytest.mark.parametrize("typed", ["BMW", "bmw", "ＢＭＷ", " B M W ", "宝马", "华晨宝马"])
def test_every_spelling_of_bmw_means_baoma(typed):
    assert GROUP.resolve(typed) == "宝马"


@pytest.mark.parametrize("typed", ["VW", "Volkswagen", "volks wagen", "大众", "一汽-大众"])
def test_every_name_of_volkswagen_means_dazhong(typed):
    assert GROUP.resolve(typed) == "大众"


def test_a_groups_own_alias_matches_and_one_for_a_brand_not_sold_is_dropped():
    assert GROUP.resolve("四个 圈") == "奥迪"
    assert GROUP.resolve("P") is None
    assert GROUP.aliases("奥迪")[-1] == "四个圈"


def test_a_brand_the_group_does_not_sell_is_unknown_even_when_built_in():
    assert GROUP.resolve("Benz") is None and GROUP.resolve("") is None


def test_suggestions_are_the_nearest_catalogue_names():
    assert GROUP.suggest("BWM") == ["宝马"]
    assert GROUP.suggest("宝马X5") == ["宝马"]
    assert GROUP.suggest("zeekr") == ["极氪 Zeekr"]
    assert GROUP.suggest("完全不相干的字") == []


def test_stores_get_catalogue_names_and_new_brands_keep_their_spelling():
    assert canonical_name("Mercedes Benz") == "奔驰"
    assert canonical_name("极氪zeekr", known=["极氪 Zeekr"]) == "极氪 Zeekr"
    assert canonical_name("  新  品牌 ") == "新 品牌"
    assert canonical_name("四个圈", extra={"四个圈": "奥迪"}) == "奥迪"


def test_the_built_in_list_names_each_key_once():
    names = builtin().names_by_key
    assert names["bmw"] == "宝马" and names["byd"] == "比亚迪" and names["benz"] == "奔驰"
    assert len(builtin().aliases) >= 80
