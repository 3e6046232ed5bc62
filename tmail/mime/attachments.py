"""Saving attachments safely: a name a sender cannot abuse, no overwrite, never half a file.

The name in a message is the sender's choice: ``../../.bashrc``, ``/etc/passwd``, ``CON``, a name
with ESC sequences or a right-to-left override that makes ``exe.txt`` look like ``txt.exe``, or
4,000 characters long. :func:`safe_filename` reduces it to a plain base name; :func:`save_bytes`
writes through a temp file in the target directory (fsync, then a hard link that fails instead of
replacing an existing file), adding `` (1)``, `` (2)``... to the name until it is free.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path

MAX_NAME_BYTES = 200  # well below NAME_MAX (255) so a numbered suffix still fits
_WINDOWS_DEVICES = frozenset(
    {"con", "prn", "aux", "nul", "clock$", "conin$", "conout$"}
    | {f"com{i}" for i in range(10)}
    | {f"lpt{i}" for i in range(10)}
)
# Controls (C0, DEL, C1), bidi embeddings/overrides/isolates/marks, and characters Windows and
# shells treat specially.
_UNSAFE = re.compile('[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c<>:"|?*]')


def safe_filename(name: str, fallback: str = "attachment") -> str:
    """A base name safe to create in a directory the user chose.

    No directory parts (``/`` and ``\\``), no ``.``/``..``, no leading dot (hidden files such as
    ``.bashrc``), no control or bidi characters, no Windows device names, at most
    :data:`MAX_NAME_BYTES` bytes of UTF-8 with the extension kept.
    """
    name = unicodedata.normalize("NFC", name)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name)
    name = " ".join(name.split())  # tabs, newlines, runs of spaces
    name = name.strip(" .")
    if not name:
        name = fallback
    if name.lower().split(".")[0].rstrip() in _WINDOWS_DEVICES:
        name = "_" + name
    return _cap(name)


def _cap(name: str) -> str:
    if len(name.encode("utf-8")) <= MAX_NAME_BYTES:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext.encode("utf-8")) > 16:
        stem, dot, ext = name, "", ""
    budget = MAX_NAME_BYTES - len((dot + ext).encode("utf-8"))
    cut = stem.encode("utf-8")[:budget].decode("utf-8", errors="ignore").rstrip(" .")
    return cut + dot + ext


def numbered(name: str, n: int) -> str:
    """``report.pdf`` -> ``report (2).pdf``; ``archive.tar.gz`` -> ``archive (2).tar.gz``."""
    if n == 0:
        return name
    match = re.match(r"^(.+?)((?:\.[A-Za-z0-9]{1,8}){0,2})$", name)
    stem, ext = (match.group(1), match.group(2)) if match else (name, "")
    return f"{stem} ({n}){ext}"


def _umask() -> int:
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def save_bytes(data: bytes, directory: Path, name: str) -> Path:
    """Write ``data`` into ``directory`` under a safe, free version of ``name``; return the path.

    Never replaces an existing file (a numbered suffix is added instead) and never leaves a partial
    file under the final name: the data goes to a temp file first, is fsynced, then hard-linked to
    the final name, which the kernel refuses if the name was taken meanwhile.
    """
    directory.mkdir(parents=True, exist_ok=True)
    base = safe_filename(name)
    fd, tmp = tempfile.mkstemp(prefix=".tmail-save-", suffix=".part", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o666 & ~_umask())
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        for n in range(10_000):
            target = directory / numbered(base, n)
            try:
                os.link(tmp, target)
            except FileExistsError:
                continue
            except OSError:
                # No hard links here (some FUSE and network file systems): check, then rename.
                if target.exists() or target.is_symlink():
                    continue
                os.replace(tmp, target)
            break
        else:
            raise FileExistsError(f"no free name for {base} in {directory}")
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    _fsync_dir(directory)
    return target


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
