"""Tiny servers for the connection faults a real Dovecot/Postfix cannot give on demand.

* :func:`starttls_not_offered`: an IMAP, POP3 or SMTP server whose capabilities lack STARTTLS/STLS
  and which records every line a client sends (a credential must never arrive).
* :func:`never_greets`: a listening socket that accepts the TCP connection and says nothing.
* :func:`wrong_host_proxy`: forwards 127.0.0.2:PORT to a real server on 127.0.0.1, whose
  certificate names only localhost and 127.0.0.1: a certificate that does not match the host.
* :func:`drops_after`: forwards to a real server and drops the connection after N bytes.
* :func:`goes_down`: forwards to a real server until ``.stop()``; then the port refuses (a
  server that is down or restarting).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

_GREETING = {
    "imap": [b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] fake ready"],
    "pop3": [b"+OK fake ready"],
    "smtp": [b"220 fake.test ESMTP"],
}


@dataclass
class Recorder:
    port: int
    lines: list[bytes] = field(default_factory=list)


def _serve_no_starttls(conn: socket.socket, protocol: str, rec: Recorder) -> None:
    f = conn.makefile("rb")

    def say(*lines: bytes) -> None:
        conn.sendall(b"".join(line + b"\r\n" for line in lines))

    with contextlib.suppress(OSError):
        say(*_GREETING[protocol])
        while line := f.readline(4096):
            rec.lines.append(line)
            words = line.strip().split(b" ")
            if protocol == "imap":
                tag, cmd = words[0], (words[1].upper() if len(words) > 1 else b"")
                if cmd == b"CAPABILITY":
                    say(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN", tag + b" OK done")
                elif cmd == b"LOGOUT":
                    say(b"* BYE", tag + b" OK bye")
                    return
                else:
                    say(tag + b" BAD not here")
            elif protocol == "pop3":
                cmd = words[0].upper()
                if cmd == b"CAPA":
                    say(b"+OK", b"USER", b"UIDL", b".")
                elif cmd == b"QUIT":
                    say(b"+OK bye")
                    return
                else:
                    say(b"-ERR not here")
            else:
                cmd = words[0].upper()
                if cmd in (b"EHLO", b"HELO"):
                    say(b"250-fake.test", b"250-PIPELINING", b"250 AUTH PLAIN LOGIN")
                elif cmd == b"QUIT":
                    say(b"221 bye")
                    return
                else:
                    say(b"502 5.5.1 not here")


@contextlib.contextmanager
def _listener(host: str = "127.0.0.1") -> Iterator[socket.socket]:
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, 0))
    srv.listen(8)
    try:
        yield srv
    finally:
        srv.close()


def _accept_loop(srv: socket.socket, handle: object) -> threading.Thread:
    def run() -> None:
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(conn,), daemon=True).start()  # type: ignore[arg-type]

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


@contextlib.contextmanager
def starttls_not_offered(protocol: str) -> Iterator[Recorder]:
    """A plain server for ``protocol`` that never offers STARTTLS; ``.lines`` records the client."""
    with _listener() as srv:
        rec = Recorder(port=srv.getsockname()[1])
        conns: list[socket.socket] = []

        def handle(conn: socket.socket) -> None:
            conns.append(conn)
            with conn:
                _serve_no_starttls(conn, protocol, rec)

        _accept_loop(srv, handle)
        yield rec
        for c in conns:
            with contextlib.suppress(OSError):
                c.close()


@contextlib.contextmanager
def never_greets() -> Iterator[int]:
    """A port where TCP connects but nothing is ever said (the kernel completes the handshake
    from the listen backlog; nobody reads or writes)."""
    with _listener() as srv:
        yield srv.getsockname()[1]


def _pipe(a: socket.socket, b: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := a.recv(65536):
            b.sendall(data)
    with contextlib.suppress(OSError):
        b.shutdown(socket.SHUT_WR)


def _forward(conn: socket.socket, target_port: int, socks: list[socket.socket]) -> None:
    """Both ways between ``conn`` and 127.0.0.1:``target_port`` until each side ends; the two
    sockets are added to ``socks`` for the caller to close."""
    up = socket.create_connection(("127.0.0.1", target_port), timeout=10)
    socks.extend((conn, up))
    threading.Thread(target=_pipe, args=(conn, up), daemon=True).start()
    _pipe(up, conn)


@contextlib.contextmanager
def wrong_host_proxy(target_port: int) -> Iterator[tuple[str, int]]:
    """``(host, port)`` on 127.0.0.2 forwarding bytes to 127.0.0.1:``target_port``."""
    with _listener("127.0.0.2") as srv:
        socks: list[socket.socket] = []

        def handle(conn: socket.socket) -> None:
            _forward(conn, target_port, socks)

        _accept_loop(srv, handle)
        yield "127.0.0.2", srv.getsockname()[1]
        for s in socks:
            with contextlib.suppress(OSError):
                s.close()


@contextlib.contextmanager
def drops_after(target_port: int, nbytes: int) -> Iterator[int]:
    """A port on 127.0.0.1 forwarding to a real server on ``target_port`` whose connection drops
    (both sides closed, no goodbye) once ``nbytes`` have come from the server: a connection
    lost in the middle of a download. TLS passes through untouched."""
    with _listener() as srv:
        socks: list[socket.socket] = []

        def handle(conn: socket.socket) -> None:
            up = socket.create_connection(("127.0.0.1", target_port), timeout=10)
            socks.extend((conn, up))

            def upstream() -> None:
                with contextlib.suppress(OSError):
                    while data := conn.recv(65536):
                        up.sendall(data)

            threading.Thread(target=upstream, daemon=True).start()
            sent = 0
            with contextlib.suppress(OSError):
                while sent < nbytes and (data := up.recv(min(65536, nbytes - sent))):
                    conn.sendall(data)
                    sent += len(data)
            for sock in (conn, up):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                    sock.close()

        _accept_loop(srv, handle)
        yield srv.getsockname()[1]
        for s in socks:
            with contextlib.suppress(OSError):
                s.close()


@dataclass
class Outage:
    port: int
    stop: Callable[[], None]


@contextlib.contextmanager
def goes_down(target_port: int) -> Iterator[Outage]:
    """A port on 127.0.0.1 forwarding to a real server on ``target_port`` until ``.stop()``:
    from then on nothing listens there and a connection is refused, as when the server is down
    or restarting. TLS passes through untouched."""
    with _listener() as srv:
        socks: list[socket.socket] = []

        def handle(conn: socket.socket) -> None:
            _forward(conn, target_port, socks)

        def stop() -> None:
            with contextlib.suppress(OSError):
                srv.shutdown(socket.SHUT_RDWR)  # wakes the accept loop; the port stops listening
            srv.close()
            for s in socks:
                with contextlib.suppress(OSError):
                    s.close()

        _accept_loop(srv, handle)
        try:
            yield Outage(srv.getsockname()[1], stop)
        finally:
            stop()


Responder = Callable[[bytes], "list[bytes] | None"]


@contextlib.contextmanager
def scripted(greeting: list[bytes], respond: Responder) -> Iterator[Recorder]:
    """A plain line server: says ``greeting``, then answers each client line with
    ``respond(line)`` (None closes the connection). For one-off faults: a huge IMAP literal, a
    PREAUTH greeting, a very long POP3 line, an OAuth2 exchange to inspect."""
    with _listener() as srv:
        rec = Recorder(port=srv.getsockname()[1])

        def handle(conn: socket.socket) -> None:
            with conn, contextlib.suppress(OSError):
                f = conn.makefile("rb")
                conn.sendall(b"".join(g + b"\r\n" for g in greeting))
                while line := f.readline(65536):
                    rec.lines.append(line)
                    answer = respond(line.rstrip(b"\r\n"))
                    if answer is None:
                        return
                    conn.sendall(b"".join(a + b"\r\n" for a in answer))

        _accept_loop(srv, handle)
        yield rec


@contextlib.contextmanager
def injects_before_tls(protocol: str, cert: str, key: str) -> Iterator[Recorder]:
    """A STARTTLS server that, in the same cleartext write as its "go ahead", injects a fake
    capability line advertising ``INJECTED`` (the "NO STARTTLS" attack, USENIX Security 2021),
    then does a real TLS handshake (certificate ``cert``) and answers honestly inside TLS."""
    import ssl

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    with _listener() as srv:
        rec = Recorder(port=srv.getsockname()[1])

        def handle(conn: socket.socket) -> None:
            with contextlib.suppress(OSError, ssl.SSLError):
                _inject(conn, protocol, ctx, rec)
            with contextlib.suppress(OSError):
                conn.close()

        _accept_loop(srv, handle)
        yield rec


def _inject(conn: socket.socket, protocol: str, ctx: object, rec: Recorder) -> None:
    import ssl

    assert isinstance(ctx, ssl.SSLContext)
    caps = {
        "imap": [b"* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN"],
        "pop3": [b"+OK", b"USER", b"STLS", b"."],
        "smtp": [b"250-fake.test", b"250-STARTTLS", b"250 AUTH PLAIN"],
    }[protocol]
    injected = {
        "imap": b"* CAPABILITY IMAP4rev1 AUTH=PLAIN INJECTED",
        "pop3": b"+OK injected INJECTED",
        "smtp": b"250-fake.test\r\n250 AUTH INJECTED",
    }[protocol]
    greeting = {"imap": b"* OK hi", "pop3": b"+OK hi", "smtp": b"220 fake ESMTP"}[protocol]
    conn.sendall(greeting + b"\r\n")
    try:
        _inject_loop(conn, conn.makefile("rb"), protocol, ctx, rec, caps, injected, False)
    finally:
        conn.close()


def _inject_loop(
    sock: socket.socket,
    f: object,
    protocol: str,
    ctx: object,
    rec: Recorder,
    caps: list[bytes],
    injected: bytes,
    tls: bool,
) -> None:
    import ssl

    assert isinstance(ctx, ssl.SSLContext)

    def say(*lines: bytes) -> None:
        sock.sendall(b"".join(line + b"\r\n" for line in lines))

    while line := f.readline(4096):  # type: ignore[attr-defined]
        rec.lines.append(line)
        words = line.strip().split(b" ")
        tag = words[0]
        cmd = (words[1] if protocol == "imap" and len(words) > 1 else words[0]).upper()
        if cmd in (b"STARTTLS", b"STLS") and not tls:
            go = {"imap": tag + b" OK begin", "pop3": b"+OK begin", "smtp": b"220 2.0.0 go"}
            sock.sendall(go[protocol] + b"\r\n" + injected + b"\r\n")
            tls_sock = ctx.wrap_socket(sock, server_side=True)
            try:
                _inject_loop(tls_sock, tls_sock.makefile("rb"), protocol, ctx, rec, caps,
                             injected, True)  # fmt: skip
            finally:
                tls_sock.close()
            return
        elif cmd == b"CAPABILITY":
            say(*caps, tag + b" OK done")
        elif cmd == b"CAPA" or cmd in (b"EHLO", b"HELO"):
            say(*caps)
        elif cmd in (b"LOGOUT", b"QUIT"):
            say(tag + b" OK bye" if protocol == "imap" else b"+OK bye")
            return
        else:
            say(tag + b" NO nothing here" if protocol == "imap" else b"-ERR nothing here")
