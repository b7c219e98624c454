"""Small, fixed scenarios of each feed, shared by the fault-injection, race and check tests."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from pipelines import cli
from pipelines.demo import rsv_gen, zags_gen
from pipelines.identifiers import enp_compose

AS_OF = date(2026, 3, 2)


def erzl(*argv: str) -> Callable[[], int]:
    """``erzl ARGV`` as a function, to run in-process or in a forked child."""
    return lambda: cli.main(list(argv))


@dataclasses.dataclass
class Scenario:
    """Files to ingest as one run, and what to load into the register first."""

    feed: str
    files: list[Path]
    register_csv: Path | None = None
    env: dict[str, str] = dataclasses.field(default_factory=dict)

    def ingest(self) -> Callable[[], int]:
        return erzl("ingest", "--as-of", AS_OF.isoformat(), *map(str, self.files))


def births_scenario(folder: Path) -> Scenario:
    """Two birth files and a re-sent copy: enrolments with the mother's insurer and by share,
    a stillbirth, a held record, a later version of an act of the first file."""
    folder.mkdir(parents=True, exist_ok=True)
    specs = zags_gen.random_birth_specs(
        random.Random(11), 6, act_date=AS_OF - timedelta(days=1), stillborn_rate=0,
        partial_date_rate=0, no_mother_rate=0, bad_mother_snils_rate=0, twins_rate=0,
    )  # fmt: skip
    specs = [dataclasses.replace(s, snils=None) for s in specs]
    specs[1] = dataclasses.replace(specs[1], stillborn=True)
    specs[2] = dataclasses.replace(specs[2], status_code="9999")  # held for review
    first = zags_gen.write_rogdinf(folder / "ROGDINF_first.xml", specs[:4], request_id="r-1")
    corrected = dataclasses.replace(specs[0], version="2", first_name="Святослав")
    second = zags_gen.write_rogdinf(
        folder / "ROGDINF_second.xml", [corrected, specs[4], specs[5]], request_id="r-2"
    )
    copy = folder / "ROGDINF_first_resent.xml"
    copy.write_bytes(first.read_bytes())
    mother = specs[0].mother
    register_csv = folder / "register.csv"
    register_csv.write_text(
        "enp,snils,last_name,first_name,middle_name,birth_date,sex,insurer_code,policy_status\n"
        f"{enp_compose('45', 0, mother.birth_date, 1)},{mother.snils},{mother.last_name},"
        f"{mother.first_name},{mother.middle_name},{mother.birth_date},2,C03,active\n",
        "utf-8",
    )
    return Scenario("zags_births", [first, second, copy], register_csv)


def rsv_scenario(folder: Path) -> Scenario:
    """Three reports of two payers — a primary, its correction, another payer's — in which
    foreign workers reach a (lowered) threshold at the end of the run."""
    folder.mkdir(parents=True, exist_ok=True)
    pay = Decimal("50000.00")
    quarter = ((1, "ВПНР", pay), (2, "ВПНР", pay), (3, "ВПНР", pay))

    def worker(n: int, **kw) -> rsv_gen.RsvPersonSpec:
        return rsv_gen.RsvPersonSpec(
            snils=rsv_gen.make_snils(300_000_000 + n), last_name="Каримов", first_name="Алишер",
            birth_date=date(1990, 5, 17), citizenship="860", document_kind="10",
            document_number=f"FA{2000000 + n}", months=kw.pop("months", quarter), **kw,
        )  # fmt: skip

    def report(payer, persons, correction=0) -> rsv_gen.RsvReportSpec:
        name, inn, kpp = payer
        return rsv_gen.RsvReportSpec(
            payer_name=name, payer_inn=inn, payer_kpp=kpp, year=2025, period_code="34",
            correction_no=correction, persons=persons,
            document_date=date(2026, 1, 20) + timedelta(days=correction),
        )  # fmt: skip

    acme = ("ООО «Акме»", rsv_gen.make_org_inn("770123456"), "770101001")
    beta = ("АО «Бета»", rsv_gen.make_org_inn("500100732"), "500101001")
    resident = dataclasses.replace(
        worker(4), citizenship="643", months=((1, "НР", pay), (2, "НР", pay), (3, "НР", pay))
    )
    files = [
        rsv_gen.write_rsv(folder, report(acme, [worker(1), worker(2), resident])),
        rsv_gen.write_rsv(folder, report(acme, [worker(2, annulled=True)], correction=1)),
        rsv_gen.write_rsv(folder, report(beta, [worker(3), worker(5)])),
    ]
    return Scenario("fns_rsv", files, env={"ERZL_FOREIGN_MIN_MONTHS": "3"})


def rogdzp_scenario(folder: Path) -> Scenario:
    """The ЗАГС push: a 4.0.1 envelope of three messages (a mother linked without СНИЛС, a
    stillbirth, twins), a bare 4.0.0 message, and the envelope re-sent — seven acknowledgements."""
    folder.mkdir(parents=True, exist_ok=True)
    specs = zags_gen.random_birth_specs(
        random.Random(23), 6, act_date=AS_OF - timedelta(days=1), stillborn_rate=0,
        partial_date_rate=0, no_mother_rate=0, bad_mother_snils_rate=0, twins_rate=0,
    )  # fmt: skip
    specs = [
        dataclasses.replace(s, snils=None, zp_status="01",
                            mother=dataclasses.replace(s.mother, snils=None, citizenship="643"))
        for s in specs
    ]  # fmt: skip
    specs[1] = dataclasses.replace(specs[1], stillborn=True)
    twin = dataclasses.replace(specs[2], act_number=specs[2].act_number[:-3] + "999",
                               first_name="Вторая")  # fmt: skip
    envelope = zags_gen.write_rogdzp(
        folder / "ROGDZP_push.xml", [specs[0], specs[1], specs[2], twin], messages=[1, 1, 2]
    )
    bare = zags_gen.write_rogdzp(
        folder / "ROGDZP_old.xml", specs[3:5], version="4.0.0", envelope=False
    )
    copy = folder / "ROGDZP_push_resent.xml"
    copy.write_bytes(envelope.read_bytes())
    mother = specs[0].mother
    register_csv = folder / "register.csv"
    register_csv.write_text(
        "enp,snils,last_name,first_name,middle_name,birth_date,sex,insurer_code,policy_status,"
        "document_kind,document_series,document_number\n"
        f"{enp_compose('45', 0, mother.birth_date, 1)},,{mother.last_name},{mother.first_name},"
        f"{mother.middle_name},{mother.birth_date},2,C03,active,{mother.document_kind},"
        f"{mother.document_series or ''},{mother.document_number}\n",
        "utf-8",
    )
    return Scenario("zags_births", [envelope, bare, copy], register_csv)


SCENARIOS = {
    "zags_births": births_scenario,
    "fns_rsv": rsv_scenario,
    "zags_rogdzp": rogdzp_scenario,
}


def personal_values(files: list[Path]) -> set[str]:
    """Every personal value of the input as it could be printed: names, СНИЛС (both spellings),
    birth dates (ISO and ДД.ММ.ГГГГ), document numbers. Short values (under four characters)
    are left out: they would match ordinary text."""
    from pipelines.parse import rogdzp, rsv, zags
    from pipelines.records import FullName, Parent

    found: set[str] = set()

    def add_date(value) -> None:
        value = getattr(value, "to_date", lambda: value)()
        if isinstance(value, date):
            found.update({value.isoformat(), value.strftime("%d.%m.%Y")})

    def add_snils(value) -> None:
        if value:
            digits = "".join(ch for ch in value if ch.isdigit())
            found.update({value, digits, f"{digits[:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:]}"})

    def add_name(name) -> None:
        if isinstance(name, FullName):
            found.update(v for v in (name.last_name, name.first_name, name.middle_name) if v)

    for path in files:
        if "ROGDINF" in path.name or "ROGDZP" in path.name:
            reader = rogdzp if "ROGDZP" in path.name else zags
            for record in reader.iter_births(path):
                add_name(record.child.name)
                add_snils(record.child.snils)
                add_date(record.child.birth_date)
                for parent in (record.mother, record.father):
                    if isinstance(parent, Parent):
                        add_name(parent.name)
                        add_snils(parent.snils)
                        add_date(parent.birth_date)
                        number = getattr(parent.document, "number", None)
                        if isinstance(number, str):
                            found.add(number)
        else:
            for person in rsv.iter_persons(path):
                add_snils(person.snils)
                add_date(person.birth_date)
                add_name(person.name)
                if person.document_number:
                    found.add(person.document_number)
    return {v for v in found if isinstance(v, str) and len(v) >= 4}
