"""``confide login``: the command line signs in through the clinic's OpenID
provider with the device flow (RFC 8628): it shows a short code and an
address, the person signs in there in any browser (with the provider's own
factors), and the command line receives an access token for the gateway and
a refresh token. OAuth is Authlib's; discovery is the issuer's
``/.well-known/openid-configuration``.

The tokens are kept in ``~/.config/confide/credentials.json`` (mode 0600),
per gateway address, and refreshed when the access token has expired.
``CONFIDE_TOKEN`` still wins when it is set (scripts, ``confide token``).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
CLIENT_ID = "confide-cli"
PUBLIC = "none"  # a command line keeps no secret: a public client (PKCE's and the device code's protection)
SCOPE = "openid profile offline_access"


class LoginError(RuntimeError):
    """Signing in did not end with a token (the provider's reason is in the message)."""


def credentials_file() -> Path:
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "confide" / "credentials.json"


def discover(issuer: str) -> dict[str, Any]:
    try:
        answer = requests.get(f"{issuer.rstrip('/')}/.well-known/openid-configuration", timeout=10)
        answer.raise_for_status()
    except requests.RequestException as exc:
        raise LoginError(f"cannot read the provider's configuration at {issuer} ({exc}): is CONFIDE_ISSUER "
                         "the clinic's OpenID issuer?") from None
    return answer.json()


def device_login(issuer: str, audience: str, say: Callable[[str], None] = print, client_id: str = CLIENT_ID,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
                 ) -> dict[str, Any]:
    """Sign in by the device flow; returns the token (with ``issuer`` and ``token_endpoint`` added)."""
    meta = discover(issuer)
    if "device_authorization_endpoint" not in meta:
        raise LoginError(f"{issuer} offers no device flow: sign in with a token from your administrator")
    session = OAuth2Session(client_id, scope=SCOPE, token_endpoint_auth_method=PUBLIC)
    started = session.post(meta["device_authorization_endpoint"], timeout=10, withhold_token=True,
                           data={"client_id": client_id, "scope": SCOPE, "resource": audience})
    if not started.ok:
        raise LoginError(f"the provider refused to start a sign-in: {started.text[:300]}")
    device = started.json()
    say(f"Open {device.get('verification_uri_complete') or device['verification_uri']} and sign in "
        f"(code {device['user_code']}); waiting...")
    interval = int(device.get("interval", 5))
    deadline = clock() + int(device.get("expires_in", 600))
    while clock() < deadline:
        sleep(interval)
        try:
            token = session.fetch_token(meta["token_endpoint"], grant_type=DEVICE_GRANT,
                                        device_code=device["device_code"], resource=audience)
        except OAuthError as exc:
            if exc.error == "authorization_pending":
                continue
            if exc.error == "slow_down":
                interval += 5
                continue
            raise LoginError(f"sign-in ended: {exc.error} {exc.description or ''}".strip()) from None
        except requests.RequestException as exc:
            raise LoginError(f"the provider stopped answering ({type(exc).__name__}): run confide login again") \
                from None
        return {**dict(token), "issuer": issuer, "token_endpoint": meta["token_endpoint"]}
    raise LoginError("nobody signed in before the code expired: run confide login again")


def save(gateway: str, token: dict[str, Any]) -> None:
    path = credentials_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    kept = _read(path)
    kept[gateway] = token
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(json.dumps(kept, indent=2))


def forget(gateway: str) -> bool:
    path = credentials_file()
    kept = _read(path)
    if kept.pop(gateway, None) is None:
        return False
    path.write_text(json.dumps(kept, indent=2))
    return True


def access_token(gateway: str, audience: str) -> str | None:
    """The kept access token for ``gateway``, refreshed if it has expired; None if not signed in."""
    token = _read(credentials_file()).get(gateway)
    if token is None:
        return None
    if token.get("expires_at", 0) > time.time() + 30:
        return token["access_token"]
    if not token.get("refresh_token"):
        return None
    session = OAuth2Session(CLIENT_ID, token=token, token_endpoint_auth_method=PUBLIC)
    try:
        fresh = session.refresh_token(token["token_endpoint"], refresh_token=token["refresh_token"],
                                      resource=audience)
    except (OAuthError, requests.RequestException):
        return None
    save(gateway, {**token, **dict(fresh)})
    return fresh["access_token"]


def _read(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
