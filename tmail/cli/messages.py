"""Finding the raw bytes of the message a command names: an .eml path, ``-`` for stdin, or an ID.

Shared by ``tmail show`` and ``tmail attachments``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from tmail.core.errors import MessageError, UsageError

MAX_MESSAGE_BYTES = 2 << 30  # what we agree to read into memory from a file or stdin


@dataclass(frozen=True)
class RawMessage:
    """A message's bytes, where they came from, and the account's charset hint if known."""

    raw: bytes
    source: str
    assumed_charsets: tuple[str, ...] = ()


def load_message(ref: str, assumed: tuple[str, ...] = ()) -> RawMessage:
    """Read the message ``ref`` names: ``-`` (stdin), a file path, or a message ID in the store."""
    if ref == "-":
        data = sys.stdin.buffer.read(MAX_MESSAGE_BYTES + 1)
        if len(data) > MAX_MESSAGE_BYTES:
            raise MessageError("the message on stdin is larger than 2 GiB", hint="save it first")
        return RawMessage(data, "stdin", assumed)
    path = Path(ref)
    if path.is_file():
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise MessageError(
                f"cannot read {ref}: {exc.strerror or exc}", hint="check the file's permissions"
            ) from exc
        return RawMessage(data, str(path), assumed)
    if path.exists():
        raise UsageError(f"{ref} is not a regular file", hint="give a .eml file or '-' for stdin")
    raise UsageError(
        f"no such file: {ref}",
        hint="give an .eml file, '-' for stdin, or the ID of a message in the local store",
    )
