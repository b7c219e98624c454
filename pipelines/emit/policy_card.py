"""The electronic policy as the state portal shows it: a barcode of the ЕНП and a short extract.

This is for the holder, so nothing is masked. The barcode is Code 128 drawn by python-barcode
with Pillow; its text under the bars uses the font python-barcode ships, not a system font.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

from pipelines.emit import write_atomic
from pipelines.emit.model import PolicyExtract
from pipelines.identifiers import enp_is_valid

NO_END_DATE = "бессрочно / no end date"

_SEX = {1: "мужской / male", 2: "женский / female"}
_STATUS = {
    "active": "действует / active",
    "suspended": "приостановлен / suspended",
    "lapsed": "прекращён / lapsed",
    "closed": "прекращён / closed",
}

# Sizes in mm at 300 dpi: a 16-digit ЕНП in Code 128 (set C) is 123 modules, about 37 mm of bars.
_BARCODE_OPTIONS = {
    "module_width": 0.3,
    "module_height": 15.0,
    "quiet_zone": 3.0,
    "font_size": 10,
    "text_distance": 4.0,
    "dpi": 300,
}


def _date(value: date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else "не указана / not stated"


def barcode_png(enp: str) -> bytes:
    """A PNG of the ЕНП as Code 128, with the number printed under the bars."""
    from barcode import Code128
    from barcode.writer import ImageWriter

    buffer = io.BytesIO()
    Code128(enp, writer=ImageWriter(format="PNG")).write(buffer, options=_BARCODE_OPTIONS)
    return buffer.getvalue()


def extract_text(extract: PolicyExtract) -> str:
    """The holder's extract, Russian and English."""
    holder = " ".join(
        part for part in (extract.last_name, extract.first_name, extract.middle_name) if part
    )
    lines = [
        "Выписка о полисе обязательного медицинского страхования",
        "Compulsory medical insurance (OMS) policy extract",
        "",
        f"Номер полиса (ЕНП) / Policy number: {extract.enp}",
        "Вид полиса / Kind: электронный / electronic",
        f"Застрахованное лицо / Holder: {holder or 'не указано / not stated'}",
        f"Дата рождения / Date of birth: {_date(extract.birth_date)}",
        f"Пол / Sex: {_SEX.get(extract.sex or 0, 'не указан / not stated')}",
        f"Страховая медицинская организация / Insurer: {extract.insurer_code} "
        f"{extract.insurer_name}",
        f"Статус / Status: {_STATUS.get(extract.status, extract.status)}",
        f"Действует с / Valid from: {_date(extract.valid_from)}",
        "Действует по / Valid to: "
        + (_date(extract.valid_to) if extract.valid_to else NO_END_DATE),
        f"Регион выдачи / Fund region: {extract.fund_region}",
        f"Дата выдачи / Issued on: {_date(extract.issued_on)}",
    ]
    return "\n".join(lines) + "\n"


def render_policy(extract: PolicyExtract, out_dir: Path) -> list[Path]:
    """Write ``<ЕНП>.png`` (barcode) and ``<ЕНП>.txt`` (extract) into ``out_dir``."""
    if not enp_is_valid(extract.enp):  # also keeps the file names safe
        raise ValueError("policy number is not a valid ЕНП")
    out = Path(out_dir)
    return [
        write_atomic(out / f"{extract.enp}.png", barcode_png(extract.enp)),
        write_atomic(out / f"{extract.enp}.txt", extract_text(extract).encode("utf-8")),
    ]
