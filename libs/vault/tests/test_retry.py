"""HTTP to Vault tries again when the connection failed before an answer -- a dead
pooled connection after Vault was out of reach (``make faults`` saw 503s after
Vault was back) -- and never when Vault took the request and did not answer in
time. Against a socket server of the test's own."""

from __future__ import annotations

import socket
import threading

import pytest
import requests
from confide_vault.client import _session

pytestmark = pytest.mark.unit


def server(answer_from: int) -> tuple[int, list[socket.socket]]:
    """A server that hangs up on the first ``answer_from`` connections without a word, then answers 200
    (or never answers, if ``answer_from`` is negative)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []

    def serve() -> None:
        while True:
            conn, _ = listener.accept()
            accepted.append(conn)
            conn.recv(65536)
            if answer_from < 0:
                continue
            if len(accepted) <= answer_from:
                conn.close()
            else:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}")

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1], accepted


def test_a_connection_that_dies_before_the_answer_is_tried_again():
    port, accepted = server(answer_from=1)
    vault = f"http://127.0.0.1:{port}"
    assert _session(vault, True).post(f"{vault}/v1/transit/decrypt/k", timeout=2).status_code == 200
    assert len(accepted) == 2


def test_a_request_vault_took_and_did_not_answer_is_not_sent_again():
    port, accepted = server(answer_from=-1)
    vault = f"http://127.0.0.1:{port}"
    with pytest.raises(requests.ReadTimeout):
        _session(vault, True).post(f"{vault}/v1/transit/encrypt/k", timeout=0.5)
    assert len(accepted) == 1


def test_the_environments_proxy_and_ca_bundle_are_read_once_not_on_every_request(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.clinic.example:3128")
    monkeypatch.setenv("NO_PROXY", "vault.internal")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/confide/ca/ca.crt")
    outside = _session("https://vault.clinic.example:8200", True)
    assert outside.proxies.get("https") == "http://proxy.clinic.example:3128"
    assert outside.verify == "/etc/confide/ca/ca.crt" and not outside.trust_env
    assert "https" not in _session("https://vault.internal:8200", True).proxies  # (NO_PROXY)
    assert _session("https://vault.internal:8200", "/vault-ca.pem").verify == "/vault-ca.pem"  # VAULT_CACERT wins
