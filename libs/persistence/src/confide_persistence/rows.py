"""Rows as JSON-ready values for an RPC reply, and rows given as arrays to a statement."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import ARRAY, bindparam, func
from sqlalchemy.sql.selectable import TableValuedAlias
from sqlalchemy.types import TypeEngine


def array_rows(name: str, **columns: TypeEngine) -> TableValuedAlias:
    """``unnest(:a, :b, ...) AS name(a, b, ...)``: rows given as one array per
    column, each a bind parameter named as its column, to select from in an
    INSERT. One statement however many rows (a list of rows is executemany,
    which psycopg runs as an INSERT per row in a pipeline, where one refused
    row leaves the pipeline aborted), compiled once and cached whatever their
    number (rows written as VALUES are compiled anew each time)."""
    arrays = (bindparam(column, type_=ARRAY(type_)) for column, type_ in columns.items())
    return func.unnest(*arrays).table_valued(*columns).render_derived(name=name)


def plain_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def plain(row) -> dict[str, Any]:
    """A SQLAlchemy row as a dict of JSON-ready values (dates ISO 8601, UUIDs as text)."""
    return {key: plain_value(value) for key, value in row._mapping.items()}
