"""The network discovery talks to, on loopback: a real DNS server and a real HTTPS server.

* :class:`DnsServer`: dnsmasq (Debian's ``dnsmasq-base``) on a free port of 127.0.0.1 answering
  only from the records given (no upstream, no /etc/hosts), plus a silent "upstream" socket for
  names that must time out (``server=/slow.test/...``). See ../shared/mailstack/DNS.md.
* :class:`TestCA`: a CA made for the session with ``cryptography``, and server certificates
  it signs for the names the HTTPS server answers as (autoconfig.DOMAIN,
  autoconfig.thunderbird.net).
* :class:`HttpsServer`: Python's http.server with TLS, answering by (Host, path) from a table
  of routes: a file, a redirect, or nothing (404). tmail reaches it through
  ``TMAIL_DISCOVERY_CONNECT_TO`` (the names are mapped to its port; the certificate is checked
  against the names).
"""

from __future__ import annotations

import contextlib
import datetime
import http.server
import ipaddress
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DNSMASQ = "/usr/sbin/dnsmasq"


def dnsmasq_missing() -> str | None:
    if not Path(DNSMASQ).exists() and not shutil.which("dnsmasq"):
        return "dnsmasq is not installed (Debian package dnsmasq-base; scripts/setup --test)"
    return None


# ------------------------------------------------------------------------------------- DNS
class DnsServer:
    """dnsmasq answering from ``lines`` (dnsmasq.conf syntax: local=, mx-host=, srv-host=, ...).

    ``silent_domains`` are forwarded to a socket that never answers: every question about them
    times out, as with a DNS server that is down or filtered.
    """

    def __init__(
        self,
        root: Path,
        lines: Iterable[str],
        silent_domains: Iterable[str] = (),
        forward: Mapping[str, int] | None = None,
    ):
        self.root = root
        self.lines = list(lines)
        self.silent_domains = list(silent_domains)
        self.forward = dict(forward or {})  # domain -> a port on 127.0.0.1 answering for it
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._silent_udp: socket.socket | None = None
        self._silent_tcp: socket.socket | None = None

    def start(self) -> DnsServer:
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        self._silent_udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._silent_udp.bind(("127.0.0.1", 0))
        silent_port = self._silent_udp.getsockname()[1]
        self._silent_tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._silent_tcp.bind(("127.0.0.1", silent_port))
        self._silent_tcp.listen(16)
        for _attempt in range(5):
            port = _free_udp_tcp_port()
            conf = self.root / "dnsmasq.conf"
            body = [
                "no-resolv",
                "no-hosts",
                f"port={port}",
                "listen-address=127.0.0.1",
                "bind-interfaces",
                *(f"server=/{d}/127.0.0.1#{silent_port}" for d in self.silent_domains),
                *(f"server=/{d}/127.0.0.1#{p}" for d, p in self.forward.items()),
                *self.lines,
            ]
            conf.write_text("\n".join(body) + "\n")
            conf.chmod(0o644)
            log = (self.root / "dnsmasq.log").open("wb")
            self.proc = subprocess.Popen(
                [DNSMASQ, "-C", str(conf), "-k", "--pid-file=", "--log-facility=-",
                 "--log-queries"],
                stdout=log, stderr=log,
            )  # fmt: skip
            log.close()
            if self._wait_ready(port):
                self.port = port
                return self
            self.stop()
        raise RuntimeError(f"dnsmasq did not start: see {self.root / 'dnsmasq.log'}")

    def _wait_ready(self, port: int, timeout: float = 10.0) -> bool:
        import dns.exception
        import dns.resolver

        r = dns.resolver.Resolver(configure=False)
        r.nameservers = ["127.0.0.1"]
        r.port = port
        r.timeout = 0.3
        r.lifetime = 0.3
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc is not None and self.proc.poll() is not None:
                return False  # exited: the port was taken, or a bad line
            try:
                r.resolve("ready.invalid", "A")
            except dns.exception.Timeout:
                continue
            except dns.exception.DNSException:
                return True  # any answer (REFUSED, NXDOMAIN) means it is serving
            return True
        return False

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        for s in (self._silent_udp, self._silent_tcp):
            if s is not None:
                s.close()


def _free_udp_tcp_port() -> int:
    while True:
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.bind(("127.0.0.1", 0))
        port = tcp.getsockname()[1]
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            udp.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            udp.close()
            tcp.close()


