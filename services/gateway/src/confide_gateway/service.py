"""The gateway's HTTP entrypoints (nameko's werkzeug-based HTTP server: the same
container, tracing and RPC as every other service).

Each API call: authenticate the bearer token, build the caller identity the
services expect (who, role, sites, source address, user agent, purpose,
break-the-glass reason), call the owning service over RPC -- the service
decides -- and answer JSON, or a problem document. The gateway never grants
anything itself.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any

import orjson
from confide_persistence import Database
from nameko import config
from nameko.exceptions import RemoteError
from nameko.extensions import DependencyProvider
from nameko.rpc import ClusterRpc
from nameko.web.handlers import http
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from werkzeug.wrappers import Request, Response

from confide_gateway import problems
from confide_gateway.auth import Authenticator, NotAuthenticated
from confide_gateway.models import idempotency_keys

log = logging.getLogger(__name__)

API = "/api/v1"
DEFAULT_PURPOSE = {"biller": "payment", "front_desk": "operations", "admin": "operations",
                   "compliance_officer": "operations", "credentialing_officer": "operations",
                   "client": "client_request"}
SERVICES = ("audit", "billing", "credentialing", "records", "scheduling")


class Authentication(DependencyProvider):
    """The token checker, from ``GATEWAY_JWKS`` (a JWKS file or URL),
    ``GATEWAY_ISSUER`` and ``GATEWAY_AUDIENCE``."""

    def setup(self) -> None:
        self.authenticator = Authenticator(config["GATEWAY_JWKS"], config["GATEWAY_ISSUER"],
                                           config.get("GATEWAY_AUDIENCE", "confide"))

    def get_dependency(self, worker_ctx) -> Authenticator:
        return self.authenticator


class Settings(DependencyProvider):
    """What ``/readyz`` checks with, read once at start: the Vault client
    ``confide-serve`` logged in with, and how long to wait for each service."""

    def setup(self) -> None:
        self.values = {"vault": config.get("VAULT"), "timeout": float(config.get("GATEWAY_READY_TIMEOUT", 3))}

    def get_dependency(self, worker_ctx) -> dict:
        return self.values


def json_response(body: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(orjson.dumps(body), status=status, headers=headers, content_type="application/json")


def caller_from(claims: dict, request: Request) -> dict:
    role = claims.get("role")
    return {
        "user_id": claims["sub"],
        "role": role,
        "sites": list(claims.get("sites") or []),
        "on_behalf_of": request.headers.get("X-On-Behalf-Of"),
        "source_address": request.remote_addr,
        "user_agent": (request.user_agent.string or "")[:512] or None,
        "purpose": request.headers.get("X-Purpose-Of-Use") or DEFAULT_PURPOSE.get(role, "treatment"),
        "break_glass_reason": request.headers.get("X-Break-Glass-Reason"),
    }


class GatewayService:
    name = "gateway"

    rpc = ClusterRpc()
    db = Database()
    auth = Authentication()
    settings = Settings()

    # --- the one way through --------------------------------------------------------
    def _call(self, request: Request, work: Callable[[dict], Any], status: int = 200, creates: bool = False):
        try:
            claims = self.auth.claims(request.headers.get("Authorization"))
        except NotAuthenticated as exc:
            log.info("refused a request to %s: %s", request.path, exc.why)
            return problems.unauthenticated()
        caller = caller_from(claims, request)

        def run() -> Response:
            try:
                return json_response(work(caller), status)
            except RemoteError as exc:
                if exc.exc_type not in problems.KNOWN:
                    log.error("%s %s failed: %s", request.method, request.path, exc)
                return problems.from_remote(exc)

        key = request.headers.get("Idempotency-Key")
        if creates and key:
            return self._idempotent(request, caller["user_id"], key, run)
        return run()

    def _idempotent(self, request: Request, user_id: str, key: str, run: Callable[[], Response]) -> Response:
        """The first response to a POST with this key is kept and replayed to any
        retry of the same request; the same key with another request is refused."""
        if len(key) > 200:
            return problems.problem(400, "invalid-request", "The request is not valid",
                                    errors={"Idempotency-Key": ["at most 200 characters"]})
        digest = hashlib.sha256(b"\n".join([request.method.encode(), request.path.encode(),
                                            request.get_data()])).hexdigest()
        k = idempotency_keys
        with self.db.transaction() as session:
            claimed = session.execute(pg_insert(k).values(
                user_id=user_id, key=key, method=request.method, path=request.path, request_sha256=digest)
                .on_conflict_do_nothing().returning(k.c.key)).first()
            earlier = None if claimed else session.execute(
                select(k).where(k.c.user_id == user_id, k.c.key == key)).first()
        if earlier is not None:
            if earlier.request_sha256 != digest:
                return problems.problem(422, "idempotency-key-reused", "Idempotency-Key reused",
                                        "this key was used for a different request")
            if earlier.status is None:
                return problems.problem(409, "in-progress", "The first request with this key is still running")
            replay = Response(earlier.body, status=earlier.status,
                              content_type="application/problem+json" if earlier.status >= 400 else
                              "application/json")
            replay.headers["Idempotent-Replayed"] = "true"
            return replay
        response = run()
        with self.db.transaction() as session:
            if response.status_code >= 500:  # let a retry try again
                session.execute(delete(k).where(k.c.user_id == user_id, k.c.key == key))
            else:
                session.execute(update(k).where(k.c.user_id == user_id, k.c.key == key).values(
                    status=response.status_code, body=response.get_data(as_text=True)))
        return response

    @staticmethod
    def _body(request: Request) -> Any:
        try:
            return orjson.loads(request.get_data() or b"{}")
        except orjson.JSONDecodeError as exc:
            raise RemoteError("InvalidRequest", f"body: not JSON ({exc})") from None

    # --- health ---------------------------------------------------------------------
    @http("GET", "/healthz")
    def healthz(self, request: Request) -> Response:
        return json_response({"status": "ok"})

    @http("GET", "/readyz")
    def readyz(self, request: Request) -> Response:
        """200 only when the database, Vault and every service answer."""
        checks: dict[str, str] = {}
        try:
            with self.db.transaction() as session:
                session.execute(select(1))
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            checks["database"] = f"down: {type(exc).__name__}"
        vault = self.settings["vault"]
        if vault is not None:
            try:
                checks["vault"] = "ok" if vault.hvac.sys.read_health_status(method="GET") else "down"
            except Exception as exc:  # noqa: BLE001 - reported, not raised
                checks["vault"] = f"down: {type(exc).__name__}"
        for service in SERVICES:
            try:
                reply = getattr(self.rpc, service).health.call_async()
                within = _within(reply, self.settings["timeout"])
                checks[service] = reply.result()["status"] if within else "timeout"
            except Exception as exc:  # noqa: BLE001 - reported, not raised
                checks[service] = f"down: {type(exc).__name__}"
        ready = all(v == "ok" for v in checks.values())
        return json_response({"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503)

    # --- records ----------------------------------------------------------------------
    @http("POST", f"{API}/clients")
    def register_client(self, request: Request) -> Response:
        return self._call(request, lambda who: self.rpc.records.register_client(who, self._body(request)),
                          status=201, creates=True)

    @http("GET", f"{API}/clients/<client_id>")
    def get_client(self, request: Request, client_id: str) -> Response:
        return self._call(request, lambda who: self.rpc.records.get_client(who, client_id))

    @http("GET", f"{API}/clients/<client_id>/care-team")
    def care_team(self, request: Request, client_id: str) -> Response:
        return self._call(request, lambda who: self.rpc.records.get_care_team(who, client_id))

    @http("POST", f"{API}/clients/<client_id>/care-team")
    def assign_care_team(self, request: Request, client_id: str) -> Response:
        return self._call(request, lambda who: self.rpc.records.assign_care_team(who, client_id, self._body(request)),
                          status=201, creates=True)

    @http("GET", f"{API}/clients/<client_id>/consents")
    def consents(self, request: Request, client_id: str) -> Response:
        return self._call(request, lambda who: self.rpc.records.list_consents(who, client_id))

    @http("POST", f"{API}/clients/<client_id>/consents")
    def record_consent(self, request: Request, client_id: str) -> Response:
        return self._call(request, lambda who: self.rpc.records.record_consent(who, client_id, self._body(request)),
                          status=201, creates=True)

    @http("GET", f"{API}/clients/<client_id>/diagnoses")
    def diagnoses(self, request: Request, client_id: str) -> Response:
        return self._call(request, lambda who: self.rpc.records.list_diagnoses(who, client_id))

    @http("POST", f"{API}/clients/<client_id>/diagnoses")
    def add_diagnosis(self, request: Request, client_id: str) -> Response:
        return self._call(request, lambda who: self.rpc.records.add_diagnosis(who, client_id, self._body(request)),
                          status=201, creates=True)

    @http("GET", f"{API}/clients/<client_id>/notes")
    def notes(self, request: Request, client_id: str) -> Response:
        return self._call(request, lambda who: self.rpc.records.list_notes(who, client_id))

    @http("POST", f"{API}/notes")
    def create_note(self, request: Request) -> Response:
        return self._call(request, lambda who: self.rpc.records.create_note(who, self._body(request)), status=201,
                          creates=True)

    @http("POST", f"{API}/notes/<note_id>/signature")
    def sign_note(self, request: Request, note_id: str) -> Response:
        return self._call(request, lambda who: self.rpc.records.sign_note(who, note_id))

    @http("GET", f"{API}/clients/<client_id>/notes/<note_id>")
    def get_note(self, request: Request, client_id: str, note_id: str) -> Response:
        return self._call(request, lambda who: self.rpc.records.get_note(who, note_id, client_id))

    @http("POST", f"{API}/clients/<client_id>/break-glass")
    def break_glass(self, request: Request, client_id: str) -> Response:
        def work(who):
            body = self._body(request)
            return self.rpc.records.break_glass(who, client_id, body.get("reason"), body.get("minutes", 60))

        return self._call(request, work, status=201, creates=True)

    @http("GET", f"{API}/clients/<client_id>/export")
    def export_record(self, request: Request, client_id: str) -> Response:
        return self._call(request, lambda who: self.rpc.records.export_record(who, client_id))

    # --- credentialing ------------------------------------------------------------------
    @http("GET", f"{API}/clinicians/<clinician_id>/licensure")
    def licensure(self, request: Request, clinician_id: str) -> Response:
        question = {k: request.args[k] for k in ("service_kind", "client_jurisdiction", "modality", "on")
                    if k in request.args}
        return self._call(request, lambda who: self.rpc.credentialing.may_practice(who, clinician_id, question))

    # --- scheduling ---------------------------------------------------------------------
    @http("POST", f"{API}/appointments")
    def book(self, request: Request) -> Response:
        return self._call(request, lambda who: self.rpc.scheduling.book(who, self._body(request)), status=201,
                          creates=True)

    # --- audit --------------------------------------------------------------------------
    @http("GET", f"{API}/audit/entries")
    def audit_entries(self, request: Request) -> Response:
        """Audit trail entries; filters as query parameters; ``cursor`` pages on."""
        filters: dict[str, Any] = dict(request.args.items())
        if "limit" in filters:
            filters["limit"] = int(filters["limit"]) if filters["limit"].isdigit() else filters["limit"]
        if "break_glass" in filters:
            filters["break_glass"] = filters["break_glass"].lower() in ("1", "true", "yes")

        def page(who):
            result = self.rpc.audit.query(who, filters)
            return result

        response = self._call(request, page)
        return self._linked(request, response)

    def _linked(self, request: Request, response: Response) -> Response:
        if response.status_code == 200:
            cursor = orjson.loads(response.get_data()).get("next_cursor")
            if cursor:
                response.headers["Link"] = f'<{request.base_url}?{_with(request.args, cursor=cursor)}>; rel="next"'
        return response

    @http("GET", f"{API}/audit/disclosures/<client_id>")
    def disclosures(self, request: Request, client_id: str) -> Response:
        """Accounting of disclosures for one client over six years."""
        return self._call(request, lambda who: self.rpc.audit.disclosures(who, client_id))

    @http("GET", f"{API}/audit/verification")
    def verification(self, request: Request) -> Response:
        """Recompute every chain and tree and check every checkpoint signature."""
        return self._call(request, lambda who: self.rpc.audit.verify(who))

    @http("GET", f"{API}/audit/checkpoints")
    def checkpoints(self, request: Request) -> Response:
        return self._call(request, lambda who: self.rpc.audit.checkpoints(who))


def _within(reply, seconds: float) -> bool:
    import eventlet

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
