"""Benchmark of the ROGDINF birth-file parser on a large generated file (not a test).

Generates one response with N birth act records (default 200000), then times
validate_structure and iter_births and prints the file size, records per second, peak RSS and
the tracemalloc peak of each.

    .venv/bin/python bench/bench_zags_parse.py [N] [--seed S] [--no-tracemalloc]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHUNK = 10_000  # specs generated at a time, so generation does not inflate the RSS peak
ACT_DATE = date(2025, 3, 14)


def _peak_rss_mib() -> float:
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2**20 if sys.platform == "darwin" else 2**10)


def _timed(work: Callable[[], int]) -> tuple[int, float]:
    started = time.perf_counter()
    count = work()
    return count, time.perf_counter() - started


def _traced_peak_mib(work: Callable[[], int]) -> float:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def _say(line: str) -> None:
    print(line, flush=True)


class _LazySpecs(Sequence):
    """N random specs made CHUNK at a time, in order, each chunk from its own seed.

    write_rogdinf reads its input front to back once (given a request id and an info date), so
    only one chunk is alive at a time.
    """

    def __init__(self, n: int, seed: int) -> None:
        self._n, self._seed = n, seed
        self._chunk_no, self._chunk = -1, []

    def __len__(self) -> int:
        return self._n

    def _chunk_of(self, number: int) -> list:
        from pipelines.demo.zags_gen import random_birth_specs

        if number != self._chunk_no:
            size = min(CHUNK, self._n - number * CHUNK)
            rng = random.Random(self._seed * 1_000_003 + number)
            self._chunk = random_birth_specs(
                rng, size, act_date=ACT_DATE, start_serial=1 + number * CHUNK
            )
            self._chunk_no = number
        return self._chunk

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._n))]
        if not 0 <= index < self._n:
            raise IndexError(index)
        return self._chunk_of(index // CHUNK)[index % CHUNK]


def main(argv: list[str] | None = None) -> None:
    sys.path.insert(0, str(REPO))
    from pipelines.demo.zags_gen import write_rogdinf
    from pipelines.parse import zags

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("records", nargs="?", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the traced runs")
    args = parser.parse_args(argv)
    n = args.records

    with tempfile.TemporaryDirectory(prefix="bench-zags-") as directory:
        started = time.perf_counter()
        path = write_rogdinf(
            Path(directory) / "births.xml",
            _LazySpecs(n, args.seed),
            request_id=f"bench-{n}-{args.seed}",
            info_date=ACT_DATE,
        )
        generated = time.perf_counter() - started
        size = path.stat().st_size
        _say(f"records           {n}")
        _say(f"file size         {size / 2**20:.1f} MiB ({size / max(n, 1):.0f} B/record)")
        _say(f"generated in      {generated:.1f} s")
        _say(f"peak RSS after generation  {_peak_rss_mib():.0f} MiB")
        zags.schema()  # compiled once, outside the timings

        def validate() -> int:
            zags.validate_structure(path)
            return n

        def parse() -> int:
            return sum(1 for _ in zags.iter_births(path))

        results = {}
        for name, work in (("validate_structure", validate), ("iter_births", parse)):
            count, seconds = _timed(work)
            assert count == n, (name, count)
            results[name] = seconds
            _say(
                f"{name:<18}{seconds:7.1f} s  {count / seconds:9.0f} records/s"
                f"  {size / 2**20 / seconds:6.1f} MiB/s  peak RSS so far {_peak_rss_mib():.0f} MiB"
            )
        total = sum(results.values())
        _say(f"{'both':<18}{total:7.1f} s  {n / total:9.0f} records/s")

        if not args.no_tracemalloc:
            for name, work in (("validate_structure", validate), ("iter_births", parse)):
                _say(f"tracemalloc peak  {name:<18} {_traced_peak_mib(work):.2f} MiB")


if __name__ == "__main__":
    main()