# ------------------------------------------------------------------------------ certificates
class TestCA:
    """A CA for one session; :meth:`issue` makes a server certificate for some names."""

    __test__ = False  # not a pytest test class

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tmail discovery test CA")])
        now = datetime.datetime.now(datetime.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )
        self.pem = self.root / "ca.pem"
        self.pem.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, names: Iterable[str], stem: str) -> tuple[Path, Path]:
        """(certificate, key) files for ``names`` (DNS names; IP addresses as such)."""
        key = ec.generate_private_key(ec.SECP256R1())
        names = list(names)
        alt: list[x509.GeneralName] = []
        for n in names:
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(n)))
            except ValueError:
                alt.append(x509.DNSName(n))
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
            .sign(self.key, hashes.SHA256())
        )
        cert_path = self.root / f"{stem}.pem"
        key_path = self.root / f"{stem}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return cert_path, key_path


# ------------------------------------------------------------------------------------ HTTPS
@dataclass(frozen=True)
class Route:
    status: int = 200
    body: bytes = b""
    location: str | None = None  # a redirect's target
    content_type: str = "application/xml"


@dataclass
class HttpsServer:
    """Answers GET by (Host without port, path without query) from ``routes``; 404 otherwise.
    Every request is recorded as (host, path with query)."""

    cert: Path
    key: Path
    routes: dict[tuple[str, str], Route] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    port: int = 0
    _server: http.server.ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def start(self) -> HttpsServer:
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
                outer.requests.append((host, self.path))
                route = outer.routes.get((host, self.path.split("?", 1)[0]))
                if route is None:
                    route = Route(status=404, body=b"not here", content_type="text/plain")
                self.send_response(route.status)
                if route.location:
                    self.send_header("Location", route.location)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.write(route.body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(self.cert), str(self.key))
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        server.daemon_threads = True
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def connect_to(names: Iterable[str], port: int) -> str:
    """``TMAIL_DISCOVERY_CONNECT_TO`` mapping each name's port 443 to 127.0.0.1:``port``."""
    return ",".join(f"{n}:443:127.0.0.1:{port}" for n in names)


def autoconfig_xml(
    domain: str,
    incoming: Iterable[Mapping[str, object]],
    outgoing: Iterable[Mapping[str, object]] = (),
    documentation: str = "",
) -> bytes:
    """A Thunderbird config-v1.1.xml naming the servers given (type, hostname, port,
    socketType, username, authentication)."""

    def server(tag: str, s: Mapping[str, object]) -> str:
        auth = s.get("authentication", "password-cleartext")
        return (
            f'    <{tag} type="{s["type"]}">\n'
            f"      <hostname>{s['hostname']}</hostname>\n"
            f"      <port>{s['port']}</port>\n"
            f"      <socketType>{s['socketType']}</socketType>\n"
            f"      <username>{s.get('username', '%EMAILADDRESS%')}</username>\n"
            f"      <authentication>{auth}</authentication>\n"
            f"    </{tag}>\n"
        )

    doc = (
        f'    <documentation url="https://{domain}/help"><descr lang="en">{documentation}'
        "</descr></documentation>\n"
        if documentation
        else ""
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<clientConfig version="1.1">\n'
        f'  <emailProvider id="{domain}">\n    <domain>{domain}</domain>\n'
        f"    <displayName>{domain} mail</displayName>\n"
        + "".join(server("incomingServer", s) for s in incoming)
        + "".join(server("outgoingServer", s) for s in outgoing)
        + doc
        + "  </emailProvider>\n</clientConfig>\n"
    ).encode()


class LaggingDns:
    """A DNS server that answers every question late (``delay`` seconds), for dnsmasq to
    forward a domain to (``server=/lag.test/127.0.0.1#PORT``): a slow DNS server that still
    answers. It knows SRV records given as {name: (target, port)}; other names exist empty."""

    def __init__(self, srv: Mapping[str, tuple[str, int]], delay: float) -> None:
        self.srv = {k.lower().rstrip("."): v for k, v in srv.items()}
        self.delay = delay
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def start(self) -> LaggingDns:
        self._thread.start()
        return self

    def _serve(self) -> None:
        import dns.message
        import dns.rdataclass
        import dns.rdatatype
        import dns.rrset

        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            query = dns.message.from_wire(data)
            reply = dns.message.make_response(query)
            question = query.question[0]
            name = question.name.to_text(omit_final_dot=True).lower()
            if question.rdtype == dns.rdatatype.SRV and name in self.srv:
                target, port = self.srv[name]
                reply.answer.append(
                    dns.rrset.from_text(
                        question.name, 0, dns.rdataclass.IN, "SRV", f"0 1 {port} {target}."
                    )
                )
            time.sleep(self.delay)
            with contextlib.suppress(OSError):
                self.sock.sendto(reply.to_wire(), peer)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()
