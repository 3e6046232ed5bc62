"""Maildir on disk: safe folder names, unique file names, atomic delivery, flag renames.

The layout is the one every Maildir reader knows (https://cr.yp.to/proto/maildir.html)::

    <data>/mail/<account>/<folder>/{cur,new,tmp}/<unique>[:2,<flags>]

A message file is written once and never edited: it is created under ``tmp/``, fsynced, renamed
into ``new/`` (no flags yet) or ``cur/`` (with the ``:2,`` info suffix) and then the folder is
fsynced so the rename itself survives a power cut. Flag changes and moves are renames.

Nothing here touches the index; :class:`tmail.store.Store` joins the two.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import itertools
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple, cast

from tmail.core.errors import StoreError
from tmail.core.models import Flag, flags_from_maildir, flags_to_maildir

SUBDIRS = ("cur", "new", "tmp")
INFO_SEP = ":2,"

# Characters kept as they are in a folder's directory name. Everything else that could bother a
# file system, a shell or another Maildir reader (/, %, control characters, leading dot, ...)
# is written as %XX of its UTF-8 bytes, so the mapping is reversible. Non-ASCII letters stay
# readable: "Входящие" is a fine directory name on every modern file system.
_SAFE_ASCII = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,+=@ &()[]"
)
_counter = itertools.count()


@functools.lru_cache(maxsize=1024)  # every listed row's path needs it
def encode_name(name: str) -> str:
    """A file-system-safe, reversible directory name for a folder or account name.

    ``INBOX`` stays ``INBOX``; ``Work/Projects`` becomes ``Work%2FProjects``; a leading dot (hidden
    files, ``.``/``..``) and a trailing space are escaped; the empty name becomes ``%``.
    """
    if not name:
        return "%"
    out: list[str] = []
    for i, ch in enumerate(name):
        keep = ch in _SAFE_ASCII or (ord(ch) > 0x9F and ch.isprintable() and ch != "\u00a0")
        if i == 0 and ch == ".":
            keep = False
        if i == len(name) - 1 and ch in " .":
            keep = False
        if keep:
            out.append(ch)
        else:
            out.append("".join(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass")))
    return "".join(out)


def decode_name(encoded: str) -> str:
    """The folder or account name :func:`encode_name` made ``encoded`` from."""
    if encoded == "%":
        return ""
    raw = bytearray()
    i = 0
    while i < len(encoded):
        ch = encoded[i]
        if ch == "%" and _is_hex(encoded[i + 1 : i + 3]):
            raw.append(int(encoded[i + 1 : i + 3], 16))
            i += 3
        else:
            raw += ch.encode("utf-8", "surrogatepass")
            i += 1
    return raw.decode("utf-8", "surrogatepass")


def _is_hex(s: str) -> bool:
    return len(s) == 2 and all(c in "0123456789abcdefABCDEF" for c in s)


def _hostname() -> str:
    import socket  # here, not at the top: listing and searching never need it

    # The spec asks for "/" and ":" in the host name to be written as \057 and \072.
    return socket.gethostname().replace("/", "\\057").replace(":", "\\072") or "localhost"


def unique_name() -> str:
    """A name no other delivery can pick: ``<sec>.M<usec>P<pid>R<rand>Q<n>.<host>``."""
    now = time.time()
    sec = int(now)
    usec = int((now - sec) * 1_000_000)
    return f"{sec}.M{usec}P{os.getpid()}R{os.urandom(6).hex()}Q{next(_counter)}.{_hostname()}"


def split_name(filename: str) -> tuple[str, str]:
    """``(base, info)`` of a Maildir file name: the unique part and the letters after ``:2,``.

    ``info`` keeps every letter, including keyword letters other tools add (lower case); a name
    without an info part (a message in ``new/``) gives ``""``.
    """
    base, sep, info = filename.partition(INFO_SEP)
    if not sep:
        # mbsync/offlineimap on file systems without ':' use '!' or ';' as the separator.
        for alt in ("!2,", ";2,"):
            base, sep, info = filename.partition(alt)
            if sep:
                break
        else:
            return filename, ""
    return base, info


def file_flags(filename: str) -> frozenset[Flag]:
    """The flags a Maildir file name carries."""
    return flags_from_maildir(split_name(filename)[1])


def name_with_flags(filename: str, flags: frozenset[Flag]) -> str:
    """The file name in ``cur/`` for ``flags``, keeping the unique part and unknown info letters."""
    base, info = split_name(filename)
    known = {f.value for f in Flag}
    extra = "".join(c for c in info if c not in known)  # keywords of other tools survive
    letters = "".join(sorted(flags_to_maildir(flags) + extra))
    return f"{base}{INFO_SEP}{letters}"


def fsync_dir(path: Path) -> None:
    """Make a rename or an unlink inside ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_maildir(path: Path) -> None:
    """Create ``path`` with ``cur``, ``new`` and ``tmp`` (mode 0700) if they are missing."""
    for sub in SUBDIRS:
        (path / sub).mkdir(mode=0o700, parents=True, exist_ok=True)


def is_maildir(path: Path) -> bool:
    """True when ``path`` has the ``cur`` and ``new`` subdirectories of a Maildir."""
    return (path / "cur").is_dir() and (path / "new").is_dir()


