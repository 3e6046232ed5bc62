"""Small fake SMTP servers, each injecting one fault a real Postfix will not give on demand.

Plain TCP on 127.0.0.1 (faults are about replies, not TLS); the account uses ``security = "none"``
with ``allow_plaintext_auth``. Build one with :func:`fake_smtp` and the fault's keyword::

    with fake_smtp(greeting="421 4.3.2 try later") as srv: ...
    with fake_smtp(rcpt={"b@x.test": "451 4.3.0 greylisted"}) as srv: ...

``srv.received`` lists (sender, recipients, data) of every message the fake accepted.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class Script:
    greeting: str = "220 fake.test ESMTP"
    extensions: tuple[str, ...] = ("PIPELINING", "SIZE 10485760", "8BITMIME", "DSN", "AUTH PLAIN")
    auth_reply: str = "235 2.7.0 Authentication successful"
    mail_reply: str = "250 2.1.0 Ok"
    rcpt: dict[str, str] = field(default_factory=dict)  # address -> reply; others 250
    data_reply: str = "354 End data with <CR><LF>.<CR><LF>"
    final_reply: str = "250 2.0.0 Ok: queued as FAKE"
    drop_during_data: bool = False  # close the socket after reading part of the message
    close_after_greeting: bool = False
    stall_after_data: bool = False  # read the whole message, then never answer
    drop_after_final_dot: int = 0  # read the whole message, then close without a reply (N times)


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes
    mail_line: str
    rcpt_lines: list[str]


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def say(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        s = self.server.script
        self.server.connections += 1
        self.say(s.greeting)
        if s.greeting.startswith("4") or s.greeting.startswith("5") or s.close_after_greeting:
            return
        sender = ""
        rcpts: list[str] = []
        mail_line = ""
        rcpt_lines: list[str] = []
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            self.server.commands.append(line)
            if verb in ("EHLO", "HELO"):
                lines = ["fake.test", *s.extensions]
                for i, ext in enumerate(lines):
                    self.say(f"250{'-' if i < len(lines) - 1 else ' '}{ext}")
            elif verb == "AUTH":
                self.say(s.auth_reply)
            elif verb == "MAIL":
                mail_line = line
                sender = line.split(":", 1)[1].split(">")[0].lstrip(" <")
                rcpts, rcpt_lines = [], []
                self.say(s.mail_reply)
            elif verb == "RCPT":
                addr = line.split(":", 1)[1].split(">")[0].lstrip(" <")
                reply = s.rcpt.get(addr, "250 2.1.5 Ok")
                if reply.startswith("2"):
                    rcpts.append(addr)
                    rcpt_lines.append(line)
                self.say(reply)
            elif verb == "DATA":
                self.say(s.data_reply if rcpts else "554 5.5.1 Error: no valid recipients")
                if not s.data_reply.startswith("354") or not rcpts:
                    continue
                data = b""
                while True:
                    chunk = self.rfile.readline()
                    if not chunk:
                        return
                    if s.drop_during_data and len(data) > 20:
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    if chunk == b".\r\n":
                        break
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                if s.drop_after_final_dot > 0:
                    s.drop_after_final_dot -= 1
                    self.server.dropped.append(data)  # it may have been taken: who can tell?
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if s.stall_after_data:
                    self.server.stalled.set()
                    self.rfile.readline()  # until the client goes away
                    return
                self.say(s.final_reply)
                if s.final_reply.startswith("250"):
                    self.server.received.append(
                        Received(sender, rcpts, data, mail_line, rcpt_lines)
                    )
            elif verb == "RSET":
                rcpts = []
                self.say("250 2.0.0 Ok")
            elif verb == "NOOP":
                self.say("250 2.0.0 Ok")
            elif verb == "QUIT":
                self.say("221 2.0.0 Bye")
                return
            else:
                self.say("502 5.5.2 Error: command not recognized")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, script: Script) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script = script
        self.received: list[Received] = []
        self.commands: list[str] = []
        self.connections = 0
        self.stalled = threading.Event()
        self.dropped: list[bytes] = []

    @property
    def port(self) -> int:
        return int(self.server_address[1])


@contextlib.contextmanager
def fake_smtp(**kwargs: object) -> Iterator[_Server]:
    server = _Server(Script(**kwargs))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
