"""End-to-end ingest figures: one big birth file and one big РСВ report through `run.ingest`.

Prints records per second and peak memory for each, on a fresh SQLite register (or on
ERZL_DATABASE_URL when set). Figures are printed, never asserted.

    python bench/bench_ingest.py [--births 20000] [--persons 100000]
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from pipelines import config, run
from pipelines.demo import rsv_gen, zags_gen


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--births", type=int, default=20_000)
    parser.add_argument("--persons", type=int, default=100_000)
    args = parser.parse_args()
    as_of = date(2026, 3, 2)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        settings = config.load({"ERZL_HOME": str(home / "home"), **_db_env()})
        specs = zags_gen.random_birth_specs(
            random.Random(1), args.births, act_date=as_of - timedelta(days=1)
        )
        births = zags_gen.write_rogdinf(home / "births.xml", specs)
        report = rsv_gen.RsvReportSpec(
            payer_name="ООО «Большой работодатель»",
            payer_inn=rsv_gen.make_org_inn("770123456"),
            payer_kpp="770101001",
            year=2025,
            period_code="34",
            persons=rsv_gen.synthetic_persons(args.persons, seed=1),
        )
        rsv = rsv_gen.write_rsv(home, report)
        run.ensure_schema(settings)
        print(f"register: {settings.database_url.split('@')[-1]}")
        for label, path, count in (("births", births, args.births), ("РСВ", rsv, args.persons)):
            started = time.perf_counter()
            files, _ = run.ingest(settings, [path], as_of=as_of)
            seconds = time.perf_counter() - started
            size = path.stat().st_size / 2**20
            print(
                f"{label:7s} {count:>8,d} records  {size:8.1f} MiB  {seconds:7.1f} s  "
                f"{count / seconds:9,.0f} records/s  status {files[0].status}  "
                f"peak RSS so far {peak_rss_mib():,.0f} MiB"
            )


def _db_env() -> dict[str, str]:
    import os

    url = os.environ.get("ERZL_DATABASE_URL")
    return {"ERZL_DATABASE_URL": url} if url else {}


if __name__ == "__main__":
    main()
