"""The licensure answer over a table of cases."""

from datetime import date

import pytest
from confide_licensure import (
    InvalidJurisdiction,
    License,
    Supervision,
    UnknownCode,
    catalogue,
    check_jurisdiction,
    may_practice,
)

pytestmark = pytest.mark.unit  # pure: no PostgreSQL, RabbitMQ or OpenBao

ON = date(2026, 6, 1)


def lic(type_, jurisdiction, *, status="active", issued=date(2020, 1, 1), expires=date(2027, 1, 1), number="123"):
    return License(id=f"{type_}-{jurisdiction}", type=type_, jurisdiction=jurisdiction, number=number,
                   status=status, issued_on=issued, expires_on=expires)


def supervised_by(*licenses, jurisdiction="US-NY", starts=date(2026, 1, 1), ends=None):
    return Supervision("dr-sup", jurisdiction, starts, ends, tuple(licenses))


CASES = [
    # (case, licences, supervisions, service kind, client jurisdiction, modality, on, allowed, phrase)
    ("home-state licence", [lic("psychologist", "US-NY")], [], "individual_psychotherapy", "US-NY", "in_person", ON,
     True, "psychologist licence 123 (US-NY) in force"),
    ("other state, home not in PSYPACT", [lic("psychologist", "US-NY")], [], "individual_psychotherapy", "US-NJ",
     "telehealth", ON, False, "US-NY (home licence) is not a member"),
    ("other state, both in PSYPACT, telehealth", [lic("psychologist", "US-PA")], [], "individual_psychotherapy",
     "US-NJ", "telehealth", ON, True, "PSYPACT privilege for telehealth practice in US-NJ"),
    ("other state, both in PSYPACT, in person", [lic("psychologist", "US-PA")], [], "individual_psychotherapy",
     "US-NJ", "in_person", ON, True, "up to 30 days a year"),
    ("other state, client's state not in PSYPACT", [lic("psychologist", "US-PA")], [], "individual_psychotherapy",
     "US-CA", "telehealth", ON, False, "US-CA is not a member"),
    ("other state, no compact for the profession", [lic("lmft", "US-PA")], [], "family_psychotherapy", "US-NJ",
     "telehealth", ON, False, "no compact covers Licensed Marriage and Family Therapist"),
    ("Counseling Compact, in person", [lic("lpc", "US-OH")], [], "individual_psychotherapy", "US-NJ", "in_person",
     ON, True, "Counseling Compact privilege for in person practice"),
    ("Counseling Compact before privileges began", [lic("lpc", "US-OH")], [], "individual_psychotherapy", "US-NJ",
     "telehealth", date(2025, 6, 1), False, "grants privileges only from 2025-12-01"),
    ("expired on the day", [lic("lcsw", "US-NY", expires=date(2026, 6, 1))], [], "individual_psychotherapy",
     "US-NY", "in_person", ON, False, "expired on 2026-06-01"),
    ("the day before expiry", [lic("lcsw", "US-NY", expires=date(2026, 6, 1))], [], "individual_psychotherapy",
     "US-NY", "in_person", date(2026, 5, 31), True, "in force"),
    ("suspended", [lic("lcsw", "US-NY", status="suspended")], [], "individual_psychotherapy", "US-NY",
     "telehealth", ON, False, "is suspended"),
    ("pending verification", [lic("lcsw", "US-NY", status="pending")], [], "individual_psychotherapy", "US-NY",
     "telehealth", ON, False, "pending primary-source verification"),
    ("not yet issued", [lic("lcsw", "US-NY", issued=date(2026, 7, 1))], [], "individual_psychotherapy", "US-NY",
     "telehealth", ON, False, "not valid before 2026-07-01"),
    ("associate with active supervision", [lic("counselor_associate", "US-NY")],
     [supervised_by(lic("lpc", "US-NY"))], "individual_psychotherapy", "US-NY", "in_person", ON, True,
     "supervised by dr-sup"),
    ("associate without supervision", [lic("counselor_associate", "US-NY")], [], "individual_psychotherapy",
     "US-NY", "in_person", ON, False, "needs an active supervision in US-NY"),
    ("associate whose supervision ended", [lic("counselor_associate", "US-NY")],
     [supervised_by(lic("lpc", "US-NY"), ends=date(2026, 5, 31))], "individual_psychotherapy", "US-NY",
     "in_person", ON, False, "needs an active supervision"),
    ("associate, supervisor not licensed there", [lic("counselor_associate", "US-NY")],
     [supervised_by(lic("lpc", "US-NJ"))], "individual_psychotherapy", "US-NY", "in_person", ON, False,
     "supervisor dr-sup holds no licence in force in US-NY"),
    ("associate, supervisor's licence expired", [lic("counselor_associate", "US-NY")],
     [supervised_by(lic("lpc", "US-NY", expires=date(2026, 3, 1)))], "individual_psychotherapy", "US-NY",
     "in_person", ON, False, "holds no licence in force"),
    ("associates do not travel by compact", [lic("counselor_associate", "US-OH")],
     [supervised_by(lic("lpc", "US-OH"), jurisdiction="US-OH")], "individual_psychotherapy", "US-NJ",
     "telehealth", ON, False, "no compact covers Associate Professional Counselor"),
    ("medication management, LCSW", [lic("lcsw", "US-NY")], [], "medication_management", "US-NY", "in_person", ON,
     False, "scope of practice does not include medication_management"),
    ("medication management, psychiatrist", [lic("psychiatrist_md", "US-NY")], [], "medication_management",
     "US-NY", "telehealth", ON, True, "in force"),
    ("medication management, PMHNP", [lic("pmhnp", "US-NY")], [], "medication_management", "US-NY", "in_person",
     ON, True, "in force"),
    ("no licence at all", [], [], "individual_psychotherapy", "US-NY", "in_person", ON, False,
     "no licence on record"),
    ("Canadian province", [lic("psychologist", "CA-ON")], [], "individual_psychotherapy", "CA-ON", "telehealth", ON,
     True, "in force"),
]


