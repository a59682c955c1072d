"""Schemathesis against /openapi.json on the real stack: no answer is a 5xx,
and every answer fits the document (status, content type, schema)."""

import os
import subprocess
import sys
import time
from pathlib import Path

from confide_testing import random_id

CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance,status_code_conformance"


def test_fuzzing_finds_no_server_error_and_no_answer_off_the_schema(stack, tmp_path):
    site = random_id("north")
    token = stack.token(random_id("admin"), "admin", sites=(site,))
    out = Path(os.environ.get("CONFIDE_FUZZ_REPORT", tmp_path / "schemathesis.txt"))
    command = [str(Path(sys.executable).parent / "schemathesis"), "run", f"{stack.base}/openapi.json",
               "--checks", CHECKS, "-H", f"Authorization: Bearer {token}",
               "--max-examples", os.environ.get("CONFIDE_FUZZ_EXAMPLES", "8"), "--seed", "20261128",
               "--phases", "examples,coverage,fuzzing", "--request-timeout", "20", "--no-color",
               "--suppress-health-check", "all"]
    with out.open("w") as log:
        # the stack serves from this process: wait without blocking its green threads
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 600
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)
        if process.poll() is None:
            process.kill()
    report = out.read_text()
    assert process.returncode == 0, report[-20000:]
