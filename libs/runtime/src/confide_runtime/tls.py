"""A small certificate authority of a deployment's own, for TLS wherever the
platform's parts talk to each other and no clinic CA is given: OpenBao in
``make run``; OpenBao, RabbitMQ, PostgreSQL and the trace collector under
compose (``make up``); the TLS proxies of the tests. Every client pins this CA
(``VAULT_CACERT``, ``AMQP_CACERT``, ``sslrootcert``,
``OTEL_EXPORTER_OTLP_CERTIFICATE``) and checks the server's name.

Keys are written mode 0600, made once and kept: a certificate outlives the
process that made it. A clinic network uses its own CA (cert-manager in the
cluster); nothing here is for production."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

YEARS = dt.timedelta(days=3650)


def write_private(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(0o600)


def key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def alt_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


class LocalCA:
    """``LocalCA(folder).issue("rabbitmq", ("rabbitmq", "localhost"))`` ->
    (certificate, key) paths in ``folder``, signed by the CA kept there
    (``ca.pem``, ``ca-key.pem``)."""

    def __init__(self, folder: Path, name: str = "Confide local CA") -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.cert_path, self._key_path = folder / "ca.pem", folder / "ca-key.pem"
        if self.cert_path.exists() and self._key_path.exists():
            self._cert = x509.load_pem_x509_certificate(self.cert_path.read_bytes())
            self._key = serialization.load_pem_private_key(self._key_path.read_bytes(), password=None)
            return
        now = dt.datetime.now(dt.UTC)
        self._key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        usage = x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                              key_encipherment=False, data_encipherment=False, key_agreement=False,
                              encipher_only=False, decipher_only=False)
        self._cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                      .public_key(self._key.public_key()).serial_number(x509.random_serial_number())
                      .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + YEARS)
                      .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                      .add_extension(usage, critical=True)
                      .sign(self._key, hashes.SHA256()))
        write_private(self._key_path, key_pem(self._key))
        self.cert_path.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, name: str, names: tuple[str, ...]) -> tuple[Path, Path]:
        """A server certificate for ``names`` (DNS names or IP addresses; the first
        is its common name), made once."""
        cert_path, key_path = self.folder / f"{name}.pem", self.folder / f"{name}-key.pem"
        if cert_path.exists() and key_path.exists():
            return cert_path, key_path
        now = dt.datetime.now(dt.UTC)
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
                .issuer_name(self._cert.subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + YEARS)
                .add_extension(x509.SubjectAlternativeName([alt_name(n) for n in names]), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .sign(self._key, hashes.SHA256()))
        write_private(key_path, key_pem(key))
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return cert_path, key_path
