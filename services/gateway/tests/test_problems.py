"""The gateway's answer to what a call raised (``problems.from_failure``): a
dependency out of reach -- in a service, or the broker for the gateway's own
request -- is a 503 problem with ``Retry-After`` (it was a 500 under ``make
faults``); a service's failure a 500 with the trace id; a refusal its status;
anything else raised again, the gateway's own fault."""

from __future__ import annotations

import kombu.exceptions
import orjson
import pytest
from confide_contracts.errors import InvalidRequest, Unavailable
from confide_gateway import problems
from nameko.exceptions import RemoteError

pytestmark = pytest.mark.unit


def answer(exc: Exception):
    response = problems.from_failure("records.get_note", exc, "0af7651916cd43dd8448eb211c80319c")
    return response.status_code, orjson.loads(response.get_data()), response.headers


@pytest.mark.parametrize("exc", [Unavailable("Vault"),
                                 kombu.exceptions.OperationalError("Server unexpectedly closed connection")])
def test_a_dependency_out_of_reach_is_a_503_to_retry(exc, caplog):
    status, body, headers = answer(exc)
    assert status == 503 and body["type"].endswith("/unavailable") and headers["Retry-After"] == "5"
    assert body["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert "Vault" not in body.get("detail", "")  # (what was out of reach is for the operator's log)
    assert [r.levelname for r in caplog.records] == ["WARNING"] and "out of reach" in caplog.records[0].getMessage()


def test_a_services_failure_is_a_500_and_a_refusal_its_status():
    status, body, headers = answer(RemoteError("ValueError", "a bug"))
    assert status == 500 and "Retry-After" not in headers and body["trace_id"]
    status, body, _ = answer(InvalidRequest({"name": ["required"]}))
    assert status == 400 and body["errors"] == {"name": ["required"]}


def test_the_gateways_own_fault_is_raised_again():
    with pytest.raises(KeyError):
        answer(KeyError("a bug of ours"))
