"""Credential types, their scope of practice, and compacts, loaded from the data
files beside this module (each names its source)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib.resources import files

from confide_licensure.jurisdictions import check_jurisdiction

MODALITIES = ("telehealth", "in_person")


class UnknownCode(ValueError):
    pass


@dataclass(frozen=True)
class CredentialType:
    code: str
    title: str
    independent: bool  # False: pre-licensed, practises only under active supervision
    service_kinds: frozenset[str]


@dataclass(frozen=True)
class Compact:
    code: str
    name: str
    covers: frozenset[str]
    privileges_from: date
    modalities: dict[str, dict]
    members: dict[str, date | None] = field(default_factory=dict)  # jurisdiction -> effective date

    def member_on(self, jurisdiction: str, on: date) -> bool:
        if jurisdiction not in self.members:
            return False
        since = self.members[jurisdiction]
        return since is None or since <= on


@dataclass(frozen=True)
class Catalogue:
    service_kinds: dict[str, str]
    types: dict[str, CredentialType]
    compacts: tuple[Compact, ...]

    def credential_type(self, code: str) -> CredentialType:
        try:
            return self.types[code]
        except KeyError:
            raise UnknownCode(f"unknown credential type {code!r} (known: {', '.join(sorted(self.types))})") from None

    def service_kind(self, code: str) -> str:
        if code not in self.service_kinds:
            raise UnknownCode(f"unknown service kind {code!r} (known: {', '.join(sorted(self.service_kinds))})")
        return code

    def compacts_covering(self, type_code: str) -> list[Compact]:
        return [c for c in self.compacts if type_code in c.covers]


def _member(entry) -> tuple[str, date | None]:
    if isinstance(entry, str):
        return check_jurisdiction(entry), None
    return check_jurisdiction(entry["jurisdiction"]), date.fromisoformat(entry["effective_on"])


def load(types_json: str, compacts_json: str) -> Catalogue:
    raw = json.loads(types_json)
    kinds = raw["service_kinds"]
    types = {}
    for entry in raw["types"]:
        unknown = set(entry["service_kinds"]) - set(kinds)
        if unknown:
            raise ValueError(f"credential type {entry['code']}: unknown service kinds {sorted(unknown)}")
        types[entry["code"]] = CredentialType(entry["code"], entry["title"], entry["independent"],
                                              frozenset(entry["service_kinds"]))
    compacts = []
    for entry in json.loads(compacts_json)["compacts"]:
        if set(entry["covers"]) - set(types) or set(entry["modalities"]) - set(MODALITIES):
            raise ValueError(f"compact {entry['code']}: unknown credential type or modality")
        compacts.append(Compact(
            code=entry["code"], name=entry["name"], covers=frozenset(entry["covers"]),
            privileges_from=date.fromisoformat(entry["privileges_from"]), modalities=entry["modalities"],
            members=dict(_member(m) for m in entry["members"]),
        ))
    return Catalogue(kinds, types, tuple(compacts))


@cache
def catalogue() -> Catalogue:
    data = files("confide_licensure").joinpath("data")
    return load(data.joinpath("credential_types.json").read_text(), data.joinpath("compacts.json").read_text())
