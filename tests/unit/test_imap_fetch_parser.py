"""The fast FETCH parsers (protocols/imap_fetch.py) against imapclient's own, on the same bytes.

``_fast_simple_fetch`` (UID, FLAGS, RFC822.SIZE, MODSEQ lines) and ``_fast_fetch`` (our own
body FETCH) are regexes in front of ``imapclient.response_parser.parse_fetch_response``: each
must read exactly what imapclient reads, or decline (None) and leave the answer to it. The input
is what imaplib hands over: one bytes item per response line (``* `` and ``FETCH`` already
gone), a ``(line, literal)`` tuple where a literal follows. The streamed body fetch is fed the
server's bytes through a small stand-in for imaplib's reading side.
"""

from __future__ import annotations

import io
import itertools
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from imapclient.response_parser import parse_fetch_response

from tmail.core.errors import ConnectFailed
from tmail.core.models import Flag
from tmail.protocols.imap import FetchedMessage, ImapSession, flags_from_imap
from tmail.protocols.imap_fetch import _fast_fetch, _fast_simple_fetch


def imapclient_reads(data: list[Any]) -> dict[int, dict[bytes, Any]]:
    """imapclient's reading, keyed by UID, without the sequence number it adds; a keyword of
    digits only (an atom like any other, RFC 3501 9) comes back from it as an int."""
    out = {}
    for uid, d in parse_fetch_response(data, True, True).items():
        out[uid] = {k: v for k, v in d.items() if k != b"SEQ"}
        if b"FLAGS" in d:
            out[uid][b"FLAGS"] = tuple(
                str(f).encode() if isinstance(f, int) else f for f in d[b"FLAGS"]
            )
    return out


# ------------------------------------------------------------------ UID/FLAGS/SIZE/MODSEQ lines

SIMPLE = {
    "normal": [b"1 (UID 5 FLAGS (\\Seen) RFC822.SIZE 100)"],
    "no flags": [b"1 (UID 5 FLAGS ())"],
    "keywords": [b"3 (UID 9 FLAGS (\\Seen $Forwarded $label1 NonJunk \\Answered Work.x+y))"],
    "modseq": [b"1 (UID 5 MODSEQ (18446744073709551615) FLAGS (\\Flagged))"],
    "items in another order": [b"1 (FLAGS (\\Seen) RFC822.SIZE 7 UID 5)"],
    "odd spacing": [b"1 (UID 5  FLAGS ( \\Seen  \\Draft ) )", b"2 ( UID 6 )"],
    "several messages": [
        b"1 (UID 5 FLAGS (\\Seen) MODSEQ (10))",
        b"2 (UID 8 FLAGS () MODSEQ (11))",
        b"3 (UID 4294967295 FLAGS (\\Deleted $Junk) MODSEQ (12))",
    ],
}


@pytest.mark.parametrize("data", SIMPLE.values(), ids=SIMPLE.keys())
def test_simple_lines_read_as_imapclient_reads_them(data: list[bytes]) -> None:
    fast = _fast_simple_fetch(data)
    assert fast is not None  # these shapes are the fast path's to read
    assert fast == imapclient_reads(data)


DECLINED = {
    "lower-case items": [b"1 (uid 5 flags (\\Seen))"],
    "an INTERNALDATE": [b'1 (UID 5 INTERNALDATE "01-Jan-2020 10:00:00 +0000")'],
    "a literal": [(b"1 (UID 5 BODY[] {3}", b"abc"), b")"],
    "no UID (unsolicited)": [b"7 (FLAGS (\\Deleted))", b"2 (UID 6 FLAGS ())"],
    "trailing text": [b"1 (UID 5 FLAGS (\\Seen)) extra"],
}


@pytest.mark.parametrize("data", DECLINED.values(), ids=DECLINED.keys())
def test_other_simple_shapes_are_left_to_imapclient(data: list[Any]) -> None:
    assert _fast_simple_fetch(data) is None


# RFC 3501 atom characters; "[" and "]" left out, which imapclient's lexer reads as a section
FLAG_WORDS = st.text(
    alphabet=st.sampled_from("abcXYZ019$._-+&!#'/:;<=>?@^`|~"), min_size=1, max_size=12
)
SYSTEM_FLAGS = st.sampled_from(["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"])
GAP = st.sampled_from([" ", "  ", "   "])


