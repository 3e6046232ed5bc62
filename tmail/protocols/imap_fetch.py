"""The fast FETCH parsers and the batching of a UID FETCH.

:func:`_fast_simple_fetch` (UID, FLAGS, RFC822.SIZE, MODSEQ lines) and :func:`_fast_fetch` (our
own body FETCH) are regexes in front of imapclient's general ``parse_fetch_response``: each reads
exactly what imapclient reads, or declines (None) and leaves the answer to it
(tests/unit/test_imap_fetch_parser.py compares the two on the same bytes). :func:`_fetch_problem`
says when a body answer cannot be stored without guessing; :func:`_batches` and :func:`_uidset`
cut a UID list into the sets that go out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from tmail.protocols.imap_types import FetchedMessage, flags_from_imap

_FAST_HEAD = re.compile(
    rb"\d+ \(UID (\d+) FLAGS \(([^()]*)\) RFC822\.SIZE (\d+) "
    rb'INTERNALDATE "([^"]*)" BODY\[(HEADER)?\] \{(\d+)\}$'
)


_SIMPLE_ITEM = re.compile(rb"(UID|RFC822\.SIZE) (\d+)|(FLAGS|MODSEQ) \(([^()]*)\)")
_SIMPLE_LINE = re.compile(rb"\d+ \((.*)\)$")


def _fast_simple_fetch(data: list[Any]) -> dict[int, dict[bytes, Any]] | None:
    """UID/FLAGS/RFC822.SIZE/MODSEQ answers (no literals) parsed with regexes; None when any
    line has another shape, for imapclient's general parser to handle."""
    out: dict[int, dict[bytes, Any]] = {}
    for item in data:
        if not isinstance(item, bytes):
            return None
        m = _SIMPLE_LINE.match(item)
        if m is None:
            return None
        d: dict[bytes, Any] = {}
        pos = 0
        body = m.group(1)
        for im in _SIMPLE_ITEM.finditer(body):
            if body[pos : im.start()].strip():
                return None
            pos = im.end()
            if im.group(1):
                d[im.group(1)] = int(im.group(2))
            elif im.group(3) == b"FLAGS":
                d[b"FLAGS"] = tuple(im.group(4).split())
            else:
                d[b"MODSEQ"] = tuple(int(x) for x in im.group(4).split())
        if body[pos:].strip() or b"UID" not in d:
            return None
        # a second answer about one message (an unasked FETCH) adds to the first, as in
        # imapclient's parser; replacing it lost the RFC822.SIZE asked for
        out.setdefault(int(d.pop(b"UID")), {}).update(d)
    return out


def _fetch_problem(msg: FetchedMessage, digest: bytes, earlier: bytes | None) -> str | None:
    """Why a body FETCH answer cannot be stored without guessing, or None.

    ``earlier`` is the digest of the body already given for this UID in the same fetch. Two
    different bodies for one UID, or a literal whose length is not the RFC822.SIZE of the same
    response (a cut or padded message), leave no way to know which bytes are the message.
    """
    if earlier is not None:
        if earlier != digest:
            return f"UID {msg.uid} came twice with different contents (the first was kept)"
        return None
    if not msg.partial and msg.size != len(msg.raw):
        return (
            f"UID {msg.uid} is {len(msg.raw)} bytes where its RFC822.SIZE says {msg.size} "
            "(not stored)"
        )
    return None


def _fast_fetch(parts: list[Any]) -> FetchedMessage | None:
    """The common shape of our own body FETCH answer, parsed with one regex (imapclient's
    general parser costs about a millisecond a message); anything else returns None and
    takes the general path."""
    if len(parts) != 2 or not isinstance(parts[0], tuple) or parts[1] != b")":
        return None
    head, body = parts[0]
    m = _FAST_HEAD.match(head)
    if m is None or int(m.group(6)) != len(body):
        return None
    try:
        when: datetime | None = datetime.strptime(m.group(4).decode(), "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        when = None
    return FetchedMessage(
        uid=int(m.group(1)),
        flags=flags_from_imap(m.group(2).split()),
        size=int(m.group(3)),
        raw=bytes(body),
        internaldate=when,
        partial=m.group(5) is not None,
    )


def _batches(
    uids: Sequence[int], max_count: int, max_bytes: int, sizes: dict[int, int]
) -> Iterator[list[int]]:
    """Runs of at most ``max_count`` UIDs (and ``max_bytes`` when sizes are known)."""
    batch: list[int] = []
    total = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if batch and (len(batch) >= max_count or (max_bytes and total + size > max_bytes)):
            yield batch
            batch, total = [], 0
        batch.append(uid)
        total += size
    if batch:
        yield batch


def _uidset(uids: list[int]) -> str:
    """``[1, 2, 3, 7]`` -> ``1:3,7``."""
    out: list[str] = []
    start = prev = uids[0]
    for uid in uids[1:]:
        if uid == prev + 1:
            prev = uid
            continue
        out.append(f"{start}:{prev}" if prev != start else str(start))
        start = prev = uid
    out.append(f"{start}:{prev}" if prev != start else str(start))
    return ",".join(out)
