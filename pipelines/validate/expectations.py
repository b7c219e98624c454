"""Great Expectations column expectations for the check digits of СНИЛС, ИНН and КПП.

Importing this module registers them with GE (class definition is registration); nothing else
happens. It imports great_expectations, so import it only where validation actually runs.
Null values are skipped as in every map expectation: a missing identifier is a separate rule.
Each one's ``description`` is what Data Docs say of it (GE has no sentence for them).
"""

from __future__ import annotations

from typing import Any, ClassVar

from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    column_condition_partial,
)

from pipelines.identifiers import inn_is_valid, kpp_is_valid, snils_is_valid

_LIBRARY_METADATA: dict[str, Any] = {"tags": ["erzl", "identifiers"], "contributors": []}


class ColumnValuesValidSnils(ColumnMapMetricProvider):
    """True where a value is a СНИЛС (plain or printed) whose check digits match."""

    condition_metric_name = "column_values.valid_snils"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        return column.map(snils_is_valid).astype(bool)


class ColumnValuesValidInn(ColumnMapMetricProvider):
    """True where a value is a 10- or 12-digit ИНН whose check digits match."""

    condition_metric_name = "column_values.valid_inn"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        return column.map(inn_is_valid).astype(bool)


class ColumnValuesValidKpp(ColumnMapMetricProvider):
    """True where a value is a well-formed КПП (it has no check digit)."""

    condition_metric_name = "column_values.valid_kpp"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        return column.map(kpp_is_valid).astype(bool)


class ExpectColumnValuesToBeValidSnils(ColumnMapExpectation):
    """Expect each non-null value to be a СНИЛС with correct check digits (DOMAIN.md §5)."""

    map_metric: ClassVar[str] = "column_values.valid_snils"
    description: str | None = "values must be СНИЛС numbers whose check digits match."
    library_metadata: ClassVar[dict[str, Any]] = _LIBRARY_METADATA


class ExpectColumnValuesToBeValidInn(ColumnMapExpectation):
    """Expect each non-null value to be a 10- or 12-digit ИНН with correct check digits."""

    map_metric: ClassVar[str] = "column_values.valid_inn"
    description: str | None = "values must be 10- or 12-digit ИНН numbers whose check digits match."
    library_metadata: ClassVar[dict[str, Any]] = _LIBRARY_METADATA


class ExpectColumnValuesToBeValidKpp(ColumnMapExpectation):
    """Expect each non-null value to be a well-formed КПП: 4 digits, 2 of 0-9/A-Z, 3 digits."""

    map_metric: ClassVar[str] = "column_values.valid_kpp"
    description: str | None = "values must be well-formed КПП codes."
    library_metadata: ClassVar[dict[str, Any]] = _LIBRARY_METADATA
