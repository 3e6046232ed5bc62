"""Small fake IMAP servers, each injecting one fault a real Dovecot cannot give on demand.

Each class is named after its fault. The base speaks just enough IMAP (LOGIN, CAPABILITY, LIST,
LSUB, SELECT/EXAMINE, STATUS, UID SEARCH, UID FETCH, LOGOUT) over plain TCP on 127.0.0.1 to get a
client to the point of the fault; a subclass overrides one handler. Threads here are test
scaffolding, not tmail code.
"""

from __future__ import annotations

import contextlib
import re
import socket
import struct
import threading
import time
from collections.abc import Iterator

from imapclient import imap_utf7


def fake_message(i: int) -> bytes:
    return (
        f"From: a@example.test\r\nTo: b@example.test\r\nSubject: fake {i}\r\n"
        f"Message-ID: <fake{i}@example.test>\r\n\r\nbody {i}\r\n"
    ).encode()


class FakeImap:
    """A well-behaved one-folder server with ``count`` messages; subclasses break one thing."""

    capabilities = "IMAP4rev1 UIDPLUS"
    folder = "INBOX"

    def __init__(self, count: int = 3) -> None:
        self.messages = {uid: fake_message(uid) for uid in range(1, count + 1)}
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port: int = self.sock.getsockname()[1]
        self.connections = 0
        self.commands: list[str] = []  # "CMD args" of every command, in order
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self.sock.close()

    def __enter__(self) -> FakeImap:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            threading.Thread(target=self._client, args=(conn,), daemon=True).start()

    def _client(self, conn: socket.socket) -> None:
        conn.settimeout(30)
        f = conn.makefile("rb")
        try:
            conn.sendall(f"* OK [CAPABILITY {self.capabilities}] fake ready\r\n".encode())
            for line in iter(f.readline, b""):
                m = re.match(rb"(\S+) (?:UID )?(\S+) ?(.*)\r\n", line)
                if not m:
                    continue
                tag, cmd, args = m.group(1).decode(), m.group(2).upper().decode(), m.group(3)
                self.commands.append(f"{cmd} {args.decode('latin-1')}".rstrip())
                if not self.handle(conn, tag, cmd, args.decode("latin-1")):
                    break
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    # ------------------------------------------------------------------ handlers
    def send(self, conn: socket.socket, *lines: str | bytes) -> None:
        conn.sendall(b"".join(x if isinstance(x, bytes) else x.encode() for x in lines))

    def list_lines(self) -> Iterator[str]:
        yield f'* LIST (\\HasNoChildren) "/" {self.folder}\r\n'

    def handle(self, conn: socket.socket, tag: str, cmd: str, args: str) -> bool:
        ok = f"{tag} OK done\r\n"
        if cmd == "LOGOUT":
            self.send(conn, "* BYE\r\n", ok)
            return False
        if cmd == "CAPABILITY":
            self.send(conn, f"* CAPABILITY {self.capabilities}\r\n", ok)
        elif cmd in ("LIST", "LSUB"):
            self.send(conn, *[line.replace("* LIST", f"* {cmd}") for line in self.list_lines()], ok)
        elif cmd in ("SELECT", "EXAMINE"):
            self.send(
                conn,
                f"* {len(self.messages)} EXISTS\r\n* OK [UIDVALIDITY 42] v\r\n",
                f"* OK [UIDNEXT {max(self.messages, default=0) + 1}] n\r\n",
                f"{tag} OK [READ-WRITE] selected\r\n",
            )
        elif cmd == "STATUS":
            name = args.split(" (")[0]
            self.send(
                conn,
                f"* STATUS {name} (MESSAGES {len(self.messages)} "
                f"UIDNEXT {max(self.messages, default=0) + 1} UIDVALIDITY 42)\r\n",
                ok,
            )
        elif cmd == "SEARCH":
            self.send(conn, "* SEARCH " + " ".join(map(str, self.messages)) + "\r\n", ok)
        elif cmd == "FETCH":
            self.fetch(conn, tag, args)
        else:
            self.send(conn, ok)
        return True

    def fetch(self, conn: socket.socket, tag: str, args: str) -> None:
        for uid, raw in self.messages.items():
            if "BODY" in args:
                head = f"* {uid} FETCH (UID {uid} FLAGS () RFC822.SIZE {len(raw)} BODY[] "
                self.send(conn, head + f"{{{len(raw)}}}\r\n", raw, ")\r\n")
            else:
                self.send(conn, f"* {uid} FETCH (UID {uid} FLAGS () RFC822.SIZE {len(raw)})\r\n")
        self.send(conn, f"{tag} OK fetched\r\n")


class DropMidLiteral(FakeImap):
    """Sends the first message whole, then half of the second one's literal, then hangs up."""

    def fetch(self, conn: socket.socket, tag: str, args: str) -> None:
        if "BODY" not in args:
            return super().fetch(conn, tag, args)
        raw = self.messages[1]
        self.send(conn, f"* 1 FETCH (UID 1 FLAGS () BODY[] {{{len(raw)}}}\r\n", raw, ")\r\n")
        raw = self.messages[2]
        self.send(conn, f"* 2 FETCH (UID 2 FLAGS () BODY[] {{{len(raw)}}}\r\n", raw[:20])
        conn.shutdown(socket.SHUT_RDWR)
        conn.close()


