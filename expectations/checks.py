"""One quality check, defined twice on purpose: as a GX expectation and as a DuckDB predicate.

GX is the system of record (results, Data Docs, asset checks); the SQL predicate gives the
per-ticket flags the funnel needs, which GX's aggregate results cannot. Both come from the
same definition here, and the runner proves they agree on every run (`gx_matches_sql`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import great_expectations.expectations as gxe

# Result format for every expectation: counts only. Unexpected values and rows would copy
# raw ticket text (customer PII) into GX results and Data Docs.
RESULT_FORMAT: dict = {
    "result_format": "BASIC",
    "partial_unexpected_count": 0,
    "exclude_unexpected_values": True,
    "include_unexpected_rows": False,
    "return_unexpected_index_query": False,
}

# Separator of the derived `category_subcategory` column (GX's pair-in-set expectation
# iterates rows in Python; a single derived column keeps the check vectorised).
PAIR_SEPARATOR = " :: "

# Funnel criteria a check can feed (docs/quality.md); None: reported, removes nothing.
CRITERIA = (
    "category_present",
    "category_valid",
    "subcategory_consistent",
    "metadata_valid",
    "timestamps_consistent",
    "text_clean",
)


@dataclass(frozen=True)
class Check:
    suite: str
    name: str
    column: str
    description: str
    # Builds the GX expectation (fresh instance per suite build).
    expectation: Callable[[], gxe.Expectation]
    # SQL boolean over canonical columns: TRUE when the row violates the check (never NULL).
    unexpected_sql: str
    criterion: str | None = None
    # Share of rows that must pass for GX to call the expectation a success (GX `mostly`):
    # the scorecard's threshold for what the check measures (expectations/suites.py).
    mostly: float | None = None

    def __post_init__(self) -> None:
        if self.criterion is not None and self.criterion not in CRITERIA:
            raise ValueError(f"check {self.name}: unknown criterion {self.criterion!r}")


def expectation_classes():
    """GX's expectation classes, imported on first use.

    Importing GX takes over two seconds. The SQL predicates, the summary and the Dagster
    definitions read these checks without building an expectation.
    """
    import great_expectations.expectations as gxe

    return gxe


def sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def sql_list(values: list[str]) -> str:
    return "(" + ", ".join(sql_str(v) for v in values) + ")"


_LEADING_FLAGS = re.compile(r"^\(\?([a-zA-Z]+)\)")


def combined_regex(patterns: list[str]) -> str:
    """One alternation matching where any of `patterns` matches.

    A regex scan costs about the same whatever its size, so one scan per check instead of
    one per pattern. Leading inline flags ("(?i)") become scoped groups ("(?i:...)"), the
    form both Python `re` and RE2 accept inside an alternation.
    """
    parts = []
    for p in patterns:
        m = _LEADING_FLAGS.match(p)
        parts.append(f"(?{m.group(1)}:{p[m.end() :]})" if m else f"(?:{p})")
    return parts[0] if len(parts) == 1 else "|".join(parts)


def regex_any_sql(column: str, patterns: list[str]) -> str:
    # NULL text is not a violation (GX map expectations skip nulls the same way).
    return f"coalesce(regexp_matches({column}, {sql_str(combined_regex(patterns))}), false)"


def not_null(suite: str, name: str, column: str, description: str, criterion: str | None) -> Check:
    return Check(
        suite=suite,
        name=name,
        column=column,
        description=description,
        expectation=lambda: expectation_classes().ExpectColumnValuesToNotBeNull(
            column=column,
            result_format=RESULT_FORMAT,
            meta={"check": name},
            description=description,
        ),
        unexpected_sql=f"{column} IS NULL",
        criterion=criterion,
    )


def in_set(
    suite: str, name: str, column: str, values: list[str], description: str, criterion: str | None
) -> Check:
    return Check(
        suite=suite,
        name=name,
        column=column,
        description=description,
        expectation=lambda: expectation_classes().ExpectColumnValuesToBeInSet(
            column=column,
            value_set=list(values),
            result_format=RESULT_FORMAT,
            meta={"check": name},
            description=description,
        ),
        unexpected_sql=f"coalesce({column} NOT IN {sql_list(values)}, false)",
        criterion=criterion,
    )


def not_in_set(
    suite: str, name: str, column: str, values: list[str], description: str, criterion: str | None
) -> Check:
    return Check(
        suite=suite,
        name=name,
        column=column,
        description=description,
        expectation=lambda: expectation_classes().ExpectColumnValuesToNotBeInSet(
            column=column,
            value_set=list(values),
            result_format=RESULT_FORMAT,
            meta={"check": name},
            description=description,
        ),
        unexpected_sql=f"coalesce({column} IN {sql_list(values)}, false)",
        criterion=criterion,
    )


def no_regex(
    suite: str, name: str, column: str, patterns: list[str], description: str, criterion: str | None
) -> Check:
    return Check(
        suite=suite,
        name=name,
        column=column,
        description=description,
        expectation=lambda: expectation_classes().ExpectColumnValuesToNotMatchRegex(
            column=column,
            regex=combined_regex(patterns),
            result_format=RESULT_FORMAT,
            meta={"check": name},
            description=description,
        ),
        unexpected_sql=regex_any_sql(column, patterns),
        criterion=criterion,
    )


def a_not_before_b(
    suite: str, name: str, column_a: str, column_b: str, description: str, criterion: str | None
) -> Check:
    """column_a >= column_b wherever both are present."""
    return Check(
        suite=suite,
        name=name,
        column=f"{column_a},{column_b}",
        description=description,
        expectation=lambda: expectation_classes().ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=column_a,
            column_B=column_b,
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            result_format=RESULT_FORMAT,
            meta={"check": name},
            description=description,
        ),
        unexpected_sql=f"coalesce({column_a} < {column_b}, false)",
        criterion=criterion,
    )


def not_after(
    suite: str, name: str, column: str, cutoff, description: str, criterion: str | None
) -> Check:
    return Check(
        suite=suite,
        name=name,
        column=column,
        description=description,
        expectation=lambda: expectation_classes().ExpectColumnValuesToBeBetween(
            column=column,
            max_value=cutoff,
            result_format=RESULT_FORMAT,
            meta={"check": name},
            description=description,
        ),
        unexpected_sql=f"coalesce({column} > TIMESTAMP {sql_str(cutoff.isoformat(sep=' '))}, false)",
        criterion=criterion,
    )


def between(
    suite: str,
    name: str,
    column: str,
    low: float,
    high: float,
    description: str,
    criterion: str | None,
) -> Check:
    return Check(
        suite=suite,
        name=name,
        column=column,
        description=description,
        expectation=lambda: expectation_classes().ExpectColumnValuesToBeBetween(
            column=column,
            min_value=low,
            max_value=high,
            result_format=RESULT_FORMAT,
            meta={"check": name},
            description=description,
        ),
        unexpected_sql=f"coalesce({column} NOT BETWEEN {low} AND {high}, false)",
        criterion=criterion,
    )
