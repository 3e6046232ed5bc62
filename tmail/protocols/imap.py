"""IMAP for tmail: imapclient inside, tmail's own types out.

:class:`ImapSession` wraps one logged-in ``imapclient.IMAPClient`` (made by
:func:`tmail.protocols.connect.open_imap`, which owns TLS and login) and offers what sync and
sending need: the folder list with special-use roles (RFC 6154), SELECT/EXAMINE with UIDVALIDITY,
UIDNEXT and HIGHESTMODSEQ, STATUS, CONDSTORE flag changes (RFC 7162), a batched, pipelined
``BODY.PEEK[]`` fetch streamed out one message at a time, UID STORE, MOVE (or COPY + UID EXPUNGE),
APPEND with APPENDUID (RFC 4315), folder create/rename/delete and IDLE (RFC 2177).

Every failure leaves here as a :class:`tmail.core.errors.NetworkError` subclass naming the account
and server; imapclient and imaplib exceptions never cross the boundary.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

import imapclient
from imapclient.response_parser import parse_fetch_response

from tmail.core.errors import ConnectFailed, NetworkError, ProtocolError
from tmail.core.models import Flag
from tmail.protocols.imap_fetch import (
    _batches,
    _fast_fetch,
    _fast_simple_fetch,
    _fetch_problem,
    _uidset,
)
from tmail.protocols.imap_types import (
    FetchedMessage,
    FolderStatus,
    MessageIdentity,
    RemoteFolder,
    assign_roles,
    flags_from_imap,
    flags_to_imap,
    parse_uid_set,
)

__all__ = [
    "DEFAULT_MAX_LITERAL",
    "FetchedMessage",
    "FolderStatus",
    "ImapSession",
    "MessageIdentity",
    "RemoteFolder",
    "assign_roles",
    "flags_from_imap",
    "flags_to_imap",
    "parse_uid_set",
    "safe_server_text",
]

_LITERAL = re.compile(rb"\{(\d+)\+?\}$")
DEFAULT_MAX_LITERAL = 256 * 1024 * 1024  # no mail server accepts messages this big


class ImapSession:
    """One logged-in IMAP connection of one account."""

    def __init__(
        self,
        client: Any,
        *,
        account: str,
        server: str,
        max_literal: int = DEFAULT_MAX_LITERAL,
    ) -> None:
        self._c = client
        self._imap = client._imap
        self.account = account
        self.server = server
        self.max_literal = max_literal
        self.selected: str | None = None
        self.broken = False  # the connection is unusable (lost, stalled, mid-response)
        self._readonly = False
        self._guard_literals()
        with self._errors("CAPABILITY"):
            caps = {c.upper() for c in client.capabilities()}
        self.capabilities = frozenset(c.decode("ascii", "replace") for c in caps)
        if "CONDSTORE" in self.capabilities:
            with self._errors("ENABLE CONDSTORE"), contextlib.suppress(imapclient.IMAPClient.Error):
                client.enable("CONDSTORE")

    # ---------------------------------------------------------------- errors and guards
    def _guard_literals(self) -> None:
        # imaplib on 3.11 reads any literal size a server announces (gh-119511): a
        # "{999999999999}" would exhaust memory. Every read of a literal goes through here.
        original: Callable[[int], bytes] = self._imap.read
        limit = self.max_literal

        def read(size: int) -> bytes:
            if size > limit:
                raise imapclient.IMAPClient.AbortError(
                    f"server announced a {size}-byte literal (limit {limit})"
                )
            return original(size)

        self._imap.read = read
        self._raw_read = original

    def error(self, cls: type[NetworkError], message: str, hint: str | None = None) -> NetworkError:
        return cls(message, account=self.account, server=self.server, hint=hint)

    @contextlib.contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except ConnectFailed:
            self.broken = True
            raise
        except NetworkError:
            raise
        except imapclient.IMAPClient.AbortError as exc:
            self.broken = True
            raise self.error(
                ConnectFailed, f"{what}: connection lost ({exc})", "sync again to resume"
            ) from exc
        except imapclient.IMAPClient.Error as exc:
            raise self.error(ProtocolError, f"{what} refused: {exc}") from exc
        except TimeoutError as exc:
            self.broken = True  # a reply may still be on its way: the stream is out of step
            raise self.error(
                ConnectFailed, f"{what}: the server stopped answering", "sync again later"
            ) from exc
        except (ssl.SSLError, OSError, EOFError) as exc:
            self.broken = True
            raise self.error(ConnectFailed, f"{what}: connection lost ({exc})") from exc
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            # imapclient's parser on a malformed response
            raise self.error(ProtocolError, f"{what}: malformed server response ({exc})") from exc

    def has(self, capability: str) -> bool:
        return capability.upper() in self.capabilities

    # ------------------------------------------------------------------------ folders
    def folders(self) -> list[RemoteFolder]:
        """Every folder LIST shows, with its special-use role and whether it is subscribed."""
        with self._errors("LIST"):
            listed = self._c.list_folders()
            subscribed = {name for _f, _d, name in self._c.list_sub_folders()}
        out: list[RemoteFolder] = []
        for flags, delim, name in listed:
            name = str(name)
            attrs = frozenset(
                (f.decode("ascii", "replace") if isinstance(f, bytes) else str(f)).lower()
                for f in flags
            )
            delimiter = (delim.decode() if isinstance(delim, bytes) else delim) or "/"
            out.append(
                RemoteFolder(
                    name=name,
                    delimiter=delimiter,
                    attributes=attrs,
                    role=None,
                    subscribed=name in subscribed or name.upper() == "INBOX",
                )
            )
        return assign_roles(out)

    def create_folder(self, name: str, special_use: str | None = None) -> None:
        """CREATE and SUBSCRIBE a folder. With ``special_use`` (``\\Sent``) the server is asked
        to mark it so (RFC 6154 section 3, ``CREATE name (USE (\\Sent))``) where it offers
        CREATE-SPECIAL-USE; elsewhere it is created plain (its name still gives its role)."""
        with self._errors(f"CREATE {name}"):
            if special_use and self.has("CREATE-SPECIAL-USE"):
                folder = self._c._normalise_folder(name)  # modified UTF-7, quoted
                typ, data = self._imap._simple_command("CREATE", folder, f"(USE ({special_use}))")
                if typ != "OK":
                    raise imapclient.IMAPClient.Error(_as_text(data[-1] if data else typ))
            else:
                self._c.create_folder(name)
            with contextlib.suppress(imapclient.IMAPClient.Error):
                self._c.subscribe_folder(name)

    def rename_folder(self, old: str, new: str) -> None:
        with self._errors(f"RENAME {old}"):
            self._c.rename_folder(old, new)

    def delete_folder(self, name: str) -> None:
        with self._errors(f"DELETE {name}"):
            self._c.delete_folder(name)

    # ---------------------------------------------------------------- select / status
    def select(self, folder: str, *, readonly: bool = False) -> FolderStatus:
        """SELECT (or EXAMINE when ``readonly``) a folder."""
        with self._errors(f"SELECT {folder}"):
            resp = self._c.select_folder(folder, readonly=readonly)
        self.selected = folder
        self._readonly = readonly
        try:
            return FolderStatus(
                name=folder,
                uidvalidity=int(resp[b"UIDVALIDITY"]),
                uidnext=int(resp.get(b"UIDNEXT", 0)),
                exists=int(resp.get(b"EXISTS", 0)),
                highestmodseq=int(resp[b"HIGHESTMODSEQ"]) if b"HIGHESTMODSEQ" in resp else None,
            )
        except (KeyError, ValueError) as exc:
            raise self.error(ProtocolError, f"SELECT {folder}: no UIDVALIDITY in answer") from exc

    def status(self, folder: str) -> FolderStatus:
        """STATUS without selecting: one round trip that tells whether anything changed."""
        items = ["MESSAGES", "UIDNEXT", "UIDVALIDITY"]
        if self.has("CONDSTORE"):
            items.append("HIGHESTMODSEQ")
        with self._errors(f"STATUS {folder}"):
            resp = self._c.folder_status(folder, items)
        try:
            return FolderStatus(
                name=folder,
                uidvalidity=int(resp[b"UIDVALIDITY"]),
                uidnext=int(resp[b"UIDNEXT"]),
                exists=int(resp[b"MESSAGES"]),
                highestmodseq=int(resp[b"HIGHESTMODSEQ"]) if b"HIGHESTMODSEQ" in resp else None,
            )
        except (KeyError, ValueError) as exc:
            raise self.error(ProtocolError, f"STATUS {folder}: incomplete answer") from exc

    # ------------------------------------------------------------------ UIDs and flags
    def uids(self, since: date | None = None) -> list[int]:
        """UID SEARCH ALL (or SINCE a date, for ``max_age``), sorted."""
        criteria: list[Any] = ["SINCE", since] if since else ["ALL"]
        with self._errors("UID SEARCH"):
            return sorted(int(u) for u in self._c.search(criteria))

    def flags(
        self, uids: Sequence[int] | str = "1:*", *, changed_since: int | None = None
    ) -> dict[int, frozenset[Flag]]:
        """UID FETCH (FLAGS), optionally only those changed since a MODSEQ (CONDSTORE)."""
        if not uids:
            return {}
        modifier = f" (CHANGEDSINCE {changed_since})" if changed_since is not None else ""
        with self._errors("UID FETCH FLAGS"):
            resp = self._fetch(uids, "(UID FLAGS)" + modifier)
            return {int(uid): flags_from_imap(d.get(b"FLAGS", ())) for uid, d in resp.items()}

    def _fetch(self, uids: Sequence[int] | str, items: str) -> dict[int, dict[bytes, Any]]:
        """UID FETCH for any UID set (imapclient's fetch drops answers for ``1:*``)."""
        uidset = uids if isinstance(uids, str) else _uidset(sorted(uids))
        typ, data = self._imap.uid("FETCH", uidset, items)
        if typ != "OK":
            raise imapclient.IMAPClient.Error(f"UID FETCH: {_as_text(data)}")
        data = [d for d in data if d is not None]
        fast = _fast_simple_fetch(data)
        if fast is not None:
            return fast
        # Keyed by UID. A FETCH without one came unasked (RFC 3501 7.4.2: another client
        # changed flags) and names a sequence number, which imapclient would key it by.
        parsed = parse_fetch_response(data, True, False) if data else {}
        return {d.pop(b"UID"): d for d in parsed.values() if b"UID" in d}

    def search_message_id(self, message_id: str) -> list[int]:
        """UIDs of the selected folder's messages with this Message-ID header."""
        with self._errors("UID SEARCH HEADER Message-ID"):
            return sorted(int(u) for u in self._c.search(["HEADER", "Message-ID", message_id]))

    def identities(self, uids: Sequence[int] | str = "1:*") -> list[MessageIdentity]:
        """Message-ID and size per UID, to re-associate messages after a UIDVALIDITY change."""
        with self._errors("UID FETCH ENVELOPE"):
            resp = self._fetch(uids, "(UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        out = []
        for uid, d in resp.items():
            header = b""
            for key, value in d.items():
                if key.startswith(b"BODY[HEADER.FIELDS") and isinstance(value, bytes):
                    header = value
            out.append(
                MessageIdentity(int(uid), _message_id(header), int(d.get(b"RFC822.SIZE", 0)))
            )
        return sorted(out, key=lambda m: m.uid)

    def sizes(self, uids: Sequence[int]) -> dict[int, int]:
        if not uids:
            return {}
        with self._errors("UID FETCH RFC822.SIZE"):
            resp = self._fetch(uids, "(UID RFC822.SIZE)")
        return {int(uid): int(d.get(b"RFC822.SIZE", 0)) for uid, d in resp.items()}

    def add_flags(self, uids: Sequence[int], flags: Iterable[Flag]) -> None:
        names = flags_to_imap(flags)
        if uids and names:
            with self._errors("UID STORE +FLAGS"):
                self._c.add_flags(uids, names, silent=True)

    def remove_flags(self, uids: Sequence[int], flags: Iterable[Flag]) -> None:
        names = flags_to_imap(flags)
        if uids and names:
            with self._errors("UID STORE -FLAGS"):
                self._c.remove_flags(uids, names, silent=True)

    # ------------------------------------------------------------------ move / delete / append
    def delete(self, uids: Sequence[int]) -> bool:
        """Mark \\Deleted and expunge exactly these UIDs (UIDPLUS). Without UIDPLUS the messages
        stay marked (a plain EXPUNGE would also remove other clients' marked mail); returns
        whether they were expunged."""
        if not uids:
            return True
        with self._errors("UID STORE +FLAGS \\Deleted"):
            self._c.add_flags(uids, ["\\Deleted"], silent=True)
        if not self.has("UIDPLUS"):
            return False
        with self._errors("UID EXPUNGE"):
            self._c.uid_expunge(uids)
        return True

    def move(self, uids: Sequence[int], dest: str) -> dict[int, int]:
        """Move UIDs of the selected folder to ``dest``: MOVE, else COPY + UID EXPUNGE.

        Returns old UID -> new UID in ``dest`` when the server says (COPYUID), else {}.
        """
        if not uids:
            return {}
        self._imap.untagged_responses.pop("COPYUID", None)
        if self.has("MOVE"):
            with self._errors(f"UID MOVE to {dest}"):
                text = self._c.move(uids, dest)
        else:
            with self._errors(f"UID COPY to {dest}"):
                text = self._c.copy(uids, dest)
            self.delete(uids)
        codes = [_as_text(text)]
        codes += [_as_text(c) for c in self._imap.untagged_responses.pop("COPYUID", [])]
        mapping: dict[int, int] = {}
        for code in codes:
            m = re.search(r"(?:COPYUID )?(\d+) ([\d:,]+) ([\d:,]+)", code)
            if m:
                with contextlib.suppress(ValueError):
                    mapping.update(
                        zip(parse_uid_set(m.group(2)), parse_uid_set(m.group(3)), strict=False)
                    )
        return mapping

    def append(
        self,
        folder: str,
        raw: bytes,
        flags: Iterable[Flag] = (),
        when: datetime | None = None,
    ) -> int | None:
        """APPEND a message; returns its UID when the server tells (APPENDUID), else None."""
        with self._errors(f"APPEND to {folder}"):
            text = _as_text(self._c.append(folder, raw, flags_to_imap(flags), when))
        m = re.search(r"APPENDUID \d+ (\d+)", text)
        return int(m.group(1)) if m else None

    # ------------------------------------------------------------------ streamed fetch
    def fetch_messages(
        self,
        uids: Sequence[int],
        *,
        headers_only: Iterable[int] = (),
        batch_size: int = 200,
        batch_bytes: int = 8 * 1024 * 1024,
        sizes: dict[int, int] | None = None,
        window: int = 2,
    ) -> Iterator[FetchedMessage]:
        """Fetch bodies with BODY.PEEK (flags untouched), yielding each message as it arrives.

        UIDs go out in batches of at most ``batch_size`` messages / ``batch_bytes`` (when sizes
        are known); up to ``window`` batches are in flight at once so the server never waits
        for us (pipelining, RFC 3501 5.5). Only one message body is held in memory at a time.
        UIDs in ``headers_only`` are fetched as BODY.PEEK[HEADER] (``partial``).
        Do not issue other commands on this session while iterating.
        """
        partial = set(headers_only)
        full = sorted(u for u in uids if u not in partial)
        batches = [(b, False) for b in _batches(full, batch_size, batch_bytes, sizes or {})]
        batches += [(b, True) for b in _batches(sorted(partial), batch_size, 0, {})]
        pending: list[bytes] = []
        asked: set[int] = set()
        seen: dict[int, bytes] = {}  # UID -> digest of the body given for it
        problems: list[str] = []
        nxt = 0
        with self._errors("UID FETCH BODY.PEEK[]"):
            while nxt < len(batches) or pending:
                while nxt < len(batches) and len(pending) < window:
                    batch, hdr = batches[nxt]
                    nxt += 1
                    section = "BODY.PEEK[HEADER]" if hdr else "BODY.PEEK[]"
                    items = f"(UID FLAGS RFC822.SIZE INTERNALDATE {section})"
                    tag = self._imap._new_tag()
                    self._imap.send(tag + f" UID FETCH {_uidset(batch)} {items}\r\n".encode())
                    pending.append(tag)
                    asked.update(batch)
                tag = pending[0]
                for msg in self._read_until(tag):
                    if msg.uid not in asked:
                        continue  # unsolicited (RFC 3501 7.4.2): not ours to store
                    digest = hashlib.sha256(msg.raw).digest()
                    problem = _fetch_problem(msg, digest, seen.get(msg.uid))
                    if problem:
                        problems.append(problem)
                    elif msg.uid not in seen:
                        seen[msg.uid] = digest
                        yield msg
                    # else: the same body again for a UID given already: harmless, not stored
                pending.pop(0)
                self._imap.tagged_commands.pop(tag, None)
        if problems:
            # Every response was read, so the connection stays usable for the other folders;
            # what came whole and consistent was yielded (and stored).
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise self.error(
                ProtocolError,
                f"UID FETCH in {self.selected}: {problems[0]}{more}",
                "the server sent contradictory data; tell its administrator if this persists",
            )

    def _read_until(self, tag: bytes) -> Iterator[FetchedMessage]:
        """Read responses until ``tag`` completes, yielding each FETCH that carries a body."""
        while True:
            line = self._imap._get_line()
            if line.startswith(tag + b" "):
                status = line[len(tag) + 1 :].split(b" ", 1)
                if status[0].upper() != b"OK":
                    text = safe_server_text(line[len(tag) + 1 :])
                    raise self.error(ProtocolError, f"UID FETCH refused: {text}")
                return
            if not line.startswith(b"* "):
                raise self.error(ProtocolError, f"unexpected line: {safe_server_text(line[:80])}")
            parts: list[Any] = []
            current = line[2:]
            while True:
                m = _LITERAL.search(current)
                if not m:
                    parts.append(current)
                    break
                size = int(m.group(1))
                data = self._imap.read(size)
                if len(data) != size:
                    raise self.error(ConnectFailed, "connection lost in the middle of a message")
                parts.append((current, data))
                current = self._imap._get_line()
            head = parts[0][0] if isinstance(parts[0], tuple) else parts[0]
            fields = head.split(b" ", 2)
            if len(fields) < 2 or fields[1].upper() != b"FETCH":
                continue  # EXISTS, EXPUNGE, OK [...], ... during the fetch: not ours to act on
            first = parts[0]
            stripped = fields[0] + b" " + (fields[2] if len(fields) > 2 else b"")
            parts[0] = (stripped, first[1]) if isinstance(first, tuple) else stripped
            msg = self._to_message(parts)
            if msg is not None:
                yield msg

    def _to_message(self, parts: list[Any]) -> FetchedMessage | None:
        fast = _fast_fetch(parts)
        if fast is not None:
            return fast
        parsed = parse_fetch_response(parts, True, False)
        for d in parsed.values():
            uid = d.get(b"UID")
            if not isinstance(uid, int):
                return None  # no UID: not an answer to our UID FETCH (RFC 3501 6.4.8)
            body = d.get(b"BODY[]")
            is_partial = False
            if body is None:
                body = d.get(b"BODY[HEADER]")
                is_partial = body is not None
            if body is None:
                return None  # an unsolicited FLAGS update
            when = d.get(b"INTERNALDATE")
            return FetchedMessage(
                uid=int(uid),
                flags=flags_from_imap(d.get(b"FLAGS", ())),
                size=int(d.get(b"RFC822.SIZE", len(body))),
                raw=bytes(body),
                internaldate=when if isinstance(when, datetime) else None,
                partial=is_partial,
            )
        return None

    # ------------------------------------------------------------------------ IDLE
    def idle(self, timeout: float, stop: Callable[[], bool] | None = None) -> bool:
        """IDLE on the selected folder for up to ``timeout`` seconds (keep it under 29 minutes,
        RFC 2177). Returns True as soon as the server reports a change (new, expunged or
        flagged mail), False on time-out or when ``stop()`` turns true (checked every second).

        Raises :class:`ConnectFailed` at once when the server ends the connection (BYE, a
        closed or reset socket): imapclient's ``idle_check`` reads an EOF as "nothing more
        for now", and polling that dead socket again would spin.
        """
        deadline = time.monotonic() + timeout
        changed = False
        with self._errors("IDLE"):
            self._c.idle()
            try:
                while not changed and time.monotonic() < deadline:
                    if stop is not None and stop():
                        break
                    wait = min(1.0, max(0.0, deadline - time.monotonic()))
                    for resp in self._c.idle_check(timeout=wait):
                        if resp and resp[0] == b"BYE":  # RFC 3501 7.1.5: it is closing
                            raise self._closed_by_server("IDLE", _as_text(resp[1:]))
                        if len(resp) >= 2 and resp[1] in (b"EXISTS", b"EXPUNGE", b"FETCH"):
                            changed = True
                    if not changed and self._peer_closed():
                        raise self._closed_by_server("IDLE", "")
            finally:
                if not self.broken:
                    self._c.idle_done()
        return changed

    def _closed_by_server(self, what: str, said: str) -> NetworkError:
        self.broken = True
        words = f" ({safe_server_text(said.encode())})" if said.strip() else ""
        return self.error(ConnectFailed, f"{what}: the server closed the connection{words}")

    def _peer_closed(self) -> bool:
        """Whether the server has closed (or reset) the connection, without reading anything:
        a peek at the TCP stream under any TLS layer finds its end or an error."""
        try:
            fd = self._c.socket().fileno()
        except (AttributeError, OSError):
            return True
        if fd < 0:
            return True
        raw = socket.socket(fileno=fd)
        try:
            return raw.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except (BlockingIOError, InterruptedError):
            return False  # open, nothing waiting
        except OSError:
            return True  # reset, or otherwise unusable
        finally:
            raw.detach()  # the fd belongs to the IMAP connection

    def noop(self) -> bool:
        """NOOP; True when the server reported a change of the selected folder with it."""
        with self._errors("NOOP"):
            _text, responses = self._c.noop()
        return any(len(r) >= 2 and r[1] in (b"EXISTS", b"EXPUNGE", b"FETCH") for r in responses)

    def logout(self) -> None:
        """Log out; never raises (the connection may be gone already)."""
        if not self.broken:
            with contextlib.suppress(Exception):
                self._c.logout()
        with contextlib.suppress(Exception):
            self._c.shutdown()


def safe_server_text(raw: bytes) -> str:
    from tmail.core.safe import safe_line

    return safe_line(raw.decode("utf-8", "replace"))[:200]


def _as_text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list | tuple):
        return " ".join(_as_text(v) for v in value)
    return str(value)


def _message_id(header: bytes) -> str | None:
    m = re.search(rb"(?im)^message-id:\s*(<[^>\r\n]*>|[^\s]+)", header)
    return m.group(1).decode("utf-8", "replace").strip() if m else None
