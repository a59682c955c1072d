"""What the RPC schemas check in code, stated as JSON Schema for the gateway's
OpenAPI document (marshmallow ``metadata`` on the field, which apispec copies):
a client generated from the document then knows every rule it will meet, and a
fuzzer's "valid" data is valid.

Rules JSON Schema cannot hold exactly are stated as closely as it can: a date
"not in the future" is a date of the 1900s or 2000s (the service refuses the
future ones). Long vocabularies are named formats with a pattern, not enums of
thousands: ``iso-3166-2`` (jurisdictions), ``iso-4217`` (currencies),
``iana-time-zone``, ``icd-10-cm`` (chapter 5) and ``npi`` (ten digits, the last a
Luhn check digit); format-aware tools generate and check them (the fuzzing test
registers a generator for each from the same lists the services check against).
"""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

import pycountry
from marshmallow import fields

# text PostgreSQL can keep: no NUL (confide_access.load refuses it, and unpaired surrogates,
# which no Unicode string holds)
STORABLE_TEXT = r"^[^\x00]*$"


class Integer(fields.Integer):
    """A whole number, strictly: ``30`` or ``30.0`` (JSON has one number type, and
    JSON Schema's ``integer`` is any number without a fraction), never ``30.5`` or
    ``"30"``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("strict", True)
        super().__init__(*args, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return super()._deserialize(value, attr, data, **kwargs)


_MONTH_DAY = r"(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
PAST_DATE = {"pattern": rf"^(19|20)\d\d-{_MONTH_DAY}$", "description": "A date from 1900 on, not in the future"}
FUTURE_DATE = {"pattern": rf"^2\d\d\d-{_MONTH_DAY}$", "description": "A date after today"}
CALENDAR_DATE = {"pattern": rf"^(19|2\d)\d\d-{_MONTH_DAY}$", "description": "A date from 1900 to 2999"}
_CLOCK = r"([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)"
INSTANT = {"pattern": rf"^(19|2\d)\d\d-{_MONTH_DAY}T{_CLOCK}$",
           "description": "An instant from 1900 to 2999, with its UTC offset"}
CLOCK_TIME = {"pattern": r"^([01]\d|2[0-3]):[0-5]\d$", "example": "09:00",
              "description": "A wall-clock time at the site, HH:MM"}
NPI = {"format": "npi", "minLength": 10, "maxLength": 10, "example": "1234567893",
       "description": "A National Provider Identifier: ten digits, the last a Luhn check digit"}
JURISDICTION = {"type": "string", "format": "iso-3166-2", "example": "US-NY",
                "description": "An ISO 3166-2 subdivision code"}
ICD10 = {"format": "icd-10-cm", "example": "F32.1",
         "description": "A billable ICD-10-CM code of chapter 5 (F01-F99)"}


@cache
def currency_codes() -> list[str]:
    return sorted(c.alpha_3 for c in pycountry.currencies)


@cache
def zone_names() -> list[str]:
    """IANA zone names of the Area/Location form sites use."""
    return sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))


CURRENCY = {"format": "iso-4217", "example": "USD", "description": "An ISO 4217 currency code"}
TIME_ZONE = {"format": "iana-time-zone", "example": "America/New_York",
             "description": "An IANA time zone of the Area/Location form"}
