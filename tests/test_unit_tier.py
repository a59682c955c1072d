"""``make test-unit``: the pure tests run with PostgreSQL, RabbitMQ and OpenBao
addresses pointed at a closed port, so a test marked ``unit`` that reaches for
any of them fails here."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_the_unit_tier_needs_no_infrastructure():
    done = subprocess.run(["make", "--no-print-directory", "test-unit", "PYTEST_ARGS=-q"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    passed = int(re.search(r"(\d+) passed", done.stdout)[1])
    assert passed >= 150 and " failed" not in done.stdout and " error" not in done.stdout
