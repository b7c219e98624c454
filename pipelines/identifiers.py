"""Check digits of the identifiers the feeds carry (DOMAIN.md §5), and ЕНП composition.

Pure functions over strings; nothing here touches the register. Validators return False for
anything malformed rather than raising, so the rules can call them on raw input.
"""

from __future__ import annotations

import re
from datetime import date

# ASCII only: \d alone also matches other scripts' digits (Arabic-Indic, fullwidth), which int()
# accepts, so a number written in them could pass the prefix or mod-11 checks.
_DIGITS = re.compile(r"\d+", re.ASCII)
_KPP = re.compile(r"\d{4}[0-9A-Z]{2}\d{3}", re.ASCII)


def _digits(value: object, length: int) -> str | None:
    if not isinstance(value, str) or len(value) != length or not _DIGITS.fullmatch(value):
        return None
    return value


# --- СНИЛС ------------------------------------------------------------------------------------

SNILS_NO_CHECK_UP_TO = 1_001_998  # numbers up to 001-001-998 carry no check


def snils_normalize(value: object) -> str | None:
    """11 digits from ``NNNNNNNNNNN`` or the printed ``NNN-NNN-NNN NN``; None if neither."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _PRINTED_SNILS.fullmatch(text):
        text = text[0:3] + text[4:7] + text[8:11] + text[12:14]
    return _digits(text, 11)


_PRINTED_SNILS = re.compile(r"\d{3}-\d{3}-\d{3}[ -]\d{2}", re.ASCII)


def snils_check_digits(first9: str) -> str:
    """The two check digits for the first nine digits of a СНИЛС."""
    total = sum(int(d) * w for d, w in zip(first9, range(9, 0, -1), strict=True))
    if total < 100:
        check = total
    elif total in (100, 101):
        check = 0
    else:
        check = total % 101
        if check == 100:
            check = 0
    return f"{check:02d}"


def snils_is_valid(value: object) -> bool:
    digits = snils_normalize(value)
    if digits is None:
        return False
    if int(digits[:9]) <= SNILS_NO_CHECK_UP_TO:
        return True
    return snils_check_digits(digits[:9]) == digits[9:]


def snils_format(value: str) -> str:
    """The printed form ``NNN-NNN-NNN NN``."""
    d = snils_normalize(value)
    if d is None:
        raise ValueError("not a СНИЛС")
    return f"{d[0:3]}-{d[3:6]}-{d[6:9]} {d[9:11]}"


# --- ИНН, КПП, ОГРН ---------------------------------------------------------------------------

_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _weighted(digits: str, weights: tuple[int, ...]) -> str:
    return str(sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10)


def inn_check_digits(prefix: str) -> str:
    """The check digit(s) of an ИНН: one after 9 digits (organisation), two after 10 (person)."""
    if len(prefix) == 9:
        return _weighted(prefix, _INN10)
    if len(prefix) == 10:
        eleventh = _weighted(prefix, _INN11)
        return eleventh + _weighted(prefix + eleventh, _INN12)
    raise ValueError("an ИНН prefix has 9 or 10 digits")


def inn_is_valid(value: object) -> bool:
    """ИНН of an organisation (10 digits) or a person (12 digits)."""
    if isinstance(value, str) and _digits(value, 10):
        return _weighted(value[:9], _INN10) == value[9]
    if isinstance(value, str) and _digits(value, 12):
        return (
            _weighted(value[:10], _INN11) == value[10]
            and _weighted(value[:11], _INN12) == value[11]
        )
    return False


def kpp_is_valid(value: object) -> bool:
    """КПП: 4-digit tax office, 2 reason characters (digits or A-Z), 3 digits. No checksum."""
    return isinstance(value, str) and bool(_KPP.fullmatch(value))


def ogrn_is_valid(value: object) -> bool:
    """ОГРН (13 digits, mod 11) or ОГРНИП (15 digits, mod 13), each then mod 10."""
    if isinstance(value, str) and _digits(value, 13):
        return int(value[:12]) % 11 % 10 == int(value[12])
    if isinstance(value, str) and _digits(value, 15):
        return int(value[:14]) % 13 % 10 == int(value[14])
    return False


# --- ЕНП --------------------------------------------------------------------------------------

ENP_MAX_SERIAL = 9999


def luhn_check_digit(payload: str) -> str:
    """The digit that makes ``payload + digit`` pass the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:  # rightmost payload digit sits in an even position once the check is added
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def enp_is_valid(value: object) -> bool:
    """16 digits passing Luhn over all of them (ФОМС order N 79, annex Г)."""
    digits = _digits(value, 16)
    return digits is not None and luhn_check_digit(digits[:15]) == digits[15]


def enp_compose(region: str, duplicate_index: int, birth_date: date, serial: int) -> str:
    """An ЕНП as the fund issues it: region · duplicate index · birth date · serial · check.

    *Assumption* (DOMAIN.md §5): the serial is unique per (region, birth date) and the duplicate
    index goes up when the serials of a day run out.
    """
    if not (_digits(region, 2) and 0 <= duplicate_index <= 9 and 0 < serial <= ENP_MAX_SERIAL):
        raise ValueError("ЕНП parts out of range")
    # Not strftime: %Y does not zero-pad years before 1000, which would shorten the number.
    birth = f"{birth_date.year:04d}{birth_date.month:02d}{birth_date.day:02d}"
    payload = f"{region}{duplicate_index}{birth}{serial:04d}"
    return payload + luhn_check_digit(payload)