class StallOnFetch(FakeImap):
    """Answers everything until a body is asked for, then says nothing at all."""

    def fetch(self, conn: socket.socket, tag: str, args: str) -> None:
        if "BODY" not in args:
            return super().fetch(conn, tag, args)
        time.sleep(60)


class RefuseSelect(FakeImap):
    """Answers SELECT with NO (as a server does for a mailbox it cannot open)."""

    def handle(self, conn: socket.socket, tag: str, cmd: str, args: str) -> bool:
        if cmd in ("SELECT", "EXAMINE"):
            self.send(conn, f"{tag} NO [SERVERBUG] internal error\r\n")
            return True
        return super().handle(conn, tag, cmd, args)


class BadFetch(FakeImap):
    """Answers a body FETCH with BAD."""

    def fetch(self, conn: socket.socket, tag: str, args: str) -> None:
        if "BODY" not in args:
            return super().fetch(conn, tag, args)
        self.send(conn, f"{tag} BAD \x1b[31mcommand unknown\r\n")


class OversizedLiteral(FakeImap):
    """Announces a 999,999,999,999-byte literal for a message body."""

    def fetch(self, conn: socket.socket, tag: str, args: str) -> None:
        if "BODY" not in args:
            return super().fetch(conn, tag, args)
        self.send(conn, "* 1 FETCH (UID 1 FLAGS () BODY[] {999999999999}\r\n", b"x" * 100)
        time.sleep(5)


class ControlCharsInFolderName(FakeImap):
    """Lists a folder whose name carries ESC sequences and a bidi override."""

    evil = "Evil\x1b]0;owned\x07\u202eFolder"

    def list_lines(self) -> Iterator[str]:
        yield from super().list_lines()
        raw = imap_utf7.encode(self.evil)  # the bidi override travels as modified UTF-7
        yield f'* LIST (\\HasNoChildren) "/" {{{len(raw)}}}\r\n{raw.decode()}\r\n'


class HangsUpInIdle(FakeImap):
    """Accepts IDLE, then ends the connection without a BYE: a server process that crashed, a
    NAT entry that expired while a laptop slept. ``reset`` sends a TCP RST instead of a FIN."""

    capabilities = "IMAP4rev1 UIDPLUS IDLE"

    def __init__(self, count: int = 3, *, reset: bool = False) -> None:
        self.reset = reset
        super().__init__(count)

    def handle(self, conn: socket.socket, tag: str, cmd: str, args: str) -> bool:
        if cmd != "IDLE":
            return super().handle(conn, tag, cmd, args)
        self.send(conn, "+ idling\r\n")
        time.sleep(0.3)
        if self.reset:  # SO_LINGER with a zero timeout: close() sends RST
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            conn.shutdown(socket.SHUT_RDWR)
        conn.close()
        return False


class TwoFetchesForOneUid(FakeImap):
    """Answers a body FETCH for UID 2 twice: a second FETCH response with another body under
    the same Message-ID (a confused or hostile server)."""

    def fetch(self, conn: socket.socket, tag: str, args: str) -> None:
        if "BODY" not in args:
            return super().fetch(conn, tag, args)
        for uid, raw in self.messages.items():
            bodies = [raw] + ([raw.replace(b"body 2", b"a different body 2")] if uid == 2 else [])
            for body in bodies:
                head = f"* {uid} FETCH (UID {uid} FLAGS () RFC822.SIZE {len(body)} BODY[] "
                self.send(conn, head + f"{{{len(body)}}}\r\n", body, ")\r\n")
        self.send(conn, f"{tag} OK fetched\r\n")


class FetchForUnaskedUid(FakeImap):
    """Answers every body FETCH also with the body of UID 99, which nobody asked for (and which
    the folder does not list)."""

    def fetch(self, conn: socket.socket, tag: str, args: str) -> None:
        if "BODY" in args:
            raw = fake_message(99)
            head = f"* 9 FETCH (UID 99 FLAGS () RFC822.SIZE {len(raw)} BODY[] "
            self.send(conn, head + f"{{{len(raw)}}}\r\n", raw, ")\r\n")
        super().fetch(conn, tag, args)


class LiteralShorterThanSize(FakeImap):
    """Sends UID 2 with an RFC822.SIZE 40 bytes larger than the literal that follows (a message
    cut short)."""

    def fetch(self, conn: socket.socket, tag: str, args: str) -> None:
        if "BODY" not in args:
            return super().fetch(conn, tag, args)
        for uid, raw in self.messages.items():
            size = len(raw) + (40 if uid == 2 else 0)
            head = f"* {uid} FETCH (UID {uid} FLAGS () RFC822.SIZE {size} BODY[] "
            self.send(conn, head + f"{{{len(raw)}}}\r\n", raw, ")\r\n")
        self.send(conn, f"{tag} OK fetched\r\n")


class RefuseCreate(FakeImap):
    """Answers CREATE with NO (a server whose namespace does not let the user make folders)."""

    def handle(self, conn: socket.socket, tag: str, cmd: str, args: str) -> bool:
        if cmd == "CREATE":
            self.send(conn, f"{tag} NO [NOPERM] Permission denied\r\n")
            return True
        return super().handle(conn, tag, cmd, args)


class OffersCreateSpecialUse(FakeImap):
    """Announces CREATE-SPECIAL-USE (RFC 6154), which the test Dovecot does not."""

    capabilities = "IMAP4rev1 UIDPLUS SPECIAL-USE CREATE-SPECIAL-USE"
