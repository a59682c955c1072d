"""Signing in through a real OpenID provider (oidc-provider, ``infra/oidc-dev``):
``confide login``'s device flow, the person signing in at the provider's page
as they would in a browser, and the access token it gives accepted by the
gateway's authenticator -- role and sites read from the ``groups`` claim as
from a clinic's Keycloak or Okta."""

from __future__ import annotations

import secrets

import pytest
from confide_client import login
from confide_contracts.errors import InvalidRequest
from confide_gateway.auth import Authenticator, NotAuthenticated, RoleClaims
from confide_runtime import oidc_dev
from confide_runtime.stack import free_port
from confide_testing.signin import device_sign_in

AUDIENCE = "urn:confide:gateway"  # (a resource indicator is an absolute URI, RFC 8707)


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    people = {"desk": oidc_dev.Person("desk", secrets.token_urlsafe(12), "fd-kim", "Kim Desk",
                                      ("confide:front_desk:north", "confide:front_desk:south", "vpn")),
              "both": oidc_dev.Person("both", secrets.token_urlsafe(12), "dr-lee", "Sam Lee",
                                      ("confide:clinician:north", "confide:supervisor:south"))}
    config = oidc_dev.configuration(issuer, port, AUDIENCE, list(people.values()))
    with oidc_dev.running(config, tmp_path_factory.mktemp("oidc")) as meta:
        yield {"issuer": issuer, "meta": meta, "people": people}


def signed_in(provider, who: str, password: str | None = None):
    person = provider["people"][who]
    return device_sign_in(provider["issuer"], AUDIENCE, person.username, password or person.password,
                          wait=60 if password is None else 3)


def test_the_command_line_signs_in_and_the_gateway_knows_the_person(provider, tmp_path, monkeypatch):
    token, page = signed_in(provider, "desk")
    assert isinstance(token, dict), (token, page.text[:300])
    gateway = Authenticator(provider["meta"]["jwks_uri"], provider["issuer"], AUDIENCE,
                            role_claims=RoleClaims("groups"))
    claims = gateway.claims(f"Bearer {token['access_token']}")
    assert (claims["sub"], claims["role"], claims["sites"]) == ("fd-kim", "front_desk", ["north", "south"])
    # the ID token is not an access token, and the gateway of another audience accepts neither
    with pytest.raises(NotAuthenticated):
        gateway.claims(f"Bearer {token['id_token']}")
    with pytest.raises(NotAuthenticated):
        Authenticator(provider["meta"]["jwks_uri"], provider["issuer"], "another",
                      role_claims=RoleClaims("groups")).claims(f"Bearer {token['access_token']}")
    # kept for the next command, 0600, and refreshed once expired
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    login.save("http://gateway.test", {**token, "expires_at": 0})
    assert oct(login.credentials_file().stat().st_mode & 0o777) == "0o600"
    fresh = login.access_token("http://gateway.test", AUDIENCE)
    assert fresh and fresh != token["access_token"]
    assert gateway.claims(f"Bearer {fresh}")["role"] == "front_desk"
    assert login.forget("http://gateway.test") and login.access_token("http://gateway.test", AUDIENCE) is None


def test_a_person_with_two_roles_says_which_they_act_as(provider):
    token, _ = signed_in(provider, "both")
    gateway = Authenticator(provider["meta"]["jwks_uri"], provider["issuer"], AUDIENCE,
                            role_claims=RoleClaims("groups"))
    with pytest.raises(InvalidRequest, match="clinician, supervisor"):
        gateway.claims(f"Bearer {token['access_token']}")
    claims = gateway.claims(f"Bearer {token['access_token']}", "supervisor")
    assert (claims["role"], claims["sites"]) == ("supervisor", ["south"])


def test_a_wrong_password_signs_no_one_in(provider):
    token, page = signed_in(provider, "desk", password="not-it")
    assert page.status_code == 401 and "not right" in page.text
    assert token is None  # (still waiting: nobody signed in)
