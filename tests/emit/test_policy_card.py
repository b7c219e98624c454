from datetime import date

import pytest
from PIL import Image

from pipelines.emit.model import PolicyExtract
from pipelines.emit.policy_card import render_policy

ENP = "2341998071655749"


def extract(**overrides):
    values = {
        "enp": ENP,
        "last_name": "Иванова",
        "first_name": "Мария",
        "middle_name": "Петровна",
        "birth_date": date(2024, 1, 10),
        "sex": 2,
        "insurer_code": "45001",
        "insurer_name": "АО «Страховая компания»",
        "status": "active",
        "valid_from": date(2024, 1, 15),
        "valid_to": None,
        "fund_region": "45",
        "issued_on": date(2024, 1, 15),
    }
    return PolicyExtract(**(values | overrides))


def test_barcode_png_opens_and_has_sane_dimensions(tmp_path):
    png, txt = render_policy(extract(), tmp_path)
    assert png.name == f"{ENP}.png"
    assert txt.name == f"{ENP}.txt"
    with Image.open(png) as image:
        image.verify()
    with Image.open(png) as image:
        assert image.format == "PNG"
        width, height = image.size
        assert 300 <= width <= 2000
        assert 100 <= height <= width
        # dark bars on a light background, not a blank page
        grey = image.convert("L")
        assert grey.getextrema() == (0, 255)


def test_barcode_is_reproducible(tmp_path):
    first = render_policy(extract(), tmp_path / "a")[0].read_bytes()
    second = render_policy(extract(), tmp_path / "b")[0].read_bytes()
    assert first == second


def test_extract_is_for_the_holder(tmp_path):
    text = render_policy(extract(), tmp_path)[1].read_text("utf-8")
    assert ENP in text
    assert "45001 АО «Страховая компания»" in text
    assert "Иванова Мария Петровна" in text
    assert "10.01.2024" in text
    assert "женский / female" in text
    assert "действует / active" in text
    assert "бессрочно / no end date" in text
    assert "Регион выдачи / Fund region: 45" in text


def test_extract_of_a_dated_policy(tmp_path):
    text = render_policy(extract(middle_name=None, sex=1, valid_to=date(2025, 12, 31)), tmp_path)[
        1
    ].read_text("utf-8")
    assert "Действует по / Valid to: 31.12.2025" in text
    assert "бессрочно" not in text
    assert "Иванова Мария\n" in text
    assert "мужской / male" in text


def test_invalid_enp_is_refused(tmp_path):
    with pytest.raises(ValueError):
        render_policy(extract(enp="../../etc/passwd"), tmp_path)
    with pytest.raises(ValueError):
        render_policy(extract(enp="2341998071655740"), tmp_path)
