"""Code selection over a table of cases."""

import pytest
from confide_billing.domain.coding import code_session

pytestmark = pytest.mark.unit  # pure: no PostgreSQL, RabbitMQ or OpenBao

CASES = [
    # service kind, minutes, modality, flags, expected lines (code, units, modifiers), place of service
    ("individual_psychotherapy", 15, "in_person", {}, [], "11"),
    ("individual_psychotherapy", 16, "in_person", {}, [("90832", 1, ())], "11"),
    ("individual_psychotherapy", 37, "in_person", {}, [("90832", 1, ())], "11"),
    ("individual_psychotherapy", 38, "in_person", {}, [("90834", 1, ())], "11"),
    ("individual_psychotherapy", 52, "in_person", {}, [("90834", 1, ())], "11"),
    ("individual_psychotherapy", 53, "in_person", {}, [("90837", 1, ())], "11"),
    ("individual_psychotherapy", 90, "in_person", {}, [("90837", 1, ())], "11"),
    ("individual_psychotherapy", 45, "telehealth", {}, [("90834", 1, ("95",))], "10"),
    ("individual_psychotherapy", 45, "in_person", {"interactive_complexity": True},
     [("90834", 1, ()), ("90785", 1, ())], "11"),
    ("intake_assessment", 60, "in_person", {}, [("90791", 1, ())], "11"),
    ("psychiatric_evaluation", 60, "telehealth", {}, [("90792", 1, ("95",))], "10"),
    ("family_psychotherapy", 25, "in_person", {}, [], "11"),
    ("family_psychotherapy", 26, "in_person", {}, [("90847", 1, ())], "11"),
    ("family_psychotherapy", 50, "in_person", {"patient_present": False}, [("90846", 1, ())], "11"),
    ("group_psychotherapy", 90, "in_person", {"interactive_complexity": True},
     [("90853", 1, ()), ("90785", 1, ())], "11"),
    ("crisis_psychotherapy", 25, "in_person", {}, [("90832", 1, ())], "11"),
    ("crisis_psychotherapy", 30, "in_person", {}, [("90839", 1, ())], "11"),
    ("crisis_psychotherapy", 74, "in_person", {}, [("90839", 1, ())], "11"),
    ("crisis_psychotherapy", 75, "in_person", {}, [("90839", 1, ()), ("90840", 1, ())], "11"),
    ("crisis_psychotherapy", 104, "in_person", {}, [("90839", 1, ()), ("90840", 1, ())], "11"),
    ("crisis_psychotherapy", 105, "in_person", {}, [("90839", 1, ()), ("90840", 2, ())], "11"),
    ("crisis_psychotherapy", 80, "in_person", {"interactive_complexity": True},
     [("90839", 1, ()), ("90840", 1, ())], "11"),  # 90785 is not reported with crisis codes
    ("psychoanalysis", 45, "in_person", {}, [("90845", 1, ())], "11"),
    ("medication_management", 20, "in_person", {}, [], "11"),
    ("individual_psychotherapy", 0, "in_person", {}, [], "11"),
]


@pytest.mark.parametrize(("kind", "minutes", "modality", "flags", "lines", "pos"), CASES,
                         ids=[f"{c[0]}-{c[1]}min-{c[2]}" + ("-" + "-".join(c[3]) if c[3] else "") for c in CASES])
def test_code_selection(kind, minutes, modality, flags, lines, pos):
    coding = code_session(kind, minutes, modality, **flags)
    assert [(line.code, line.units, line.modifiers) for line in coding.lines] == lines
    assert coding.place_of_service == pos
    assert coding.billable == bool(lines)
    if not lines:
        assert coding.reason  # nothing billed says why
