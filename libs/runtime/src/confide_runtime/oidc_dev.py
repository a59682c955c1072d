"""The development OpenID provider (``infra/oidc-dev``: oidc-provider on Node.js,
an OpenID Certified implementation) run as a process of its own, with the
people given as its users. Its access tokens are RFC 9068 JWTs for the
gateway's audience carrying a ``groups`` claim (``confide:<role>[:<site>]``),
as a clinic's Keycloak or Okta would send them; the gateway maps them with
``CONFIDE_GATEWAY_ROLES_CLAIM=groups``.

Its packages come from the npm registry with ``npm ci`` (the lock file is
committed), the first time it is started.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

HERE = Path(__file__).resolve().parents[4] / "infra" / "oidc-dev"
CLI_CLIENT, CONSOLE_CLIENT = "confide-cli", "confide-console"


class ProviderError(RuntimeError):
    """The provider could not be installed or started (what to do is in the message)."""


@dataclass(frozen=True)
class Person:
    username: str
    password: str
    sub: str
    name: str
    groups: tuple[str, ...]
    email: str | None = None


def configuration(issuer: str, port: int, audience: str, people: list[Person], access_token_seconds: int = 3600,
                  console: tuple[str, str] | None = None) -> dict[str, Any]:
    """The provider's configuration: a signing key made now, the command line's client, the console's
    (``console``: its address and client secret), the people."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = {**json.loads(RSAAlgorithm.to_jwk(key)), "kid": secrets.token_hex(8), "alg": "RS256", "use": "sig"}
    jwk.pop("key_ops", None)  # (PyJWT marks a private key "sign" only; the provider also verifies with it)
    return {
        "issuer": issuer, "port": port, "audience": audience, "access_token_seconds": access_token_seconds,
        "jwks": {"keys": [jwk]}, "cookie_keys": [secrets.token_urlsafe(32)],
        "clients": [{"client_id": CLI_CLIENT, "token_endpoint_auth_method": "none", "response_types": [],
                     "redirect_uris": [],
                     "grant_types": ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"]}]
        + ([{"client_id": CONSOLE_CLIENT, "client_secret": console[1], "token_endpoint_auth_method":
             "client_secret_basic", "response_types": ["code"], "grant_types": ["authorization_code", "refresh_token"],
             "redirect_uris": [f"{console[0]}/auth/callback"], "post_logout_redirect_uris": [f"{console[0]}/console/"]}]
           if console else []),
        "accounts": [{"username": p.username, "password": p.password, "sub": p.sub, "name": p.name,
                      "email": p.email, "groups": list(p.groups)} for p in people],
    }


def install(say=print) -> None:
    """``npm ci`` in ``infra/oidc-dev`` unless its packages are there already."""
    if (HERE / "node_modules" / "oidc-provider" / "package.json").is_file():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise ProviderError("the development OpenID provider runs on Node.js: install node and npm "
                            "(Debian: apt-get install nodejs npm)")
    say("==> installing the development OpenID provider (npm ci, infra/oidc-dev)")
    done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE,  # noqa: S603
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise ProviderError(f"npm ci in {HERE} failed: {done.stderr.strip()[-500:]}")


def start(config: dict[str, Any], state: Path, timeout: float = 30) -> tuple[subprocess.Popen, dict[str, Any]]:
    """The provider, started with ``config`` (kept 0600 in ``state``, log beside it), once it answers:
    its process and its discovery document."""
    install()
    state.mkdir(parents=True, exist_ok=True)
    path = state / "oidc-dev.json"
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(json.dumps(config))
    with (state / "oidc-dev.log").open("a") as log:
        process = subprocess.Popen([shutil.which("node") or "node", str(HERE / "provider.mjs"), str(path)],  # noqa: S603
                                   stdout=log, stderr=subprocess.STDOUT, cwd=HERE,
                                   env={**os.environ, "NODE_ENV": "production"})
    try:
        return process, _discovered(config["issuer"], process, timeout, state / "oidc-dev.log")
    except ProviderError:
        process.kill()
        raise


@contextlib.contextmanager
def running(config: dict[str, Any], state: Path, timeout: float = 30) -> Iterator[dict[str, Any]]:
    """The provider until the block ends; yields its discovery document."""
    process, meta = start(config, state, timeout)
    try:
        yield meta
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


# the demo network's people (confide_client.demo), as a clinic's provider would hold them
DEMO_PEOPLE = (
    ("ana", "dr-ana-ruiz", "Ana Ruiz", ("confide:clinician:north",)),
    ("ben", "dr-ben-okafor", "Ben Okafor", ("confide:clinician:north",)),
    ("sam", "dr-sam-lee", "Sam Lee", ("confide:supervisor:north",)),
    ("cara", "dr-cara-diaz", "Cara Diaz", ("confide:clinician:north",)),
    ("desk", "fd-north", "Front Desk (North)", ("confide:front_desk:north",)),
    ("biller", "biller-north", "Billing (North)", ("confide:biller:north",)),
    ("admin", "admin-1", "Clinic Admin", ("confide:admin:north", "confide:admin:south")),
    ("credentialing", "cred-1", "Credentialing Officer", ("confide:credentialing_officer:north",)),
    ("compliance", "co-1", "Compliance Officer", ("confide:compliance_officer",)),
    ("robin", "client-robin", "Robin Hale", ("confide:client",)),
)


def demo_people() -> list[Person]:
    """The demo's people, each with a password made now (kept with the provider's configuration, 0600)."""
    return [Person(user, secrets.token_urlsafe(9), sub, name, groups) for user, sub, name, groups in DEMO_PEOPLE]


def _discovered(issuer: str, process: subprocess.Popen, timeout: float, log: Path) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ProviderError(f"the OpenID provider stopped at once: see {log}")
        with contextlib.suppress(requests.RequestException):
            answer = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=2)
            if answer.ok:
                return answer.json()
        time.sleep(0.1)
    raise ProviderError(f"the OpenID provider did not answer at {issuer} within {timeout:.0f} s: see {log}")
