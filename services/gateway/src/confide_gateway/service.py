"""The gateway's HTTP entrypoints (nameko's werkzeug-based HTTP server). Each API
call: authenticate the bearer token (or the console's session, ``console``),
build the caller identity the services expect (who, role, sites, source
address, user agent, purpose, break-the-glass reason), call the owning service
over RPC -- the service decides -- and answer JSON, or a problem document. The
gateway never grants anything itself.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

import eventlet
import orjson
from confide_access.assertions import signing
from confide_contracts.audit_export import export
from confide_contracts.errors import InvalidRequest, invalid
from confide_messaging.rpc import ClusterRpc
from confide_messaging.rpc import rpc as answers_rpc  # (the class has its own `rpc`: the cluster proxy)
from confide_persistence import Database
from confide_telemetry import current_trace_id
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from confide_gateway import problems, store
from confide_gateway.api_schemas import ExportSchema
from confide_gateway.arguments import arguments, query_values, tile_path
from confide_gateway.auth import ROLE_HEADER, NotAuthenticated
from confide_gateway.callers import anonymous_caller, caller_from, client_address
from confide_gateway.console import Console
from confide_gateway.dependencies import Authentication, CallerSigning, ConsoleSessions, Settings
from confide_gateway.openapi import document
from confide_gateway.replay import made_id, replayed
from confide_gateway.routes import OPERATIONS, Operation
from confide_gateway.signin import COOKIE, CsrfRefused
from confide_gateway.web import endpoint

log = logging.getLogger(__name__)

API = "/api/v1"
SERVICES = ("audit", "billing", "credentialing", "records", "scheduling")
# a timeout, or a part out of reach midway (a commit whose answer was lost): what was asked may have been done
UNKNOWN_OUTCOME = (503, 504)


def json_response(body: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(orjson.dumps(body), status=status, headers=headers, content_type="application/json")


class GatewayService(Console):
    name = "gateway"

    rpc = ClusterRpc()
    db = Database()
    auth = Authentication()
    callers = CallerSigning()
    console = ConsoleSessions()
    settings = Settings()

    # --- the one way through --------------------------------------------------------
    def _call(self, request: Request, name: str, work: Callable[[dict], Any], status: int = 200,
              replay: Callable[[dict, str | None], Any] | None = None, public: bool = False):
        """Answer ``request`` (operation ``name``) by ``work`` -- or, for a retry
        of a creating POST, by ``replay`` (``replay.py``); ``public``: a request
        without a token is a monitor's, where the operator allows. Logged by the
        operation's name, never its path or body: those hold client data."""
        started = time.monotonic()
        response = self._answer(request, name, work, status, replay, public)
        log.info("%s %s answered %s in %.0f ms", request.method, name, response.status_code,
                 (time.monotonic() - started) * 1000)
        return response

    def _answer(self, request: Request, name: str, work: Callable[[dict], Any], status: int, replay,
                public: bool = False):
        try:
            authorization, role = request.headers.get("Authorization"), request.headers.get(ROLE_HEADER)
            if not authorization and self.console and request.cookies.get(COOKIE):  # the console, as the person
                csrf = request.headers.get("X-CSRF-Token") or request.form.get("csrf")  # (or a console form's)
                authorization, kept = self._sessions().bearer(request.cookies[COOKIE], request.method, csrf,
                                                              request.headers.get("Sec-Fetch-Site"))
                role = role or kept
            if public and self.settings["public_transparency"] and not authorization:
                claims = ANONYMOUS_MONITOR
            else:
                claims = self.auth.claims(authorization, role)
        except CsrfRefused:
            return problems.problem(403, "csrf", "The CSRF token is missing or wrong",
                                    "a change through the console carries its session's X-CSRF-Token")
        except NotAuthenticated as exc:
            log.info("refused %s: %s", name, exc.why)
            return problems.unauthenticated()
        except InvalidRequest as exc:  # a role to choose
            return problems.from_error(exc)
        anonymous = claims is ANONYMOUS_MONITOR
        address = client_address(request, self.settings["trusted_proxies"])
        wait = self.settings["limiter"].take(f"anonymous {address}" if anonymous else claims["sub"])
        if wait:
            log.info("refused %s: %s is over their rate", name, claims["sub"])
            return problems.too_many(wait)
        try:  # (an anonymous monitor says nothing of itself: no purpose, no one it acts for)
            caller = anonymous_caller(address) if anonymous else \
                caller_from(claims, request, self.settings["trusted_proxies"])
        except InvalidRequest as exc:
            return problems.from_error(exc)

        def run(work: Callable[[dict], Any] = work) -> Response:
            try:
                with eventlet.Timeout(self.settings["rpc_timeout"]):
                    if caller["on_behalf_of"]:  # only along a relation records holds (refusals are in the trail)
                        self._services().records.acting_for(caller, caller["on_behalf_of"])
                    result = work(caller)
                return result if isinstance(result, Response) else json_response(result, status)
            except eventlet.Timeout:
                log.error("%s: no answer within %s s", name, self.settings["rpc_timeout"])
                return problems.problem(504, "timeout", "The platform did not answer in time",
                                        "the request may still complete: look before doing it again (a retry "
                                        "with the same Idempotency-Key is refused, 409)", trace_id=current_trace_id())
            except Exception as exc:  # noqa: BLE001 - a refusal, a failure, an outage (re-raised if none)
                return problems.from_failure(name, exc, current_trace_id())

        key = request.headers.get("Idempotency-Key")
        response = self._idempotent(request, caller["user_id"], key, run, replay) if replay and key else run()
        trace_id = current_trace_id()
        if trace_id:  # to quote to an operator, and to find this request in the audit trail
            response.headers["X-Trace-Id"] = trace_id
        return response

    def _idempotent(self, request: Request, user_id: str, key: str, run, replay) -> Response:
        """A retry of the same request with this key makes nothing again: it is
        answered by reading what the first made, as the caller, now (the key keeps
        status and id only, for ``GATEWAY_IDEMPOTENCY_HOURS``); the same key with
        another request is refused."""
        if len(key) > 200:
            return problems.problem(400, "invalid-request", "The request is not valid",
                                    errors={"Idempotency-Key": ["at most 200 characters"]})
        said = [request.headers.get(h, "") for h in ("X-Purpose-Of-Use", "X-On-Behalf-Of")]
        digest = hashlib.sha256(b"\n".join([request.method.encode(), request.full_path.encode(),
                                            *(s.encode() for s in said), request.get_data()])).hexdigest()
        hours = self.settings["idempotency_hours"]
        with self.db.transaction() as session:
            earlier = store.claim_key(session, user_id, key, request.method, request.path, digest, hours)
        if earlier is not None:
            if earlier.request_sha256 != digest:
                return problems.problem(422, "idempotency-key-reused", "Idempotency-Key reused",
                                        "this key was used for a different request")
            if earlier.status is None:
                return problems.problem(409, "in-progress", "The first request with this key is still running")
            if earlier.status in UNKNOWN_OUTCOME:
                return problems.problem(409, "outcome-unknown", "The first request with this key did not finish",
                                        "it may have completed: look before creating it again, with a new key")
            again = run(lambda who: replay(who, earlier.resource_id))
            if again.status_code < 300:
                again.status_code = earlier.status
            again.headers["Idempotent-Replayed"] = "true"
            return again
        try:
            response = run()
        except BaseException:
            with self.db.transaction() as session:
                store.release_key(session, user_id, key)
            raise
        with self.db.transaction() as session:
            if response.status_code in UNKNOWN_OUTCOME:  # it may have completed: a retry must not make it twice
                store.keep_answer(session, user_id, key, response.status_code, None)
            elif response.status_code >= 300:  # nothing was made: a retry runs again (and is decided again)
                store.release_key(session, user_id, key)
            else:
                store.keep_answer(session, user_id, key, response.status_code,
                                  made_id(orjson.loads(response.get_data() or b"null")))
        return response

    # --- health ---------------------------------------------------------------------
    @endpoint("GET", "/healthz")
    def healthz(self, request: Request) -> Response:
        return json_response({"status": "ok"})

    @answers_rpc
    def health(self) -> dict[str, Any]:
        """The gateway's own readiness (its database, its broker connection), as
        every service answers it for its probes; ``/readyz`` asks the whole platform."""
        with self.db.transaction() as session:
            store.ping(session)
        return {"status": "ok"}

    @endpoint("GET", "/readyz")
    def readyz(self, request: Request) -> Response:
        """200 only when the database, Vault and every service answer. Asked of
        everything at most once every few seconds (``GATEWAY_READY_CACHE``),
        however often it is asked: a public probe must not multiply load."""
        kept = self.settings.get("ready")
        if kept is None or time.monotonic() - kept[0] > self.settings["ready_cache"]:
            checks = self._checks()
            kept = self.settings["ready"] = (time.monotonic(), checks)
        checks = kept[1]
        ready = all(v == "ok" for v in checks.values())
        return json_response({"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503)

    def _checks(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            with self.db.transaction() as session:
                store.ping(session)
            checks["database"] = "ok"
        except Exception:  # noqa: BLE001 - reported, not raised
            checks["database"] = "down"
        vault = self.settings["vault"]
        if vault is not None:
            try:
                checks["vault"] = "ok" if vault.hvac.sys.read_health_status(method="GET") else "down"
            except Exception:  # noqa: BLE001 - reported, not raised
                checks["vault"] = "down"
        for service in SERVICES:
            try:
                reply = getattr(self.rpc, service).health.call_async()
                within = _within(reply, self.settings["timeout"])
                checks[service] = reply.result()["status"] if within else "timeout"
            except Exception:  # noqa: BLE001 - reported, not raised
                checks[service] = "down"
        return checks

    # --- the API: one entrypoint, dispatched by the table in routes.py ------------------
    @endpoint("GET,POST,PUT,PATCH,DELETE", f"{API}/<path:rest>")
    def api(self, request: Request, rest: str) -> Response:
        adapter = URL_MAP.bind("", path_info=f"/{rest}", url_scheme="http")
        try:
            operation, variables = adapter.match(method=request.method)
        except MethodNotAllowed as exc:
            answer = problems.problem(405, "method-not-allowed", "Method not allowed",
                                      f"{request.method} is not offered here")
            answer.headers["Allow"] = ", ".join(sorted(exc.valid_methods or ()))
            return answer
        except HTTPException:
            return problems.problem(404, "not-found", "Not found", f"no operation at {request.path}")
        if operation == "export":
            return self._call(request, "audit.export", lambda who: self._export(who, request))
        replay = (lambda who, made: replayed(operation.operation_id, self._services(), who, variables,
                                             request.get_json(silent=True), made)) if operation.creates else None
        response = self._call(request, operation.operation_id,
                              lambda who: self._invoke(operation, who, request, variables),
                              status=operation.status, replay=replay)
        return self._linked(request, response) if operation.paged else response

    def _invoke(self, operation: Operation, who: dict, request: Request, variables: dict) -> Any:
        args, kwargs = arguments(operation, request, variables)
        return getattr(getattr(self._services(), operation.service), operation.rpc)(who, *args, **kwargs)

    def _services(self):
        """The services, each call carrying the caller's assertion for the service called."""
        return signing(self.rpc, self.callers, current_trace_id)

    # --- transparency (C2SP tlog-tiles): hashes only, for monitors -----------------------
    @endpoint("GET", "/transparency/chain/<int:chain>/checkpoint")
    def transparency_checkpoint(self, request: Request, chain: int) -> Response:
        """The chain's latest checkpoint with its witnesses' cosignatures (a signed note)."""
        def work(who: dict) -> Response:
            found = [c for c in self._services().audit.checkpoints(who)["checkpoints"] if c["chain"] == chain]
            if not found:
                return problems.problem(404, "not-found", "Not found", f"chain {chain} has no checkpoint yet")
            return Response(found[0]["note"], content_type="text/plain; charset=utf-8")
        return self._call(request, "audit.checkpoints", work, public=True)

    @endpoint("GET", "/transparency/chain/<int:chain>/tile/<path:tile>")
    def transparency_tile(self, request: Request, chain: int, tile: str) -> Response:
        """A hash tile, ``tile/<L>/<N>[.p/<W>]`` as C2SP tlog-tiles names it."""
        where = tile_path(tile)
        if where is None:
            return problems.problem(404, "not-found", "Not found", "a tile path is <L>/<N>[.p/<W>] (C2SP tlog-tiles)")

        def work(who: dict) -> Response:
            found = self._services().audit.tile(who, chain, *where)["tile"]
            return Response(base64.b64decode(found), content_type="application/octet-stream")
        return self._call(request, "audit.tile", work, public=True)

    @endpoint("GET", "/openapi.json")
    def openapi(self, request: Request) -> Response:
        return json_response(document())

    def _linked(self, request: Request, response: Response) -> Response:
        if response.status_code == 200:
            cursor = orjson.loads(response.get_data()).get("next_cursor")
            if cursor:
                response.headers["Link"] = f'<{request.base_url}?{_with(request.args, cursor=cursor)}>; rel="next"'
        return response

    def _export(self, who: dict, request: Request) -> Response:
        """The trail as CSV, JSON Lines or a FHIR R4 bundle, streamed page by page
        (constant memory however long the range); one export access is recorded."""
        filters = query_values(request, ExportSchema)
        form = filters.pop("format", None)
        if form not in EXPORT_TYPES:
            raise invalid("format", "one of csv, jsonl, fhir")
        filters["limit"] = 1000
        query = self._services().audit.query
        # the first page is asked for before answering, so a refusal is a problem and not a broken stream
        first = query(who, dict(filters), export=True)

        def entries():
            page = first
            yield from page["entries"]
            while page.get("next_cursor"):
                page = query(who, {**filters, "cursor": page["next_cursor"]}, export=True)
                yield from page["entries"]

        body = (chunk.encode() for chunk in export(form, entries()))
        return Response(body, content_type=EXPORT_TYPES[form], direct_passthrough=True,
                        headers={"Content-Disposition": f'attachment; filename="audit.{form}"'})


EXPORT_TYPES = {"csv": "text/csv", "jsonl": "application/jsonl", "fhir": "application/fhir+json"}
URL_MAP = Map([Rule(o.path, methods=[o.method], endpoint=o) for o in OPERATIONS]
              + [Rule("/audit/exports", methods=["GET"], endpoint="export")])


ANONYMOUS_MONITOR = {"sub": "anonymous", "role": "monitor"}
def _within(reply, seconds: float) -> bool:
    try:
        with eventlet.Timeout(seconds):
            reply.result()
        return True
    except eventlet.Timeout:
        return False


def _with(args, **changes) -> str:
    from urllib.parse import urlencode

    merged = dict(args.items())
    merged.update(changes)
    return urlencode(merged)
