import logging
from datetime import date

import pytest

from pipelines.privacy import (
    RedactFilter,
    mask_date,
    mask_document,
    mask_name,
    mask_snils,
    redact,
)
from pipelines.records import ABSENT, PartialDate


@pytest.mark.parametrize(
    "value",
    ["11223344595", "112-233-445 95", "112-233-445-95", "112 233 445 95"],
)
def test_mask_snils_keeps_last_four_digits(value):
    assert mask_snils(value) == "***-***-*45 95"


def test_mask_snils_masks_anything_else_whole():
    assert mask_snils("1122334459") == "***-***-*** **"
    assert mask_snils("not a snils") == "***-***-*** **"
    assert mask_snils(None) is None


def test_mask_name_keeps_first_letter_only():
    assert mask_name("Иванова") == "И*****"
    assert mask_name("Ли") == "Л*****"  # the length is not given away
    assert mask_name("  ") == ""
    assert mask_name(None) is None


def test_mask_date_keeps_year():
    assert mask_date(date(2024, 1, 15)) == "2024-**-**"
    assert mask_date(PartialDate(2023, ABSENT, ABSENT)) == "2023-**-**"
    assert mask_date(None) is None


def test_mask_document_keeps_last_two():
    assert mask_document("4510 123456") == "****56"
    assert mask_document("12") == "**"
    assert mask_document(None) is None


def test_redact_masks_every_snils_form():
    text = (
        "mother 11223344595, child 148-481-255 85, wrong check 11223344590, spaced 112 233 445 95"
    )
    out = redact(text)
    for raw in ("11223344595", "148-481-255 85", "11223344590", "112 233 445 95"):
        assert raw not in out
    assert out.count("***-***-*") == 4
    assert "*55 85" in out


def test_redact_leaves_other_numbers_alone():
    text = "ЕНП 2341998071655749, ИНН 500100732259, date 2024-01-15, 10 records, id 1234567890"
    assert redact(text) == text


def test_redact_is_idempotent():
    once = redact("key 7701234567:2024:11223344595:1")
    assert once == "key 7701234567:2024:***-***-*45 95:1"
    assert redact(once) == once


def test_redact_filter_rewrites_message_and_traceback(caplog):
    logger = logging.getLogger("test_privacy_filter")
    logger.addFilter(RedactFilter())
    try:
        with caplog.at_level(logging.INFO, logger=logger.name):
            logger.info("linked %s to %s", "11223344595", "2341998071655749")
            try:
                raise ValueError("bad СНИЛС 148-481-255 85")
            except ValueError:
                logger.exception("failed")
    finally:
        logger.filters.clear()
    assert "11223344595" not in caplog.text
    assert "148-481-255 85" not in caplog.text
    assert "linked ***-***-*45 95 to 2341998071655749" in caplog.text
    assert "*55 85" in caplog.text
