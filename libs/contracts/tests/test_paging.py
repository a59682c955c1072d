"""Cursors: what the service made comes back as the sort's values; anything
else -- another sort's, altered, made up -- is a 400 naming ``cursor``, never a
database error."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, date, datetime, time

import orjson
import pytest
from confide_contracts.errors import InvalidRequest
from confide_contracts.paging import _decode, _encode, paged
from sqlalchemy import Column, Date, DateTime, Integer, MetaData, SmallInteger, String, Table, Time
from sqlalchemy.dialects.postgresql import UUID

pytestmark = pytest.mark.unit

T = Table("t", MetaData(), Column("id", UUID(as_uuid=True), primary_key=True), Column("name", String(10)),
          Column("at", DateTime(timezone=True)), Column("day", Date), Column("clock", Time),
          Column("weekday", SmallInteger), Column("n", Integer))
COLUMNS = (T.c.weekday, T.c.n, T.c.clock, T.c.day, T.c.at, T.c.name, T.c.id)


class Row:
    def __init__(self, values):
        self._mapping = dict(zip(COLUMNS, values, strict=True))


def made(*values) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(values))).decode()


def test_a_cursor_comes_back_as_the_values_it_was_made_from():
    values = [3, 70000, time(9, 30), date(2027, 3, 14), datetime(2027, 3, 14, 7, tzinfo=UTC), "Ruiz", uuid.uuid4()]
    assert _decode(_encode("weekday", Row(values), COLUMNS), "weekday", COLUMNS) == values


@pytest.mark.parametrize("cursor", [
    made("other", 3, 1, "09:30:00", "2027-03-14", "2027-03-14T07:00:00+00:00", "a", str(uuid.uuid4())),  # sort
    made("weekday", 3, 1),  # too short
    made("weekday", 70000, 1, "09:30:00", "2027-03-14", "2027-03-14T07:00:00+00:00", "a", str(uuid.uuid4())),
    made("weekday", True, 1, "09:30:00", "2027-03-14", "2027-03-14T07:00:00+00:00", "a", str(uuid.uuid4())),
    made("weekday", 3, 2**40, "09:30:00", "2027-03-14", "2027-03-14T07:00:00+00:00", "a", str(uuid.uuid4())),
    made("weekday", 3, 1, 930, "2027-03-14", "2027-03-14T07:00:00+00:00", "a", str(uuid.uuid4())),
    made("weekday", 3, 1, "09:30:00", "2027-03-14", "2027-03-14T07:00:00", "a", str(uuid.uuid4())),  # no offset
    made("weekday", 3, 1, "09:30:00", "2027-03-14", "2027-03-14T07:00:00+00:00", "a\x00", str(uuid.uuid4())),
    made("weekday", 3, 1, "09:30:00", "2027-03-14", "2027-03-14T07:00:00+00:00", None, str(uuid.uuid4())),
    made("weekday", 3, 1, "09:30:00", "2027-03-14", "2027-03-14T07:00:00+00:00", "a", 5),
    made("weekday", 3, 1, "09:30:00", "2027-03-14", "2027-03-14T07:00:00+00:00", "a", ["x"]),
    made({"weekday": 3}), "not base64 at all!", base64.urlsafe_b64encode(b"\xff\xfe").decode(),
])
def test_anything_else_is_refused_naming_the_cursor(cursor):
    with pytest.raises(InvalidRequest) as refused:
        _decode(cursor, "weekday", COLUMNS)
    assert list(refused.value.errors) == ["cursor"]


def test_a_list_query_names_its_sorts_both_ways():
    schema = paged("name", "id")()
    assert schema.load({})["sort"] == "name" and schema.load({"sort": "-id"})["sort"] == "-id"
    with pytest.raises(Exception, match="sort"):
        schema.load({"sort": "created"})