def _disk_error(exc: OSError, path: Path) -> StoreError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StoreError(
            f"the disk is full: could not write {path}",
            hint="free some space; nothing was half-written and the next run continues",
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return StoreError(
            f"cannot write to {path}: {exc.strerror}",
            hint="check the permissions of the data directory",
        )
    return StoreError(f"could not write {path}: {exc.strerror or exc}")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def deliver(folder: Path, raw: bytes, flags: frozenset[Flag]) -> str:
    """Write ``raw`` into the Maildir ``folder`` the standard way; return ``"cur/<name>"`` etc.

    Unique name in ``tmp/``, write, fsync the file, rename into ``new/`` (no flags) or ``cur/``
    (with ``:2,FLAGS``), fsync the folder. On any error (a full disk: ENOSPC) the temporary file
    is removed and :class:`StoreError` says what happened: no partial file ever reaches ``cur/``
    or ``new/``.
    """
    ensure_maildir(folder)
    base = unique_name()
    tmp = folder / "tmp" / base
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise _disk_error(exc, tmp) from exc
    try:
        try:
            _write_all(fd, raw)
            os.fsync(fd)
        finally:
            os.close(fd)
        rel = f"cur/{name_with_flags(base, flags)}" if flags else f"new/{base}"
        os.rename(tmp, folder / rel)
        fsync_dir(folder / rel.split("/", 1)[0])
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise _disk_error(exc, tmp) from exc
    return rel


@functools.cache
def _load_syncfs() -> Callable[[int], int] | None:
    """libc's syncfs(2) (Linux), or None where there is none.

    Looked up on the first batch written, not at import: ctypes costs every command (``tmail
    list``, ``tmail search``) 2 ms of start-up, and only writing mail needs it.
    """
    import ctypes

    try:
        fn = ctypes.CDLL(None, use_errno=True).syncfs
    except (AttributeError, OSError):
        return None
    fn.argtypes = [ctypes.c_int]
    fn.restype = ctypes.c_int
    return cast(Callable[[int], int], fn)


def _sync_data(folder: Path, fds: list[int]) -> None:
    """Make the data of every file in ``fds`` durable: one syncfs(2) for the whole batch where
    the system has it (one flush instead of one fdatasync a message: several times faster
    here), else fdatasync each."""
    syncfs = _load_syncfs() if len(fds) > 1 else None
    if syncfs is not None:
        dfd = os.open(folder, os.O_RDONLY)
        try:
            if syncfs(dfd) != 0:
                import ctypes

                err = ctypes.get_errno()
                raise OSError(err, os.strerror(err))
        finally:
            os.close(dfd)
        return
    for fd in fds:
        os.fdatasync(fd)


def deliver_many(folder: Path, items: list[tuple[bytes, frozenset[Flag]]]) -> list[str]:
    """:func:`deliver` for several messages: every file is written in ``tmp/``, their data made
    durable together (see :func:`_sync_data`), then each is renamed into ``new/`` or ``cur/``
    and the directories are fsynced once. On error every file of the batch is removed again,
    so nothing half-written is ever visible."""
    ensure_maildir(folder)
    tmps: list[Path] = []
    fds: list[int] = []
    done: list[str] = []
    try:
        try:
            for raw, _flags in items:
                tmp = folder / "tmp" / unique_name()
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                tmps.append(tmp)
                fds.append(fd)
                _write_all(fd, raw)
            _sync_data(folder / "tmp", fds)
        finally:
            for fd in fds:
                os.close(fd)
        for tmp, (_raw, flags) in zip(tmps, items, strict=True):
            base = tmp.name
            rel = f"cur/{name_with_flags(base, flags)}" if flags else f"new/{base}"
            os.rename(tmp, folder / rel)
            done.append(rel)
        for sub in {rel.split("/", 1)[0] for rel in done}:
            fsync_dir(folder / sub)
    except OSError as exc:
        for path in [*(folder / rel for rel in done), *tmps]:
            with contextlib.suppress(OSError):
                os.unlink(path)
        raise _disk_error(exc, folder / "tmp") from exc
    return done


class FoundFile(NamedTuple):
    """One message file seen by :func:`scan`: where it is and what its name says."""

    rel: str  # "cur/<name>" or "new/<name>", relative to the folder
    base: str
    flags: frozenset[Flag]


def scan(folder: Path) -> Iterator[FoundFile]:
    """Every message file in ``cur/`` and ``new/`` (dot files and directories skipped)."""
    for sub in ("new", "cur"):
        try:
            entries = os.scandir(folder / sub)
        except FileNotFoundError:
            continue
        with entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                try:
                    if not entry.is_file():
                        continue
                except OSError:
                    continue
                base, info = split_name(entry.name)
                flags = flags_from_maildir(info)  # neomutt flags messages left in new/ too
                yield FoundFile(f"{sub}/{entry.name}", base, flags)


def clean_tmp(folder: Path, max_age: float = 36 * 3600) -> int:
    """Delete files left in ``tmp/`` for more than 36 hours (what the Maildir spec asks):
    deliveries that a crash interrupted. Returns how many were removed."""
    removed = 0
    cutoff = time.time() - max_age
    try:
        entries = list(os.scandir(folder / "tmp"))
    except FileNotFoundError:
        return 0
    for entry in entries:
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue
    return removed


def locate(folder: Path, base: str) -> str | None:
    """Find the current name of the message ``base`` in ``folder`` after another tool renamed it."""
    for sub in ("cur", "new"):
        try:
            names = os.listdir(folder / sub)
        except FileNotFoundError:
            continue
        for name in names:
            if name == base or split_name(name)[0] == base:
                return f"{sub}/{name}"
    return None


def dir_stamp(folder: Path) -> str:
    """A cheap fingerprint of a folder's ``cur/`` and ``new/`` (their mtimes in ns).

    Any delivery, rename or unlink inside them changes it, so comparing stamps tells whether a
    folder must be rescanned without listing it.
    """
    parts = []
    for sub in ("cur", "new"):
        try:
            parts.append(str(os.stat(folder / sub).st_mtime_ns))
        except FileNotFoundError:
            parts.append("-")
    return ",".join(parts)
