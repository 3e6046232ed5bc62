"""What really stopped the index: the operating system's reason, not SQLite's summary of it.

When a write fails, SQLite reports ``disk I/O error``, ``database or disk is full``, ``attempt to
write a readonly database`` or ``unable to open database file`` and keeps the errno to itself
(Python's sqlite3 does not expose ``sqlite3_system_errno``). A user needs the cause: a file size
limit (``ulimit -f``: ``File too large``), a full disk (``No space left on device``), a read-only
file system or missing permissions. :func:`write_cause` finds it by trying what SQLite tried (a
small write beside the index) and by comparing the index files with ``RLIMIT_FSIZE``;
:func:`index_error` turns the SQLite error into the one-line :class:`StoreError`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import sqlite3
from pathlib import Path

from tmail.core.errors import StoreError

PROBE_BYTES = 256 * 1024  # written beside the index: a disk with less room than this is full
_CHUNK = 64 * 1024
# SQLite result codes (primary, by name) that mean the file system refused a write.
_WRITE_FAILURES = ("SQLITE_IOERR", "SQLITE_FULL", "SQLITE_READONLY", "SQLITE_CANTOPEN")
_HINTS = {
    errno.EFBIG: "a file size limit stops the index from growing: raise it ('ulimit -f')",
    errno.ENOSPC: "free some space; nothing was half-written",
    errno.EDQUOT: "the disk quota is used up: free some space; nothing was half-written",
    errno.EROFS: "the file system is read-only: use a writable data directory "
    "(general.data_dir or TMAIL_DATA_DIR)",
    errno.EACCES: "check the permissions of the data directory",
    errno.EPERM: "check the permissions of the data directory",
}


def write_cause(index: Path) -> int | None:
    """The errno that stops files from growing beside ``index``, or None if none is found."""
    # Imported here: only a failed write gets this far, and tempfile (shutil, random, bz2,
    # lzma) costs every start-up about 3 ms.
    import tempfile

    directory = index.parent
    try:
        fd, probe = tempfile.mkstemp(prefix=".tmail-probe-", dir=directory)
    except OSError as exc:
        return exc.errno
    try:
        chunk = b"\0" * _CHUNK
        for _ in range(PROBE_BYTES // _CHUNK):
            os.write(fd, chunk)
        os.fsync(fd)
    except OSError as exc:
        return exc.errno
    finally:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(probe)
    limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    if limit != resource.RLIM_INFINITY:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(OSError):
                if os.stat(f"{index}{suffix}").st_size + PROBE_BYTES >= limit:
                    return errno.EFBIG
    return None


def is_write_failure(exc: sqlite3.Error) -> bool:
    """True for SQLite errors that mean the file system refused to write or create a file."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name:
        return name.startswith(_WRITE_FAILURES)
    text = str(exc).lower()
    return any(s in text for s in ("disk i/o", "is full", "readonly", "unable to open"))


def index_error(exc: sqlite3.Error, index: Path) -> StoreError | None:
    """The one-line error for a write to ``index`` that failed, naming the real cause; None when
    ``exc`` is not a refused write (the caller reports it as it is)."""
    if not is_write_failure(exc):
        return None
    code = write_cause(index)
    if code is None and getattr(exc, "sqlite_errorname", "") == "SQLITE_FULL":
        code = errno.ENOSPC
    if code is None:
        return StoreError(
            f"cannot write the index {index}: {exc}",
            hint="check the disk and the permissions of the data directory",
        )
    cause = os.strerror(code)
    if code in (errno.ENOSPC, errno.EDQUOT):
        cause += " (the disk is full)"
    return StoreError(f"cannot write the index {index}: {cause}", hint=_HINTS.get(code))


__all__ = ["index_error", "is_write_failure", "write_cause"]
