"""ICD-10-CM diagnosis codes, checked by format and against the shipped code list
of chapter 5 (F01-F99, mental, behavioral and neurodevelopmental disorders).
The list's first line names its source and release (see
``libs/contracts/scripts/make_icd10_f_chapter.py``)."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

# letter, two characters (digit, digit-or-letter), then up to four after a dot
FORMAT = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")


class InvalidCode(ValueError):
    pass


@dataclass(frozen=True)
class Code:
    code: str
    billable: bool
    description: str


@cache
def catalogue() -> dict[str, Code]:
    text = files("confide_contracts.codes").joinpath("data/icd10cm_f_chapter.csv").read_text()
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {row["code"]: Code(row["code"], row["billable"] == "yes", row["description"]) for row in rows}


@cache
def codes() -> list[str]:
    """Every billable code of the list, as the record keeps them (``F32.1``)."""
    return sorted(code for code, entry in catalogue().items() if entry.billable)


@cache
def source() -> str:
    first = files("confide_contracts.codes").joinpath("data/icd10cm_f_chapter.csv").read_text().splitlines()[0]
    return first.lstrip("# ")


def normalise(code: str) -> str:
    code = code.strip().upper()
    if len(code) > 3 and "." not in code:
        code = f"{code[:3]}.{code[3:]}"
    return code


def lookup(raw: str) -> Code:
    """The billable code ``raw`` names (``F32.1`` or ``F321``), or :class:`InvalidCode`
    saying what is wrong."""
    code = normalise(raw)
    if not FORMAT.match(code):
        raise InvalidCode(f"{raw!r} is not an ICD-10-CM code (a letter, two characters, then a dot and up to 4 more)")
    if not code.startswith("F"):
        raise InvalidCode(f"{code} is outside chapter 5 (F01-F99), the mental health diagnoses")
    known = catalogue().get(code)
    if known is None:
        raise InvalidCode(f"{code} is not in ICD-10-CM chapter 5 ({source()})")
    if not known.billable:
        finer = sorted(c for c, entry in catalogue().items() if c.startswith(code) and entry.billable)[:3]
        raise InvalidCode(f"{code} ({known.description}) is a category; use a billable code such as {', '.join(finer)}")
    return known
