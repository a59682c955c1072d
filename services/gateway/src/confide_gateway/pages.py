"""How the console's pages are made: Jinja2 templates (``templates/``) rendered
on the server from what the services answered, with a little JavaScript of our
own (``static/``) for what only a browser can do -- check a proof with
WebCrypto, page on as the reader scrolls, show an export's progress. Every page
works without it. No build step, no CDN, nothing fetched from elsewhere: the
console works where the clinic has no internet, and its Content-Security-Policy
allows scripts and styles from this origin only.

The pages hold no authorization of their own: each asks the services as the
signed-in person (``ConsolePages._page``), and a refusal is a page that says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from typing import Any
from urllib.parse import urlencode, urlsplit

from confide_contracts.errors import invalid
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from werkzeug.wrappers import Response


def policy(provider: str | None = None) -> str:
    """The pages' Content-Security-Policy: everything from this origin only --
    and forms may end at the identity provider (``provider``, its origin), where
    sign-out's redirect goes (a browser holds the redirects after a form to it)."""
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            f"frame-ancestors 'none'; base-uri 'none'; form-action 'self'{' ' + provider if provider else ''}")


HEADERS = {"Content-Security-Policy": policy(), "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
           "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}

ROLE_NAMES = {"compliance_officer": "compliance officer", "credentialing_officer": "credentialing officer",
              "front_desk": "front desk", "supervisor": "supervisor", "clinician": "clinician", "client": "client",
              "admin": "administrator", "biller": "biller", "monitor": "monitor"}

TRAIL, REPORTS, REVIEWS = "/console/trail", "/console/reports", "/console/break-glass"
DAY, CLIENTS, BOOK, WAITLIST = "/console/day", "/console/clients", "/console/book", "/console/waitlist"
LICENSURE, EXPIRING, COSIGN, CLINICIANS = "/console/licensure", "/console/expiring", "/console/cosign", \
    "/console/clinicians"
# where each role's work is (a link, not a permission: the services decide what each page shows)
NAVIGATION = {
    "compliance_officer": ((TRAIL, "Audit trail"), (REPORTS, "Reports"), (REVIEWS, "Break-the-glass reviews"),
                           ("/console/disclosures", "Disclosures"), ("/console/holds", "Legal holds")),
    "supervisor": ((LICENSURE, "Licensure"), (EXPIRING, "Expiring licences"), (COSIGN, "Co-signatures"),
                   (DAY, "Day sheet")),
    "credentialing_officer": ((CLINICIANS, "Clinicians"), (EXPIRING, "Expiry calendar")),
    "front_desk": ((DAY, "Day sheet"), (CLIENTS, "Clients"), (BOOK, "Book"), (WAITLIST, "Waitlist")),
    "clinician": ((DAY, "Day sheet"), (CLIENTS, "Clients")),
    "admin": ((DAY, "Day sheet"), (CLIENTS, "Clients"), (WAITLIST, "Waitlist")),
    "biller": ((DAY, "Day sheet"), (CLIENTS, "Clients")),
    "client": (("/console/me", "My appointments"), ("/console/me/access", "Who saw my record")),
}


def _when(value: str | None) -> str:
    """An instant as a person reads it: ``2026-11-30 20:31:28 UTC``."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _words(value: str | None) -> str:
    return (value or "").replace("_", " ")


ENV = Environment(loader=PackageLoader("confide_gateway"), autoescape=select_autoescape(default=True),
                  undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                  finalize=lambda value: "" if value is None else value)  # (nothing known: nothing shown)
ENV.filters.update(when=_when, words=_words, role_name=lambda r: ROLE_NAMES.get(r, _words(r)))
ENV.globals.update(urlencode=urlencode)


def local(path: str | None) -> str:
    """Where to go after signing in, or back to: a path on this site only -- no
    scheme or host, no backslash, no control character (a browser drops tabs and
    newlines from an address, so ``/<TAB>/elsewhere`` would become ``//elsewhere``)."""
    if not path or not path.startswith("/") or any(c < " " or c in "\\\x7f" for c in path):
        return "/console/"
    parts = urlsplit(path)
    return path if not parts.scheme and not parts.netloc and not path.startswith("//") else "/console/"


def here(request) -> str:
    """The page asked for, as a path on this site to come back to."""
    query = request.query_string.decode("ascii", "replace")
    return request.path + (f"?{query}" if query else "")


def render(template: str, *, me=None, status: int = 200, current: str | None = None, **context) -> Response:
    """The page ``template`` for the signed-in ``me`` (a console session row)."""
    html = ENV.get_template(template).render(
        me=me, nav=NAVIGATION.get(me.role, ()) if me is not None and me.role else (), current=current, **context)
    return Response(html, status, HEADERS, content_type="text/html; charset=utf-8")


def redirect(to: str, cookie: str | None = None) -> Response:
    response = Response("", 303, {"Location": to, **HEADERS})
    if cookie:
        response.headers["Set-Cookie"] = cookie
    return response


def message(title: str, text: str, status: int = 200, link: tuple[str, str] | None = None, me=None) -> Response:
    return render("message.html", me=me, status=status, title=title, text=text, link=link)


def refused(problem: dict[str, Any], status: int, me, back: str, wait: str | None = None) -> Response:
    """The page for a refusal the services (or the gateway) answered, in their
    words, with the trace id to quote and, when asked to wait, how long."""
    page = render("refused.html", me=me, status=status, title=problem.get("title") or "Refused",
                  detail=problem.get("detail"), errors=problem.get("errors") or {}, back=back,
                  trace_id=problem.get("trace_id"), wait=wait)
    if wait:
        page.headers["Retry-After"] = wait
    return page


# --- static files: read once, served with the page headers -------------------------------------
TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
_STATIC: dict[str, tuple[bytes, str]] = {}


def static(name: str) -> Response | None:
    if not _STATIC:
        for entry in resources.files("confide_gateway").joinpath("static").iterdir():
            suffix = entry.name[entry.name.rfind("."):]
            if suffix in TYPES:
                _STATIC[entry.name] = (entry.read_bytes(), TYPES[suffix])
    found = _STATIC.get(name)
    if found is None:
        return None
    return Response(found[0], 200, {**HEADERS, "Cache-Control": "no-cache"}, content_type=found[1])


# --- what a form or query says ------------------------------------------------------------------
def day_of(text: str | None, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise invalid(field, "a date, YYYY-MM-DD") from None


def day_range(args, since: str = "since", until: str = "until") -> dict[str, str]:
    """Dates a person picked as the instants a service asks for: from the start of
    ``since`` to the end of ``until`` (both days included, UTC)."""
    found = {}
    start, end = day_of(args.get(since), since), day_of(args.get(until), until)
    if start:
        found[since] = f"{start.isoformat()}T00:00:00Z"
    if end:
        found[until] = f"{(end + timedelta(days=1)).isoformat()}T00:00:00Z"
    return found


def filled(args, names) -> dict[str, str]:
    """The named fields a person filled in (blank ones left out)."""
    return {name: value for name in names if (value := (args.get(name) or "").strip())}


@dataclass(frozen=True)
class Chart:
    """A bar chart drawn on the server (SVG), with its figures as a table beside it."""

    title: str
    bars: list[tuple[str, int]]

    @property
    def top(self) -> int:
        return max((value for _, value in self.bars), default=0) or 1
