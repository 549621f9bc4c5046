"""Audit figures and CSV encoding: rates, percentiles, Excel-ready CSV with formulas disarmed."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest

from leadshare.audit.figures import percentile, rate
from leadshare.csvsafe import BOM, cell, csv_chunks


def test_rates_round_to_four_places_and_are_null_without_a_denominator():
    assert rate(2, 3) == 0.6667
    assert rate(1, 8) == 0.125
    assert rate(0, 5) == 0.0
    assert rate(3, 0) is None


@pytest.mark.parametrize(
    "values, fraction, expected",
    [
        ([10, 20, 30, 60], 0.5, 25.0),
        ([10, 20, 30, 60], 0.9, 51.0),
        ([10, 30, 60], 0.9, 54.0),
        ([7], 0.9, 7),
        ([], 0.5, None),
    ],
)
def test_percentile_interpolates_like_percentile_cont(values, fraction, expected):
    found = percentile(values, fraction)
    assert found == (None if expected is None else pytest.approx(expected))


def test_cells_disarm_formulas_and_write_times_excel_reads():
    assert cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert [cell(v) for v in ("+1", "-1", "@SUM(A1)", "价格谈不拢")] == [
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "价格谈不拢",
    ]
    assert cell(-3) == -3 and cell(0.6667) == 0.6667 and cell(None) == ""
    assert cell(datetime(2024, 5, 1, 8, 30, 5, 123)) == "2024-05-01 08:30:05"


def test_csv_starts_with_a_bom_and_streams_in_chunks():
    rows = ([i, "深圳南山奥迪", "138****5678"] for i in range(5000))
    chunks = list(csv_chunks((("n", "name", "phone"), rows)))
    assert len(chunks) > 1 and chunks[0].startswith(BOM) and not chunks[1].startswith(BOM)
    text = "".join(chunks)
    assert text.count("\r\n") == 5001
    parsed = list(csv.reader(io.StringIO(text.removeprefix(BOM))))
    assert parsed[0] == ["n", "name", "phone"] and parsed[-1] == [
        "4999",
        "深圳南山奥迪",
        "138****5678",
    ]
