"""Who is calling, as the services are told: the verified token's subject,
role and sites, and what the caller says of themselves -- checked before it
can reach the audit trail."""

from __future__ import annotations

from confide_access.events import default_purpose, purpose_refused
from confide_contracts.errors import InvalidRequest
from werkzeug.wrappers import Request

# the caller's own words that reach the audit trail, and how long the trail keeps each
HEADER_LIMITS = {"X-On-Behalf-Of": 200, "X-Purpose-Of-Use": 32}


def caller_from(claims: dict, request: Request, trusted_proxies: frozenset[str] = frozenset()) -> dict:
    """The caller the services expect. What the caller says of themselves is
    checked before it can reach the trail: a header longer than the trail keeps
    (a 10 kB ``X-On-Behalf-Of`` once stalled an audit chain), a purpose their
    role may not claim, a break-the-glass reason (opened by its own operation).
    The client's address is the connection's, or -- only behind a proxy named in
    ``GATEWAY_TRUSTED_PROXIES`` -- the last one that proxy saw."""
    role = claims.get("role")
    errors = {name: [f"at most {limit} characters"] for name, limit in HEADER_LIMITS.items()
              if len(request.headers.get(name) or "") > limit}
    purpose = request.headers.get("X-Purpose-Of-Use") or str(default_purpose(role))
    why = None if "X-Purpose-Of-Use" in errors else purpose_refused(role, purpose)
    if why:
        errors["X-Purpose-Of-Use"] = [why]
    if request.headers.get("X-Break-Glass-Reason"):
        errors["X-Break-Glass-Reason"] = ["break the glass with POST /clients/{client_id}/break-glass, "
                                          "stating the reason there"]
    if errors:
        raise InvalidRequest(errors)
    return {
        "user_id": claims["sub"],
        "role": role,
        "sites": list(claims.get("sites") or []),
        "on_behalf_of": request.headers.get("X-On-Behalf-Of") or None,
        "source_address": client_address(request, trusted_proxies),
        "user_agent": (request.user_agent.string or "")[:512] or None,
        "purpose": purpose,
    }


def client_address(request: Request, trusted_proxies: frozenset[str]) -> str | None:
    address = request.remote_addr
    forwarded = request.headers.get("X-Forwarded-For")
    if address in trusted_proxies and forwarded:
        address = forwarded.split(",")[-1].strip() or address
    return address[:64] if address else None


def anonymous_caller(address: str | None) -> dict:
    """Whoever reads the public transparency views without a token (where the
    operator allows): a monitor, no more; its headers are not taken as facts."""
    return {"user_id": "anonymous", "role": "monitor", "sites": [], "on_behalf_of": None,
            "source_address": address, "user_agent": None, "purpose": "operations"}
