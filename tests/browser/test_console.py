"""The console in a real browser (Debian's Chromium, driven by Playwright), on
the whole platform as `make run` starts it, with the demo network: each of the
five kinds of user signs in through the local OpenID provider, does their
page's main task, and the result is found in the audit trail. Every page is
checked by axe-core (no serious or critical violation). A tampered entry's
proof fails visibly in the browser. ``CONFIDE_SCREENSHOTS=<dir>`` keeps a
screenshot of each page (``make screenshots`` refreshes the README's).

Run by ``make test`` in a pytest of its own (``pytest -p no:confide tests/browser``)."""

from __future__ import annotations

import os
import re
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
import requests
from confide_client.demo import ANA, BEN, SAM
from confide_client.devtokens import mint
from confide_testing.browser import accessibility_problems, chromium, install_axe, sign_in
from confide_testing.stack import running

pytestmark = pytest.mark.timeout(900)
SHOTS = os.environ.get("CONFIDE_SCREENSHOTS")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    install_axe()
    prefix = f"console_{os.getpid()}_{int(time.time()) % 100000}"
    with running(tmp_path_factory.mktemp("stack"), prefix) as stack:
        yield stack


@pytest.fixture(scope="module")
def browser(stack):
    with chromium() as browser:
        yield browser


@pytest.fixture
def person(stack, browser):
    """A fresh browser context signed in as one of the demo's people (``person("desk")``)."""
    contexts = []

    def signed_in(username: str):
        context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        sign_in(page, stack.web, username, stack.people[username])
        return page

    yield signed_in
    for context in contexts:
        context.close()


def visit(page, base: str, path: str, shot: str | None = None, status: int = 200):
    """Open ``path``: answered with ``status``, no script error, no serious or critical accessibility problem."""
    answer = page.goto(base + path)
    assert answer.status == status, (path, answer.status, page.inner_text("main")[:500])
    page.wait_for_load_state("networkidle")
    assert accessibility_problems(page) == [], path
    assert page.errors == [], page.errors
    if SHOTS and shot:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{shot}.png"), full_page=False)
    return page


def trail(stack, **filters) -> list[dict]:
    """The trail as a compliance officer's script reads it (a development token)."""
    token = mint(stack.state, "co-script", "compliance_officer", [])
    answer = requests.get(f"{stack.web}/api/v1/audit/entries", params={"order": "desc", "limit": 200, **filters},
                          headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["entries"]


def held_on(stack) -> str:
    """The date, in the North site's zone, of Robin's session the demo held "earlier today": the day
    before, when the demo ran in the first hours of the day in New York."""
    desk = mint(stack.state, "desk-script", "front_desk", ["north"])
    answer = requests.get(f"{stack.web}/api/v1/appointments/{stack.ids['robin_session']}",
                          headers={"Authorization": f"Bearer {desk}"}, timeout=30)
    assert answer.status_code == 200, answer.text
    starts = datetime.fromisoformat(answer.json()["starts_at"])
    return starts.astimezone(ZoneInfo("America/New_York")).date().isoformat()


def in_trail(stack, timeout: float = 30, **filters) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = trail(stack, **filters)
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"nothing in the trail for {filters}")


