"""The offline gazetteer's speed: table load, per-address lookup, length scaling, batch entry.

Issue 18's targets: the table loads in under 0.3 s; the median lookup takes at most 50 us per
address in the process; the time grows linearly with the text's length. Figures are printed,
not asserted (this is not a timed test).

    python -m bench.gazetteer [--repeat 20]

Addresses: the regression set in tests/data/addresses/addresses.csv (329 real addresses).
Each lookup runs on a fresh ``Gazetteer`` so that nothing is cached between texts (the
gazetteer caches Place objects per unit, not answers per text).
"""

from __future__ import annotations

import argparse
import csv
import gc
import statistics
import time
from pathlib import Path

from leadshare.routing.geocode.gazetteer import MAX_SCAN_CHARS, Gazetteer, _read_rows

ADDRESSES = Path(__file__).resolve().parents[1] / "tests" / "data" / "addresses" / "addresses.csv"


def load_seconds(repeat: int) -> list[float]:
    """Building a Gazetteer from the CSV files, parsing included (the parse cache is cleared)."""
    timings = []
    for _ in range(repeat):
        _read_rows.cache_clear()
        gc.collect()
        start = time.perf_counter()
        Gazetteer()
        timings.append(time.perf_counter() - start)
    return timings


def lookup_micros(gazetteer: Gazetteer, texts: list[str], repeat: int) -> list[float]:
    timings = []
    for _ in range(repeat):
        for text in texts:
            start = time.perf_counter()
            gazetteer.lookup(text)
            timings.append((time.perf_counter() - start) * 1e6)
    return timings


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Offline gazetteer speed")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)

    with open(ADDRESSES, encoding="utf-8", newline="") as handle:
        texts = [row["address"] for row in csv.DictReader(handle)]

    loads = load_seconds(max(3, args.repeat // 4))
    print(
        f"table load: median {statistics.median(loads) * 1000:.0f} ms, "
        f"max {max(loads) * 1000:.0f} ms (target < 300 ms)"
    )

    gazetteer = Gazetteer()
    lookup_micros(gazetteer, texts, 1)  # warm the per-unit Place cache
    timings = lookup_micros(gazetteer, texts, args.repeat)
    print(
        f"lookup of {len(texts)} real addresses x {args.repeat}: "
        f"median {statistics.median(timings):.1f} us, p90 {percentile(timings, 0.9):.1f} us, "
        f"p99 {percentile(timings, 0.99):.1f} us, max {max(timings):.1f} us "
        "(target median <= 50 us)"
    )

    cpu = time.process_time()
    for _ in range(args.repeat):
        for text in texts:
            gazetteer.lookup(text)
    cpu_micros = (time.process_time() - cpu) / (args.repeat * len(texts)) * 1e6
    print(f"  CPU time per lookup (not inflated by other processes): mean {cpu_micros:.1f} us")

    start = time.perf_counter()
    for _ in range(args.repeat):
        gazetteer.lookup_many(texts)
    batch = (time.perf_counter() - start) / (args.repeat * len(texts)) * 1e6
    print(f"lookup_many (the dealer import's entry): {batch:.1f} us per address")

    base = "广东省深圳市南山区科技园科苑路15号科兴科学园B栋"
    print("length scaling (text repeated; the scan stops at", MAX_SCAN_CHARS, "characters):")
    for length in (25, 50, 100, 200, 400):
        text = (base * (length // len(base) + 1))[:length]
        micros = lookup_micros(gazetteer, [text], args.repeat * 5)
        median = statistics.median(micros)
        print(f"  {length:4d} chars: median {median:7.1f} us ({median / length:.2f} us/char)")


if __name__ == "__main__":
    main()