@st.composite
def simple_line(draw: st.DrawFn, seq: int) -> bytes:
    uid = draw(st.integers(1, 3) | st.integers(1, 2**32 - 1))  # sometimes one UID twice
    flags = draw(st.lists(SYSTEM_FLAGS | FLAG_WORDS, max_size=6))
    items = [f"UID {uid}"]
    items.append(f"FLAGS ({draw(GAP).join(flags)})")
    if draw(st.booleans()):
        items.append(f"RFC822.SIZE {draw(st.integers(0, 2**40))}")
    if draw(st.booleans()):
        items.append(f"MODSEQ ({draw(st.integers(1, 2**63 - 1))})")
    items = draw(st.permutations(items))
    return f"{seq} ({draw(GAP).join(items)})".encode()


@given(st.integers(1, 4).flatmap(lambda n: st.tuples(*(simple_line(i + 1) for i in range(n)))))
def test_any_simple_answer_reads_as_imapclient_reads_it(lines: tuple[bytes, ...]) -> None:
    data = list(lines)
    fast = _fast_simple_fetch(data)
    assert fast is not None
    assert fast == imapclient_reads(data)


# ------------------------------------------------------------------ our own body FETCH


def body_head(uid: int, flags: str, size: int, date: str, section: str, literal: int) -> bytes:
    return (
        f'1 (UID {uid} FLAGS ({flags}) RFC822.SIZE {size} INTERNALDATE "{date}" '
        f"BODY[{section}] {{{literal}}}"
    ).encode()


def as_imapclient_says(parts: list[Any]) -> FetchedMessage:
    """What imapclient reads from ``parts``, in FetchedMessage's words."""
    ((uid, d),) = imapclient_reads(parts).items()
    partial = b"BODY[]" not in d
    body = d[b"BODY[HEADER]" if partial else b"BODY[]"]
    when: datetime = d[b"INTERNALDATE"]  # naive local time: compare instants
    return FetchedMessage(
        uid=uid,
        flags=flags_from_imap(d[b"FLAGS"]),
        size=d[b"RFC822.SIZE"],
        raw=body,
        internaldate=datetime.fromtimestamp(when.timestamp(), UTC),
        partial=partial,
    )


def same_instant(msg: FetchedMessage) -> FetchedMessage:
    assert msg.internaldate is not None and msg.internaldate.utcoffset() is not None
    return FetchedMessage(
        uid=msg.uid,
        flags=msg.flags,
        size=msg.size,
        raw=msg.raw,
        internaldate=msg.internaldate.astimezone(UTC),
        partial=msg.partial,
    )


BODY = b"From: a@example.test\r\nSubject: {5}\r\n\r\n) * 2 FETCH (UID 3)\r\n\x00\xff\r\n"
N = len(BODY)
JAN = "01-Jan-2020 10:00:00 +0000"
BODIES = {
    "normal": [(body_head(5, "\\Seen", N, JAN, "", N), BODY), b")"],
    "header only": [(body_head(5, "", 9000, JAN, "HEADER", N), BODY), b")"],
    "keywords": [(body_head(7, "\\Seen $Forwarded 1 NonJunk", N, JAN, "", N), BODY), b")"],
    "far zone": [(body_head(7, "", N, "31-Dec-1999 23:59:59 -1200", "", N), BODY), b")"],
    "space-padded day": [(body_head(7, "", 3, " 1-Feb-2021 00:00:01 +0530", "", 3), b"abc"), b")"],
    "empty literal": [(body_head(8, "\\Draft", 0, "29-Feb-2024 00:00:00 +1400", "", 0), b""), b")"],
}


@pytest.mark.parametrize("parts", BODIES.values(), ids=BODIES.keys())
def test_our_body_fetch_reads_as_imapclient_reads_it(parts: list[Any]) -> None:
    fast = _fast_fetch(parts)
    assert fast is not None
    assert same_instant(fast) == as_imapclient_says(parts)


FLAGS_AFTER = [(b"1 (UID 5 BODY[] {3}", b"abc"), b" FLAGS (\\Seen))"]
DATE = b'INTERNALDATE "01-Jan-2020 10:00:00 +0000"'
BODIES_DECLINED = {
    "BODY[] NIL": [b"1 (UID 5 FLAGS () RFC822.SIZE 3 " + DATE + b" BODY[] NIL)"],
    "items in another order": FLAGS_AFTER,
    "a MODSEQ too": [(b"1 (UID 5 MODSEQ (9) FLAGS () RFC822.SIZE 3 " + DATE + b" BODY[] {3}",
                      b"abc"), b")"],
    "huge literal announced": [(body_head(5, "", 3, JAN, "", 99999999999), b"abc"), b")"],
    "lower case": [(body_head(5, "", 3, JAN, "", 3).lower(), b"abc"), b")"],
}  # fmt: skip


