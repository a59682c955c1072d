"""The gateway's entrypoints for signing a person in with a browser (``signin``):
``/auth/login`` sends them to the clinic's identity provider, ``/auth/callback``
makes the session, ``/auth/role`` chooses among several roles,
``/auth/logout`` ends it (there too). ``/console/`` is the console's first
page: who is signed in, as what, and where their work is; the pages of each
kind of work are ``console_trail`` and ``console_work``, all made by
:meth:`ConsoleSignIn._page`: the services asked as the person, the answer
rendered (``pages``). The services still decide everything.
:class:`~confide_gateway.service.GatewayService` is made of this and its own
entrypoints."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

import orjson
from confide_telemetry import current_trace_id
from werkzeug.wrappers import Request, Response

from confide_gateway import pages, problems
from confide_gateway.auth import NotAuthenticated
from confide_gateway.console_trail import TrailPages
from confide_gateway.console_work import WorkPages
from confide_gateway.pages import NAVIGATION, here, local, message, redirect, render
from confide_gateway.signin import COOKIE, CsrfRefused, Sessions, SignInFailed
from confide_gateway.web import endpoint

log = logging.getLogger(__name__)
SIGN_IN_ERRORS = {"access_denied": "The sign-in was not allowed.",
                  "login_required": "The identity provider asks you to sign in again.",
                  "interaction_required": "The identity provider needs you to finish signing in there.",
                  "consent_required": "The identity provider needs your consent first."}


class ConsoleSignIn:
    """Entrypoints of :class:`~confide_gateway.service.GatewayService` (its ``db``, ``auth`` and ``console``)."""

    def _sessions(self) -> Sessions | None:
        return self.console and dataclasses.replace(self.console, db=self.db)

    def _page(self, request: Request, name: str, work: Callable, back: str | None = None) -> Response:
        """A console page: the person's session, the services asked as them by
        ``work(who, me)`` through the API's own way in (``_call``: token,
        rate limit, caller, timeout -- and, for a change, the form's CSRF token),
        which renders the answer. A refusal is a page in the services' words;
        an ended session, the way back to sign in."""
        sessions = self._sessions()
        me = sessions.current(request.cookies.get(COOKIE)) if sessions else None
        if me is None:
            if request.method != "GET":
                return message("Signed out", "Sign in again to do this.", 401, ("/auth/login", "Sign in"))
            return redirect("/auth/login?" + urlencode({"return_to": here(request)}))
        if not me.role:
            return redirect("/console/")
        if request.method == "GET" and request.headers.get("Sec-Fetch-Site") in ("cross-site", "same-site"):
            # (a link elsewhere must not make a person read a record, in the trail under their name)
            return self._framed(render("elsewhere.html", me=me, title="Continue?", to=here(request)))
        try:
            response = self._call(request, f"console.{name}", lambda who: work(who, me))
        except Exception:  # (ours, not a refusal: logged with its trace, a page that says so)
            log.exception("console.%s failed", name)
            response = problems.problem(500, "internal", "Something went wrong on our side",
                                        trace_id=current_trace_id())
        if response.mimetype != "application/problem+json":
            return self._framed(response)
        if response.status_code == 401:  # (the provider no longer gives this session a token)
            return redirect("/auth/login?" + urlencode({"return_to": here(request) if request.method == "GET"
                                                        else "/console/"}))
        return self._framed(pages.refused(orjson.loads(response.get_data()), response.status_code, me,
                                          local(back), response.headers.get("Retry-After")))

    def _framed(self, response: Response) -> Response:
        """A page whose forms may end at the identity provider (sign-out), and nowhere else."""
        if self.console and response.headers.get("Content-Security-Policy"):
            parts = urlsplit(self.console.rp.issuer)
            response.headers["Content-Security-Policy"] = pages.policy(f"{parts.scheme}://{parts.netloc}")
        return response

    @endpoint("GET", "/console/static/<name>")
    def console_static(self, request: Request, name: str) -> Response:
        return pages.static(name) or problems.problem(404, "not-found", "Not found")

    @endpoint("GET", "/auth/login")
    def sign_in(self, request: Request) -> Response:
        sessions = self._sessions()
        if sessions is None:
            return problems.problem(404, "not-found", "Not found", "sign-in through an identity provider is not "
                                    "set up here (CONSOLE_ISSUER)")
        try:
            return redirect(sessions.begin(local(request.args.get("return_to"))))
        except SignInFailed as exc:
            log.warning("sign-in could not begin: %s", exc.why)
            return message("Sign-in is unavailable", "The identity provider does not answer. Try again shortly.",
                           503)

    @endpoint("GET", "/auth/callback")
    def sign_in_return(self, request: Request) -> Response:
        sessions = self._sessions()
        if sessions is None:
            return problems.problem(404, "not-found", "Not found")
        if request.args.get("error"):  # (its words are the address's: only the known codes are told apart)
            return message("Not signed in", SIGN_IN_ERRORS.get(request.args["error"], "The identity provider did "
                           "not sign you in."), 400, ("/auth/login", "Sign in again"))
        try:
            cookie, to = sessions.finish(request.args.get("state", ""), request.args.get("code", ""),
                                         check=lambda token: self.auth.held(f"Bearer {token}"))
        except (SignInFailed, NotAuthenticated) as exc:
            log.info("refused a sign-in: %s", getattr(exc, "why", exc))
            return message("Not signed in", "This sign-in has expired or is not valid.", 400,
                           ("/auth/login", "Sign in again"))
        return redirect(to, sessions.cookie_header(cookie))

    @endpoint("POST", "/auth/role")
    def choose_role(self, request: Request) -> Response:
        sessions = self._sessions()
        try:
            if sessions is None:
                raise NotAuthenticated("no sign-in here")
            sessions.choose(request.cookies.get(COOKIE, ""), request.form.get("role", ""), request.form.get("csrf"))
        except (NotAuthenticated, CsrfRefused, SignInFailed):
            return message("Not changed", "Sign in again to choose.", 403, ("/auth/login", "Sign in"))
        return redirect("/console/")

    @endpoint("POST", "/auth/logout")
    def sign_out(self, request: Request) -> Response:
        sessions = self._sessions()
        cleared = sessions.cookie_header("", max_age=0) if sessions else None
        try:
            id_token = sessions.end(request.cookies.get(COOKIE, ""), request.form.get("csrf")) if sessions else None
        except CsrfRefused:
            return message("Not signed out", "Use the sign-out button of the console.", 403)
        there = id_token and sessions.rp.end_session_url(id_token, sessions.rp.redirect_uri.replace(
            "/auth/callback", "/console/"))
        return redirect(there or "/console/", cleared)

    @endpoint("GET", "/console/")
    def console_home(self, request: Request) -> Response:
        sessions = self._sessions()
        me = sessions.current(request.cookies.get(COOKIE)) if sessions else None
        if me is None:
            return render("signed_out.html", title="Confide")
        return self._framed(render("home.html", me=me, title="Confide", roles=sorted(me.roles.items()),
                                   work=NAVIGATION.get(me.role, ())))


class Console(ConsoleSignIn, TrailPages, WorkPages):
    """The whole console: signing in, and the pages of each kind of work."""
