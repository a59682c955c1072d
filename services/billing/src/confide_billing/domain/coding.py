"""From a completed session to its procedure codes: the code table
(``confide_contracts.codes.psychotherapy``, with its source) applied to the session's
service kind, face-to-face minutes, modality and flags."""

from __future__ import annotations

from dataclasses import dataclass, field

from confide_contracts.codes.psychotherapy import known_code, table

__all__ = ["Coding", "Line", "code_session", "known_code", "table"]


@dataclass(frozen=True)
class Line:
    code: str
    units: int = 1
    modifiers: tuple[str, ...] = ()


@dataclass
class Coding:
    lines: list[Line] = field(default_factory=list)
    place_of_service: str = "11"
    reason: str | None = None  # why nothing is billed

    @property
    def billable(self) -> bool:
        return bool(self.lines)


def code_session(service_kind: str, minutes: int, modality: str, *, patient_present: bool = True,
                 interactive_complexity: bool = False) -> Coding:
    t = table()
    coding = Coding(place_of_service=t["place_of_service"]["telehealth" if modality == "telehealth" else "in_person"])
    codes: list[tuple[str, int]] = []
    if minutes <= 0:
        coding.reason = "no face-to-face time recorded"
        return coding
    if service_kind == "intake_assessment":
        codes.append(("90791", 1))
    elif service_kind == "psychiatric_evaluation":
        codes.append(("90792", 1))
    elif service_kind == "individual_psychotherapy":
        codes += _individual(t, minutes, coding)
    elif service_kind == "family_psychotherapy":
        if minutes < t["family_minimum_minutes"]:
            minimum = t["family_minimum_minutes"]
            coding.reason = f"{minutes} minutes is below the {minimum}-minute minimum of 90846/90847"
        else:
            codes.append(("90847" if patient_present else "90846", 1))
    elif service_kind == "group_psychotherapy":
        codes.append(("90853", 1))
    elif service_kind == "psychoanalysis":
        codes.append(("90845", 1))
    elif service_kind == "crisis_psychotherapy":
        crisis = t["crisis"]
        if minutes < crisis["from"]:
            codes += _individual(t, minutes, coding)  # under 30 minutes: reported as psychotherapy
        else:
            codes.append((crisis["first"], 1))
            if minutes > crisis["first_to"]:
                extra = 1 + (minutes - crisis["first_to"] - 1) // crisis["additional_minutes"]
                codes.append((crisis["each_additional"], extra))
    else:
        coding.reason = f"{service_kind} is not coded from the psychotherapy table (e.g. E/M or testing codes)"
    if codes and interactive_complexity:
        rule = t["interactive_complexity"]
        if codes[0][0] in rule["with"]:
            codes.append((rule["code"], 1))
    modifiers = (t["telehealth_modifier"],) if modality == "telehealth" else ()
    coding.lines = [Line(code, units, modifiers) for code, units in codes]
    return coding


def _individual(t, minutes: int, coding: Coding) -> list[tuple[str, int]]:
    for band in t["individual_by_minutes"]:
        if minutes >= band["from"] and (band["to"] is None or minutes <= band["to"]):
            return [(band["code"], 1)]
    first = t["individual_by_minutes"][0]
    coding.reason = f"{minutes} minutes is below the {first['from']}-minute minimum of {first['code']}"
    return []
