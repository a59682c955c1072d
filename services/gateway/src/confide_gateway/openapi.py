"""The OpenAPI 3.1 document, made with apispec from the operation table and
the services' own marshmallow schemas (what is documented is what is validated).

What a schema checks in code is stated too: field ``metadata`` (enums, patterns,
formats: ``confide_contracts.rpc.formats``), the licensure vocabulary (every
ISO 3166-2 jurisdiction, credential type and service kind the catalogue knows),
a schema class's ``OPENAPI`` (rules across fields, as JSON Schema), and each path
parameter's own schema (``routes.PATH_PARAMETERS``). A client generated from the
document meets no 400 the document did not warn of."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from confide_access.events import PURPOSES_BY_ROLE
from confide_contracts.rpc.formats import JURISDICTION, STORABLE_TEXT
from confide_licensure import fields as licensure
from confide_licensure.catalogue import catalogue
from marshmallow import Schema, fields

from confide_gateway import __version__
from confide_gateway.api_schemas import ExportSchema, ProblemSchema
from confide_gateway.routes import OPERATIONS, PATH_PARAMETERS

PROBLEMS = {
    "400": "Bad input; `errors` names each field",
    "401": "No token, or one not accepted (nothing more is said)",
    "403": "Not allowed for this caller (recorded in the audit trail)",
    "404": "No such thing",
    "409": "Conflicts with what exists (a booking, a key in use)",
    "422": "Not possible as asked (e.g. the clinician may not practise this session)",
}
WRITE_PROBLEMS = ("400", "401", "403", "404", "409", "422")


NAMED: dict[str, type[Schema]] = {}  # component name -> the schema class it documents


def schema_name(schema: type[Schema] | Schema) -> str:
    """``records.Client`` for ``confide_contracts.rpc.records.ClientSchema``: names
    stay unique across services."""
    cls = schema if isinstance(schema, type) else type(schema)
    name = _name(cls)
    NAMED.setdefault(name, cls)
    return name


def _name(cls: type[Schema]) -> str:
    parts = cls.__module__.split(".")
    module = parts[-1] if parts[:2] == ["confide_contracts", "rpc"] else parts[0].removeprefix("confide_")
    if module == "gateway":
        module = "api"
    name = cls.__name__.removesuffix("Schema") or cls.__name__
    return f"{module}.{name}"


def _problems(codes) -> dict[str, Any]:
    return {code: {"description": PROBLEMS[code],
                   "content": {"application/problem+json": {"schema": "Problem"}}} for code in codes}


def _answer(kind: str) -> dict[str, Any]:
    if kind == "array":
        return {"type": "array"}
    return {"type": "object"}


def vocabulary(self, field, ret=None, **kwargs) -> dict[str, Any]:
    """The licensure vocabulary's fields, as the catalogue knows them, and the
    text every service refuses (an apispec attribute function)."""
    if isinstance(field, licensure.Jurisdiction):
        return {"$ref": "#/components/schemas/Jurisdiction"}
    if isinstance(field, licensure.CredentialType):
        return {"enum": sorted(catalogue().types)}
    if isinstance(field, licensure.ServiceKind):
        return {"enum": sorted(catalogue().service_kinds)}
    owner = getattr(field, "parent", None)
    while isinstance(owner, fields.Field):  # an item of a list, a value of a dict: up to its schema
        owner = getattr(owner, "parent", None)
    answer = isinstance(owner, ProblemSchema)  # (a problem may quote what was refused)
    if type(field) is fields.String and not answer and not {"pattern", "enum", "format", "$ref"} & set(ret or {}):
        return {"pattern": STORABLE_TEXT}
    return {}


@cache
def document() -> dict[str, Any]:
    plugin = MarshmallowPlugin(schema_name_resolver=schema_name)
    spec = APISpec(
        title="Confide API",
        version=__version__,
        openapi_version="3.1.0",
        plugins=[plugin],
        info={"description": "One authenticated HTTP API over Confide's services. Every call is decided by "
                             "the owning service and every access to a client's record is in the audit trail. "
                             "Errors are RFC 9457 problem details. POSTs that create honour Idempotency-Key."},
        servers=[{"url": "/"}],
        security=[{"bearer": []}],
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    plugin.converter.add_attribute_function(vocabulary)
    spec.components.schema("Problem", schema=ProblemSchema)
    spec.components.schema("Jurisdiction", JURISDICTION)
    headers = [
        {"in": "header", "name": "X-Purpose-Of-Use", "required": False, "schema": {
            "type": "string", "enum": sorted({str(p) for ps in PURPOSES_BY_ROLE.values() for p in ps})},
         "description": "Why the caller is asking; by default the role's usual purpose. A role may claim only "
                        "its own: " + "; ".join(f"{role}: {', '.join(map(str, ps))}"
                                                for role, ps in PURPOSES_BY_ROLE.items() if role != "system")
                        + ". Emergency and disclosure are set by break-the-glass and disclosure themselves."},
        {"in": "header", "name": "X-On-Behalf-Of", "required": False, "schema": {"type": "string", "maxLength": 200},
         "description": "Whom the caller acts for, as the trail records it"},
    ]
    paths: dict[str, dict[str, Any]] = {}
    for operation in OPERATIONS:
        path = "/api/v1" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", operation.path)
        names = re.findall(r"{(\w+)}", path)
        parameters: list[Any] = [{"in": "path", "name": n, "required": True, "schema": PATH_PARAMETERS[n]}
                                 for n in names] + list(headers)
        if operation.query is not None:
            parameters.append({"in": "query", "schema": operation.query})
        if operation.creates:
            parameters.append({"in": "header", "name": "Idempotency-Key", "required": False,
                               "schema": {"type": "string", "maxLength": 200},
                               "description": "A fresh key (a UUID) for each distinct request: the first answer is "
                                              "kept and replayed to any retry of the same request; the same key "
                                              "with another request is refused (422)"})
        ok = {"description": operation.summary,
              "content": {"application/json": {"schema": _answer(operation.returns)}}}
        if operation.paged:
            ok["headers"] = {"Link": {"description": 'rel="next" when there is more', "schema": {"type": "string"}}}
        entry: dict[str, Any] = {
            "operationId": operation.operation_id,
            "summary": operation.summary,
            "tags": [operation.tag],
            "parameters": parameters,
            "responses": {str(operation.status): ok, **_problems(WRITE_PROBLEMS)},
        }
        if operation.body is not None:
            entry["requestBody"] = {"required": True, "content": {"application/json": {"schema": operation.body}}}
        paths.setdefault(path, {})[operation.method.lower()] = entry
    paths["/api/v1/audit/exports"] = {"get": {
        "operationId": "audit.export", "summary": "The trail as CSV, JSON Lines or a FHIR R4 bundle, streamed",
        "tags": ["audit"], "parameters": [{"in": "query", "schema": ExportSchema}],
        "responses": {"200": {"description": "The export", "content": {
            "text/csv": {"schema": {"type": "string"}}, "application/jsonl": {"schema": {"type": "string"}},
            "application/fhir+json": {"schema": {"type": "object"}}}}, **_problems(("400", "401", "403"))},
    }}
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    out = spec.to_dict()
    for name, component in out["components"]["schemas"].items():
        component.update(getattr(NAMED.get(name), "OPENAPI", {}))  # rules across fields
    return out
