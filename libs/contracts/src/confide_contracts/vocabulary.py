"""Words every service and every caller share: what was done to a record
(``Action``), whether it was allowed (``Outcome``) and why it was done
(``Purpose``, the HIPAA purposes of use). Access events (``confide_access``)
and the audit trail's queries both speak them."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    SIGN = "sign"
    EXPORT = "export"
    PRINT = "print"
    DISCLOSE = "disclose"
    SEARCH = "search"  # one entry per client a search returned (FHIR: search-type)


class Outcome(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"


class Purpose(StrEnum):
    TREATMENT = "treatment"
    PAYMENT = "payment"
    OPERATIONS = "operations"
    EMERGENCY = "emergency"
    DISCLOSURE = "disclosure"
    CLIENT_REQUEST = "client_request"
