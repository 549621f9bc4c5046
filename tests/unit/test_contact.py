"""Customer contacts: phones normalised to valid E.164, masked phones, WeChat IDs and names."""

from __future__ import annotations

import subprocess
import sys

import pytest

from leadshare.leads.contact import mask_name, mask_phone, mask_wechat, normalise_phone


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("13812345678", "+8613812345678"),
        ("138 1234 5678", "+8613812345678"),
        ("+86 138-1234-5678", "+8613812345678"),
        ("008613812345678", "+8613812345678"),
        ("  +8613812345678 ", "+8613812345678"),
        ("１３８１２３４５６７８", "+8613812345678"),
        ("(0755) 8888 1234", "+8675588881234"),
        ("010-1234-5678", "+861012345678"),
        ("+1 650 253 0000", "+16502530000"),
        ("+852 9123 4567", "+85291234567"),
    ],
)
def test_normalise_phone_accepts_common_cn_and_international_forms(raw: str, e164: str) -> None:
    assert normalise_phone(raw) == e164


def test_normalise_phone_reads_national_numbers_in_the_given_region() -> None:
    assert normalise_phone("650 253 0000", region="US") == "+16502530000"
    assert normalise_phone("+8613812345678", region="US") == "+8613812345678"


@pytest.mark.parametrize(
    "raw",
    [
        "12345",  # possible, but no such number
        "95555",  # a service short code, not a customer's number
        "1381234567",  # one digit short
        "",
        "   ",
        "abc",
        "电话13812345678",
        "1-800-FLOWERS",
        "138 1234 5678 ext 12",
        "13812345678#12",
        "010 1234 5678, 12",
        "+86",
        "+999 1234",
        "1" * 300,
    ],
)
def test_normalise_phone_refuses_unparseable_or_invalid_numbers(raw: str) -> None:
    with pytest.raises(ValueError):
        normalise_phone(raw)


def test_normalise_phone_explains_why_a_number_is_refused() -> None:
    with pytest.raises(ValueError, match="not a valid phone number"):
        normalise_phone("12345")
    with pytest.raises(ValueError, match="does not look like a phone number"):
        normalise_phone("+86")
    with pytest.raises(ValueError, match="required"):
        normalise_phone(" ")
    with pytest.raises(ValueError, match="letters"):
        normalise_phone("tel 13812345678")
    with pytest.raises(ValueError, match="extension"):
        normalise_phone("010 1234 5678 #12")


def test_normalise_phone_is_idempotent() -> None:
    e164 = normalise_phone("(0755) 8888 1234")
    assert normalise_phone(e164) == e164


@pytest.mark.parametrize(
    ("e164", "masked"),
    [
        ("+8613812345678", "138****5678"),
        ("+8675588881234", "755****1234"),  # 11-digit landline: same shape
        ("+8613812345678123", "138*******8123"),  # longer: still only 3 + 4 shown
        ("+861012345678", "10****5678"),  # 10 digits: 4 starred, so only 2 lead
        ("+16502530000", "65****0000"),
        ("+85291234567", "****4567"),
        ("+8612345", "****5"),
        ("+861234", "****"),
    ],
)
def test_mask_phone_shows_at_most_first_3_and_last_4_and_stars_at_least_4(
    e164: str, masked: str
) -> None:
    assert mask_phone(e164) == masked


def test_mask_phone_never_shows_more_than_7_digits_nor_fewer_than_4_stars() -> None:
    for length in range(1, 18):
        masked = mask_phone("1" * length)
        assert masked is not None
        assert len(masked) == length
        assert sum(char.isdigit() for char in masked) <= 7
        assert masked.count("*") >= min(4, length)


def test_mask_phone_masks_a_stored_value_that_is_not_e164_digit_by_digit() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("138-1234-5678") == "138****5678"


def test_mask_phone_passes_none_through() -> None:
    assert mask_phone(None) is None


def test_mask_wechat_hides_the_whole_id() -> None:
    assert mask_wechat("zhang_san_88") == "***"
    assert mask_wechat("a") == "***"


@pytest.mark.parametrize("absent", [None, "", "  "])
def test_mask_wechat_keeps_absence_visible(absent: str | None) -> None:
    assert mask_wechat(absent) is None


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三丰", "张**"),
        ("张三", "张*"),
        ("欧阳娜娜", "欧***"),
        ("Li Wei", "L*****"),
        ("  王先生 ", "王**"),
        ("王", "王*"),  # a lone surname is still marked as masked
        ("", ""),
    ],
)
def test_mask_name_keeps_only_the_first_character(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_contact_module_does_not_load_phonenumbers_geocoder_or_carrier() -> None:
    probe = (
        "import sys, leadshare.leads.contact as c; c.normalise_phone('13812345678');"
        "print(sorted(m for m in sys.modules if m.startswith(('phonenumbers.geocoder',"
        " 'phonenumbers.carrier'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
