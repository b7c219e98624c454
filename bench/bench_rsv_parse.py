"""Benchmark of the РСВ parser on a large generated file (not a test).

Generates one report with N person blocks (default 300000), then times validate_structure and
iter_persons and prints the file size, persons per second, peak RSS and the tracemalloc peak.

    .venv/bin/python bench/bench_rsv_parse.py [--persons N] [--months 1..3] [--no-tracemalloc]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


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


def main(argv: list[str] | None = None) -> None:
    sys.path.insert(0, str(REPO))
    from pipelines.demo.rsv_gen import RsvReportSpec, make_org_inn, synthetic_persons, write_rsv
    from pipelines.parse import rsv

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=300_000)
    parser.add_argument("--months", type=int, default=3, choices=(1, 2, 3))
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the traced runs")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-rsv-") as directory:
        spec = RsvReportSpec(
            payer_name='ООО "Бенчмарк"',
            payer_inn=make_org_inn("770112345"),
            payer_kpp="770101001",
            year=2024,
            persons=synthetic_persons(args.persons, months=args.months),
        )
        started = time.perf_counter()
        path = write_rsv(Path(directory), spec)
        generated = time.perf_counter() - started
        size = path.stat().st_size
        _say(f"persons           {args.persons}")
        _say(
            f"file size         {size / 2**20:.1f} MiB ({size / max(args.persons, 1):.0f} B/person)"
        )
        _say(f"generated in      {generated:.1f} s")
        _say(f"peak RSS after generation  {_peak_rss_mib():.0f} MiB")

        def validate() -> int:
            rsv.validate_structure(path)
            return args.persons

        def parse() -> int:
            return sum(1 for _ in rsv.iter_persons(path))

        results = {}
        for name, work in (("validate_structure", validate), ("iter_persons", parse)):
            count, seconds = _timed(work)
            results[name] = seconds
            _say(
                f"{name:<18}{seconds:7.1f} s  {count / seconds:9.0f} persons/s"
                f"  peak RSS so far {_peak_rss_mib():.0f} MiB"
            )
        total = sum(results.values())
        _say(f"{'both':<18}{total:7.1f} s  {args.persons / total:9.0f} persons/s")

        if not args.no_tracemalloc:
            for name, work in (("validate_structure", validate), ("iter_persons", parse)):
                _say(f"tracemalloc peak  {name:<18} {_traced_peak_mib(work):.2f} MiB")


if __name__ == "__main__":
    main()
