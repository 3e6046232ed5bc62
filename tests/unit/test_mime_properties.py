"""Property tests: the parser never raises and rendering never lets a control character out."""

from __future__ import annotations

import itertools
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tmail.mime import parse_message, render_text, summarize

# What may reach the terminal from render_text: TAB and LF only; no C0/C1 controls, no DEL.
_FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")

_PIECES = [
    b"Subject: ",
    b"From: ",
    b"To: ",
    b"Content-Type: multipart/mixed; boundary=b\r\n",
    b"Content-Type: text/html; charset=koi8-r\r\n",
    b"Content-Type: message/rfc822\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b"Content-Transfer-Encoding: quoted-printable\r\n",
    b"Content-Disposition: attachment; filename*0*=utf-8''%1B%5B2J; filename*1=x\r\n",
    b"=?utf-8?B?G1sySg==?=",
    b"=?koi8r?Q?=E1=1B=9B?=",
    b"\r\n--b\r\n",
    b"\r\n--b--\r\n",
    b"\r\n\r\n",
    b"begin 644 f\r\n#86)C\r\n`\r\nend\r\n",
    b"\x1b[31m",
    b"\xe2\x80\xae",
    b"\x9b",
    b"<script>x</script><a href='\x1b'>\x1b</a>",
]

messages = st.lists(st.one_of(st.sampled_from(_PIECES), st.binary(max_size=40)), max_size=30).map(
    b"".join
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages)
def test_parse_never_raises_and_render_is_safe(raw: bytes) -> None:
    parsed = parse_message(raw)
    full = render_text(parsed, all_headers=True)
    out = render_text(parsed)
    assert _FORBIDDEN.search(full + out) is None
    # Header lines (before the first blank line) also show bidi controls instead of obeying them.
    for text in (out, full):
        header = "\n".join(itertools.takewhile(bool, text.split("\n")))
        assert _BIDI.search(header) is None
    summarize(raw)
    for att in parsed.attachments:
        att.data()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes(raw: bytes) -> None:
    out = render_text(parse_message(raw))
    assert _FORBIDDEN.search(out) is None
