"""A person signing in at an OpenID provider's pages, as in a browser (forms
followed, cookies kept), and ``confide login``'s device flow driven to its end
by that person: for tests of sign-in against a real provider."""

from __future__ import annotations

import re
import threading
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests


class Forms(HTMLParser):
    """The forms of a page: action, method and the inputs' names and values
    (buttons are left out: the form is sent as its default, never "abort")."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action") or "", "method": (attrs.get("method") or "get").lower(),
                               "fields": {}})
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""


def sign_in_at(address: str, username: str, password: str, browser: requests.Session | None = None,
               stop_at: str | None = None) -> requests.Response:
    """Open ``address``, send each form it leads to (the username and password where asked), until a
    page with no form, or one whose address starts with ``stop_at``: that page."""
    browser = browser or requests.Session()
    page = browser.get(address, timeout=10)
    for _ in range(5):
        parser = Forms()
        parser.feed(page.text)
        if not parser.forms or (stop_at and page.url.startswith(stop_at)):
            return page
        form = parser.forms[0]
        fields = dict(form["fields"])
        if "username" in fields or "password" in fields:
            fields.update(username=username, password=password)
        page = browser.request(form["method"].upper(), urljoin(page.url, form["action"]), data=fields, timeout=10)
    return page


def device_sign_in(issuer: str, audience: str, username: str, password: str,
                   wait: float = 60) -> tuple[dict | Exception | None, requests.Response]:
    """``confide login`` (the device flow) in a thread, the person at the provider's page in this one:
    (the token, or the login's error, or None if it was still waiting; the last page the person saw)."""
    from confide_client import login

    shown: list[str] = []
    result: dict = {}

    def run():
        try:
            result["token"] = login.device_login(issuer, audience, say=shown.append,
                                                 sleep=lambda _: threading.Event().wait(0.2))
        except Exception as exc:  # noqa: BLE001 - the test reads what became of the sign-in
            result["token"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    for _ in range(200):
        if shown or "token" in result:
            break
        threading.Event().wait(0.05)
    if not shown:
        return result.get("token"), requests.Response()
    address = re.search(r"Open (\S+) and sign in", shown[0]).group(1)
    page = sign_in_at(address, username, password)
    thread.join(timeout=wait)
    return result.get("token"), page
