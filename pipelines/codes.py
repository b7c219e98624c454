"""The one catalogue of reason codes.

Every outcome that is not a plain acceptance carries a code from here, and the same code reaches
the analysts' report and the sender's receipt, so both sides speak of a problem by one name.
Codes are stable: a code is never renumbered or reused; a retired rule keeps its code.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Outcome(enum.StrEnum):
    """What happened to one received record. Every record ends with exactly one."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    REVIEW = "review"
    DUPLICATE = "duplicate"
    NOT_APPLICABLE = "not_applicable"


class FileStatus(enum.StrEnum):
    """What happened to one received file."""

    ACCEPTED = "accepted"  # no record rejected or held
    PARTIALLY_ACCEPTED = "partially_accepted"  # some records rejected or held
    REJECTED = "rejected"  # refused as a whole, nothing applied
    DUPLICATE = "duplicate"  # the same bytes were received before
    QUARANTINED = "quarantined"  # could not be read: kept aside with its reason


class Severity(enum.StrEnum):
    ERROR = "error"  # decides the outcome
    WARNING = "warning"  # reported, the record still goes through


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    outcome: Outcome | None  # the record outcome this reason forces; None for a warning
    severity: Severity
    text: str  # English, for the analysts' report and logs
    text_ru: str  # Russian, for the sender's receipt


def _r(code: str, outcome: Outcome | None, text: str, text_ru: str) -> Reason:
    severity = Severity.WARNING if outcome is None else Severity.ERROR
    return Reason(code, outcome, severity, text, text_ru)


A, R, V, D, N = (
    Outcome.ACCEPTED,
    Outcome.REJECTED,
    Outcome.REVIEW,
    Outcome.DUPLICATE,
    Outcome.NOT_APPLICABLE,
)

