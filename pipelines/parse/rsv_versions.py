"""The РСВ (КНД 1151111) form versions the pipeline reads, 5.01–5.08, and how they differ for us.

Only 5.08 has a schema of the project's own (``schemas/fns-rsv-5.08/``); no official XSD of
5.01–5.07 is public. The schema of an older version is derived from the 5.08 one in code, by
the edits its :class:`FormVersion` names, and compiled once per version. What is known about
the versions, and what is assumed, is in docs/formats.md; the evidence is
``shared/reference/fns-rsv-history/VERSIONS.md``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from pipelines.parse.xmlsafe import FileError
from pipelines.resources import schemas_dir

BASELINE = "5.08"
SCHEMA_PATH = Path("fns-rsv-5.08") / "NO_RASCHSV.xsd"

# The insured-person categories renamed in 5.08 (ФНС order ЕД-1-11/67@): old code → new code.
# VERSIONS.md names these three; every other code is taken to be spelt alike in all versions.
RENAMED_IN_5_08: dict[str, str] = {"МС": "ПВ", "ВЖМС": "ВЖПВ", "ВПМС": "ВППВ"}

# Before 5.08 the exact КодКатЛиц lists are not public: any 2–4 Cyrillic capitals are read. The
# rules downstream look only at the prefix (ВП: temporarily staying), which both families share.
OPEN_CATEGORY_PATTERN = "[А-ЯЁ]{2,4}"
# Identity document kinds (СПДУЛ) before 5.08: two digits; the 5.08 list is not assumed.
OPEN_DOCUMENT_KIND_PATTERN = "[0-9]{2}"


@dataclass(frozen=True, slots=True)
class FormVersion:
    """What one form version means for the reader. ``in_force`` and ``report_years`` are
    informational: no rule checks a file's version against its ОтчетГод (a correction is filed
    in the form of the period it corrects, and the mapping is not established for 5.01–5.05)."""

    version: str  # Файл/@ВерсФорм
    in_force: str  # the periods it is known, believed or not known to be in force for
    report_years: tuple[int, ...]  # ОтчетГод the sources tie it to; () where they are silent
    category_family: tuple[str, ...]  # the category codes this family spells its own way
    # XSD pattern КодКатЛиц must match; None: the 5.08 enumeration of the project's schema
    category_pattern: str | None
    optional_person_attributes: frozenset[str]  # ДанФЛПолуч attributes that may be missing
    # XSD pattern КодВидДок must match; None: the 5.08 enumeration of the project's schema
    document_kind_pattern: str | None

    @property
    def derived(self) -> bool:
        """Whether its schema is derived from the 5.08 one rather than the project's own file."""
        return self.version != BASELINE

    def category_code(self, code: str) -> str:
        """A 5.08 category code as this version spells it (ВППВ is ВПМС before 5.08)."""
        if not self.derived:
            return code
        return _RENAMED_BACK.get(code, code)


_RENAMED_BACK = {new: old for old, new in RENAMED_IN_5_08.items()}
PV_FAMILY = ("ПВ", "ВЖПВ", "ВППВ")
MS_FAMILY = ("МС", "ВЖМС", "ВПМС")
_OLDER_OPTIONAL = frozenset({"ДатаРожд", "СерНомДок"})
_NOT_ESTABLISHED = "not established: no order text, XSD or sample found (VERSIONS.md)"


def _older(version: str, in_force: str, report_years: tuple[int, ...] = ()) -> FormVersion:
    # What real 5.06 files show (VERSIONS.md: МС category, no ДатаРожд/СерНомДок) is assumed
    # for every version before 5.08: nothing is known of 5.01–5.05 and 5.07 that says otherwise.
    return FormVersion(
        version=version,
        in_force=in_force,
        report_years=report_years,
        category_family=MS_FAMILY,
        category_pattern=OPEN_CATEGORY_PATTERN,
        optional_person_attributes=_OLDER_OPTIONAL,
        document_kind_pattern=OPEN_DOCUMENT_KIND_PATTERN,
    )