# --- the compliance officer -----------------------------------------------------------------------
def test_a_compliance_officer_pages_the_trail_checks_an_entry_and_reviews_a_grant(stack, person):
    page = visit(person("compliance"), stack.web, "/console/trail", "trail")
    rows = page.locator("#rows > tr")
    first = rows.count()
    assert first == 50 and "Entries, newest first" in page.inner_text("main")
    page.locator("a[data-more]").scroll_into_view_if_needed()  # older entries come as the reader scrolls
    page.wait_for_selector("#rows > tr:nth-child(51)", state="attached")
    times = page.locator("#rows > tr > td:first-child").all_inner_texts()
    assert times == sorted(times, reverse=True)
    # filters: the denied attempts only
    visit(page, stack.web, "/console/trail?outcome=denied")
    assert set(page.locator("#rows > tr > td:nth-child(4)").all_inner_texts()) == {"denied"}
    # an entry's page: the proof checked here, by the browser
    entry = in_trail(stack, resource_type="Disclosure")[0]
    visit(page, stack.web, f"/console/trail/{entry['chain']}/{entry['seq']}", "entry")
    status = page.locator("#proof-status")
    page.wait_for_selector("#proof-status[data-checked]", state="attached")
    assert status.get_attribute("data-checked") == "verified", status.inner_text()
    assert re.search(r"Verified in your browser: entry \d+ is in the tree of \d+ entries that "
                     r"confide.local/audit signed, cosigned by 1 witness", status.inner_text())
    assert "Dr. Priya Patel, primary care" in page.inner_text("#facts")
    # the break-the-glass review queue: the demo's grant, decided and recorded
    visit(page, stack.web, "/console/break-glass", "break-glass")
    grant = stack.ids["grant"]
    page.locator(f"#j-{grant}").check()
    page.locator(f"#c-{grant}").fill("Crisis call documented; access limited to the diagnoses.")
    page.get_by_role("button", name="Record the review").first.click()
    page.wait_for_url("**/console/break-glass?reviewed=*")
    assert "The review is recorded" in page.inner_text("main")
    review = in_trail(stack, resource_type="BreakGlassGrant", resource_id=grant, action="update")[0]
    assert (review["actor_id"], review["outcome"]) == ("co-1", "allowed")
    visit(page, stack.web, "/console/break-glass?status=justified")
    assert "Crisis call documented" in page.inner_text("main")


def test_reports_disclosures_holds_and_an_export(stack, person):
    page = visit(person("compliance"), stack.web, "/console/reports", "reports")
    assert page.locator("figure.chart").count() == 4
    assert "dr-ben-okafor" in page.inner_text("#denied ~ table, section:has(#denied)")
    # a client's accounting of disclosures, found by name, ready to print
    visit(page, stack.web, "/console/disclosures?name=robin")
    page.get_by_role("link", name=re.compile("Robin Hale")).click()
    page.wait_for_load_state("networkidle")
    assert accessibility_problems(page) == []
    assert "Dr. Priya Patel, primary care" in page.inner_text(".printable")
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / "disclosures.png"))
    # a legal hold placed on the whole log, then in the list
    visit(page, stack.web, "/console/holds")
    page.get_by_label("Reason").fill("Litigation hold: matter 2026-114")
    page.get_by_role("button", name="Place the hold").click()
    page.wait_for_url("**/console/holds?done=placed")
    assert "Litigation hold: matter 2026-114" in page.inner_text("table")
    assert in_trail(stack, resource_type="LegalHold", action="create")
    # the denied attempts as CSV, downloaded with its progress shown
    visit(page, stack.web, "/console/trail?outcome=denied")
    with page.expect_download() as downloaded:
        page.get_by_role("link", name="CSV").click()
    lines = Path(downloaded.value.path()).read_text().splitlines()
    assert lines[0].startswith("chain,seq,recorded_at") and len(lines) >= 2
    assert page.locator("#export-status").inner_text().startswith("Done:")


