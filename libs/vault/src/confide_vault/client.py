from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass

import hvac
import hvac.exceptions
import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

log = logging.getLogger(__name__)


class ConnectionRetry(Retry):
    """Again when the connection failed -- could not be made, or was found dead when the
    request was sent on it (a pooled connection from before Vault was out of reach:
    ``make faults`` saw 503s after Vault was back) -- never when Vault took the request
    and did not answer in time (it may have done it, and the wait would be paid again)."""

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        if isinstance(error, ReadTimeoutError):
            raise error  # (as urllib3 does with a read error it may not retry: requests says ReadTimeout)
        return super().increment(method, url, response, error, _pool, _stacktrace)


def _session(addr: str, verify: str | bool) -> requests.Session:
    """HTTP to Vault that tries a request again (twice, 50 and 100 ms apart) when its
    connection failed before an answer (:class:`ConnectionRetry`). The environment's
    proxy and CA bundle settings are read once, here: requests otherwise reads every
    environment variable on every request (0.2 ms of CPU per Vault call, on every
    read of a note: ``make bench NAME=records``)."""
    session = requests.Session()
    session.trust_env = False
    session.proxies.update(requests.utils.get_environ_proxies(addr))
    if verify is True:
        verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    session.verify = verify  # (hvac leaves a session it is given as it is)
    retry = ConnectionRetry(total=2, connect=2, read=2, status=0, other=0, backoff_factor=0.05,
                            allowed_methods=None, raise_on_status=False)
    session.mount("https://", HTTPAdapter(max_retries=retry))
    session.mount("http://", HTTPAdapter(max_retries=retry))
    return session


class VaultError(RuntimeError):
    """Vault refused or could not be reached; the message says which setting or path."""


@dataclass(frozen=True)
class AppRole:
    role_id: str
    secret_id: str
    mount: str = "approle"


SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"  # noqa: S105 - a path


@dataclass(frozen=True)
class KubernetesLogin:
    """Log in as the pod's ServiceAccount (its projected token, read afresh at
    each login because the kubelet rotates it)."""

    role: str
    token_path: str = SERVICE_ACCOUNT_TOKEN
    mount: str = "kubernetes"


def _read_env_file(path: str) -> dict[str, str]:
    try:
        with open(path) as lines:
            return dict(line.strip().split("=", 1) for line in lines if "=" in line)
    except OSError as exc:
        raise VaultError(f"VAULT_APPROLE_FILE {path}: {exc.strerror} (has the bootstrap job run?)") from exc


class VaultClient:
    """An authenticated hvac client that keeps its token alive.

    Logs in with AppRole (``VAULT_ROLE_ID``/``VAULT_SECRET_ID``; make run,
    compose), with the pod's ServiceAccount (``VAULT_K8S_ROLE``; a cluster), or
    uses a token (``VAULT_TOKEN``, development only). A renewer thread renews the
    token at half its TTL and logs in again if renewal is no longer possible.
    """

    def __init__(self, addr: str, *, token: str | None = None, approle: AppRole | None = None,
                 kubernetes: KubernetesLogin | None = None, namespace: str | None = None,
                 timeout: float = 10.0, ca_cert: str | None = None) -> None:
        if not token and not approle and not kubernetes:
            raise VaultError("Vault needs VAULT_ROLE_ID and VAULT_SECRET_ID, VAULT_K8S_ROLE, or VAULT_TOKEN")
        self.addr = addr
        self.approle = approle
        self.kubernetes = kubernetes
        # over https, Vault's certificate is checked against ca_cert (VAULT_CACERT) if given, else the system's CAs
        self.hvac = hvac.Client(url=addr, token=token, namespace=namespace, timeout=timeout, verify=ca_cert or True,
                                session=_session(addr, ca_cert or True))
        self._renewer: threading.Thread | None = None
        self._stop = threading.Event()
        if approle or kubernetes:
            self.login()

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> VaultClient:
        env = os.environ if environ is None else environ
        addr = env.get("VAULT_ADDR")
        if not addr:
            raise VaultError("missing setting VAULT_ADDR (where Vault listens, e.g. http://127.0.0.1:8200)")
        approle = None
        if env.get("VAULT_APPROLE_FILE"):  # compose: the bootstrap job's <identity>.env, on a shared volume
            env = {**_read_env_file(env["VAULT_APPROLE_FILE"]), **env}
        if env.get("VAULT_ROLE_ID"):
            if not env.get("VAULT_SECRET_ID"):
                raise VaultError("missing setting VAULT_SECRET_ID (VAULT_ROLE_ID is set)")
            approle = AppRole(env["VAULT_ROLE_ID"], env["VAULT_SECRET_ID"], env.get("VAULT_APPROLE_MOUNT", "approle"))
        kubernetes = None
        if env.get("VAULT_K8S_ROLE"):
            kubernetes = KubernetesLogin(env["VAULT_K8S_ROLE"], env.get("VAULT_K8S_TOKEN_PATH", SERVICE_ACCOUNT_TOKEN),
                                         env.get("VAULT_K8S_MOUNT", "kubernetes"))
        return cls(addr, token=env.get("VAULT_TOKEN"), approle=approle, kubernetes=kubernetes,
                   ca_cert=env.get("VAULT_CACERT") or None)

    def login(self) -> None:
        if self.kubernetes is not None:
            try:
                with open(self.kubernetes.token_path) as jwt:
                    token = jwt.read().strip()
            except OSError as exc:
                raise VaultError(f"Kubernetes login: cannot read the ServiceAccount token "
                                 f"{self.kubernetes.token_path} ({exc.strerror})") from exc
            try:
                self.hvac.auth.kubernetes.login(self.kubernetes.role, token, mount_point=self.kubernetes.mount)
            except hvac.exceptions.VaultError as exc:
                raise VaultError(f"Kubernetes login as {self.kubernetes.role} at {self.addr} failed: {exc}") from exc
            return
        assert self.approle is not None
        try:
            self.hvac.auth.approle.login(
                role_id=self.approle.role_id, secret_id=self.approle.secret_id,
                mount_point=self.approle.mount,
            )
        except hvac.exceptions.VaultError as exc:
            raise VaultError(f"AppRole login at {self.addr} failed: {exc}") from exc

    def token_ttl(self) -> int:
        return int(self.hvac.auth.token.lookup_self()["data"].get("ttl") or 0)

    def renew_token(self) -> int:
        """Renew our token; returns the new TTL in seconds (0 = never expires)."""
        try:
            result = self.hvac.auth.token.renew_self()
            return int(result["auth"].get("lease_duration") or 0)
        except hvac.exceptions.VaultError:
            if self.approle is None and self.kubernetes is None:
                raise
            log.info("token renewal refused; logging in again")
            self.login()
            return self.token_ttl()

    def start_renewing(self) -> None:
        if self._renewer is not None:
            return

        def loop() -> None:
            ttl = self.token_ttl()
            while ttl and not self._stop.wait(max(ttl / 2, 0.5)):
                try:
                    ttl = self.renew_token()
                except Exception as exc:  # noqa: BLE001 - keep trying
                    log.warning("Vault token renewal failed: %s", exc)
                    ttl = 10

        self._renewer = threading.Thread(target=loop, name="vault-token-renewer", daemon=True)
        self._renewer.start()

    def close(self) -> None:
        self._stop.set()