@pytest.mark.parametrize(("case", "licenses", "supervisions", "kind", "where", "modality", "on", "allowed", "phrase"),
                         CASES, ids=[c[0] for c in CASES])
def test_licensure_answer(case, licenses, supervisions, kind, where, modality, on, allowed, phrase):
    answer = may_practice(licenses, supervisions, kind, where, modality, on)
    assert answer.allowed is allowed, answer
    said = " | ".join(answer.basis if allowed else answer.reasons)
    assert phrase in said, said


def test_every_reason_is_given():
    answer = may_practice([lic("lcsw", "US-NY", status="suspended", number="1"),
                           lic("lcsw", "US-NJ", expires=date(2026, 1, 1), number="2"),
                           lic("lmft", "US-NY", number="3")],
                          [], "medication_management", "US-NY", "in_person", ON)
    assert not answer.allowed and len(answer.reasons) == 3


def test_one_good_licence_is_enough_and_the_bad_ones_are_still_listed():
    answer = may_practice([lic("lcsw", "US-NY", status="suspended", number="1"), lic("lmft", "US-NY", number="2")],
                          [], "individual_psychotherapy", "US-NY", "in_person", ON)
    assert answer.allowed and answer.reasons == ["lcsw licence 1 (US-NY) is suspended"]


def test_questions_that_cannot_be_asked():
    with pytest.raises(UnknownCode, match="unknown service kind 'hypnosis'"):
        may_practice([], [], "hypnosis", "US-NY", "telehealth", ON)
    with pytest.raises(InvalidJurisdiction, match="US-XX"):
        may_practice([], [], "individual_psychotherapy", "US-XX", "telehealth", ON)
    with pytest.raises(ValueError, match="modality"):
        may_practice([], [], "individual_psychotherapy", "US-NY", "carrier pigeon", ON)


def test_jurisdiction_codes():
    assert check_jurisdiction("US-NY") == "US-NY" and check_jurisdiction("CA-ON") == "CA-ON"
    for bad in ("NY", "us-ny", "US-XX", "New York", ""):
        with pytest.raises(InvalidJurisdiction):
            check_jurisdiction(bad)


def test_the_catalogue_names_every_profession_the_issue_lists():
    types = catalogue().types
    for code in ("psychiatrist_md", "psychiatrist_do", "psychologist", "lcsw", "lpc", "lmhc", "lmft", "pmhnp",
                 "art_therapist", "music_therapist", "psychoanalyst", "rehabilitation_counselor"):
        assert types[code].independent
    assert not types["counselor_associate"].independent and not types["lmsw"].independent
    # only prescribers manage medication
    prescribers = {c for c, t in types.items() if "medication_management" in t.service_kinds}
    assert prescribers == {"psychiatrist_md", "psychiatrist_do", "pmhnp"}
