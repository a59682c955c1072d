"""The gateway's entrypoints for signing a person in with a browser (``signin``):
``/auth/login`` sends them to the clinic's identity provider, ``/auth/callback``
makes the session, ``/auth/role`` chooses among several roles,
``/auth/logout`` ends it (there too). ``/console/`` is the console's first
page: who is signed in, as what, and where the work is. The console's pages
call the API as the person, with the session cookie and its CSRF token; the
services still decide everything.
:class:`~confide_gateway.service.GatewayService` is made of this and its own
entrypoints."""

from __future__ import annotations

import dataclasses
import logging
from html import escape

from werkzeug.wrappers import Request, Response

from confide_gateway import problems
from confide_gateway.auth import NotAuthenticated
from confide_gateway.signin import COOKIE, CsrfRefused, Sessions, SignInFailed
from confide_gateway.web import endpoint

log = logging.getLogger(__name__)

# (sign-out's form ends at the identity provider: form-action reaches it)
PAGE_HEADERS = {"Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self' "
                                           "https: http:", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}


def page(title: str, body: str, status: int = 200, headers: dict | None = None) -> Response:
    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)} - Confide</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
            f"<body><main><h1>{escape(title)}</h1>{body}</main></body></html>")
    return Response(html, status, {**PAGE_HEADERS, **(headers or {})}, content_type="text/html; charset=utf-8")


def redirect(to: str, cookie: str | None = None) -> Response:
    response = Response("", 303, {"Location": to, **PAGE_HEADERS})
    if cookie:
        response.headers["Set-Cookie"] = cookie
    return response


def local(path: str | None) -> str:
    """Where to go after signing in: a path on this site only (never ``//elsewhere``)."""
    return path if path and path.startswith("/") and not path.startswith(("//", "/\\")) else "/console/"


class ConsoleSignIn:
    """Entrypoints of :class:`~confide_gateway.service.GatewayService` (its ``db``, ``auth`` and ``console``)."""

    def _sessions(self) -> Sessions | None:
        return self.console and dataclasses.replace(self.console, db=self.db)

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
            return page("Sign-in is unavailable", "<p>The identity provider does not answer. Try again shortly."
                        "</p>", 503)

    @endpoint("GET", "/auth/callback")
    def sign_in_return(self, request: Request) -> Response:
        sessions = self._sessions()
        if sessions is None:
            return problems.problem(404, "not-found", "Not found")
        if request.args.get("error"):
            return page("Not signed in", f"<p>The identity provider said: {escape(request.args['error'][:100])}."
                        '</p><p><a href="/auth/login">Sign in again</a></p>', 400)
        try:
            cookie, to = sessions.finish(request.args.get("state", ""), request.args.get("code", ""),
                                         check=lambda token: self.auth.held(f"Bearer {token}"))
        except (SignInFailed, NotAuthenticated) as exc:
            log.info("refused a sign-in: %s", getattr(exc, "why", exc))
            return page("Not signed in", '<p>This sign-in has expired or is not valid.</p>'
                        '<p><a href="/auth/login">Sign in again</a></p>', 400)
        return redirect(to, sessions.cookie_header(cookie))

    @endpoint("POST", "/auth/role")
    def choose_role(self, request: Request) -> Response:
        sessions = self._sessions()
        try:
            if sessions is None:
                raise NotAuthenticated("no sign-in here")
            sessions.choose(request.cookies.get(COOKIE, ""), request.form.get("role", ""), request.form.get("csrf"))
        except (NotAuthenticated, CsrfRefused, SignInFailed):
            return page("Not changed", '<p>Sign in again to choose.</p><p><a href="/auth/login">Sign in</a></p>',
                        403)
        return redirect("/console/")

    @endpoint("POST", "/auth/logout")
    def sign_out(self, request: Request) -> Response:
        sessions = self._sessions()
        cleared = sessions.cookie_header("", max_age=0) if sessions else None
        try:
            id_token = sessions.end(request.cookies.get(COOKIE, ""), request.form.get("csrf")) if sessions else None
        except CsrfRefused:
            return page("Not signed out", "<p>Use the sign-out button of the console.</p>", 403)
        there = id_token and sessions.rp.end_session_url(id_token, sessions.rp.redirect_uri.replace(
            "/auth/callback", "/console/"))
        return redirect(there or "/console/", cleared)

    @endpoint("GET", "/console/")
    def console_home(self, request: Request) -> Response:
        sessions = self._sessions()
        row = sessions.current(request.cookies.get(COOKIE)) if sessions else None
        if row is None:
            return page("Confide", '<p><a href="/auth/login">Sign in</a> with your clinic account.</p>')
        csrf = f'<input type="hidden" name="csrf" value="{escape(row.csrf)}">'
        roles = "".join(
            f'<li>{escape(role)}{" at " + escape(", ".join(sites)) if sites else ""}'
            + ("" if role == row.role else f'<form method="post" action="/auth/role">{csrf}'
               f'<input type="hidden" name="role" value="{escape(role)}"><button type="submit">Act as '
               f"{escape(role)}</button></form>") + "</li>"
            for role, sites in sorted(row.roles.items()))
        acting = f"<p>Acting as <strong>{escape(row.role)}</strong>.</p>" if row.role else \
            "<p>You hold several roles: choose the one you act as.</p>"
        return page("Confide", f"<p>Signed in as {escape(row.name or row.subject)}.</p>{acting}<ul>{roles}</ul>"
                    f'<p><a href="/openapi.json">The API</a></p>'
                    f'<form method="post" action="/auth/logout">{csrf}<button type="submit">Sign out</button></form>'
                    f'<meta name="csrf-token" content="{escape(row.csrf)}">')
