"""uuencoded blocks inside plain text (``begin 644 name`` ... ``end``), as old mailers sent files.

The stdlib's ``uu`` module is deprecated (PEP 594) and strict; ``binascii.a2b_uu`` decodes one
line, so finding the blocks and tolerating errors is written here. The scan is linear: a text
with thousands of ``begin`` lines and no ``end`` costs one pass.
"""

from __future__ import annotations

import binascii
import re

_BEGIN = re.compile(r"^begin [0-7]{3,4} ([^\n]+?)[ \t\r]*$", re.M)
_END = re.compile(r"^end[ \t\r]*$", re.M)
MAX_BLOCKS = 100


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


def _decode_block(body: str) -> bytes | None:
    data = bytearray()
    for line in body.split("\n"):
        line = line.rstrip("\r")
        if not line or line == "`":
            continue
        if not line.isascii():
            return None  # not uuencode after all
        data += _uu_line(line)
    return bytes(data)


def extract_uuencoded(text: str) -> tuple[str, list[tuple[str, bytes]]]:
    """Remove uuencoded blocks from ``text``; return the text and (name, bytes) per block.

    Each block is replaced by a line ``[uuencoded attachment: NAME]``.
    """
    files: list[tuple[str, bytes]] = []
    if "begin " not in text:
        return text, files
    out: list[str] = []
    pos = 0
    search_from = 0
    while len(files) < MAX_BLOCKS:
        begin = _BEGIN.search(text, search_from)
        if begin is None:
            break
        end = _END.search(text, begin.end())
        if end is None:
            break  # no "end" anywhere after: no later "begin" can have one either
        data = _decode_block(text[begin.end() + 1 : end.start()])
        if data is None:
            search_from = begin.end()
            continue
        name = begin.group(1).strip()
        files.append((name, data))
        out.append(text[pos : begin.start()])
        out.append(f"[uuencoded attachment: {name}]\n")
        pos = end.end() + 1 if text[end.end() : end.end() + 1] == "\n" else end.end()
        search_from = pos
    if not files:
        return text, files
    out.append(text[pos:])
    return "".join(out), files
