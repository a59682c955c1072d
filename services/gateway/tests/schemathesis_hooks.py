"""Generators for the named formats of the OpenAPI document
(``confide_contracts.rpc.formats``), from the same lists the services check
against: a fuzzer's valid data is then valid. Loaded by the fuzzing test through
``SCHEMATHESIS_HOOKS``."""

import os
import uuid

import pycountry
import schemathesis
from confide_contracts.codes import icd10
from confide_contracts.rpc import formats
from hypothesis import strategies as st


def npi_from(first_nine: str) -> str:
    """The NPI with these nine digits: the Luhn check digit over 80840 + them."""
    digits = [int(d) for d in "80840" + first_nine]
    total = 0
    for i, digit in enumerate(reversed(digits)):
        if i % 2 == 0:
            digit *= 2
            digit -= 9 if digit > 9 else 0
        total += digit
    return first_nine + str((10 - total % 10) % 10)


schemathesis.openapi.format("npi", st.from_regex(r"\A[1-2]\d{8}\Z").map(npi_from))
schemathesis.openapi.format("iso-3166-2", st.sampled_from(sorted(s.code for s in pycountry.subdivisions)))
schemathesis.openapi.format("iso-4217", st.sampled_from(formats.currency_codes()))
schemathesis.openapi.format("iana-time-zone", st.sampled_from(formats.zone_names()))
schemathesis.openapi.format("icd-10-cm", st.sampled_from(icd10.codes()))


@schemathesis.hook
def before_call(context, case, **kwargs):
    """A fresh Idempotency-Key for every request, as the document asks of a client
    (a key reused for another request is refused, 422: tested in test_gateway);
    a purpose the fuzzer's role (admin) may claim, a rule the document states in
    words since it depends on the token (refusals: tests/adversarial); and the
    bearer token for the operation's part of the API."""
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = str(uuid.uuid4())
    if case.headers and "X-Purpose-Of-Use" in case.headers:
        case.headers["X-Purpose-Of-Use"] = "operations"
    # as an admin, but the trail as a compliance officer (an admin may not read it)
    token = os.environ["CONFIDE_FUZZ_OFFICER_TOKEN" if case.path.startswith("/api/v1/audit") else "CONFIDE_FUZZ_TOKEN"]
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
