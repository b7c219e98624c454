"""Masking of personal data for everything that is not addressed to the person or their СМО.

Reports for analysts and the logs use these helpers; :func:`redact` is the last line of defence
for free text (install :class:`RedactFilter` on the log handlers).
"""

from __future__ import annotations

import logging
import re
from datetime import date

from pipelines.identifiers import snils_normalize
from pipelines.records import PartialDate

SNILS_MASKED = "***-***-*** **"

# Any 11 digits not part of a longer digit run, or the printed form NNN-NNN-NNN NN (also with
# spaces only): check digits are not looked at, since a mistyped СНИЛС is still personal data.
_SNILS_IN_TEXT = re.compile(
    r"(?<!\d)(?:\d{3}-\d{3}-\d{3}[ -]\d{2}|\d{3} \d{3} \d{3} \d{2}|\d{11})(?!\d)"
)


def mask_snils(value: str | None) -> str | None:
    """Printed form with only the last four digits kept: ``***-***-*45 95``.

    Anything that is not a СНИЛС in either form is masked whole.
    """
    if value is None:
        return None
    digits = snils_normalize(value) or snils_normalize(value.replace(" ", ""))
    if digits is None:
        return SNILS_MASKED
    return f"***-***-*{digits[7:9]} {digits[9:11]}"


def mask_name(value: str | None) -> str | None:
    """First letter and a fixed run of stars, so the length of the name is not given away."""
    if value is None:
        return None
    text = value.strip()
    return f"{text[0]}*****" if text else ""


def mask_date(value: date | PartialDate | None) -> str | None:
    """Only the year is kept: ``2024-**-**``."""
    if value is None:
        return None
    return f"{value.year:04d}-**-**"


def mask_document(value: str | None) -> str | None:
    """Only the last two characters of a document number are kept: ``****56``."""
    if value is None:
        return None
    text = "".join(value.split())
    return f"****{text[-2:]}" if len(text) > 2 else "**"


def redact(text: str) -> str:
    """``text`` with every СНИЛС-like sequence replaced by its masked form."""
    return _SNILS_IN_TEXT.sub(lambda m: mask_snils(m.group(0)) or SNILS_MASKED, text)


class RedactFilter(logging.Filter):
    """A logging filter that redacts the formatted message and any traceback text."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


# --- masking by what a field holds ------------------------------------------------------------
# Pages and reports for the fund's analysts mask a value by the field it comes from, never by
# what its characters look like: a file name, an act number or an ЕНП is shown as it is, a
# СНИЛС, a name, a birth date or a document is masked wherever it appears. A field that is not
# listed here is masked whole when it holds text: an unknown field is never shown by default.

_NAME_FIELDS = frozenset({"last_name", "first_name", "middle_name", "patronymic", "name"})
_SNILS_FIELDS = frozenset({"snils", "mother_snils", "child_snils"})
_DATE_FIELDS = frozenset({"birth_date", "mother_birth_date"})
_DOCUMENT_FIELDS = frozenset({"document_number", "number", "series", "document"})
_PLACE_FIELDS = frozenset({"birth_place", "residence", "address"})
SHOWN_FIELDS = frozenset(
    {
        "enp", "insurer_code", "sex", "citizenship", "working", "employer_inn", "employer_kpp",
        "origin", "version", "included_on", "employment_as_of", "status", "valid_from",
        "valid_to", "reason", "basis", "kind", "issued_on", "current", "event", "decision",
        "decided_by", "confirmed_by", "action", "id", "months_count", "threshold", "rule",
        "act_number", "record_key", "file", "file_name", "policy_status", "change", "months",
    }
)  # fmt: skip
PLACE_MASKED = "(on file)"


def mask_field(field: str, value):
    """``value`` as an analyst may see it, by the field it comes from."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if field in _SNILS_FIELDS:
        return mask_snils(str(value))
    if field in _NAME_FIELDS:
        return mask_name(str(value))
    if field in _DATE_FIELDS:
        if isinstance(value, date | PartialDate):
            return mask_date(value)
        text = str(value)
        return f"{text[:4]}-**-**" if text[:4].isdigit() else "****-**-**"
    if field in _DOCUMENT_FIELDS:
        return mask_document(str(value))
    if field in _PLACE_FIELDS:
        return PLACE_MASKED
    if field in SHOWN_FIELDS:
        return value if isinstance(value, date) else str(value)
    if isinstance(value, dict):
        return mask_fields(value)
    if isinstance(value, list):
        return [mask_field(field, v) for v in value]
    return "***"


def mask_fields(data: dict) -> dict:
    """Every value of ``data`` masked by its key (:func:`mask_field`)."""
    return {key: mask_field(key, value) for key, value in data.items()}


def mask_record_key(feed: str | None, key: str | None) -> str | None:
    """A record's key as the sender knows it: an act number is shown, an РСВ person block's
    key is the person's СНИЛС and is masked (a key written ``#<seq>`` names a position)."""
    if key is None or feed != "fns_rsv" or key.startswith("#"):
        return key
    return mask_snils(key)