CATALOGUE: dict[str, Reason] = {
    r.code: r
    for r in [
        # --- files --------------------------------------------------------------------------
        _r(
            "F001",
            R,
            "File is not well-formed XML or cannot be decoded",
            "Файл не является корректным XML или не может быть декодирован",
        ),
        _r(
            "F002",
            R,
            "File declares a DTD or entities, which are not accepted",
            "Файл содержит DTD или объявления сущностей, что не допускается",
        ),
        _r(
            "F003",
            R,
            "File does not conform to the format's schema",
            "Файл не соответствует XSD-схеме формата",
        ),
        _r("F004", R, "Feed not recognised from the file's content", "Формат файла не распознан"),
        _r("F005", D, "The same file was received before", "Этот файл уже был получен ранее"),
        _r(
            "F006",
            None,
            "File name does not match the file identifier inside it",
            "Имя файла не совпадает с идентификатором файла (ИдФайл)",
        ),
        _r(
            "F007",
            R,
            "File is empty or larger than the accepted size",
            "Файл пуст или превышает допустимый размер",
        ),
        _r(
            "F010",
            R,
            "Payer ИНН has a wrong check digit",
            "Неверное контрольное число ИНН плательщика",
        ),
        _r("F011", R, "Payer КПП is malformed", "Неверный формат КПП плательщика"),
        _r(
            "F012",
            R,
            "Report form or period is not supported",
            "Форма или отчётный период не поддерживается",
        ),
        _r(
            "F013",
            D,
            "Correction number is not higher than the one already applied",
            "Номер корректировки не больше уже принятого: повторная отправка",
        ),
        _r(
            "F014",
            R,
            "Format version is not supported (the receipt names the version received)",
            "Версия формата не поддерживается (версия указана в протоколе)",
        ),
        # --- birth registrations (ЕГР ЗАГС) -------------------------------------------------
        _r(
            "Z001", N, "Stillbirth: nobody to enrol", "Мертворождение: лицо не подлежит страхованию"
        ),
        _r(
            "Z002",
            R,
            "Child's СНИЛС has a wrong check digit",
            "Неверное контрольное число СНИЛС ребёнка",
        ),
        _r(
            "Z003",
            R,
            "Birth date is after the date the act record was drawn up",
            "Дата рождения позже даты составления записи акта",
        ),
        _r(
            "Z004", V, "Child's birth date is partial", "Дата рождения ребёнка указана не полностью"
        ),
        _r(
            "Z005",
            D,
            "This version of the act record was received before",
            "Эта или более поздняя версия записи акта уже получена",
        ),
        _r(
            "Z006",
            None,
            "Mother's СНИЛС has a wrong check digit: linked by name and birth date",
            "Неверное контрольное число СНИЛС матери: поиск по ФИО и дате рождения",
        ),
        _r(
            "Z007",
            V,
            "Status code (КодСостСтат) is not in the fund's mapping",
            "Код состояния записи (КодСостСтат) не известен",
        ),
        _r(
            "Z008",
            N,
            "Status code says the act record is not in force",
            "Запись акта не действует (по коду состояния)",
        ),
        _r(
            "Z009",
            V,
            "Child's data are incomplete (sex, name or live-birth flag absent)",
            "Сведения о ребёнке неполные (пол, ФИО или признак живорождения отсутствуют)",
        ),
        _r(
            "Z010",
            R,
            "Birth date is after the processing date",
            "Дата рождения позже даты обработки",
        ),
        _r(
            "Z011",
            V,
            "Child's СНИЛС already belongs to another person in the register",
            "СНИЛС ребёнка уже принадлежит другому лицу в регистре",
        ),
        _r(
            "Z012",
            D,
            "The same act record version appears earlier in this file",
            "Та же версия записи акта уже встречалась в этом файле",
        ),
        _r(
            "Z013",
            V,
            "A later version takes the act record of an enrolled person out of force (annulled, "
            "or a stillbirth): held for review, the policy is not revoked",
            "Новая версия записи акта исключает уже застрахованное лицо: требуется проверка",
        ),
        _r(
            "Z014",
            V,
            "Birth date is before the earliest plausible year (ERZL_EARLIEST_BIRTH_YEAR)",
            "Дата рождения ранее допустимого года: требуется проверка",
        ),
        _r(
            "Z015",
            V,
            "A parent is born after the child, or younger than the minimum age at the birth "
            "(ERZL_MIN_PARENT_AGE)",
            "Родитель родился позже ребёнка или моложе допустимого возраста: требуется проверка",
        ),
        _r(
            "Z016",
            V,
            "Order in a multiple birth, or number of children born, is beyond the bound "
            "(ERZL_MAX_BIRTH_ORDER)",
            "Очерёдность рождения или число родившихся детей вне допустимых пределов: "
            "требуется проверка",
        ),
        _r(
            "Z017",
            V,
            "Mother not told apart: several people in the register share her name and birth "
            "date, and the identity document does not single one out",
            "Мать не определена однозначно: в регистре несколько лиц с теми же ФИО и датой "
            "рождения, документ не позволяет выбрать одно: требуется проверка",
        ),
        _r(
            "Z018",
            V,
            "Mother found by name and birth date, but her identity document differs from the "
            "register's",
            "Мать найдена по ФИО и дате рождения, но документ, удостоверяющий личность, не "
            "совпадает с регистром: требуется проверка",
        ),
        _r(
            "Z019",
            V,
            "The child may already be enrolled: several people in the register share the "
            "child's name and birth date",
            "Ребёнок, возможно, уже застрахован: в регистре несколько лиц с теми же ФИО и датой "
            "рождения: требуется проверка",
        ),
        # --- employer contribution reports (РСВ) --------------------------------------------
        _r(
            "R001",
            R,
            "Person's СНИЛС has a wrong check digit",
            "Неверное контрольное число СНИЛС застрахованного лица",
        ),
        _r("R002", R, "Person's СНИЛС is missing", "Не указан СНИЛС застрахованного лица"),
        _r(
            "R003",
            None,
            "Person block annuls the earlier data for this person",
            "Сведения о лице аннулированы",
        ),
        _r(
            "R004",
            V,
            "Enrolled worker is no longer eligible after a correction: held for review",
            "После корректировки лицо более не соответствует условиям: требуется проверка",
        ),
        _r(
            "R005",
            None,
            "Person appears in more than one block of this file: the blocks are added up",
            "Сведения о лице приведены в файле несколько раз: сведения суммированы",
        ),
        _r(
            "R006",
            None,
            "Person's ИНН has a wrong check digit",
            "Неверное контрольное число ИНН лица",
        ),
        _r(
            "R007",
            V,
            "Entitled by contributions, but the reported citizenship is Russian",
            "Стаж взносов достаточен, но указано гражданство РФ: требуется проверка",
        ),
        _r(
            "R008",
            V,
            "Entitled by contributions, but the birth date is not known",
            "Стаж взносов достаточен, но дата рождения не известна: требуется проверка",
        ),
    ]
}


def reason(code: str) -> Reason:
    """The catalogue entry for a code; an unknown code is a programming error."""
    return CATALOGUE[code]


def decide(codes: list[str] | tuple[str, ...], default: Outcome = Outcome.ACCEPTED) -> Outcome:
    """The one outcome a set of codes forces.

    Precedence, strongest first: duplicate, not_applicable, rejected, review. A duplicate is
    decided before anything else is looked at; a stillbirth is out of scope whatever else is
    wrong with the record; an error beats a reason to hold.
    """
    forced = {reason(c).outcome for c in codes} - {None}
    for outcome in (Outcome.DUPLICATE, Outcome.NOT_APPLICABLE, Outcome.REJECTED, Outcome.REVIEW):
        if outcome in forced:
            return outcome
    return default
