"""The personal values of a deployment's input, and where they occur in a text: what the
console must never show."""

from __future__ import annotations

import csv
import dataclasses
import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path


@dataclasses.dataclass
class PersonalValues:
    """What must never be served: names (parts of four letters or more), СНИЛС in both
    spellings, birth dates (ISO and ДД.ММ.ГГГГ), document numbers."""

    words: set[str]  # single tokens: names, 11-digit СНИЛС, document numbers, …
    phrases: set[str]  # with separators: dates, printed СНИЛС, spaced document numbers

    def __len__(self) -> int:
        return len(self.words) + len(self.phrases)

    _PHRASES = re.compile(
        r"\d{4}-\d{2}-\d{2}|\d{2}\.\d{2}\.\d{4}|\d{3}-\d{3}-\d{3}[ -]\d{2}|\d{3} \d{3} \d{3} \d{2}"
        r"|\d{2} \d{2} \d{6}|\d{4} \d{6}"
    )
    _WORDS = re.compile(r"\w+")

    def found_in(self, text: str) -> set[str]:
        """The values that occur in ``text`` as themselves: a value inside a longer word or
        digit run (a СНИЛС's digits inside a 21-digit act number) is not one."""
        found = self.words & set(self._WORDS.findall(text))
        found |= self.phrases & set(self._PHRASES.findall(text))
        # a phrase of another shape (a hyphenated name) is looked for as it is
        found |= {p for p in self.phrases if not self._PHRASES.fullmatch(p) and p in text}
        return found


def personal_values(
    files: Iterable[Path], register_csv: Path | None, skip_dates=()
) -> PersonalValues:
    """Read the input with the project's own readers (the format each file names) and collect
    the personal values. ``skip_dates``: dates the pipeline prints for itself (the processing
    date) — the demo's "birth after the act date" record is born on it."""
    from pipelines.intake import detect_format
    from pipelines.parse import rsv
    from pipelines.parse.birth_formats import birth_format
    from pipelines.records import FullName, Parent

    words: set[str] = set()
    phrases: set[str] = set()
    skip = set(skip_dates)

    def add_date(value) -> None:
        value = getattr(value, "to_date", lambda: value)()
        if isinstance(value, date) and value not in skip:
            phrases.update({value.isoformat(), value.strftime("%d.%m.%Y")})

    def add_snils(value) -> None:
        digits = "".join(ch for ch in value or "" if ch.isdigit())
        if len(digits) == 11:
            words.add(digits)
            phrases.add(f"{digits[:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:]}")

    def add_name(*names) -> None:
        for name in names:
            if isinstance(name, FullName):
                add_name(name.last_name, name.first_name, name.middle_name)
            elif isinstance(name, str):
                words.update(p for p in re.split(r"\W+", name) if len(p) >= 4)
                if len(name) >= 4 and not re.fullmatch(r"\w+", name):
                    phrases.add(name)

    def add_document(number) -> None:
        if isinstance(number, str) and len(number.replace(" ", "")) >= 4:
            (words if re.fullmatch(r"\w+", number) else phrases).add(number)
            if " " in number:  # the number part of "series number"
                tail = number.rsplit(" ", 1)[1]
                if len(tail) >= 6:
                    words.add(tail)

    for path in files:
        try:
            feed, name = detect_format(path)
        except Exception:  # the broken file of the demo: a prefix of another, read there
            continue
        try:
            if feed == "zags_births":
                for record in birth_format(name).iter_births(path):
                    add_name(record.child.name)
                    add_snils(record.child.snils)
                    add_date(record.child.birth_date)
                    for parent in (record.mother, record.father):
                        if isinstance(parent, Parent):
                            add_name(parent.name)
                            add_snils(parent.snils)
                            add_date(parent.birth_date)
                            add_document(getattr(parent.document, "number", None))
            else:
                for person in rsv.iter_persons(path):
                    add_name(person.name)
                    add_snils(person.snils)
                    add_date(person.birth_date)
                    add_document(person.document_number)
        except Exception:  # a file the pipeline refused part-way: what was read is kept
            pass
    if register_csv is not None and register_csv.exists():
        with register_csv.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                add_name(row.get("last_name"), row.get("first_name"), row.get("middle_name"))
                add_snils(row.get("snils"))
                if row.get("birth_date"):
                    add_date(date.fromisoformat(row["birth_date"]))
    return PersonalValues(words, phrases)
