"""Lists, one way for every service: a query schema with ``sort``, ``cursor`` and
``limit`` (made by :func:`paged`), answered by :func:`page` as
``{"items": [...], "next_cursor": ...}``.

Paging is by key, not by offset: the cursor holds the sort's values of the last
item shown, so a page neither skips nor repeats a row when rows are added or
removed between requests, and a deep page costs what the first does (the sort's
columns are indexed). Every sort ends with a unique column. A cursor names the
sort it was made for; one used with another sort, or altered, is refused naming
``cursor``.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time
from typing import Any

import orjson
from marshmallow import Schema, fields, validate
from sqlalchemy import BigInteger, ColumnElement, Integer, Select, SmallInteger, literal, tuple_
from sqlalchemy.engine import Connection

from confide_contracts.errors import InvalidRequest
from confide_contracts.rpc import formats

DEFAULT_LIMIT, MAX_LIMIT = 50, 200
Sorts = Mapping[str, Sequence[ColumnElement]]


def paged(*sorts: str) -> type[Schema]:
    """The base of a list's query schema: ``sort`` is one of ``sorts`` (the first
    is the default), ``-name`` for descending."""
    choices = [*sorts, *(f"-{name}" for name in sorts)]
    return Schema.from_dict({
        "sort": fields.String(load_default=sorts[0], validate=validate.OneOf(choices),
                              metadata={"description": "a field to sort by; '-' before it for descending"}),
        "cursor": fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000),
                                metadata={"description": "next_cursor of the previous page"}),
        "limit": formats.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(min=1, max=MAX_LIMIT)),
    }, name="Paged")


def page(conn: Connection, query: Select, sorts: Sorts, q: Mapping[str, Any],
         view: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """One page of ``query`` (filtered and scoped already) in the order ``q["sort"]``
    names; ``view`` turns a row into an item."""
    name = q["sort"]
    descending = name.startswith("-")
    columns = sorts[name.lstrip("-")]
    key = tuple_(*columns)
    if q.get("cursor"):
        after = tuple_(*(literal(v, type_=c.type) for v, c in zip(_decode(q["cursor"], name, columns), columns,
                                                                     strict=True)))
        query = query.where(key < after if descending else key > after)
    order = [c.desc() if descending else c.asc() for c in columns]
    limit = q["limit"]
    rows = conn.execute(query.order_by(*order).limit(limit + 1)).all()
    shown = rows[:limit]
    return {"items": [view(r) for r in shown],
            "next_cursor": _encode(name, shown[-1], columns) if len(rows) > limit else None}


def _encode(name: str, row, columns: Sequence[ColumnElement]) -> str:
    values = [_plain(row._mapping[c]) for c in columns]
    return base64.urlsafe_b64encode(orjson.dumps([name, *values])).decode().rstrip("=")


def _decode(cursor: str, name: str, columns: Sequence[ColumnElement]) -> list[Any]:
    try:
        raw = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or raw[0] != name or len(raw) != len(columns) + 1:
            raise ValueError("made for another sort")
        return [_typed(value, c) for value, c in zip(raw[1:], columns, strict=True)]
    except (ValueError, TypeError, IndexError, OverflowError) as exc:  # (orjson's error is a ValueError)
        raise InvalidRequest({"cursor": [f"not a cursor of this list and sort ({exc})"]}) from None


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date | time) else str(value) if isinstance(
        value, uuid.UUID) else value


BOUNDS = ((SmallInteger, 2**15), (BigInteger, 2**63), (Integer, 2**31))  # (subclasses first)


def _typed(value: Any, column: ColumnElement) -> Any:
    """A cursor's value as the column holds it; anything else (a made-up cursor) is a ValueError.
    Sort columns are never NULL."""
    kind = column.type.python_type
    if kind in (datetime, date, time, uuid.UUID, str):
        if not isinstance(value, str) or "\x00" in value:
            raise ValueError(f"{value!r} is not a {kind.__name__}")
    elif kind is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{value!r} is not a whole number")
        bound = next((b for t, b in BOUNDS if isinstance(column.type, t)), 2**63)
        if not -bound <= value < bound:
            raise ValueError(f"{value} is out of range")
        return value
    else:
        raise ValueError(f"cannot page by a {kind.__name__}")
    if kind is datetime:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None and getattr(column.type, "timezone", False):
            raise ValueError("a time without its offset")
        return parsed
    if kind in (date, time):
        return kind.fromisoformat(value)
    if kind is uuid.UUID:
        return uuid.UUID(value)
    return value
