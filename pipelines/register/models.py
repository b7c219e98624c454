"""Tables of the register and of the intake journal.

Two kinds of tables live here. The register proper — persons, their identifiers and documents,
policies, insurer assignments — keeps full history with provenance (run, file, record). The
intake journal — runs, received files, received records, notifications — is what lets every
received record be accounted for and every party be told what happened.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# --- intake journal -------------------------------------------------------------------------


class Run(Base):
    """One processing run: a DAG run or one `erzl ingest` call."""

    __tablename__ = "runs"
    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    trigger: Mapped[str] = mapped_column(String(20))  # airflow | cli
    as_of: Mapped[date] = mapped_column(Date)  # the processing date
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20), default="running")  # running|finished|failed
    totals: Mapped[dict | None] = mapped_column(JSON)
    # the process that holds the run (host:pid:start) and until when its claim holds unrenewed
    owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class FileContent(Base):
    """Each distinct content received, archived once by its hash. Inserting the row is the
    atomic claim that makes a second copy of the same bytes a file-level duplicate."""

    __tablename__ = "file_contents"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    # 64 bits: a file over 2 GiB is journalled (and refused) too; SQLite's INTEGER is 64-bit
    size: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    archive_path: Mapped[str] = mapped_column(String(500))
    first_file_id: Mapped[int | None] = mapped_column(Integer)
    hashed: Mapped[bool] = mapped_column(Boolean, default=True)  # False: refused before hashing


class ReceivedFile(Base):
    """One received file, a unit of work with a durable ``state``:

    received ─claim─► applying ─commit─► applied ─receipt─► emitted

    ``status`` is what happened to it (accepted, rejected, …); ``owner_run_id`` is the run that
    holds it (or last held it), which another run may take over once that run is dead.
    """

    __tablename__ = "received_files"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"))
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(ForeignKey("file_contents.sha256"), index=True)
    feed: Mapped[str | None] = mapped_column(String(30))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    document_date: Mapped[date | None] = mapped_column(Date)  # orders РСВ files within a run
    correction_no: Mapped[int | None] = mapped_column(Integer)  # then the correction number
    status: Mapped[str] = mapped_column(String(30), default="received")
    codes: Mapped[list] = mapped_column(JSON, default=list)
    detail: Mapped[str | None] = mapped_column(Text)  # file-level reason, never personal data
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("received_files.id"))
    counts: Mapped[dict | None] = mapped_column(JSON)
    receipt_name: Mapped[str | None] = mapped_column(String(300))
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(20), default="received", index=True)
    owner_run_id: Mapped[str | None] = mapped_column(String(120))
    records_seen: Mapped[int | None] = mapped_column(Integer)  # records the file holds
    format: Mapped[str | None] = mapped_column(String(40))  # "ROGDZP 4.0.1", "РСВ 5.06"
    sender: Mapped[str | None] = mapped_column(String(40))  # an РСВ payer's ИНН/КПП; the feed


class ReceivedRecord(Base):
    """One record of a received file and its one outcome."""

    __tablename__ = "received_records"
    __table_args__ = (UniqueConstraint("file_id", "seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("received_files.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    record_key: Mapped[str | None] = mapped_column(String(64), index=True)
    version: Mapped[str | None] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(20))
    codes: Mapped[list] = mapped_column(JSON, default=list)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    enp: Mapped[str | None] = mapped_column(String(16))
    links: Mapped[dict | None] = mapped_column(JSON)  # {"mother": ["name", "birth_date", ...]}


# --- the register ---------------------------------------------------------------------------


class Insurer(Base):
    """СМО active in the fund's region, with its share of fund-determined assignments."""

    __tablename__ = "insurers"
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    share: Mapped[float] = mapped_column(Numeric(9, 6), default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # the fund's assignments by share (register_ops.choose_by_share): how many this insurer
    # got, and how far that lags its quota (share × assignments so far), in 10^-12 persons
    share_count: Mapped[int] = mapped_column(Integer, default=0)
    share_deficit: Mapped[int] = mapped_column(BigInteger, default=0)


class Person(Base):
    """A person in the register: the current state. Every change also lands in PersonHistory."""

    __tablename__ = "persons"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    snils: Mapped[str | None] = mapped_column(String(11), unique=True)
    last_name: Mapped[str | None] = mapped_column(String(200))
    first_name: Mapped[str | None] = mapped_column(String(200))
    middle_name: Mapped[str | None] = mapped_column(String(200))
    birth_date: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[int | None] = mapped_column(Integer)
    citizenship: Mapped[str | None] = mapped_column(String(3))
    birth_place: Mapped[str | None] = mapped_column(Text)
    residence: Mapped[str | None] = mapped_column(Text)
    working: Mapped[bool | None] = mapped_column(Boolean)
    employer_inn: Mapped[str | None] = mapped_column(String(12))
    employer_kpp: Mapped[str | None] = mapped_column(String(9))
    insurer_code: Mapped[str | None] = mapped_column(ForeignKey("insurers.code"))
    origin: Mapped[str] = mapped_column(String(20))  # register_load | zags_births | fns_rsv
    version: Mapped[int] = mapped_column(Integer, default=1)
    included_on: Mapped[date | None] = mapped_column(Date)  # date of inclusion in the register
    employment_as_of: Mapped[date | None] = mapped_column(Date)  # period end of that employer
    # for name + birth date linking (mother lookup): normalised upper-case, ё→е
    name_key: Mapped[str | None] = mapped_column(String(400), index=True)


class PersonHistory(Base):
    """Every change of a person, with what it was changed to and where the change came from."""

    __tablename__ = "person_history"
    __table_args__ = (UniqueConstraint("person_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    change: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict] = mapped_column(JSON)
    run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id"))
    file_id: Mapped[int | None] = mapped_column(ForeignKey("received_files.id"))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("received_records.id"))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PersonKey(Base):
    """A natural key of a source that identifies a person: a birth act number, for one."""

    __tablename__ = "person_keys"
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    version: Mapped[str | None] = mapped_column(String(20))  # last applied version of the source
    record_id: Mapped[int | None] = mapped_column(ForeignKey("received_records.id"))


class IdentityDocument(Base):
    __tablename__ = "identity_documents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # birth_certificate, or a СПДУЛ code
    series: Mapped[str | None] = mapped_column(String(20))
    number: Mapped[str | None] = mapped_column(String(40))
    issued_on: Mapped[date | None] = mapped_column(Date)
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    record_id: Mapped[int | None] = mapped_column(ForeignKey("received_records.id"))


class Policy(Base):
    """An ОМС policy. The ЕНП is the primary key: a number once issued is never issued again."""

    __tablename__ = "policies"
    enp: Mapped[str] = mapped_column(String(16), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="electronic")
    status: Mapped[str] = mapped_column(String(20))  # active | suspended | lapsed | review
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    issued_run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id"))
    issued_record_id: Mapped[int | None] = mapped_column(ForeignKey("received_records.id"))
    reason: Mapped[str | None] = mapped_column(String(40))


class EnpCounter(Base):
    """Serials issued per (region, birth date), bumped atomically with UPDATE … RETURNING."""

    __tablename__ = "enp_counters"
    region: Mapped[str] = mapped_column(String(2), primary_key=True)
    birth_date: Mapped[date] = mapped_column(Date, primary_key=True)
    issued: Mapped[int] = mapped_column(Integer, default=0)  # duplicate_index * 9999 + serial


class InsurerAssignment(Base):
    __tablename__ = "insurer_assignments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    insurer_code: Mapped[str] = mapped_column(ForeignKey("insurers.code"))
    assigned_on: Mapped[date] = mapped_column(Date)
    basis: Mapped[str] = mapped_column(String(30))  # mother_insurer | fund_share | register_load
    run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id"))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("received_records.id"))


class Notification(Base):
    """One event an insurer must hear of; grouped into one notice file per insurer per run."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_run_insurer", "run_id", "insurer_code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"))
    insurer_code: Mapped[str] = mapped_column(ForeignKey("insurers.code"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    enp: Mapped[str] = mapped_column(String(16))
    event: Mapped[str] = mapped_column(String(40))
    basis: Mapped[str] = mapped_column(String(30))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("received_records.id"))
    notice_file: Mapped[str | None] = mapped_column(String(300))


class ReviewDecision(Base):
    """An analyst's decision on a record held for review, with who, when and why.

    An acceptance waits for a second analyst (``awaiting_confirmation``) when the fund asks for
    it (ERZL_REVIEW_CONFIRM_ACCEPT); a rejection, or a confirmed acceptance, is ``applied`` in a
    run of its own (``run_id``). A pending acceptance a checker turns down is ``declined``.
    """

    __tablename__ = "review_decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("received_records.id"), index=True)
    action: Mapped[str] = mapped_column(String(10))  # accept | reject
    state: Mapped[str] = mapped_column(String(30))  # awaiting_confirmation | applied | declined
    codes: Mapped[list] = mapped_column(JSON, default=list)  # the codes the record was held for
    decided_by: Mapped[str] = mapped_column(String(120))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str] = mapped_column(Text)
    confirmed_by: Mapped[str | None] = mapped_column(String(120))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id"))  # the run that applied it


# --- employer contribution reports (РСВ) ----------------------------------------------------


class ContributionReport(Base):
    """The correction of one payer's report for one quarter that is applied in the ledger."""

    __tablename__ = "contribution_reports"
    payer_inn: Mapped[str] = mapped_column(String(12), primary_key=True)
    payer_kpp: Mapped[str] = mapped_column(String(9), primary_key=True)  # "" for a person
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    quarter: Mapped[int] = mapped_column(Integer, primary_key=True)
    correction_no: Mapped[int] = mapped_column(Integer)
    period_code: Mapped[str] = mapped_column(String(2))
    document_date: Mapped[date] = mapped_column(Date)
    file_id: Mapped[int] = mapped_column(ForeignKey("received_files.id"))


class ContributionMonth(Base):
    """The ledger: one row per (payer ИНН+КПП, year, quarter, СНИЛС, month of the quarter)."""

    __tablename__ = "contribution_ledger"
    payer_inn: Mapped[str] = mapped_column(String(12), primary_key=True)
    payer_kpp: Mapped[str] = mapped_column(String(9), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    quarter: Mapped[int] = mapped_column(Integer, primary_key=True)
    snils: Mapped[str] = mapped_column(String(11), primary_key=True, index=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1..3 within the quarter
    insured_category: Mapped[str] = mapped_column(String(8))
    amount: Mapped[float] = mapped_column(Numeric(17, 2))
    base: Mapped[float | None] = mapped_column(Numeric(17, 2))
    contributions: Mapped[float | None] = mapped_column(Numeric(17, 2))
    # a ВП* category with a non-zero payment: the month counts toward a foreign worker's term
    counts_for_foreign: Mapped[bool] = mapped_column(Boolean, index=True)
    correction_no: Mapped[int] = mapped_column(Integer)
    record_id: Mapped[int | None] = mapped_column(ForeignKey("received_records.id"))


class ReportedPerson(Base):
    """The latest personal data the reports give for a СНИЛС: what an enrolment is made from."""

    __tablename__ = "reported_persons"
    snils: Mapped[str] = mapped_column(String(11), primary_key=True)
    inn: Mapped[str | None] = mapped_column(String(12))
    last_name: Mapped[str | None] = mapped_column(String(200))
    first_name: Mapped[str | None] = mapped_column(String(200))
    middle_name: Mapped[str | None] = mapped_column(String(200))
    birth_date: Mapped[date | None] = mapped_column(Date)
    citizenship: Mapped[str | None] = mapped_column(String(3))
    sex: Mapped[int | None] = mapped_column(Integer)
    document_kind: Mapped[str | None] = mapped_column(String(4))
    document_number: Mapped[str | None] = mapped_column(String(40))
    payer_inn: Mapped[str] = mapped_column(String(12))
    payer_kpp: Mapped[str] = mapped_column(String(9))
    period_end: Mapped[date] = mapped_column(Date)  # last day of the quarter reported
    record_id: Mapped[int | None] = mapped_column(ForeignKey("received_records.id"))


class ForeignEligibility(Base):
    """Why a foreign worker was (or is no longer) entitled: the months that counted, the rule."""

    __tablename__ = "foreign_eligibility"
    snils: Mapped[str] = mapped_column(String(11), primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    months: Mapped[list] = mapped_column(JSON)  # ["2023-01", …]: the calendar months counted
    months_count: Mapped[int] = mapped_column(Integer)
    threshold: Mapped[int] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))  # counting | enrolled | review
    evaluated_on: Mapped[date] = mapped_column(Date)
    run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id"))
