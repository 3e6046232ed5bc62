"""The outbox of one account: a Maildir of messages waiting to go, each with its envelope.

Layout under ``DATA_DIR/outbox/ACCOUNT/``::

    tmp/ new/ cur/            the queue, a Maildir (mutt can open it); messages are in new/
    envelopes/ID.json         sender, pending recipients, results so far, attempt history
    .failed/new/ + .failed/envelopes/   refused for good (5xx) or given up: kept for the user
    .corrupt/                 entries that could not be read, moved aside (never deleted)
    .delivered/               delivered messages and envelopes, kept a day, then pruned
    .pruned                   its mtime: when .delivered/ was last pruned (once an hour)
    sent.log                  delivery times, for the per-hour / per-day rate limits
    .lock                     held by whoever is flushing, so two flushes never send twice

An entry exists when its message is in ``new/``: the envelope is written first (temp file, fsync,
rename), then the message (tmp/, fsync, rename into new/, fsync of the folder). ``tmail send``
returns only after that, and no SMTP byte is sent before it. After the server accepts a message,
message and envelope move to ``.delivered/``; a crash between the server's 250 and that move
sends the message again on the next flush. (A connection lost after the final dot, when tmail
is still running to see it, holds the entry as "delivery uncertain" for the user to decide.)
At least once is the safe side: a duplicate letter is a nuisance the receiver can spot (same
Message-ID); a lost one is silent, and nobody knows.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from tmail.config.paths import outbox_dir
from tmail.core.errors import StoreError

State = Literal["queued", "failed"]


@dataclass(frozen=True)
class Attempt:
    at: float
    outcome: str  # "delivered", "partial", "temporary", "permanent", "gave up"
    detail: str


@dataclass(frozen=True)
class RecipientResult:
    recipient: str
    code: int
    text: str


@dataclass(frozen=True)
class Entry:
    """One queued message's envelope and history (the bytes stay in the Maildir file)."""

    id: str
    account: str
    sender: str
    recipients: tuple[str, ...]  # still to deliver
    subject: str
    message_id: str
    created: float
    next_try: float
    bcc: tuple[str, ...] = ()  # for the Sent copy only; never in the sent bytes
    delivered: tuple[str, ...] = ()
    refused: tuple[RecipientResult, ...] = ()  # refused for good
    attempts: tuple[Attempt, ...] = ()
    last_error: str | None = None
    waiting_until: float | None = None  # held back by a rate limit
    dsn_notify: tuple[str, ...] = ()
    dsn_ret: str = "HDRS"
    dsn_envid: str | None = None
    size: int = 0
    state: State = "queued"
    sent_copy_done: bool = False
    # Held for the user, never tried by itself: "login" (the server refused the login: the same
    # password would be refused again) or "uncertain" (the connection was lost after the final
    # dot: the server may have it). ``Queue.release`` (tmail flush --resend) lets it go again.
    hold: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # Sent later (``tmail send --at``, the reader's undo window): no flush, forced or not,
    # sends it before this time; only the user's explicit "send now" (``release``) does.
    not_before: float | None = None

    def scheduled(self, now: float) -> bool:
        """Whether the entry still waits for its time (see ``not_before``)."""
        return self.not_before is not None and self.not_before > now

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Entry:
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise ValueError("envelope is not an object")
        raw["recipients"] = tuple(raw["recipients"])
        raw["bcc"] = tuple(raw.get("bcc", ()))
        raw["delivered"] = tuple(raw.get("delivered", ()))
        raw["refused"] = tuple(RecipientResult(**r) for r in raw.get("refused", ()))
        raw["attempts"] = tuple(Attempt(**a) for a in raw.get("attempts", ()))
        raw["dsn_notify"] = tuple(raw.get("dsn_notify", ()))
        entry = cls(**raw)
        if not entry.id or not isinstance(entry.sender, str):
            raise ValueError("envelope without id or sender")
        return entry


