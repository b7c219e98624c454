"""The birth-registration formats the pipeline reads, by the name ``intake.detect_format`` gives.

ЕГР ЗАГС reaches a fund two ways (DOMAIN.md §4.1): the push ROGDZP (4.0.0, 4.0.1), which funds
subscribe to, and ROGDINF 4.0.1, the answer to a request of the fund's. Both become the same
:class:`~pipelines.records.BirthRecord` and meet the same rules; a ROGDZP file is acknowledged
per message as well. Any other version is refused with F014, naming what was received.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pipelines.parse import rogdzp, zags
from pipelines.parse.xmlsafe import FileError
from pipelines.records import BirthRecord


@dataclass(frozen=True)
class BirthFormat:
    name: str
    validate_structure: Callable[[Path], None]
    iter_births: Callable[[Path], Iterator[BirthRecord]]
    # the messages a file must be acknowledged for (ROGDZP), or None: nothing to acknowledge
    messages: Callable[[Path], list[rogdzp.Message]] | None = None
    # one pass that checks the schema as it reads the records, where the format has one
    checked_births: Callable[[Path], Iterator[BirthRecord]] | None = None

    def read_checked(self, path: Path) -> Iterator[BirthRecord]:
        """The records of a file that must pass the schema. A violation raises
        :func:`validate_structure`'s error: before any record with a separate schema pass, and
        after the records read so far with the one-pass reader. So a caller keeps what it does
        with them undone until the last record is read."""
        if self.checked_births is not None:
            return self.checked_births(path)
        self.validate_structure(path)
        return self.iter_births(path)


FORMATS: dict[str, BirthFormat] = {
    f.name: f
    for f in (
        BirthFormat(
            "ROGDINF 4.0.1",
            zags.validate_structure,
            zags.iter_births,
            checked_births=zags.iter_checked_births,
        ),
        *(
            BirthFormat(
                f"ROGDZP {v}", rogdzp.validate_structure, rogdzp.iter_births, rogdzp.messages
            )
            for v in rogdzp.VERSIONS
        ),
    )
}


def birth_format(name: str | None) -> BirthFormat:
    """The reader of a format; F014, naming the format received, for one not read here."""
    found = FORMATS.get(name or "")
    if found is None:
        raise FileError(
            "F014", f"{name or 'the format'} is not supported (supported: {', '.join(FORMATS)})"
        )
    return found
