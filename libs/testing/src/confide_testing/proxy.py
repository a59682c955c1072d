"""A TCP proxy a test controls, to cut a service off from RabbitMQ or PostgreSQL
and let it back, without disturbing anything else on the machine; and a proxy
that terminates TLS in front of them, so that a client's TLS settings (its CA,
the server's name) meet a real TLS server."""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import threading
from pathlib import Path


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        # accept() wakes up regularly so close() never has to close a socket
        # another (green) thread is blocked on
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._cut = threading.Event()
        self._closed = False
        self.connections_made = 0
        threading.Thread(target=self._accept, daemon=True, name="tcp-proxy").start()

    def _accept(self) -> None:
        try:
            self._accept_loop()
        finally:
            with contextlib.suppress(OSError):
                self._listener.close()

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            if self._cut.is_set():
                client.close()
                continue
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        try:
            client = self._secure(client)
            upstream = socket.create_connection(self.target, timeout=5)
            upstream.settimeout(None)
        except OSError:
            client.close()
            return
        with self._lock:
            self._open.update((client, upstream))
            self.connections_made += 1
        threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
        threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _secure(self, client: socket.socket) -> socket.socket:
        return client

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except (OSError, ValueError):  # (ValueError: a TLS socket the other pump has shut)
            pass
        finally:
            # wake the pump going the other way; each pump closes only the
            # socket it reads from, once it is no longer blocked on it
            self._shutdown(dst)
            with self._lock:
                self._open.discard(src)
            with contextlib.suppress(OSError):
                src.close()

    @staticmethod
    def _shutdown(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Drop every open connection and refuse new ones until :meth:`restore`."""
        self._cut.set()
        with self._lock:
            socks = list(self._open)
        for sock in socks:
            self._shutdown(sock)

    def restore(self) -> None:
        self._cut.clear()

    def close(self) -> None:
        self._closed = True
        self.cut()

    def uri(self, uri: str) -> str:
        """``uri`` with its host and port replaced by this proxy's."""
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(uri)
        auth = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
        return urlunsplit(parts._replace(netloc=f"{auth}127.0.0.1:{self.port}"))


class TlsProxy(TcpProxy):
    """A TLS server in front of a plain one: ``TlsProxy(5672, cert, key)`` for
    RabbitMQ (TLS from the first byte, as ``amqps``), ``postgres=True`` for
    PostgreSQL (TLS after its ``SSLRequest``, as libpq asks; a client that does
    not ask for TLS is turned away, as ``hostnossl ... reject`` would)."""

    SSL_REQUEST = struct.pack("!ii", 8, 80877103)

    def __init__(self, target_port: int, cert: Path, key: Path, *, postgres: bool = False,
                 target_host: str = "127.0.0.1") -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(str(cert), str(key))
        self.postgres = postgres
        self.refused_plain = 0
        super().__init__(target_host, target_port)

    def _secure(self, client: socket.socket) -> socket.socket:
        client.settimeout(10)
        if self.postgres:
            first = b""
            while len(first) < 8 and (chunk := client.recv(8 - len(first))):
                first += chunk
            if first != self.SSL_REQUEST:
                self.refused_plain += 1
                raise OSError("a PostgreSQL client that did not ask for TLS")
            client.sendall(b"S")
        secured = self.context.wrap_socket(client, server_side=True)
        secured.settimeout(None)
        return secured
