"""Filters of the store's reads beyond equality (``In``, ``Range``) and the WHERE and ORDER BY clauses they make.

``Store.list``, ``Store.ids`` and ``Store.count`` take filters as keyword arguments, one per
field::

    store.ids("functions", order_by="name", limit=200, organisation_id=org)   # equality
    store.list("channels", function_id=In(page_of_function_ids))              # one of
    store.count("functions", last_verified=Range(high="2025-06-30"))          # a range
    store.list("routines", forum_id=None)                                     # an empty field

An ``In`` list of any length is one bound parameter (SQLite's ``json_each``), so a page of
900 ids or a list of 50,000 is the same query, sorted and sliced as a whole.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from desktop.store.errors import InvalidInput
from desktop.store.schema import column_name
from sync.records import Collection, FieldType


@dataclass(frozen=True)
class In:
    """The field's value is one of ``values`` (an empty list matches nothing)."""

    values: tuple[Any, ...]

    def __init__(self, values: Iterable[Any]) -> None:
        object.__setattr__(self, "values", tuple(dict.fromkeys(v for v in values if v is not None)))


@dataclass(frozen=True)
class Range:
    """``low <= value <= high``; a bound left out is open. A record whose field is empty never
    matches. Dates, times and positions compare as text, which is their order."""

    low: Any = None
    high: Any = None


# Text fields sort as a person reads them (ASCII case folded); positions, dates and times as
# stored, which is their order (a fractional position "B0" comes before "a1").
_FOLDED = (FieldType.NAME, FieldType.TEXT)


def _field(coll: Collection, name: str):
    spec = coll.fields.get(name)
    if spec is None:
        raise InvalidInput("invalid.unknown_field", field=name, collection=coll.name)
    return spec


def where_clause(
    coll: Collection,
    where: Mapping[str, Any],
    to_db: Callable[[Collection, str, Any], Any],
    *,
    include_deleted: bool = False,
) -> tuple[str, list[Any]]:
    """`` WHERE …`` (or "") and its parameters for the filters in ``where``."""
    parts = [] if include_deleted else ["deleted = 0"]
    params: list[Any] = []
    for name, wanted in where.items():
        _field(coll, name)
        column = f'"{column_name(name)}"'
        if wanted is None:
            parts.append(f"{column} IS NULL")
        elif isinstance(wanted, In):
            parts.append(f"{column} IN (SELECT value FROM json_each(?))")
            params.append(json.dumps([to_db(coll, name, v) for v in wanted.values]))
        elif isinstance(wanted, Range):
            if wanted.low is None and wanted.high is None:
                parts.append(f"{column} IS NOT NULL")
            if wanted.low is not None:
                parts.append(f"{column} >= ?")
                params.append(to_db(coll, name, wanted.low))
            if wanted.high is not None:
                parts.append(f"{column} <= ?")
                params.append(to_db(coll, name, wanted.high))
        else:
            parts.append(f"{column} = ?")
            params.append(to_db(coll, name, wanted))
    return (" WHERE " + " AND ".join(parts) if parts else ""), params


def order_clause(coll: Collection, order_by: str | None, natural: Iterable[str], *, descending: bool = False) -> str:
    """`` ORDER BY …``: the field ``order_by``, else the collection's natural order (the first
    of ``natural`` it has), empty values last either way, the row's age breaking ties."""
    if order_by is not None:
        _field(coll, order_by)
        name: str | None = order_by
    else:
        name = next((n for n in natural if n in coll.fields), None)
    direction = " DESC" if descending else ""
    if name is None:
        return f" ORDER BY rowid{direction}"
    collate = " COLLATE NOCASE" if coll.fields[name].type in _FOLDED else ""
    return f' ORDER BY "{column_name(name)}"{collate}{direction} NULLS LAST, rowid{direction}'
