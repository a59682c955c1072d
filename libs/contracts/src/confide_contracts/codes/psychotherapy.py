"""The psychotherapy procedure code table (``data/psychotherapy_codes.json``, with
its source): which codes exist (a fee or a claim line names one), and, for
billing's coding of a session, the rules that pick them."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files


@cache
def table() -> dict:
    return json.loads(files("confide_contracts.codes").joinpath("data/psychotherapy_codes.json").read_text())


def known_code(code: str) -> bool:
    return code in table()["codes"]
