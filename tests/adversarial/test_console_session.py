"""The console's sign-in through a real OpenID provider, and what an attacker
tries on a browser session: a change without the CSRF token, a made-up
cookie, a replayed callback, an open redirect after sign-in, the tokens
looked for in the page. The session cookie is HttpOnly and SameSite=Lax."""

from __future__ import annotations

import re
import secrets

import pytest
import requests
from confide_runtime import oidc_dev
from confide_runtime.stack import free_port
from confide_testing.signin import sign_in_at
from sqlalchemy import text

AUDIENCE = "urn:confide:gateway"


@pytest.fixture
def console(gateway_with, tmp_path):
    port, web = free_port(), free_port()
    issuer, base, secret = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{web}", secrets.token_urlsafe(24)
    desk = oidc_dev.Person("desk", secrets.token_urlsafe(12), "fd-kim", "Kim Desk", ("confide:front_desk:north",))
    config = oidc_dev.configuration(issuer, port, AUDIENCE, [desk], console=(base, secret))
    with oidc_dev.running(config, tmp_path / "oidc") as meta:
        gw = gateway_with("scheduling", WEB_SERVER_ADDRESS=f"127.0.0.1:{web}", GATEWAY_TRUST=[{
            "issuer": issuer, "jwks": meta["jwks_uri"], "audience": AUDIENCE, "roles_claim": "groups"}],
            CONSOLE_ISSUER=issuer, CONSOLE_CLIENT_SECRET=secret, CONSOLE_URL=base, CONSOLE_AUDIENCE=AUDIENCE)
        yield {"base": base, "desk": desk, "issuer": issuer, "db": gw.services["gateway"].engine}


def signed_in(console, return_to: str = "") -> tuple[requests.Session, requests.Response]:
    browser = requests.Session()
    page = sign_in_at(f"{console['base']}/auth/login{return_to}", console["desk"].username,
                      console["desk"].password, browser=browser, stop_at=console["base"])
    return browser, page


def test_a_person_signs_in_and_the_console_acts_as_them(console):
    browser, page = signed_in(console)
    assert page.url == f"{console['base']}/console/" and "Kim Desk" in page.text and "front desk" in page.text
    made = next(r for r in page.history if "/auth/callback" in r.url)
    cookie = made.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "eyJ" not in page.text and "access_token" not in page.text  # no token reaches the page
    sites = browser.get(f"{console['base']}/api/v1/sites")
    assert sites.status_code == 200, sites.text
    # a change through the cookie needs the session's CSRF token, as a form from elsewhere has not
    window = {"clinician_id": "dr-x", "site_id": "north", "weekday": 1, "starts": "09:00", "ends": "10:00",
              "valid_from": "2027-01-05"}
    forged = browser.post(f"{console['base']}/api/v1/availability", json=window)
    assert forged.status_code == 403 and forged.json()["type"].endswith("/csrf"), forged.text
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
    asked = browser.post(f"{console['base']}/api/v1/availability", json=window, headers={"X-CSRF-Token": csrf})
    assert asked.status_code == 404 and "site_id" in asked.text, asked.text  # decided by scheduling: no such site (yet)
    # ... and so does a form of the console's own pages (the token is a field of the form)
    entry = "01a22222-0000-7000-8000-000000000000"
    form = browser.post(f"{console['base']}/console/waitlist/{entry}/removal", data={"reason": "moved away"})
    assert form.status_code == 403 and "CSRF" in form.text and "<title>" in form.text, form.text[:300]
    form = browser.post(f"{console['base']}/console/waitlist/{entry}/removal", data={"reason": "moved away",
                                                                                    "csrf": csrf})
    assert form.status_code == 404 and "entry" in form.text.lower(), form.text[:300]  # decided by scheduling
    # what another site makes the browser ask for is not done as the person: a link to a page of the
    # console stops at a "continue?" page (the services are not asked), and the API refuses it
    elsewhere = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}
    led = browser.get(f"{console['base']}/console/clients?name=robin", headers=elsewhere)
    assert led.status_code == 200 and "You came here from another site" in led.text
    assert 'href="/console/clients?name=robin"' in led.text  # (the same page, from here: then it is asked)
    fetched = browser.get(f"{console['base']}/api/v1/sites", headers={"Sec-Fetch-Site": "same-site"})
    assert fetched.status_code == 403 and fetched.json()["type"].endswith("/csrf")
    # sign-out needs the token too; after it the cookie is worth nothing
    assert browser.post(f"{console['base']}/auth/logout", data={}).status_code == 403
    browser.post(f"{console['base']}/auth/logout", data={"csrf": csrf}, allow_redirects=False)
    again = requests.get(f"{console['base']}/api/v1/sites",
                         cookies={"confide_session": made.cookies.get("confide_session")})
    assert again.status_code == 401


def test_a_made_up_cookie_and_a_replayed_callback_make_no_session(console):
    made_up = requests.get(f"{console['base']}/api/v1/sites", cookies={"confide_session": secrets.token_urlsafe(32)})
    assert made_up.status_code == 401
    _, page = signed_in(console)
    callback = next(r for r in page.history if "/auth/callback" in r.url)
    replayed = requests.get(callback.url)  # the code and state once more, from another browser
    assert replayed.status_code == 400 and "Set-Cookie" not in replayed.headers
    assert requests.get(f"{console['base']}/auth/callback?state=x&code=y").status_code == 400


def test_after_sign_in_only_a_page_of_this_site(console):
    for elsewhere in ("?return_to=//evil.example/", "?return_to=https://evil.example/", "?return_to=/\\evil.example",
                      "?return_to=/%09/evil.example", "?return_to=/%0a/evil.example", "?return_to=/%09%5cevil.example"):
        _, page = signed_in(console, elsewhere)
        assert page.url == f"{console['base']}/console/", (elsewhere, page.url)
    _, page = signed_in(console, "?return_to=/console/?from=mail")
    assert page.url == f"{console['base']}/console/?from=mail"


def test_an_expired_access_token_is_refreshed_behind_the_session(console):
    browser, _ = signed_in(console)
    with console["db"].begin() as conn:  # (as if the hour were over)
        conn.execute(text("UPDATE console_sessions SET access_expires_at = now() - interval '1 minute'"))
    assert browser.get(f"{console['base']}/api/v1/sites").status_code == 200
    with console["db"].connect() as conn:
        assert conn.execute(text("SELECT min(access_expires_at) > now() FROM console_sessions")).scalar()
        kept = conn.execute(text("SELECT tokens FROM console_sessions")).scalars().all()
    assert kept and all(t.startswith("vault:v") for t in kept)  # sealed by transit, never kept in the clear
