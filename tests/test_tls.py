"""TLS where the platform's parts talk, against real TLS servers: a TLS proxy
(``confide_testing.proxy.TlsProxy``) in front of this machine's RabbitMQ and
PostgreSQL, with certificates from a local CA (``confide_runtime.tls``). A
service runs over ``amqps``; a broker or database whose certificate another CA
signed, or that names another host, is refused; a client that does not ask
PostgreSQL for TLS is turned away. (Vault is over TLS in the whole suite.)"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import pytest
from confide_messaging.broker import ssl_options
from confide_persistence import create_engine
from confide_runtime.tls import LocalCA
from confide_testing import caller, random_id, wait_until
from confide_testing.proxy import TlsProxy
from kombu import Connection
from sqlalchemy import text
from sqlalchemy.engine import make_url

OFFICER = caller("credentialing_officer", ("site-a",), purpose="operations")


@pytest.fixture
def ca(tmp_path):
    return LocalCA(tmp_path / "ca")


def at(uri: str, scheme: str, host: str, port: int) -> str:
    parts = urlsplit(uri)
    auth = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(scheme=scheme, netloc=f"{auth}{host}:{port}"))


def broker_refuses(uri: str, cafile: str) -> str:
    with pytest.raises(Exception) as refused:
        with Connection(uri, ssl=ssl_options(uri, cafile), connect_timeout=5) as connection:
            connection.connect()
    return str(refused.value)


def test_a_service_runs_over_amqps_and_checks_the_brokers_certificate(running_service, rpc_client, rabbit_uri,
                                                                     ca, tmp_path):
    cert, key = ca.issue("broker", ("localhost",))
    proxy = TlsProxy(urlsplit(rabbit_uri).port or 5672, cert, key)
    try:
        uri = at(rabbit_uri, "amqps", "localhost", proxy.port)
        service = running_service("credentialing", AMQP_URI=uri, AMQP_SSL=ssl_options(uri, str(ca.cert_path)))
        with rpc_client() as rpc:  # (the test's own client goes through TLS too: the same settings)
            made = rpc.credentialing.register_clinician(OFFICER, {
                "id": random_id("dr"), "given_name": "Ana", "family_name": "Ruiz", "home_site_id": "site-a"})
        assert made["given_name"] == "Ana"
        # its event left through the outbox relay's own TLS connection
        with service.engine.connect() as conn:
            wait_until(lambda: conn.execute(text("SELECT count(*) FROM outbox WHERE sent_at IS NULL")).scalar() == 0,
                       what="the outbox relayed over amqps")
        assert proxy.connections_made >= 3  # service consumer, relay, the test's client

        other = LocalCA(tmp_path / "other")
        assert "certificate verify failed" in broker_refuses(uri, str(other.cert_path))
        named_otherwise = at(rabbit_uri, "amqps", "127.0.0.1", proxy.port)  # the certificate names localhost
        assert "certificate verify failed" in broker_refuses(named_otherwise, str(ca.cert_path))
    finally:
        proxy.close()


def test_postgres_over_tls_with_the_servers_name_checked(database_factory, ca, tmp_path):
    cert, key = ca.issue("postgres", ("localhost",))
    url = make_url(database_factory.create())
    proxy = TlsProxy(url.port or 5432, cert, key, postgres=True)
    try:
        def through(host: str, **query) -> str:
            return url.set(host=host, port=proxy.port, query=query).render_as_string(hide_password=False)

        pinned = {"sslmode": "verify-full", "sslrootcert": str(ca.cert_path)}
        engine = create_engine(through("localhost", **pinned))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
        engine.dispose()
        other = LocalCA(tmp_path / "other")
        for refused in (through("localhost", sslmode="verify-full", sslrootcert=str(other.cert_path)),
                        through("127.0.0.1", **pinned),  # the certificate names localhost
                        through("localhost", sslmode="disable")):  # the server takes TLS only
            engine = create_engine(refused)
            with pytest.raises(Exception):  # noqa: B017 - psycopg's OperationalError, wrapped
                engine.connect().close()
            engine.dispose()
        assert proxy.refused_plain >= 1
    finally:
        proxy.close()


@pytest.mark.unit
def test_confide_serve_checks_the_brokers_certificate_when_told_amqps():
    from confide_runtime.manifest import find
    from confide_runtime.serve import build_config

    env = {"AMQP_URI": "amqps://confide-records@rabbitmq:5671/", "AMQP_CACERT": "/run/secrets/confide-ca",
           "DATABASE_URL": "postgresql+psycopg://postgres:5432/confide_records?sslmode=verify-full",
           "VAULT_ADDR": "https://openbao:8200"}
    settings = build_config(find("records"), env)
    assert settings["AMQP_SSL"] == {"server_hostname": "rabbitmq",
                                    "context": {"cafile": "/run/secrets/confide-ca", "check_hostname": True}}
    assert "AMQP_SSL" not in build_config(find("records"), {**env, "AMQP_URI": "amqp://guest:guest@127.0.0.1/"})
