"""Schemathesis against /openapi.json on the real stack: no answer is a 5xx,
every answer fits the document (status, content type, schema), and the data the
document calls valid is refused only for reasons the document states.

That last holds for all but a few operations, each refused now and then for a
rule JSON Schema cannot state (an order between two fields, a date relative to
today, membership in another field's list); which of them schemathesis flags
varies a little from run to run with what the stack holds (14 to 17 of 88 here,
18 of 127 once lists, queues and the portal came;
the trail's operations are asked as a compliance officer, the rest as an admin).
The list below names the rules; the test fails when more than MOST_MISMATCHED
operations are flagged (60 were, before the document stated its rules). State a
new rule in the document (``confide_contracts.rpc.formats``, a field's metadata,
a schema's ``OPENAPI``), not here.
"""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from confide_testing import random_id

# (schemathesis took four minutes alone here once; on 2026-11-30 eight to nine and a half, the same at the
# commit before any of the day's changes: the machine, not the API. The command has its own deadline, below this)
pytestmark = pytest.mark.timeout(1000)

HERE = Path(__file__).parent
RULES_JSON_SCHEMA_CANNOT_STATE = {
    "GET /api/v1/audit/proofs/consistency": "old_size must not exceed new_size",
    "GET /api/v1/slots": "to_date within two months after from_date",
    "GET /api/v1/appointments": "starts_before after starts_from, within 93 days",
    "PATCH /api/v1/clients/{client_id}": "date_of_birth not in the future",
    "POST /api/v1/availability": "ends after starts",
    "POST /api/v1/availability/exceptions": "ends_at after starts_at",
    "POST /api/v1/clients": "date_of_birth not in the future, a guardian's valid_until not past",
    "POST /api/v1/clients/{client_id}/consents": "expires_on after today and after effective_on",
    "POST /api/v1/clients/{client_id}/diagnoses": "onset_on not in the future",
    "POST /api/v1/clients/{client_id}/guardians": "valid_until not in the past",
    "POST /api/v1/clients/{client_id}/treatment-plans": "review_on after starts_on (default today)",
    "POST /api/v1/clinicians/{clinician_id}/licenses": "issued_on not in the future, expires_on after it",
    "POST /api/v1/invoices": "period_end not before period_start",
    "POST /api/v1/notes": "each section concerns a client of client_ids, once",
    "POST /api/v1/psychotherapy-notes": "service_date not in the future",
    "PUT /api/v1/fees": "effective_until not before effective_from",
    "POST /api/v1/sites": "a site the caller administers (else 403), so format-boundary time zones are all it sees",
    "POST /api/v1/superbills": "period_end not before period_start",
    "POST /api/v1/supervisions": "supervisor and supervisee differ; ends_on not before starts_on",
    "POST /api/v1/appointments": "co_therapist_id not the clinician; within the clinician's availability",
    "PATCH /api/v1/availability/{availability_id}": "the window as changed: ends after starts",
    "POST /api/v1/me/appointments": "starts_at in the future, in a free slot the clinician may practise",
    "POST /api/v1/appointment-series": "the rule's occurrences within two years, each inside the availability",
    "POST /api/v1/appointments/{appointment_id}/reschedule": "a new time inside the clinician's availability",
    "POST /api/v1/appointment-series/{series_id}/extension": "count or until, not null; more than the series has",
}
MOST_MISMATCHED = 22
CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance,status_code_conformance"


def test_fuzzing_finds_no_server_error_and_no_answer_off_the_schema(stack, tmp_path):
    site = random_id("north")
    token = stack.token(random_id("admin"), "admin", sites=(site,))
    # the trail is a compliance officer's, not an admin's: its operations are asked as one (the hooks)
    officer = stack.token(random_id("co"), "compliance_officer", sites=())
    out = Path(os.environ.get("CONFIDE_FUZZ_REPORT", tmp_path / "schemathesis.txt"))
    command = [str(Path(sys.executable).parent / "schemathesis"), "run", f"{stack.base}/openapi.json",
               "--checks", CHECKS,
               "--max-examples", os.environ.get("CONFIDE_FUZZ_EXAMPLES", "8"), "--seed", "20261128",
               "--phases", "examples,coverage,fuzzing", "--request-timeout", "20", "--no-color",
               "--suppress-health-check", "all", *os.environ.get("CONFIDE_FUZZ_ARGS", "").split()]
    with out.open("w") as log:
        # the stack serves from this process: wait without blocking its green threads
        env = dict(os.environ, SCHEMATHESIS_HOOKS="schemathesis_hooks", CONFIDE_FUZZ_TOKEN=token,
                   CONFIDE_FUZZ_OFFICER_TOKEN=officer,
                   PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 900
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)
        if process.poll() is None:
            process.kill()
    report = out.read_text()
    assert process.returncode == 0, report[-20000:]
    mismatched = set(re.findall(r"^  - (\w+ /api/v1/\S+)$", report.split("Schema validation mismatch", 1)[1]
                                .split("💡", 1)[0], re.MULTILINE)) if "Schema validation mismatch" in report else set()
    unexplained = sorted(mismatched - set(RULES_JSON_SCHEMA_CANNOT_STATE))
    assert len(mismatched) <= MOST_MISMATCHED, f"{len(mismatched)} operations refuse what the document calls valid; " \
                                               f"not explained above: {unexplained}"
