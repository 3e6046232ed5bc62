"""uuencoded blocks inside plain text (``begin 644 name`` ... ``end``), as old mailers sent files.

The stdlib's ``uu`` module is deprecated (PEP 594) and strict; ``binascii.a2b_uu`` decodes one
line, so the block finding and error tolerance are written here.
"""

from __future__ import annotations

import binascii
import re

_BLOCK = re.compile(
    r"^begin(?:-base64)? [0-7]{3,4} ([^\n]+?)[ \t\r]*\n(.*?)^end[ \t\r]*$\n?", re.M | re.S
)


def _uu_line(line: str) -> bytes:
    try:
        return binascii.a2b_uu(line)
    except (binascii.Error, ValueError):
        # A line cut short or with trailing garbage: decode what its length byte promises.
        if not line:
            return b""
        nbytes = (((ord(line[0]) - 32) & 63) * 4 + 5) // 3
        try:
            return binascii.a2b_uu(line[:nbytes])
        except (binascii.Error, ValueError):
            return b""


def extract_uuencoded(text: str) -> tuple[str, list[tuple[str, bytes]]]:
    """Remove uuencoded blocks from ``text``; return the text and (name, bytes) per block."""
    files: list[tuple[str, bytes]] = []

    def take(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        data = bytearray()
        for line in match.group(2).split("\n"):
            line = line.rstrip("\r")
            if not line or line == "`":
                continue
            if not line.isascii():
                return match.group(0)  # not uuencode after all
            data += _uu_line(line)
        files.append((name, bytes(data)))
        return f"[uuencoded attachment: {name}]\n"

    if "begin " not in text:
        return text, files
    return _BLOCK.sub(take, text), files
