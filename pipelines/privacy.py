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