def test_a_tampered_entry_fails_its_check_in_the_browser(stack, person):
    """Someone with the database's keys changes an entry's purpose (triggers off):
    the page still shows the entry, and the browser says it is not the one recorded."""
    entry = in_trail(stack, resource_type="Disclosure")[0]
    page = person("compliance")
    where = "WHERE chain = %s AND seq = %s"
    with psycopg.connect(stack.database("audit"), autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(f"UPDATE audit_entries SET purpose = 'treatment' {where}", (entry["chain"], entry["seq"]))
        try:
            visit(page, stack.web, f"/console/trail/{entry['chain']}/{entry['seq']}")
            page.wait_for_selector("#proof-status[data-checked]", state="attached")
            status = page.locator("#proof-status")
            assert status.get_attribute("data-checked") == "failed"
            assert status.get_attribute("role") == "alert"
            assert status.inner_text().startswith("Not verified: the entry does not hash into the tree the log "
                                                  "signed"), status.inner_text()
        finally:
            conn.execute(f"UPDATE audit_entries SET purpose = %s {where}",
                         (entry["purpose"], entry["chain"], entry["seq"]))


# --- the supervisor -----------------------------------------------------------------------------------
def test_a_supervisor_sees_licensure_by_jurisdiction_and_co_signs(stack, person):
    # Ben, Sam's supervisee, signs a note that waits for Sam's co-signature
    ben = {"Authorization": f"Bearer {mint(stack.state, BEN, 'clinician', ['north'])}"}
    note = requests.post(f"{stack.web}/api/v1/notes", headers=ben, timeout=30, json={
        "kind": "intake", "session_kind": "individual", "service_date": date.today().isoformat(),
        "site_id": "north", "client_ids": [stack.ids["jordan"]],
        "sections": [{"body": "Intake: sleep and worry; agreed on weekly sessions."}]})
    assert note.status_code == 201, note.text
    signed = requests.post(f"{stack.web}/api/v1/notes/{note.json()['id']}/signature", headers=ben, timeout=30)
    assert signed.status_code == 200, signed.text

    page = visit(person("sam"), stack.web, "/console/licensure?jurisdictions=US-NY,US-NJ", "licensure")
    grid = page.locator("table.grid")
    assert "dr-ben-okafor" in grid.inner_text() and "(supervisee)" in grid.inner_text()
    row = grid.locator("tr", has_text="dr-ben-okafor")
    nj_telehealth = row.locator("td").nth(1).locator("details").nth(1)
    assert "telehealth: may not" in nj_telehealth.inner_text()
    nj_telehealth.locator("summary").click()  # the reasons, on demand
    assert "Counseling Compact" in nj_telehealth.inner_text()
    assert "may practise" in row.locator("td").nth(0).inner_text()
    visit(page, stack.web, "/console/expiring", "expiring")
    assert "dr-ben-okafor" in page.inner_text("ol.timeline")  # Ben's licence lapses within the month
    assert page.locator("td.lapses").count() >= 1
    visit(page, stack.web, "/console/cosign", "cosign")
    page.get_by_role("link", name="Read the intake note").click()
    assert "agreed on weekly sessions" in page.inner_text("main")
    assert accessibility_problems(page) == []
    page.go_back()
    page.get_by_role("button", name=re.compile(f"Co-sign the note of .* by {BEN}")).click()
    page.wait_for_url("**/console/cosign?cosigned=*")
    assert "Co-signed." in page.inner_text("main")
    cosigned = in_trail(stack, resource_id=note.json()["id"], actor_id=SAM, action="sign")
    assert cosigned[0]["outcome"] == "allowed"


# --- the credentialing officer ----------------------------------------------------------------------
def test_a_credentialing_officer_records_a_verification_and_reinstates(stack, person):
    page = visit(person("credentialing"), stack.web, "/console/clinicians", "clinicians")
    page.get_by_role("link", name="Cara Diaz").click()
    page.wait_for_load_state("networkidle")
    assert accessibility_problems(page) == []
    licence = stack.ids["license:dr-cara-diaz"]
    article = page.locator("article.licence")
    assert "suspended" in article.inner_text()
    article.get_by_text("Record a primary-source verification").click()
    article.get_by_label("Source").fill("NY Office of the Professions, call to the board")
    article.get_by_role("button", name="Record the verification").click()
    page.wait_for_url("**?done=verification")
    assert "The verification is recorded." in page.inner_text("main")
    assert "call to the board" in page.inner_text("article.licence")
    assert in_trail(stack, resource_type="License", resource_id=licence, actor_id="cred-1", action="update")
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / "clinician.png"))
    page.locator("article.licence").get_by_text("Reinstate this licence").click()
    page.locator("article.licence").get_by_label("Reason").fill("Board inquiry closed without action")
    page.get_by_role("button", name="Reinstate").click()
    page.wait_for_url("**?done=reinstatement")
    assert ": active" in page.inner_text("article.licence h3")
    visit(page, stack.web, "/console/expiring")


