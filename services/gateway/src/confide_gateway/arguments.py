"""An operation's RPC arguments from an HTTP request: from the path, the JSON
body and the query string, as the operation table (``routes``) says each comes."""

from __future__ import annotations

import re
from typing import Any

import orjson
from confide_contracts.errors import invalid
from marshmallow import Schema, fields
from werkzeug.wrappers import Request

from confide_gateway.routes import Operation


def arguments(operation: Operation, request: Request, variables: dict) -> tuple[list, dict]:
    """The RPC's arguments, from where the table says each comes from."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    body: Any = None
    if any(a.startswith("body") for a in operation.args):
        body = _body(request)
        if not isinstance(body, dict):
            raise invalid("body", "must be a JSON object")
    query = query_values(request, operation.query) if operation.query else {}
    for source in operation.args:
        where, _, name = source.partition(".")
        if where == "path":
            args.append(variables[name])
        elif where == "body" and not name:
            args.append(body)
        elif where == "query" and not name:
            args.append(query)
        elif where == "body" and name in body:
            kwargs[name] = body[name]
        elif where == "query" and name in query:
            kwargs[name] = query[name]
    return args, kwargs


def _body(request: Request) -> Any:
    try:
        return orjson.loads(request.get_data() or b"{}")
    except orjson.JSONDecodeError as exc:
        raise invalid("body", f"not JSON ({exc})") from None


INTEGER = re.compile(r"^-?\d{1,18}$")


def query_values(request: Request, schema: type[Schema]) -> dict[str, Any]:
    """Query parameters typed as the operation's schema declares them (numbers,
    booleans, lists); anything else is passed on as text for the service to judge."""
    declared = schema().fields
    values: dict[str, Any] = {}
    for name in request.args:
        field = declared.get(name)
        raw = request.args.getlist(name)
        if isinstance(field, fields.List):
            values[name] = [part for item in raw for part in item.split(",") if part]
        elif isinstance(field, fields.Integer) and INTEGER.match(raw[-1]):
            values[name] = int(raw[-1])
        elif isinstance(field, fields.Boolean) and raw[-1].lower() in ("true", "false", "1", "0", "yes", "no"):
            values[name] = raw[-1].lower() in ("true", "1", "yes")
        else:
            values[name] = raw[-1]
    return values


TILE_PATH = re.compile(r"^(?P<level>\d|[1-5]\d|6[0-3])/(?P<index>(?:x\d{3}/)*\d{3})(?:\.p/(?P<width>[1-9]\d{0,2}))?$")


def tile_path(path: str) -> tuple[int, int, int] | None:
    """(level, index, width) of a C2SP tlog-tiles path such as ``0/x001/x234/067.p/112``."""
    found = TILE_PATH.match(path)
    if found is None or (found["width"] and int(found["width"]) > 255):
        return None
    index = int(found["index"].replace("x", "").replace("/", ""))
    return int(found["level"]), index, int(found["width"] or 256)
