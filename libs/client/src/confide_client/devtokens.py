"""The development issuer: an Ed25519 key kept in the state folder (``.run/``
by default), its public half published as a JWKS file the gateway reads, and
tokens minted with it by ``confide token``. For ``make run`` only; a clinic
network points the gateway at its identity provider's JWKS instead."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ISSUER = "https://confide.local/dev-issuer"
AUDIENCE = "confide"
KEY_FILE = "dev-issuer.pem"
JWKS_FILE = "jwks.json"


def ensure_issuer(state: Path) -> tuple[Ed25519PrivateKey, str, Path]:
    """The key (made on first use), its kid, and the path of the JWKS file."""
    state.mkdir(parents=True, exist_ok=True)
    key_path, jwks_path = state / KEY_FILE, state / JWKS_FILE
    if key_path.exists():
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    else:
        key = Ed25519PrivateKey.generate()
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        key_path.chmod(0o600)
    public = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(key.public_key()))
    kid = jwt.utils.base64url_encode(
        key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)[:12]).decode()
    public.update(kid=kid, use="sig", alg="EdDSA")
    jwks_path.write_text(json.dumps({"keys": [public]}, indent=2))
    return key, kid, jwks_path


def mint(state: Path, user: str, role: str, sites: list[str], minutes: int = 60, **claims) -> str:
    key, kid, _ = ensure_issuer(state)
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": user, "role": role, "sites": sites, "iat": now,
               "nbf": now, "exp": now + minutes * 60, "jti": secrets.token_hex(8), **claims}
    return jwt.encode(payload, key, algorithm="EdDSA", headers={"kid": kid, "typ": "at+jwt"})


def local_settings(state: Path) -> dict[str, str]:
    """For `make run`: the gateway trusts the dev issuer's JWKS in the state folder,
    which it does only where development is declared."""
    _, _, jwks = ensure_issuer(state)
    return {"CONFIDE_GATEWAY_JWKS": str(jwks), "CONFIDE_ENVIRONMENT": "development"}
