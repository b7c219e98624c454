"""The benchmark's input files: birth files, РСВ reports and register CSVs, made by the demo
generators (pipelines.demo), deterministic for a seed and written in constant memory.

A register of M persons holds the mothers of half the births that go into it (found by СНИЛС, or
by name, birth date and passport when her СНИЛС is wrong) and half the Russian workers of the big
РСВ report; the rest are other people, so linking runs against a register of the stated size.
"""

from __future__ import annotations

import csv
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from pipelines.demo import rsv_gen, zags_gen
from pipelines.identifiers import enp_compose, snils_check_digits, snils_is_valid

AS_OF = date(2026, 3, 2)  # the processing day of every run
ACT_DATE = AS_OF - timedelta(days=1)  # births are registered the day before
REGION = "45"
CHUNK = 10_000  # birth specs made at a time: a file of N births is a prefix of one of more
BIRTH_SEED = 2025
RSV_SEED = 7
SMALL_SEED = 138
INSURERS = (
    ("45001", "АО «СОГАЗ-Мед» (бенчмарк)", "0.45"),
    ("45002", "ООО «Капитал МС» (бенчмарк)", "0.35"),
    ("45003", "ООО «АльфаСтрахование-ОМС» (бенчмарк)", "0.20"),
)
REGISTER_COLUMNS = (
    "enp",
    "snils",
    "last_name",
    "first_name",
    "middle_name",
    "birth_date",
    "sex",
    "insurer_code",
    "policy_status",
    "document_kind",
    "document_series",
    "document_number",
)
_OTHERS_SNILS_FROM = 500_000_000  # other people's СНИЛС: a range no generator draws from
_EARLIEST_BIRTH = date(1940, 1, 1)
_LATEST_BIRTH = date(2024, 12, 31)  # nobody of the register is born in the days of the births


