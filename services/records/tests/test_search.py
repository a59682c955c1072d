"""Finding a client: typo- and accent-tolerant names, word starts while typing,
date of birth, phone and record number; within the caller's sites (a
clinician's: their care teams); demographics only; every search in the trail
with the clients it returned."""

from __future__ import annotations

import pytest
from confide_testing import caller, random_id
from nameko.exceptions import RemoteError
from records_support import OTHER_SITE, SITE, client_payload


@pytest.fixture
def people(clinic):
    """Three clients with one rare family name: two here, one at the other site."""
    family = random_id("Ozturk").replace("-", "")
    south_desk = caller("front_desk", (OTHER_SITE,))
    here = clinic.rpc.register_client(clinic.front_desk, client_payload(
        given_name="Zoë", family_name=f"Öztürk{family}", date_of_birth="1979-02-14", phone="(212) 555-7788"))
    cousin = clinic.rpc.register_client(clinic.front_desk, client_payload(
        given_name="Nikolai", family_name=f"Ozturk{family}", date_of_birth="1990-12-01", phone=None))
    away = clinic.rpc.register_client(south_desk, client_payload(
        given_name="Zoe", family_name=f"Ozturk{family}", home_site_id=OTHER_SITE, date_of_birth="1979-02-14"))
    return {"family": family, "here": here, "cousin": cousin, "away": away, "south_desk": south_desk}


def found(clinic, who, **query) -> list[str]:
    return [c["id"] for c in clinic.rpc.search_clients(who, query)["clients"]]


def test_names_forgive_typos_and_accents_and_match_as_they_are_typed(clinic, people):
    desk, family = clinic.front_desk, people["family"]
    here, cousin = people["here"]["id"], people["cousin"]["id"]
    assert found(clinic, desk, name=f"zoe ozturk{family}") == [here]          # no accents typed
    assert found(clinic, desk, name=f"Zoé Öztürk{family}") == [here]          # other accents
    assert found(clinic, desk, name=f"Nikolay Ozturk{family}")[:1] == [cousin]  # a typo, still first
    assert found(clinic, desk, name=f"Nikola Ozturk{family}")[:1] == [cousin]   # a letter short
    assert found(clinic, desk, name=f"Nikolia Ozturk{family}")[:1] == [cousin]  # two letters swapped
    assert found(clinic, desk, name=f"ozturk{family} zo") == [here]           # any order; "zo" as typed
    assert sorted(found(clinic, desk, name=f"ozturk{family}")) == sorted([here, cousin])
    assert found(clinic, desk, name=f"ozturk{family}", date_of_birth="1990-12-01") == [cousin]


def test_a_name_being_typed_finds_every_longer_form_however_many(clinic):
    """A typo stands for the few nearest spellings; a name being typed for every name it starts."""
    stem = random_id("Quill").replace("-", "")
    made = [clinic.rpc.register_client(clinic.front_desk, client_payload(given_name="Ann",
                                                                         family_name=stem + tail))["id"]
            for tail in "abcdefghijkl"]
    assert sorted(found(clinic, clinic.front_desk, name=stem, limit=50)) == sorted(made)


def test_phone_and_record_number_find_the_client_and_show_demographics_only(clinic, people):
    here = people["here"]
    assert found(clinic, clinic.front_desk, phone="555 7788", name=f"ozturk{people['family']}") == [here["id"]]
    by_number = clinic.rpc.search_clients(clinic.front_desk, {"record_number": here["record_number"]})["clients"]
    assert [c["id"] for c in by_number] == [here["id"]]
    assert set(by_number[0]) == {"id", "record_number", "given_name", "family_name", "preferred_name",
                                 "date_of_birth", "pronouns", "home_site_id", "phone"}  # no insurance, contacts


def test_a_search_stays_within_the_callers_sites_and_care_teams(clinic, people):
    family = people["family"]
    assert found(clinic, people["south_desk"], name=f"zoe ozturk{family}") == [people["away"]["id"]]
    officer = caller("compliance_officer", ())
    assert len(found(clinic, officer, name=f"zoe ozturk{family}")) == 2       # network-wide
    with pytest.raises(RemoteError) as refused:
        found(clinic, clinic.front_desk, name=f"zoe ozturk{family}", site_id=OTHER_SITE)
    assert refused.value.exc_type == "AccessDenied"
    # a clinician finds only the clients of their care teams
    dr = caller("clinician", (SITE,))
    assert found(clinic, dr, name=f"ozturk{family}") == []
    clinic.join(people["cousin"]["id"], dr)
    assert found(clinic, dr, name=f"ozturk{family}") == [people["cousin"]["id"]]
    for role in ("client", "credentialing_officer"):
        with pytest.raises(RemoteError) as refused:
            found(clinic, caller(role, (SITE,)), name=f"ozturk{family}")
        assert refused.value.exc_type == "AccessDenied"


def test_each_search_is_in_the_trail_with_every_client_it_returned(clinic, people):
    family = people["family"]
    mark = clinic.outbox_mark()
    result = clinic.rpc.search_clients(clinic.front_desk, {"name": f"ozturk{family}"})
    events = clinic.access_events(mark)
    assert sorted(e["client_id"] for e in events) == sorted(c["id"] for c in result["clients"])
    assert {(e["action"], e["resource_type"], e["resource_id"]) for e in events} == {
        ("search", "Client", result["search_id"])}
    assert all(e["reason"] == "search by name: 2 found" and family not in e["reason"] for e in events)
    mark = clinic.outbox_mark()
    clinic.rpc.search_clients(clinic.front_desk, {"name": "Nobody Atall"})
    [nobody] = clinic.access_events(mark)
    assert nobody["client_id"] is None and nobody["reason"] == "search by name: 0 found"


@pytest.mark.parametrize(("query", "field"), [
    ({}, "name"), ({"name": "z"}, "name"), ({"name": "__"}, "name"), ({"name": "ab\x00"}, "name"),
    ({"phone": "55"}, "phone"), ({"phone": "5555 or 1=1"}, "phone"), ({"record_number": "x"}, "record_number"),
    ({"name": "zoe", "limit": 500}, "limit"),
])
def test_bad_searches_name_the_field(clinic, query, field):
    with pytest.raises(RemoteError) as refused:
        clinic.rpc.search_clients(clinic.front_desk, query)
    assert refused.value.exc_type == "InvalidRequest" and f"{field}:" in str(refused.value)
