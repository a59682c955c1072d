"""Clinicians, licences and supervisions listed: filtered, sorted, paged by key,
for staff (not clients)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from confide_testing import caller, random_id
from cred_support import OFFICER, clinician, licensed
from nameko.exceptions import RemoteError


def test_clinicians_by_name_site_and_where_licensed(cred):
    site = random_id("site")
    ids = [clinician(cred, family_name=name, given_name=given, home_site_id=site)
           for name, given in (("Okafor", "Sam"), ("Ruiz", "Ana"), ("Rui_z", "Ben"))]
    licensed(cred, ids[1], jurisdiction="US-NJ")
    desk = caller("front_desk", (site,))
    page = cred.list_clinicians(desk, {"home_site_id": site, "limit": 2})
    assert [c["family_name"] for c in page["items"]] == ["Okafor", "Rui_z"]
    rest = cred.list_clinicians(desk, {"home_site_id": site, "limit": 2, "cursor": page["next_cursor"]})
    assert [c["family_name"] for c in rest["items"]] == ["Ruiz"] and rest["next_cursor"] is None
    # a name's start (an underscore is a letter, not a wildcard); licensed in a jurisdiction
    assert [c["id"] for c in cred.list_clinicians(desk, {"home_site_id": site, "name": "rui_"})["items"]] == [ids[2]]
    assert [c["id"] for c in cred.list_clinicians(desk, {"home_site_id": site, "licensed_in": "US-NJ"})["items"]] \
        == [ids[1]]
    with pytest.raises(RemoteError, match="AccessDenied"):
        cred.list_clinicians(caller("client", ()), {})


def test_licences_by_status_and_expiry_and_supervisions_by_date(cred):
    dr, supervisor = clinician(cred), clinician(cred, given_name="Sam", family_name="Okafor")
    soon = licensed(cred, dr, expires_in=20)
    later = licensed(cred, dr, "lmft", expires_in=300)
    pending = licensed(cred, dr, "lpc", jurisdiction="US-NJ", verify=False)
    mine = {"clinician_id": dr}
    assert [x["id"] for x in cred.list_licenses(OFFICER, mine)["items"]] == [soon["id"], later["id"], pending["id"]]
    assert [x["id"] for x in cred.list_licenses(OFFICER, {**mine, "status": "pending"})["items"]] == [pending["id"]]
    before = (date.today() + timedelta(days=30)).isoformat()
    assert [x["id"] for x in cred.list_licenses(OFFICER, {**mine, "expires_before": before})["items"]] == [soon["id"]]
    assert [x["id"] for x in cred.list_licenses(OFFICER, {**mine, "sort": "-expires"})["items"]] == [
        pending["id"], later["id"], soon["id"]]
    licensed(cred, supervisor, "lcsw")
    started = cred.start_supervision(OFFICER, {"supervisor_id": supervisor, "supervisee_id": dr,
                                               "jurisdiction": "US-NY", "starts_on": date.today().isoformat()})
    listed = cred.list_supervisions(OFFICER, {"supervisee_id": dr, "on": date.today().isoformat()})["items"]
    assert [s["id"] for s in listed] == [started["id"]]
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    assert cred.list_supervisions(OFFICER, {"supervisee_id": dr, "on": yesterday})["items"] == []
    with pytest.raises(RemoteError, match="status"):
        cred.list_licenses(OFFICER, {"status": "lapsed"})