class BirthSpecs(Sequence):
    """N random birth specs, made CHUNK at a time from per-chunk seeds: write_rogdinf reads its
    input front to back once, so one chunk is alive at a time, and the first k·CHUNK specs are
    the same whatever N is."""

    def __init__(self, n: int, seed: int = BIRTH_SEED) -> None:
        self._n, self._seed = n, seed
        self._chunk_no, self._chunk = -1, []

    def __len__(self) -> int:
        return self._n

    def _chunk_of(self, number: int) -> list:
        if number != self._chunk_no:
            size = min(CHUNK, self._n - number * CHUNK)
            rng = random.Random(self._seed * 1_000_003 + number)
            self._chunk = zags_gen.random_birth_specs(
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


def write_births(path: Path, n: int) -> Path:
    """One ROGDINF 4.0.1 response of ``n`` birth act records."""
    return zags_gen.write_rogdinf(
        path, BirthSpecs(n), request_id=f"bench-{n}-{BIRTH_SEED}", info_date=ACT_DATE
    )


def rsv_report(n: int) -> rsv_gen.RsvReportSpec:
    return rsv_gen.RsvReportSpec(
        payer_name="ООО «Большой работодатель»",
        payer_inn=rsv_gen.make_org_inn("770123456"),
        payer_kpp="770101001",
        year=2025,
        period_code="34",
        persons=rsv_gen.synthetic_persons(n, seed=RSV_SEED),
    )


def write_big_rsv(directory: Path, n: int) -> Path:
    """One РСВ 5.08 report (the year 2025) with ``n`` person blocks, in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    return rsv_gen.write_rsv(directory, rsv_report(n))


def write_small_rsv(directory: Path, count: int) -> list[Path]:
    """``count`` quarterly reports of eight employers, corrections among them, in filing order:
    the years are as many as it takes, ending with 2025."""
    directory.mkdir(parents=True, exist_ok=True)
    years = 1
    while True:
        reports = rsv_gen.random_rsv_reports(
            random.Random(SMALL_SEED),
            years=tuple(range(2026 - years, 2026)),
            employers=8,
            russians=60,
            residing=20,
            staying=80,
        )
        if len(reports) >= count:
            break
        years += 1
    # a prefix keeps every correction with the report it corrects (it is filed after it)
    return [rsv_gen.write_rsv(directory, spec) for spec in reports[:count]]


def write_insurers(path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(("code", "name", "share"))
        writer.writerows(INSURERS)
    return path


@dataclass
class RegisterMade:
    path: Path
    persons: int
    mothers: int
    workers: int
    others: int


def write_register(path: Path, persons: int, *, births: int, rsv_persons: int) -> RegisterMade:
    """A register CSV of ``persons`` rows for ``erzl register load``: the mothers of every second
    of the first ``births`` births, every second Russian worker of the first ``rsv_persons``
    blocks of the big РСВ report (each group capped at half the register), then other people."""
    rng = random.Random(persons)
    serials: Counter = Counter()  # ЕНП serials used per birth date
    made = Counter()
    seen_snils: set[str] = set()
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(REGISTER_COLUMNS)
        for kind, rows in (
            ("mothers", _mothers(births, persons // 2)),
            ("workers", _workers(rsv_persons, persons // 2)),
            ("others", _others(rng, persons)),
        ):
            for row in rows:
                if made.total() >= persons:
                    break
                if row["snils"]:
                    if row["snils"] in seen_snils:  # twins' mother, or a chance repeat
                        continue
                    seen_snils.add(row["snils"])
                born = row["birth_date"]
                serials[born] += 1
                duplicate_index, serial = divmod(serials[born] - 1, 9999)
                row["enp"] = enp_compose(REGION, duplicate_index, born, serial + 1)
                row["birth_date"] = born.isoformat()
                row["insurer_code"] = INSURERS[rng.randrange(len(INSURERS))][0]
                row["policy_status"] = "active"
                writer.writerow([row.get(c, "") for c in REGISTER_COLUMNS])
                made[kind] += 1
    return RegisterMade(path, made.total(), made["mothers"], made["workers"], made["others"])


def _mothers(births: int, limit: int) -> Iterator[dict]:
    specs = BirthSpecs(births)
    count = 0
    for index in range(0, births, 2):
        mother = specs[index].mother
        if mother is None or not isinstance(mother.birth_date, date) or count >= limit:
            continue
        count += 1
        yield {
            # a wrong СНИЛС in the birth file is not in the register: she is found by name
            "snils": mother.snils if snils_is_valid(mother.snils) else "",
            "last_name": mother.last_name,
            "first_name": mother.first_name,
            "middle_name": mother.middle_name or "",
            "birth_date": mother.birth_date,
            "sex": "2",
            "document_kind": mother.document_kind,
            "document_series": mother.document_series or "",
            "document_number": mother.document_number or "",
        }


def _workers(rsv_persons: int, limit: int) -> Iterator[dict]:
    persons = rsv_gen.synthetic_persons(rsv_persons, seed=RSV_SEED)
    count = 0
    for index in range(0, rsv_persons, 2):
        person = persons[index]
        if person.citizenship != "643" or count >= limit:
            continue
        count += 1
        series, _, number = (person.document_number or "").rpartition(" ")
        yield {
            "snils": person.snils,
            "last_name": person.last_name,
            "first_name": person.first_name,
            "middle_name": person.middle_name or "",
            "birth_date": person.birth_date,
            "sex": str(person.sex),
            "document_kind": person.document_kind,
            "document_series": series,
            "document_number": number,
        }


def _others(rng: random.Random, persons: int) -> Iterator[dict]:
    days = (_LATEST_BIRTH - _EARLIEST_BIRTH).days
    for index in range(persons):
        sex = 1 if rng.random() < 0.48 else 2
        surname = rng.choice(zags_gen.SURNAMES)[sex - 1]
        first = (
            rng.choice(zags_gen.MALE_NAMES)[0] if sex == 1 else rng.choice(zags_gen.FEMALE_NAMES)
        )
        father = rng.choice(zags_gen.MALE_NAMES)
        first9 = f"{_OTHERS_SNILS_FROM + index:09d}"
        yield {
            "snils": first9 + snils_check_digits(first9),
            "last_name": surname,
            "first_name": first,
            "middle_name": father[sex],
            "birth_date": _EARLIEST_BIRTH + timedelta(days=rng.randrange(days)),
            "sex": str(sex),
            "document_kind": "21",
            "document_series": f"{REGION} {rng.randint(0, 99):02d}",
            "document_number": f"{rng.randint(0, 999_999):06d}",
        }