@pytest.mark.parametrize("parts", BODIES_DECLINED.values(), ids=BODIES_DECLINED.keys())
def test_other_body_shapes_are_left_to_imapclient(parts: list[Any]) -> None:
    assert _fast_fetch(parts) is None


ZONES = st.integers(-12 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
WHEN = st.datetimes(datetime(1970, 1, 2), datetime(2100, 1, 1), timezones=ZONES)


@given(
    uid=st.integers(1, 2**32 - 1),
    flags=st.lists(SYSTEM_FLAGS | FLAG_WORDS, max_size=5),
    size=st.integers(0, 2**40),
    when=WHEN,
    header=st.booleans(),
    body=st.binary(max_size=300),
)
def test_any_body_fetch_of_ours_reads_as_imapclient_reads_it(
    uid: int, flags: list[str], size: int, when: datetime, header: bool, body: bytes
) -> None:
    date = when.replace(microsecond=0).strftime("%d-%b-%Y %H:%M:%S %z")
    head = body_head(uid, " ".join(flags), size, date, "HEADER" if header else "", len(body))
    parts: list[Any] = [(head, body), b")"]
    fast = _fast_fetch(parts)
    assert fast is not None
    assert same_instant(fast) == as_imapclient_says(parts)


# ------------------------------------------------------------------ the streamed fetch


class ImaplibOverBytes:
    """imaplib's side of one connection, over the bytes a server sent: lines come without
    their CRLF, literals are read by size; what tmail sends is kept."""

    def __init__(self, received: bytes = b"", answer: list[Any] | None = None) -> None:
        self.received = io.BytesIO(received)
        self.answer = answer or []  # imaplib's data of a UID FETCH (``uid()``)
        self.sent: list[bytes] = []
        self.tagged_commands: dict[bytes, object] = {}
        self._tags = itertools.count(1)

    def _get_line(self) -> bytes:
        line = self.received.readline()
        assert line.endswith(b"\r\n"), f"tmail read past what the server sent: {line!r}"
        return line[:-2]

    def read(self, size: int) -> bytes:
        return self.received.read(size)

    def _new_tag(self) -> bytes:
        return b"A%d" % next(self._tags)

    def send(self, data: bytes) -> None:
        self.sent.append(data)

    def uid(self, command: str, *args: str) -> tuple[str, list[Any]]:
        self.sent.append(" ".join(("UID", command, *args)).encode())
        return "OK", self.answer


class LoggedIn:
    """The imapclient side ImapSession needs at start: its imaplib object and CAPABILITY."""

    def __init__(self, imap: ImaplibOverBytes) -> None:
        self._imap = imap

    def capabilities(self) -> tuple[bytes, ...]:
        return (b"IMAP4REV1",)


def session_reading(
    received: bytes = b"", max_literal: int = 1024 * 1024, answer: list[Any] | None = None
) -> ImapSession:
    imap = ImaplibOverBytes(received, answer)
    return ImapSession(LoggedIn(imap), account="acct", server="imap:993", max_literal=max_literal)


def fetched(uid: int, body: bytes) -> bytes:
    """A whole FETCH response of ours as the server sends it."""
    head = body_head(uid, "\\Seen", len(body), "01-Jan-2020 10:00:00 +0000", "", len(body))
    return b"* " + head[:2] + b"FETCH " + head[2:] + b"\r\n" + body + b")\r\n"


def test_several_messages_with_unsolicited_responses_between_them() -> None:
    received = (
        b"* 3 EXISTS\r\n"
        + fetched(5, b"first\r\n")
        + b"* 1 FETCH (FLAGS (\\Seen \\Flagged))\r\n"  # someone else flagged it: no body
        + b"* OK [HIGHESTMODSEQ 99] still here\r\n"
        + b"* 2 FETCH (BODY[] {6}\r\nsecond UID 6 FLAGS () RFC822.SIZE 6)\r\n"
        + b"* 1 EXPUNGE\r\n"
        + b"A1 OK UID FETCH done\r\n"
    )
    session = session_reading(received)
    got = list(session.fetch_messages([5, 6]))
    assert [(m.uid, m.raw, m.size) for m in got] == [(5, b"first\r\n", 7), (6, b"second", 6)]
    assert got[0].flags == flags_from_imap([b"\\Seen"]) and got[1].flags == frozenset()
    assert got[0].internaldate == datetime(2020, 1, 1, 10, tzinfo=UTC)
    assert session._imap.sent == [
        b"A1 UID FETCH 5:6 (UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[])\r\n"
    ]


UNASKED = st.sampled_from(
    [
        b"* 4 EXISTS\r\n",
        b"* 2 EXPUNGE\r\n",
        b"* 1 FETCH (FLAGS (\\Seen))\r\n",
        b"* 1 FETCH (UID 5 MODSEQ (77) FLAGS ())\r\n",
        b"* OK [HIGHESTMODSEQ 77] noted\r\n",
        b'* LIST (\\HasNoChildren) "/" "Odd {3}"\r\n',
        b'* LIST () "/" {5}\r\nA1 OK\r\n',  # a folder name sent as a literal
    ]
)
# bodies that look like the protocol around them: read as literals, they are only bytes
BODY_BYTES = st.lists(
    st.sampled_from([b"A1 OK done\r\n", b")\r\n", b"* 9 FETCH (UID 9 BODY[] {2}\r\n", b"\r\n"])
    | st.binary(max_size=40),
    max_size=6,
).map(b"".join)


@given(st.lists(st.tuples(BODY_BYTES, st.lists(UNASKED, max_size=2)), min_size=1, max_size=5))
def test_any_stream_of_our_answers_yields_each_message_once_in_order(
    answers: list[tuple[bytes, list[bytes]]],
) -> None:
    received = b"".join(
        b"".join(unasked) + fetched(100 + i, body) for i, (body, unasked) in enumerate(answers)
    )
    session = session_reading(received + b"A1 OK UID FETCH done\r\n")
    got = list(session.fetch_messages([100 + i for i in range(len(answers))]))
    assert [(m.uid, m.raw) for m in got] == [(100 + i, b) for i, (b, _) in enumerate(answers)]
    assert session._imap.received.read() == b""  # read up to the tagged OK, and no further


def test_a_huge_literal_announced_is_refused_before_it_is_read() -> None:
    received = b"* 1 FETCH (UID 5 BODY[] {999999999999}\r\nabc)\r\nA1 OK done\r\n"
    session = session_reading(received, max_literal=1000)
    with pytest.raises(ConnectFailed, match="999999999999-byte literal"):
        list(session.fetch_messages([5]))
    assert session.broken


def test_an_unsolicited_fetch_without_a_uid_is_not_taken_for_an_answer() -> None:
    # RFC 3501 7.4.2: a FETCH may come unasked (another client changed flags); without a UID it
    # names a sequence number (7 here), not one of the UIDs asked for
    answer = [b"7 (FLAGS (\\Deleted))", b"1 (UID 300 FLAGS (\\Seen) RFC822.SIZE 12)"]
    assert _fast_simple_fetch(answer) is None  # imapclient's parser reads this one
    session = session_reading(answer=answer)
    assert session.flags([300]) == {300: frozenset({Flag.SEEN})}
    assert session.sizes([300]) == {300: 12}


def test_two_answers_about_one_message_add_up_as_imapclient_adds_them() -> None:
    # an unasked FETCH about a message may follow the answer about it (a CONDSTORE server
    # sends the UID and MODSEQ with it): the size asked for must not be lost
    answer = [b"1 (UID 5 RFC822.SIZE 10 FLAGS ())", b"1 (UID 5 FLAGS (\\Seen) MODSEQ (12))"]
    assert _fast_simple_fetch(answer) == imapclient_reads(answer)
    session = session_reading(answer=answer)
    assert session.sizes([5]) == {5: 10}
    assert session.flags([5]) == {5: frozenset({Flag.SEEN})}


def test_a_keyword_of_digits_only_is_dropped_like_any_other_keyword() -> None:
    # "1" is an atom like "$label1" (RFC 3501 9); imapclient's parser reads it as a number.
    # Both answers are in shapes the fast parsers leave to imapclient.
    received = b"* 1 FETCH (UID 5 BODY[] {3}\r\nabc FLAGS (\\Seen 1))\r\nA1 OK done\r\n"
    (msg,) = session_reading(received).fetch_messages([5])
    assert (msg.uid, msg.raw, msg.flags) == (5, b"abc", frozenset({Flag.SEEN}))
    session = session_reading(answer=[b"1 (UID 5 FLAGS (\\Flagged 42) INTERNALDATE NIL)"])
    assert session.flags([5]) == {5: frozenset({Flag.FLAGGED})}
