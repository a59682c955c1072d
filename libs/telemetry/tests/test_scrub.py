"""What leaves a process about a request: its paths masked, exceptions described."""

import pytest
from confide_telemetry.scrub import mask_path, scrub_stacktrace

pytestmark = pytest.mark.unit


def test_paths_in_spans_are_masked():
    assert mask_path("GET /api/v1/clients/01a2bc-77/notes?name=Robin") == "GET /api/v1/clients/{id}/notes"
    assert mask_path("/api/v1/sites/north/rooms") == "/api/v1/sites/north/rooms"
    assert mask_path("publish ledger.account.opened") == "publish ledger.account.opened"


def test_a_stacktrace_keeps_its_frames_and_loses_its_messages():
    stack = ('Traceback (most recent call last):\n  File "x.py", line 3, in f\n    g()\n'
             'psycopg.errors.UniqueViolation: duplicate key\nDETAIL:  Key (email)=(robin@example.org) exists.\n')
    scrubbed = scrub_stacktrace(stack)
    assert 'File "x.py", line 3' in scrubbed and "psycopg.errors.UniqueViolation (text withheld)" in scrubbed
    assert "robin@example.org" not in scrubbed