VERSIONS: dict[str, FormVersion] = {
    v.version: v
    for v in (
        # VERSIONS.md is silent on 5.01–5.05: neither the order nor the periods are known.
        _older("5.01", _NOT_ESTABLISHED),
        _older("5.02", _NOT_ESTABLISHED),
        _older("5.03", _NOT_ESTABLISHED),
        _older("5.04", _NOT_ESTABLISHED),
        _older("5.05", _NOT_ESTABLISHED),
        _older("5.06", "ОтчетГод 2024: seen in real files (СБИС, Период 21, 31, 33)", (2024,)),
        _older(
            "5.07",
            "2025, believed: the form of ФНС order ЕД-7-11/739@ of 13.09.2024 (not confirmed)",
            (2025,),
        ),
        FormVersion(
            version=BASELINE,
            in_force="2026 on: ФНС order ЕД-1-11/67@ of 04.02.2026",
            report_years=(2026,),
            category_family=PV_FAMILY,
            category_pattern=None,
            optional_person_attributes=frozenset(),
            document_kind_pattern=None,
        ),
    )
}

# A version is shown in a detail only when it is shaped like one (5.99, 5.08.1): anything else
# from a hostile file — a long string, control characters, a date or number that could be
# someone's — becomes "?". Stricter than intake.shown_version, which lets ten characters through.
_SHOWN = re.compile(r"[0-9]{1,2}(?:\.[0-9]{1,3}){1,2}", re.ASCII)


def shown(value: str | None) -> str:
    """A ``ВерсФорм`` value as a detail may name it: itself if version-shaped, else ``?``."""
    text = (value or "").strip()
    return text if _SHOWN.fullmatch(text) else "?"


def rules_for(version: str | None) -> FormVersion:
    """The rules of one form version; F014, naming the version sanitised, for one not read."""
    found = VERSIONS.get((version or "").strip())
    if found is None:
        raise FileError(
            "F014",
            f"form version {shown(version)} is not supported "
            f"(supported: {min(VERSIONS)}–{max(VERSIONS)})",
        )
    return found


# --- schemas ----------------------------------------------------------------------------------

_XS = "{http://www.w3.org/2001/XMLSchema}"


def schema_document(rules: FormVersion) -> etree._ElementTree:
    """The project's 5.08 XSD as a tree, edited for ``rules``' version.

    Each edit names the one place it changes and fails loudly (RuntimeError) when that place is
    not found exactly once: a change to the 5.08 file must not silently leave an older version
    checked against 5.08 rules.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    tree = etree.parse(str(schemas_dir() / SCHEMA_PATH), parser)
    if not rules.derived:
        return tree
    root = tree.getroot()
    (version,) = _one(
        root, f"{_XS}element[@name='Файл']//{_XS}attribute[@name='ВерсФорм']//{_XS}enumeration"
    )
    version.set("value", rules.version)
    if rules.category_pattern is not None:
        _restrict_to_pattern(root, "InsuredCategoryType", rules.category_pattern)
    if rules.document_kind_pattern is not None:
        _restrict_to_pattern(root, "IdentityDocumentKindType", rules.document_kind_pattern)
    for name in sorted(rules.optional_person_attributes):
        (attribute,) = _one(
            root, f"{_XS}complexType[@name='PersonDataType']/{_XS}attribute[@name='{name}']"
        )
        attribute.set("use", "optional")
    return tree


def _one(root: etree._Element, path: str) -> list[etree._Element]:
    found = root.findall(path)
    if len(found) != 1:
        raise RuntimeError(f"the 5.08 schema changed: {len(found)} matches for {path}")
    return found


def _restrict_to_pattern(root: etree._Element, type_name: str, pattern: str) -> None:
    """Replace a simple type's facets (an enumeration) by one pattern over xs:string."""
    (restriction,) = _one(root, f"{_XS}simpleType[@name='{type_name}']/{_XS}restriction")
    for facet in list(restriction):
        restriction.remove(facet)
    restriction.set("base", "xs:string")
    etree.SubElement(restriction, f"{_XS}pattern", value=pattern)


def schema_for(version: str | None) -> etree.XMLSchema:
    """The compiled schema of a version this module reads (F014 otherwise), once per version."""
    return _compiled(rules_for(version).version)


@functools.cache
def _compiled(version: str) -> etree.XMLSchema:
    # keyed by the table's own spelling, so a file cannot grow the cache with variants of it
    return etree.XMLSchema(schema_document(VERSIONS[version]))
