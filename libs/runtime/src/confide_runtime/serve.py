"""``confide-serve NAME``: run one service in this process.

Settings (environment): ``AMQP_URI`` (``amqps://`` with ``AMQP_CACERT``, the CA
the broker's certificate is checked against); ``DATABASE_URL`` (host, port and
database, ``sslmode=verify-full&sslrootcert=...`` for TLS; the user and
password come from Vault); ``VAULT_ADDR`` (with ``VAULT_CACERT``) and
``VAULT_ROLE_ID``/``VAULT_SECRET_ID`` (AppRole) or ``VAULT_TOKEN`` (development
only); ``CONFIDE_HEALTH_ADDRESS`` (``host:port``) serves the probes
(:mod:`confide_runtime.health`). A missing setting stops start-up with its name.
"""

from __future__ import annotations

from confide_persistence.green import patch

patch()  # before anything imports psycopg or opens a socket

import argparse  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import eventlet  # noqa: E402
from confide_messaging.broker import ssl_options  # noqa: E402
from confide_telemetry import configure_logging, configure_tracing  # noqa: E402
from confide_vault import DynamicDatabaseCredentials, VaultClient, VaultError  # noqa: E402
from nameko import config  # noqa: E402
from nameko.runners import ServiceRunner  # noqa: E402

from confide_runtime.health import serve_probes  # noqa: E402
from confide_runtime.heap import freeze_startup_objects, keep_frozen  # noqa: E402
from confide_runtime.manifest import find  # noqa: E402

log = logging.getLogger("confide.serve")

REQUIRED = ("AMQP_URI", "DATABASE_URL", "VAULT_ADDR")


def amqp_uri(environ) -> str:
    """``AMQP_URI``, with the password from ``AMQP_PASSWORD_FILE`` if that is set
    (compose and the cluster mount it; the URI itself carries no secret)."""
    uri = environ["AMQP_URI"]
    if not environ.get("AMQP_PASSWORD_FILE"):
        return uri
    from urllib.parse import quote, urlsplit, urlunsplit

    try:
        with open(environ["AMQP_PASSWORD_FILE"]) as secret:
            password = secret.read().strip()
    except OSError as exc:
        raise SystemExit(f"confide-serve: AMQP_PASSWORD_FILE {environ['AMQP_PASSWORD_FILE']}: {exc.strerror}") from None
    parts = urlsplit(uri)
    user = parts.username or ""
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=f"{user}:{quote(password, safe='')}@{host}"))


def build_config(manifest, environ) -> dict:
    missing = [name for name in REQUIRED if not environ.get(name)]
    if missing:
        raise SystemExit(f"confide-serve {manifest.name}: missing setting(s) {', '.join(missing)}")
    settings = dict(manifest.config)
    settings.update(
        AMQP_URI=amqp_uri(environ),
        DATABASE_URL=environ["DATABASE_URL"],
        max_workers=int(environ.get("MAX_WORKERS", 10)),
    )
    if environ["AMQP_URI"].startswith("amqps://"):  # the broker's certificate, checked against AMQP_CACERT
        settings["AMQP_SSL"] = ssl_options(environ["AMQP_URI"], environ.get("AMQP_CACERT"))
    for key, value in environ.items():
        if key.startswith("CONFIDE_"):
            settings[key.removeprefix("CONFIDE_")] = value
    for key, path in environ.items():  # CONFIDE_<NAME>_FILE: the setting <NAME> from a file
        if key.startswith("CONFIDE_") and key.endswith("_FILE"):
            try:
                settings[key.removeprefix("CONFIDE_").removesuffix("_FILE")] = Path(path).read_text()
            except OSError as exc:
                raise SystemExit(f"confide-serve {manifest.name}: {key} {path}: {exc.strerror}") from None
    return settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="confide-serve", description=__doc__.splitlines()[0])
    parser.add_argument("service")
    args = parser.parse_args(argv)
    manifest = find(args.service)
    configure_logging(manifest.name)
    configure_tracing(manifest.name)
    settings = build_config(manifest, os.environ)
    try:
        vault = VaultClient.from_env()
    except VaultError as exc:
        raise SystemExit(f"confide-serve {manifest.name}: {exc}") from None
    vault.start_renewing()
    credentials = DynamicDatabaseCredentials(vault, manifest.name)
    credentials.start_renewing()
    settings["DATABASE_CREDENTIALS"] = credentials
    settings["VAULT"] = vault

    config.update(settings)
    runner = ServiceRunner()
    runner.add_service(manifest.service_class())
    stopping = eventlet.event.Event()

    def on_signal(signum, frame):
        if not stopping.ready():
            stopping.send(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    containers = list(runner.containers)

    def watch(container) -> None:
        """A container that dies -- nameko kills it on an error it cannot handle, also
        while it starts -- ends the process at once, so that whatever supervises it
        (Kubernetes, compose, ``make faults``) starts it again, instead of a process
        that answers nothing."""
        try:
            container.wait()
        except BaseException as exc:  # noqa: BLE001 - whatever killed it
            log.critical("service %s died (%s): exiting, to be started again", manifest.name,
                         exc.__class__.__name__)
            credentials.close()
            os._exit(1)

    for container in containers:
        eventlet.spawn_n(watch, container)
    runner.start()
    frozen = freeze_startup_objects()  # (see confide_runtime.heap: full passes leave them out)
    refreezing = keep_frozen()  # (... and what of them has become garbage is freed every ten minutes)
    log.info("service %s started (%d start-up objects frozen)", manifest.name, frozen)
    probes = None
    if settings.get("HEALTH_ADDRESS"):
        probes = serve_probes(settings["HEALTH_ADDRESS"], containers[0].service_name,
                              lambda: all(c.started for c in containers) and not stopping.ready())
    stopping.wait()
    log.info("service %s stopping", manifest.name)
    if probes is not None:
        probes.kill()
    refreezing.kill()
    runner.stop()
    credentials.close()
    vault.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
