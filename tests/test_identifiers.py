"""Check digits of ЕНП, СНИЛС, ИНН, КПП and ОГРН: the public vectors of DOMAIN.md §5 and properties.

The properties compare against small reference implementations written here from the DOMAIN.md
table, so a slip in pipelines/identifiers.py does not hide behind itself.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from pipelines.identifiers import (
    SNILS_NO_CHECK_UP_TO,
    enp_compose,
    enp_is_valid,
    inn_check_digits,
    inn_is_valid,
    kpp_is_valid,
    luhn_check_digit,
    ogrn_is_valid,
    snils_check_digits,
    snils_format,
    snils_is_valid,
    snils_normalize,
)

# --- reference implementations, straight from the DOMAIN.md §5 table ---------------------------


def ref_snils_sum(first9: str) -> int:
    return sum(int(d) * w for d, w in zip(first9, range(9, 0, -1), strict=True))


def ref_snils_check(first9: str) -> int:
    total = ref_snils_sum(first9)
    if total < 100:
        return total
    if total in (100, 101):
        return 0
    return 0 if total % 101 == 100 else total % 101


def ref_luhn_valid(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def ref_inn_digit(digits: str, weights: tuple[int, ...]) -> str:
    return str(sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 % 10)


INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
INN11_WEIGHTS = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
INN12_WEIGHTS = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def other_digit(digit: str, shift: int) -> str:
    """A digit different from ``digit`` (shift 1..9)."""
    return str((int(digit) + shift) % 10)


def replace_at(text: str, index: int, char: str) -> str:
    return text[:index] + char + text[index + 1 :]


# --- public vectors ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["2341998071655749", "8451999122899990"])
def test_enp_public_valid(value: str) -> None:
    assert enp_is_valid(value)


@pytest.mark.parametrize(
    "value",
    [
        "2341998071655740",  # public invalid vector
        "234199807165574",  # 15 digits
        "23419980716557490",  # 17 digits
        "2341-99807165574",
        "",
        None,
        2341998071655749,  # an int is not a policy number as sent
    ],
)
def test_enp_invalid(value: object) -> None:
    assert not enp_is_valid(value)


def test_enp_public_vector_layout() -> None:
    # 23 region, 4 duplicate index, 1998-07-16 birth date, 5574 serial, 9 check
    assert enp_compose("23", 4, date(1998, 7, 16), 5574) == "2341998071655749"


@pytest.mark.parametrize(
    "value",
    [
        "11223344595",
        "112-233-445 95",
        "19702774500",
        "30025146900",  # weighted sum 101 -> 00
        "21204338300",  # weighted sum 100 -> 00
        "010-242-368 77",
        "148-481-255 85",
    ],
)
def test_snils_public_valid(value: str) -> None:
    assert snils_is_valid(value)


@pytest.mark.parametrize(
    ("first9", "total"),
    [("300251469", 101), ("212043383", 100), ("112233445", 95)],
)
def test_snils_public_vector_sums(first9: str, total: int) -> None:
    assert ref_snils_sum(first9) == total
    assert snils_check_digits(first9) == f"{ref_snils_check(first9):02d}"


@pytest.mark.parametrize(
    "value",
    [
        "11223344590",
        "010-242-368 00",
        "1122334459",  # 10 digits
        "112233445950",  # 12 digits
        "112-233-44595",  # half-printed
        "112 233 445 95",
        "",
        None,
        11223344595,
    ],
)
def test_snils_invalid(value: object) -> None:
    assert not snils_is_valid(value)


@pytest.mark.parametrize("value", ["00100199800", "001-001-998 42", "00000000100"])
def test_snils_up_to_001_001_998_carries_no_check(value: str) -> None:
    assert snils_is_valid(value)


def test_snils_first_checked_number() -> None:
    # 001-001-999 is the first number whose check digits count.
    assert int("001001999") == SNILS_NO_CHECK_UP_TO + 1
    good = "001001999" + f"{ref_snils_check('001001999'):02d}"
    assert snils_is_valid(good)
    assert not snils_is_valid(replace_at(good, 10, other_digit(good[10], 1)))


def test_snils_sum_100_and_101_both_give_00_so_that_step_goes_unseen() -> None:
    # A documented blind spot of the algorithm, not of the code: 212043383 (sum 100) and
    # 212043384 (sum 101) share the check 00, so this single-digit slip passes.
    assert snils_is_valid("21204338300")
    assert snils_is_valid("21204338400")


def test_snils_printed_form() -> None:
    assert snils_format("11223344595") == "112-233-445 95"
    assert snils_normalize("112-233-445 95") == "11223344595"
    assert snils_normalize("112-233-445-95") == "11223344595"
    with pytest.raises(ValueError):
        snils_format("1122334459")


@pytest.mark.parametrize("value", ["1234567894", "500100732259", "123456789047", "7707083893"])
def test_inn_public_valid(value: str) -> None:
    assert inn_is_valid(value)


@pytest.mark.parametrize(
    "value",
    [
        "1234567895",
        "123456789037",
        "7701234567",  # the public zero-report sample: pattern-valid, check digit wrong
        "12345678904",  # 11 digits
        "123456789",
        "",
        None,
        1234567894,
    ],
)
def test_inn_invalid(value: object) -> None:
    assert not inn_is_valid(value)


@pytest.mark.parametrize("value", ["770101001", "773601001", "7701AB001", "7701A1001"])
def test_kpp_valid(value: str) -> None:
    assert kpp_is_valid(value)


@pytest.mark.parametrize(
    "value",
    [
        "77010100",  # 8 chars
        "7701010011",  # 10 chars
        "7701ab001",  # reason chars are upper-case
        "A70101001",  # tax office is digits
        "770101A01",  # last three are digits
        "7701Ж1001",  # Cyrillic is not A-Z
        "770101001\n",
        " 770101001",
        "",
        None,
        770101001,
    ],
)
def test_kpp_invalid(value: object) -> None:
    assert not kpp_is_valid(value)


@pytest.mark.parametrize("value", ["315850060100090", "1027700132195"])
def test_ogrn_valid(value: str) -> None:
    assert ogrn_is_valid(value)


def test_ogrnip_remainder_10_needs_the_final_mod_10() -> None:
    assert int("31585006010009") % 13 == 10
    assert ogrn_is_valid("315850060100090")
    assert not ogrn_is_valid("315850060100091")


@pytest.mark.parametrize("value", ["1027700132194", "315850060100091", "10277001321", "", None])
def test_ogrn_invalid(value: object) -> None:
    assert not ogrn_is_valid(value)


# Digits of other scripts (Arabic-Indic, fullwidth) pass int() but are not identifiers.
@pytest.mark.parametrize(
    ("check", "value"),
    [
        (snils_is_valid, "٠٠٠٠٠٠٠٠١٠٠"),
        (snils_is_valid, "٠٠٠-٠٠٠-٠٠١ ٠٠"),
        (ogrn_is_valid, "٣١٥٨٥٠٠٦٠١٠٠٠٩٠"),
        (kpp_is_valid, "٧٧٠١01٠٠١"),
        (inn_is_valid, "١٢٣٤٥٦٧٨٩٤"),
        (enp_is_valid, "２３４１９９８０７１６５５７４９"),
    ],
)
def test_non_ascii_digits_are_rejected(check: object, value: str) -> None:
    assert not check(value)  # type: ignore[operator]


def test_enp_compose_rejects_parts_out_of_range() -> None:
    for args in [
        ("4", 0, date(2024, 1, 1), 1),
        ("45", 10, date(2024, 1, 1), 1),
        ("45", 0, date(2024, 1, 1), 0),
        ("45", 0, date(2024, 1, 1), 10_000),
    ]:
        with pytest.raises(ValueError):
            enp_compose(*args)


# --- properties -------------------------------------------------------------------------------

regions = st.integers(0, 99).map(lambda n: f"{n:02d}")
checked_snils_bodies = st.integers(SNILS_NO_CHECK_UP_TO + 1, 999_999_999).map(lambda n: f"{n:09d}")


@st.composite
def valid_snils(draw: st.DrawFn) -> str:
    body = draw(checked_snils_bodies)
    return body + f"{ref_snils_check(body):02d}"


@st.composite
def valid_inn(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        body = draw(st.text("0123456789", min_size=9, max_size=9))
        return body + ref_inn_digit(body, INN10_WEIGHTS)
    body = draw(st.text("0123456789", min_size=10, max_size=10))
    body += ref_inn_digit(body, INN11_WEIGHTS)
    return body + ref_inn_digit(body, INN12_WEIGHTS)


@given(regions, st.integers(0, 9), st.dates(), st.integers(1, 9999))
def test_enp_compose_is_valid_and_round_trips(
    region: str, duplicate_index: int, birth_date: date, serial: int
) -> None:
    enp = enp_compose(region, duplicate_index, birth_date, serial)
    assert len(enp) == 16 and enp.isascii() and enp.isdigit()
    assert enp_is_valid(enp)
    assert ref_luhn_valid(enp)
    assert enp[0:2] == region
    assert int(enp[2]) == duplicate_index
    assert date(int(enp[3:7]), int(enp[7:9]), int(enp[9:11])) == birth_date
    assert int(enp[11:15]) == serial


@given(st.text("0123456789", min_size=15, max_size=15))
def test_luhn_check_digit_matches_reference(payload: str) -> None:
    assert ref_luhn_valid(payload + luhn_check_digit(payload))


@given(regions, st.integers(0, 9), st.dates(), st.integers(1, 9999), st.data())
def test_enp_any_single_digit_change_is_caught(
    region: str, duplicate_index: int, birth_date: date, serial: int, data: st.DataObject
) -> None:
    enp = enp_compose(region, duplicate_index, birth_date, serial)
    index = data.draw(st.integers(0, 15))
    shift = data.draw(st.integers(1, 9))
    assert not enp_is_valid(replace_at(enp, index, other_digit(enp[index], shift)))


@given(valid_snils())
def test_snils_valid_also_in_printed_form(snils: str) -> None:
    assert snils_is_valid(snils)
    printed = snils_format(snils)
    assert printed == f"{snils[0:3]}-{snils[3:6]}-{snils[6:9]} {snils[9:11]}"
    assert snils_is_valid(printed)
    assert snils_normalize(printed) == snils


@given(valid_snils(), st.integers(9, 10), st.integers(1, 9))
def test_snils_check_digit_change_is_caught(snils: str, index: int, shift: int) -> None:
    assert not snils_is_valid(replace_at(snils, index, other_digit(snils[index], shift)))


def _collapses_to_00(total: int) -> bool:
    return total in (100, 101) or (total > 101 and total % 101 in (0, 100))


@given(valid_snils(), st.integers(0, 8), st.integers(1, 9))
def test_snils_body_digit_change_is_caught_unless_both_sums_give_00(
    snils: str, index: int, shift: int
) -> None:
    changed = replace_at(snils, index, other_digit(snils[index], shift))
    assume(int(changed[:9]) > SNILS_NO_CHECK_UP_TO)  # below that nothing is checked
    before, after = ref_snils_sum(snils[:9]), ref_snils_sum(changed[:9])
    if _collapses_to_00(before) and _collapses_to_00(after):
        assert snils_is_valid(changed)  # the algorithm's own blind spot (sum 100 vs 101 ...)
    else:
        assert not snils_is_valid(changed)


@given(valid_inn(), st.integers(1, 9))
def test_inn_check_digit_change_is_caught(inn: str, shift: int) -> None:
    assert inn_is_valid(inn)
    assert not inn_is_valid(inn[:-1] + other_digit(inn[-1], shift))


@given(st.text("0123456789", min_size=9, max_size=9), st.integers(0, 9))
def test_inn10_exactly_one_check_digit_fits(body: str, digit: int) -> None:
    assert inn_is_valid(body + str(digit)) == (str(digit) == ref_inn_digit(body, INN10_WEIGHTS))


@given(
    st.one_of(
        st.none(),
        st.integers(),
        st.binary(),
        st.text(),
        st.text("0123456789- ", max_size=20),
    )
)
def test_validators_never_raise(value: object) -> None:
    for check in (snils_is_valid, inn_is_valid, kpp_is_valid, ogrn_is_valid, enp_is_valid):
        assert check(value) in (True, False)


@given(st.from_regex(r"[0-9]{9}", fullmatch=True) | st.from_regex(r"[0-9]{10}", fullmatch=True))
def test_inn_check_digits_compose_a_valid_inn(prefix):
    assert inn_is_valid(prefix + inn_check_digits(prefix))


def test_inn_check_digits_match_the_public_vectors():
    assert "123456789" + inn_check_digits("123456789") == "1234567894"
    assert "5001007322" + inn_check_digits("5001007322") == "500100732259"