PRUNE_EVERY = 3600.0  # seconds between two passes of prune_delivered


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def new_id() -> str:
    """Sortable by time, unique without coordination: ``1732850000.3f9a2c1b7d``."""
    return f"{int(time.time())}.{uuid.uuid4().hex[:10]}"


class Queue:
    """The outbox of one account. Not thread-safe; one flush at a time through :meth:`lock`."""

    def __init__(self, root: Path, account: str) -> None:
        self.root = root
        self.account = account
        self.warnings: list[str] = []

    @classmethod
    def for_account(cls, data_dir: Path, account: str) -> Queue:
        return cls(outbox_dir(data_dir, account), account)

    # ------------------------------------------------------------------ paths
    def _dirs(self, base: Path) -> tuple[Path, Path]:
        return base / "new", base / "envelopes"

    @property
    def failed_root(self) -> Path:
        return self.root / ".failed"

    def _ensure(self) -> None:
        try:
            for base in (self.root, self.failed_root):
                for sub in ("tmp", "new", "cur", "envelopes"):
                    (base / sub).mkdir(parents=True, exist_ok=True)
            (self.root / ".delivered").mkdir(exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the outbox {self.root}: {exc.strerror}", account=self.account
            ) from exc

    # ------------------------------------------------------------------ writing
    def add(self, entry: Entry, data: bytes) -> Entry:
        """Put a message in the queue, durably: on return it survives a crash or power loss."""
        self._ensure()
        entry = replace(entry, size=len(data))
        try:
            _write_atomic(self.root / "envelopes" / f"{entry.id}.json", entry.to_json().encode())
            tmp = self.root / "tmp" / entry.id
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.rename(tmp, self.root / "new" / entry.id)
            _fsync_dir(self.root / "new")
        except OSError as exc:
            raise StoreError(
                f"cannot write to the outbox {self.root}: {exc.strerror}",
                account=self.account,
                hint="free some disk space; the message was NOT queued",
            ) from exc
        return entry

    def update(self, entry: Entry) -> None:
        base = self.failed_root if entry.state == "failed" else self.root
        _write_atomic(base / "envelopes" / f"{entry.id}.json", entry.to_json().encode())

    def remove(self, entry: Entry) -> None:
        """Take a delivered entry out of the queue into ``.delivered/`` (kept a day, then pruned).

        Message first, so a crash leaves only an orphan envelope. Renames, not unlinks: freeing
        a just-fsynced file costs about a millisecond here, a rename a few microseconds, and
        this runs once per message while the connection waits.
        """
        done = self.root / ".delivered"
        try:
            os.replace(self.root / "new" / entry.id, done / entry.id)
        except FileNotFoundError:
            pass
        except OSError:
            done.mkdir(parents=True, exist_ok=True)
            os.replace(self.root / "new" / entry.id, done / entry.id)
        with contextlib.suppress(FileNotFoundError):
            os.replace(self.root / "envelopes" / f"{entry.id}.json", done / f"{entry.id}.json")

    def prune_delivered(self, now: float, keep: float = 86400.0) -> int:
        """Delete delivered messages moved aside more than ``keep`` seconds ago.

        At most once every PRUNE_EVERY seconds (the mtime of ``.pruned`` says when it last ran):
        a pass looks at every entry kept, a day of a busy sender's mail (6,000 entries: 24 ms),
        and it runs at the start of every flush, before the first message goes out.
        """
        stamp = self.root / ".pruned"
        with contextlib.suppress(OSError):
            if 0 <= now - stamp.stat().st_mtime < PRUNE_EVERY:
                return 0
        count = 0
        try:
            kept = os.scandir(self.root / ".delivered")
        except (FileNotFoundError, NotADirectoryError):
            return 0
        with kept:
            for item in kept:
                with contextlib.suppress(FileNotFoundError):
                    if now - item.stat().st_ctime > keep:
                        os.unlink(item.path)
                        count += 1
        with contextlib.suppress(OSError):
            stamp.touch()
            os.utime(stamp, (now, now))
        return count

    def fail(self, entry: Entry) -> Entry:
        """Move an entry to the failed folder, envelope first."""
        self._ensure()
        entry = replace(entry, state="failed", waiting_until=None)
        _write_atomic(self.failed_root / "envelopes" / f"{entry.id}.json", entry.to_json().encode())
        os.replace(self.root / "new" / entry.id, self.failed_root / "new" / entry.id)
        _fsync_dir(self.failed_root / "new")
        with contextlib.suppress(FileNotFoundError):
            (self.root / "envelopes" / f"{entry.id}.json").unlink()
        return entry

    def drop(self, ident: str) -> Entry:
        """Remove a queued or failed entry by its id (or an unambiguous prefix of it)."""
        entry = self.find(ident)
        base = self.failed_root if entry.state == "failed" else self.root
        with contextlib.suppress(FileNotFoundError):
            (base / "new" / entry.id).unlink()
        with contextlib.suppress(FileNotFoundError):
            (base / "envelopes" / f"{entry.id}.json").unlink()
        return entry

    def take_back(self, ident: str, timeout: float = 5.0) -> tuple[Entry, bytes] | None:
        """Take a queued entry out of the outbox before it goes (the reader's undo), under the
        flush lock so it is either sent or taken back, never both: its entry and bytes, or
        None when it is no longer here (a flush sent it, or it failed meanwhile)."""
        with self.lock(timeout=timeout) as locked:
            if not locked:
                raise StoreError(
                    "the outbox is being sent from; the message may be leaving now",
                    account=self.account,
                    hint="'tmail queue' shows whether it is still there",
                )
            entry = next((e for e in self.peek() if e.id == ident), None)
            if entry is None or entry.state != "queued":
                return None
            data = self.read(entry)
            self.drop(entry.id)
            return entry, data

    def find(self, ident: str) -> Entry:
        """The queued or failed entry whose id is ``ident`` or starts with it."""
        matches = [e for e in (*self.entries(), *self.failed()) if e.id.startswith(ident)]
        if len(matches) != 1:
            from tmail.core.errors import UsageError

            what = "no queued message" if not matches else "more than one queued message"
            raise UsageError(f"{what} matches {ident!r}", account=self.account)
        return matches[0]

    def release(self, ident: str, now: float) -> list[Entry]:
        """Let a held entry go at the next flush (``tmail flush --resend``); returns the entries
        released. A login hold is the account's, not the message's: every entry held for it
        is released together (one login decides for all)."""
        entry = self.find(ident)
        if entry.state == "failed":
            from tmail.core.errors import UsageError

            raise UsageError(
                f"message {entry.id} was refused for good and is not sent again",
                account=self.account,
                hint="'tmail queue' shows why; 'tmail queue --drop ID' removes it",
            )
        if entry.hold == "login":
            chosen = [e for e in self.entries() if e.hold == "login"]
        else:
            chosen = [entry]
        out = []
        for e in chosen:
            e = replace(e, hold=None, next_try=now, waiting_until=None, not_before=None)
            self.update(e)
            out.append(e)
        return out

    # ------------------------------------------------------------------ reading
    def read(self, entry: Entry) -> bytes:
        base = self.failed_root if entry.state == "failed" else self.root
        return (base / "new" / entry.id).read_bytes()

    def _load(self, base: Path, state: State) -> list[Entry]:
        new, envs = self._dirs(base)
        if not new.is_dir():
            return []
        out: list[Entry] = []
        names = {p.name for p in new.iterdir() if not p.name.startswith(".")}
        for name in sorted(names):
            env = envs / f"{name}.json"
            try:
                entry = Entry.from_json(env.read_text(encoding="utf-8"))
                if entry.id != name:
                    raise ValueError(f"envelope names {entry.id!r}")
                out.append(replace(entry, state=state))
            except (OSError, ValueError, TypeError, KeyError) as exc:
                self._move_aside(new / name, env, str(exc))
        out.sort(key=lambda e: (e.created, e.id))
        # Envelopes whose message is gone: delivered (or never fully queued) before a crash.
        if envs.is_dir():
            for env in envs.glob("*.json"):
                if env.stem not in names:
                    with contextlib.suppress(FileNotFoundError):
                        env.unlink()
        return out

    def _move_aside(self, message: Path, envelope: Path, why: str) -> None:
        corrupt = self.root / ".corrupt"
        corrupt.mkdir(parents=True, exist_ok=True)
        for path in (message, envelope):
            if path.exists():
                os.replace(path, corrupt / path.name)
        self.warnings.append(
            f"outbox entry {message.name} could not be read ({why}); moved aside to {corrupt}"
        )

    def entries(self) -> list[Entry]:
        """Queued entries, oldest first; unreadable ones are moved aside (see ``warnings``)."""
        return self._load(self.root, "queued")

    def failed(self) -> list[Entry]:
        return self._load(self.failed_root, "failed")

    def peek(self) -> list[Entry]:
        """Queued and failed entries, oldest first, read only: nothing is moved aside or
        cleaned up, so it is safe beside a flush or an add in another thread or process (an
        entry being written, or unreadable, is simply left out)."""
        out: list[Entry] = []
        places: tuple[tuple[Path, State], ...] = (
            (self.root, "queued"),
            (self.failed_root, "failed"),
        )
        for base, state in places:
            new, envs = self._dirs(base)
            try:
                names = sorted(p.name for p in new.iterdir() if not p.name.startswith("."))
            except OSError:
                continue
            for name in names:
                try:
                    entry = Entry.from_json((envs / f"{name}.json").read_text(encoding="utf-8"))
                except (OSError, ValueError, TypeError, KeyError):
                    continue
                out.append(replace(entry, state=state))
        out.sort(key=lambda e: (e.created, e.id))
        return out

    # ------------------------------------------------------------------ locking
    @contextlib.contextmanager
    def lock(self, timeout: float = 30.0) -> Iterator[bool]:
        """Hold the account's flush lock; yields False when another process kept it too long."""
        self._ensure()
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        yield False
                        return
                    time.sleep(0.1)
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    # ------------------------------------------------------------------ server facts
    def server_size(self) -> int | None:
        """The SIZE the server announced on the last connection (the default message limit)."""
        try:
            value = (self.root / "server-size").read_text().strip()
        except OSError:
            return None
        return int(value) if value.isdigit() and int(value) > 0 else None

    def remember_server_size(self, size: int | None) -> None:
        if size and size != self.server_size():
            with contextlib.suppress(OSError):
                _write_atomic(self.root / "server-size", str(size).encode())

    def server_hold(self, now: float) -> tuple[float, str] | None:
        """(until, the server's words) while the server's rate limit holds the account's
        queue (see tmail.outbox.ratelimit); None when it does not (any more)."""
        try:
            until_text, _, words = (self.root / "server-hold").read_text().partition("\n")
            until = float(until_text)
        except (OSError, ValueError):
            return None
        return (until, words.strip()) if until > now else None

    def remember_server_hold(self, until: float, words: str) -> None:
        with contextlib.suppress(OSError):
            _write_atomic(self.root / "server-hold", f"{until:.3f}\n{words}\n".encode())

    # ------------------------------------------------------------------ rate log
    def sent_times(self, now: float) -> list[float]:
        """Times of deliveries in the last day (for the rate limits)."""
        path = self.root / "sent.log"
        try:
            lines = path.read_text().split()
        except FileNotFoundError:
            return []
        out: list[float] = []
        for line in lines:
            with contextlib.suppress(ValueError):
                t = float(line)
                if now - t < 86400:
                    out.append(t)
        return out

    def record_sent(self, at: float) -> None:
        path = self.root / "sent.log"
        with open(path, "a") as f:
            f.write(f"{at:.3f}\n")
        if path.stat().st_size > 1 << 20:  # keep the log small: only the last day matters
            kept = self.sent_times(at)
            _write_atomic(path, "".join(f"{t:.3f}\n" for t in kept).encode())
