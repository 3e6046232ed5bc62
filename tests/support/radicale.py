"""A real CardDAV server for tests: Radicale (a test dependency) on 127.0.0.1 over TLS, with a
self-signed certificate passed as the CA file and plain htpasswd users (see
../shared/mailstack/CARDDAV.md for what had to be right)."""

from __future__ import annotations

import base64
import http.client
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Radicale:
    root: Path
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/"

    @property
    def ca_file(self) -> Path:
        return self.root / "cert.pem"

    def add_user(self, name: str, password: str) -> None:
        with (self.root / "users").open("a") as fh:
            fh.write(f"{name}:{password}\n")

    def request(
        self, user: str, password: str, method: str, path: str, body: str = "", **headers: str
    ) -> int:
        ctx = ssl.create_default_context(cafile=str(self.ca_file))
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=10)
        auth = base64.b64encode(f"{user}:{password}".encode()).decode()
        try:
            conn.request(method, path, body.encode(), {"Authorization": f"Basic {auth}", **headers})
            resp = conn.getresponse()
            resp.read()
            return resp.status
        finally:
            conn.close()

    def make_book(self, user: str, password: str, name: str = "contacts") -> str:
        body = (
            '<?xml version="1.0" encoding="utf-8"?><d:mkcol xmlns:d="DAV:" '
            'xmlns:c="urn:ietf:params:xml:ns:carddav"><d:set><d:prop><d:resourcetype>'
            "<d:collection/><c:addressbook/></d:resourcetype><d:displayname>Контакты"
            "</d:displayname></d:prop></d:set></d:mkcol>"
        )
        path = f"/{user}/{name}/"
        assert self.request(user, password, "MKCOL", path, body) == 201
        return path

    def put(self, user: str, password: str, path: str, vcard: str) -> None:
        status = self.request(user, password, "PUT", path, vcard, **{"Content-Type": "text/vcard"})
        assert status in (201, 204), status

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def radicale(root: Path) -> Iterator[Radicale]:
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
         str(root / "key.pem"), "-out", str(root / "cert.pem"), "-days", "2", "-subj",
         "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    (root / "users").write_text("")
    port = _free_port()
    (root / "config").write_text(f"""\
[server]
hosts = 127.0.0.1:{port}
ssl = True
certificate = {root / "cert.pem"}
key = {root / "key.pem"}
[auth]
type = htpasswd
htpasswd_filename = {root / "users"}
htpasswd_encryption = plain
delay = 0
[rights]
type = owner_only
[storage]
filesystem_folder = {root / "collections"}
[web]
type = none
""")
    log = (root / "radicale.log").open("wb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RADICALE")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--config", str(root / "config")],
        stdout=log,
        stderr=log,
        env=env,
        start_new_session=True,
    )
    server = Radicale(root, port, proc)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "Radicale did not start: " + (root / "radicale.log").read_text()[-2000:]
                    ) from None
                time.sleep(0.1)
        yield server
    finally:
        server.stop()
        log.close()
