"""Who a token's person is, as real identity providers say it: roles (per site)
in a list claim, mapped by configuration; a person with several roles says
which they act as."""

from __future__ import annotations

import pytest
from confide_contracts.errors import InvalidRequest
from confide_gateway.auth import NotAuthenticated, RoleClaims

pytestmark = pytest.mark.unit

GROUPS = RoleClaims("groups")


def test_the_tokens_own_role_and_sites_by_default():
    assert RoleClaims().person({"role": "front_desk", "sites": ["north"]}, None) == ("front_desk", ["north"])


def test_groups_name_a_role_per_site_and_others_are_someone_elses():
    claims = {"groups": ["confide:front_desk:north", "confide:front_desk:south", "vpn-users", "confide:system",
                         "confide:wizard:north", 7, "Confide:admin:north"]}
    assert GROUPS.person(claims, None) == ("front_desk", ["north", "south"])


def test_a_network_wide_role_has_no_site():
    assert GROUPS.person({"groups": ["confide:compliance_officer"]}, None) == ("compliance_officer", [])


def test_a_nested_claim_as_keycloak_sends_it():
    keycloak = RoleClaims("realm_access.roles", r"^(?P<role>[a-z_]+)@(?P<site>[a-z0-9-]+)$")
    assert keycloak.person({"realm_access": {"roles": ["clinician@north", "offline_access"]}}, None) == (
        "clinician", ["north"])


def test_several_roles_the_person_chooses_one_by_name():
    claims = {"groups": ["confide:clinician:north", "confide:supervisor:south"]}
    with pytest.raises(InvalidRequest) as choose:
        GROUPS.person(claims, None)
    assert "X-Confide-Role" in choose.value.errors and "clinician, supervisor" in str(choose.value)
    assert GROUPS.person(claims, "supervisor") == ("supervisor", ["south"])
    with pytest.raises(InvalidRequest, match="do not hold"):
        GROUPS.person(claims, "admin")


def test_no_role_at_all_is_not_a_confide_user():
    for claims in ({"groups": ["vpn-users"]}, {}, {"groups": "confide:admin:north"}):
        with pytest.raises(NotAuthenticated):
            GROUPS.person(claims, None)


def test_a_trust_setting_that_is_not_a_list_of_issuers_is_named():
    from confide_gateway.auth import UnsafeConfiguration
    from confide_gateway.dependencies import trusted_issuers

    assert trusted_issuers('[{"issuer": "https://idp", "jwks": "https://idp/jwks"}]')[0]["issuer"] == "https://idp"
    for bad in ("{not json", '{"issuer": "x"}', '[{"issuer": "x"}]', "[1]"):
        with pytest.raises(UnsafeConfiguration, match="CONFIDE_GATEWAY_TRUST"):
            trusted_issuers(bad)