# --- the front desk ---------------------------------------------------------------------------------
def test_the_front_desk_finds_a_client_sees_a_refusal_and_books(stack, person):
    page = visit(person("desk"), stack.web, f"/console/day?site_id=north&date={held_on(stack)}", "day-sheet")
    assert "Robin Hale" in page.inner_text("table.day")
    visit(page, stack.web, "/console/clients?name=robn+hale", "clients")  # (a typo, forgiven)
    page.get_by_role("link", name="Book Robin Hale").click()
    page.wait_for_load_state("networkidle")
    day = (date.today() + timedelta(days=9)).isoformat()
    # Ben by telehealth to a client in New Jersey: no slot, and the licensure answer says why
    page.get_by_label("Clinician").select_option(BEN)
    page.get_by_label("How").select_option("telehealth")
    page.get_by_label("Where the client will be (telehealth)").fill("US-NJ")
    page.get_by_label("Day").fill(day)
    page.get_by_role("button", name="Find free slots").click()
    page.wait_for_load_state("networkidle")
    refusal = page.locator("#licensure")
    assert f"{BEN} may not practise this session with a client in US-NJ" in refusal.inner_text()
    assert "Counseling Compact" in refusal.inner_text()
    assert accessibility_problems(page) == []
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / "booking-refused.png"))
    # Ana, in person: a free slot, booked
    page.get_by_label("Clinician").select_option(ANA)
    page.get_by_label("How").select_option("in_person")
    page.get_by_label("Where the client will be (telehealth)").fill("")
    page.get_by_role("button", name="Find free slots").click()
    page.wait_for_load_state("networkidle")
    page.locator("ul.slots button").nth(40).click()
    page.wait_for_url("**/console/day?*booked=*")
    booked = page.url.rsplit("booked=", 1)[1]
    assert "Booked" in page.inner_text("main") and "Robin Hale" in page.locator("tr.just-booked").inner_text()
    assert in_trail(stack, resource_type="Appointment", resource_id=booked, action="create", actor_id="fd-north")
    visit(page, stack.web, "/console/waitlist", "waitlist")
    assert "Jordan Lee" in page.inner_text("table")


# --- the client -----------------------------------------------------------------------------------------
def test_a_client_sees_their_appointments_and_who_accessed_their_record_with_proofs(stack, person):
    page = visit(person("robin"), stack.web, "/console/me", "my-appointments")
    assert "Confide North (Albany)" in page.inner_text("main")
    visit(page, stack.web, "/console/me/access", "my-access")
    page.wait_for_selector("[data-proof]:not([data-checked])", state="detached")
    rows = page.locator("table.access tbody tr")
    text = page.inner_text("table.access")
    assert ANA in text and "disclose Disclosure, to Dr. Priya Patel, primary care" in text
    assert "dr-ben-okafor" in text and "(emergency access)" in text  # the break-the-glass read
    checked = {e.inner_text(): e.get_attribute("data-checked") for e in page.locator("[data-proof]").all()}
    assert checked and set(checked.values()) == {"verified"}, checked  # (every entry a checkpoint covers)
    assert rows.count() >= len(checked)
    assert "client-robin" not in text  # their own views are left out unless asked for
    # the services decide: the trail is not a client's to read
    visit(page, stack.web, "/console/trail", status=403)
    assert "Not allowed" in page.inner_text("h1")


def test_without_a_session_the_console_sends_a_person_to_sign_in(stack, browser):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{stack.web}/console/trail")
        assert "/interaction/" in page.url  # at the identity provider, to come back to the trail
        assert page.get_by_label("Username").is_visible()  # the identity provider's page
    finally:
        context.close()


def test_the_first_pages_and_a_search_with_the_keyboard_alone(stack, person, browser):
    context = browser.new_context()
    try:  # signed out: the way to sign in
        outside = context.new_page()
        outside.goto(f"{stack.web}/console/")
        assert accessibility_problems(outside) == [] and outside.get_by_role("link", name="Sign in").is_visible()
    finally:
        context.close()
    page = person("desk")  # signed in: the console's first page, with the work of the front desk
    assert page.url == f"{stack.web}/console/" and accessibility_problems(page) == []
    assert page.get_by_role("navigation", name="Your work").get_by_role("link", name="Day sheet").is_visible()
    # a search by keyboard: skip to the content, the first field, type, Enter
    page.goto(f"{stack.web}/console/clients")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to the page's content"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "f-name"
    page.keyboard.type("robn hale")
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/clients?name=robn+hale*")
    assert "Robin Hale" in page.inner_text("table")
