"""tmail.mime.parse_message: headers, structure, bodies, attachments, reports."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

from tmail.core.models import Address
from tmail.mime import parse_message, render_text


def msg(*lines: str | bytes) -> bytes:
    return b"\r\n".join(x if isinstance(x, bytes) else x.encode() for x in lines)


def test_encoded_words_split_multibyte_and_adjacent_are_joined() -> None:
    # "Привет" in UTF-8, cut inside a character across two B words; the space between goes.
    data = "Привет".encode()
    a, b = base64.b64encode(data[:5]).decode(), base64.b64encode(data[5:]).decode()
    raw = msg(f"Subject: =?utf-8?B?{a}?=\r\n =?UTF-8?B?{b}?= world", "", "x")
    assert parse_message(raw).subject == "Привет world"


def test_encoded_word_charset_aliases_and_bad_padding() -> None:
    koi = base64.b64encode("Алфавит".encode("koi8_r")).decode().rstrip("=")
    cp = "".join(f"={b:02X}" for b in "Вопрос".encode("cp1251"))
    raw = msg(f"Subject: =?koi8r?B?{koi}?= =?cp-1251?Q?{cp}?=", "", "")
    assert parse_message(raw).subject == "АлфавитВопрос"
    mac = "".join(f"={b:02X}" for b in "Мир".encode("mac_cyrillic"))
    assert parse_message(msg(f"Subject: =?x-mac-cyrillic?Q?{mac}?=", "", "")).subject == "Мир"


def test_unknown_charset_in_encoded_word_does_not_raise() -> None:
    raw = msg("Subject: =?fakescii-7?Q?hello=20there?=", "", "")
    assert parse_message(raw).subject == "hello there"


def test_addresses_names_groups_and_idn() -> None:
    raw = msg(
        "From: =?utf-8?Q?Jos=C3=A9_P=C3=A9rez?= <jose@example.org>",
        'To: undisclosed:;, "Doe, John" <john@xn--mnchen-3ya.de>, bare@example.com',
        "Cc: Team: a@example.com, b@example.com;",
        "",
        "",
    )
    p = parse_message(raw)
    assert p.from_ == (Address("José Pérez", "jose@example.org"),)
    assert Address("Doe, John", "john@münchen.de") in p.to
    assert Address("", "bare@example.com") in p.to
    assert [a.addr for a in p.cc] == ["a@example.com", "b@example.com"]


def test_dates_aware_and_broken() -> None:
    def date(value: str) -> datetime | None:
        return parse_message(msg(f"Date: {value}", "", "")).date

    assert date("Tue, 07 Jul 2009 22:47:35 -0700") == datetime(
        2009, 7, 7, 22, 47, 35, tzinfo=timezone(timedelta(hours=-7))
    )
    assert date("7 Jul 09 22:47 -0000") == datetime(2009, 7, 7, 22, 47, tzinfo=UTC)
    assert date("2021-03-04T05:06:07+02:00") == datetime(
        2021, 3, 4, 5, 6, 7, tzinfo=timezone(timedelta(hours=2))
    )
    assert date("the day after tomorrow") is None
    assert date("Mon, 99 Foo 2009 99:99:99 +9999") is None


def test_alternative_prefers_plain_and_html_only_is_converted() -> None:
    alt = msg(
        "Content-Type: multipart/alternative; boundary=b",
        "",
        "--b",
        "Content-Type: text/html",
        "",
        "<p>html version</p>",
        "--b",
        "Content-Type: text/plain",
        "",
        "plain version",
        "--b--",
    )
    p = parse_message(alt)
    assert p.text == "plain version\n" and not p.text_from_html
    html = msg(
        "Content-Type: text/html; charset=utf-8",
        "",
        "<html><head><style>p {color: red}</style><script>alert('x')</script></head>",
        '<body><p>Hello <a href="https://example.org/x">there</a>'
        '<img src="https://tracker.example/p.gif" alt="Logo"></p></body></html>',
    )
    p = parse_message(html)
    assert p.text_from_html
    assert "Hello [there][1]" in p.text
    assert "[image: Logo]" in p.text
    assert "[1]: https://example.org/x" in p.text
    assert "tracker" not in p.text and "alert" not in p.text and "color" not in p.text
    assert p.links == ("https://example.org/x",)


def test_attachments_rfc2231_continuations_and_charset() -> None:
    name = "Отчёт за март.pdf"
    enc = "".join(f"%{b:02X}" for b in name.encode("koi8_r"))
    payload = base64.b64encode(b"%PDF-1.4 data" * 10).decode()
    raw = msg(
        "Content-Type: multipart/mixed; boundary=xx",
        "",
        "--xx",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "see attached",
        "--xx",
        "Content-Type: application/pdf",
        "Content-Transfer-Encoding: base64",
        f"Content-Disposition: attachment; filename*0*=koi8-r''{enc[:21]};",
        f" filename*1*={enc[21:]}",
        "",
        payload[:40],
        payload[40:],
        "--xx",
        'Content-Type: image/png; name="=?utf-8?B?0YTQvtGC0L4ucG5n?="',
        "Content-Transfer-Encoding: base64",
        "",
        "iVBORw0KGgo=",
        "--xx--",
    )
    p = parse_message(raw)
    assert p.text == "see attached\n"
    first, second = p.attachments
    assert (first.index, first.filename, first.content_type) == (1, name, "application/pdf")
    assert first.size == 130 and first.data() == b"%PDF-1.4 data" * 10
    assert second.filename == "фото.png" and second.data() == b"\x89PNG\r\n\x1a\n"
    assert second.size == 8


def test_attachment_without_name_gets_one_from_its_type() -> None:
    raw = msg(
        "Content-Type: multipart/mixed; boundary=q",
        "",
        "--q",
        "Content-Type: application/pdf",
        "",
        "x",
        "--q--",
    )
    assert parse_message(raw).attachments[0].filename == "part1.pdf"


def test_nested_message_and_delivery_report() -> None:
    raw = msg(
        "Subject: Undelivered Mail Returned to Sender",
        "Content-Type: multipart/report; report-type=delivery-status; boundary=r",
        "",
        "--r",
        "Content-Type: text/plain",
        "",
        "I could not deliver your message.",
        "--r",
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns; mx.example.org",
        "",
        "Original-Recipient: rfc822; Bob@Example.org",
        "Final-Recipient: rfc822; bob@example.org",
        "Action: failed",
        "Status: 5.1.1",
        "Diagnostic-Code: smtp; 550 5.1.1 no such user",
        "--r",
        "Content-Type: message/rfc822",
        "",
        "Subject: =?utf-8?Q?Caf=C3=A9?=",
        "From: me@example.com",
        "",
        "original body",
        "--r--",
    )
    p = parse_message(raw)
    assert p.text == "I could not deliver your message.\n"
    assert p.dsn is not None and p.dsn.reporting_mta == "mx.example.org"
    (r,) = p.dsn.recipients
    assert (r.original_recipient, r.final_recipient, r.action, r.status) == (
        "Bob@Example.org",
        "bob@example.org",
        "failed",
        "5.1.1",
    )
    assert r.diagnostic == "550 5.1.1 no such user"
    (inner,) = p.nested
    assert inner.subject == "Café" and inner.text == "original body\n"
    out = render_text(p)
    assert "Bob@Example.org: failed 5.1.1" in out and "Subject: Café" in out


def test_quoted_printable_and_base64_errors_tolerated() -> None:
    qp = msg("Content-Transfer-Encoding: quoted-printable", "", "caf=C3=A9 =ZZ soft=", "break")
    assert parse_message(qp).text == "café =ZZ softbreak\n"
    b64 = msg("Content-Transfer-Encoding: base64", "", "aGVsbG8g!!d29y*bGQ")
    assert parse_message(b64).text == "hello world\n"


def test_format_flowed_is_joined() -> None:
    raw = msg(
        "Content-Type: text/plain; format=flowed",
        "",
        "This is a long ",
        "paragraph.",
        "> quoted ",
        "> text",
        " >stuffed",
        "-- ",
        "sig",
    )
    assert (
        parse_message(raw).text == "This is a long paragraph.\n> quoted text\n>stuffed\n-- \nsig\n"
    )


def test_uuencoded_block_becomes_an_attachment() -> None:
    import binascii

    line = binascii.b2a_uu(b"hello uu").decode().rstrip("\n")
    raw = msg("Subject: uu", "", "see below", "", "begin 644 hi.txt", line, "`", "end", "bye")
    p = parse_message(raw)
    (att,) = p.attachments
    assert att.filename == "hi.txt" and att.data() == b"hello uu" and att.size == 8
    assert "begin 644" not in p.text and "bye" in p.text


def test_depth_limit_and_garbage_never_raise() -> None:
    deep = b"".join(
        f"Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n".encode()
        for i in range(5000)
    )
    p = parse_message(deep)
    assert any("deep" in problem for problem in p.problems)
    for raw in (b"", b"\x00\xff", b"\r\n\r\n\r\n", b"Content-Type: multipart/mixed\r\n\r\n"):
        parse_message(raw)


def test_adversarial_inputs_take_linear_time() -> None:
    # Each of these was (or would be, with a naive regex) quadratic: seconds to minutes.
    import time

    cases = [
        b"Subject: " + b"=?utf-8?q?abc " * 5000 + b"\n\nx",
        b"Content-Type: text/plain; " + b"a" * 100_000 + b"\n\nx",
        b"Content-Type: text/plain; " + b"a a=" * 20_000 + b"\n\nx",
        b"Subject: x\n\n" + b"begin 644 f\nM86)C\n" * 10_000,
        b"Content-Type: multipart/mixed; boundary=b\n\n" + b"--b\n\nx\n" * 20_000,
        b"Content-Type: message/rfc822\n\n" * 5_000,
        b"To: " + b'"' * 100_000 + b"\n\nx",
    ]
    for raw in cases:
        start = time.perf_counter()
        render_text(parse_message(raw))
        assert time.perf_counter() - start < 2.0, raw[:40]


def test_alternative_with_an_empty_plain_part_shows_the_html() -> None:
    raw = msg(
        "Content-Type: multipart/alternative; boundary=b",
        "",
        "--b",
        "Content-Type: text/plain",
        "",
        "  ",
        "--b",
        "Content-Type: text/html",
        "",
        "<p>the real text</p>",
        "--b--",
    )
    p = parse_message(raw)
    assert p.text == "the real text\n" and p.text_from_html


def test_html_charset_from_meta_and_related_root() -> None:
    html = '<html><head><meta charset="koi8-r"></head><body><p>Привет</p></body></html>'
    raw = (
        msg(
            "Content-Type: multipart/alternative; boundary=a",
            "",
            "--a",
            "Content-Type: multipart/related; boundary=r",
            "",
            "--r",
            "Content-Type: text/html",
            "Content-Transfer-Encoding: 8bit",
            "",
        )
        + b"\r\n"
        + html.encode("koi8_r")
        + msg(
            "",
            "--r",
            "Content-Type: image/png",
            "Content-ID: <logo>",
            "Content-Transfer-Encoding: base64",
            "",
            "iVBORw0KGgo=",
            "--r--",
            "--a--",
        )
    )
    p = parse_message(raw)
    assert p.text == "Привет\n" and p.text_from_html and p.charset == "koi8-r"
    (logo,) = p.attachments
    assert logo.inline and logo.content_id == "<logo>" and logo.filename == "part1.png"


def test_unreadable_date_is_shown_as_sent() -> None:
    out = render_text(parse_message(msg("Date: the day after \x1b[2J tomorrow", "", "x")))
    assert "Date: the day after ^[[2J tomorrow" in out


def test_quoted_printable_soft_break_with_transport_padding() -> None:
    # RFC 2045 6.7: blanks after a final "=" (and at any line end) were added in transport.
    raw = msg(
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: quoted-printable",
        "",
        "one long line cut =  ",
        "here and =\t",
        "there; caf=C3=A9 =20",
        "trailing blanks go  ",
        "end= ",
    )
    text = parse_message(raw).text
    assert text == "one long line cut here and there; café  \ntrailing blanks go\nend\n"


def nested_multiparts(levels: int, text: bytes = b"the text at the bottom") -> bytes:
    head = b"".join(
        f"Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n".encode()
        for i in range(levels)
    )
    tail = b"".join(f"\r\n--b{i}--".encode() for i in reversed(range(levels)))
    return b"Subject: deep\r\n" + head + b"Content-Type: text/plain\r\n\r\n" + text + tail


def nested_messages(levels: int) -> bytes:
    head = b"".join(
        f"Subject: level {i}\r\nContent-Type: message/rfc822\r\n\r\n".encode()
        for i in range(levels)
    )
    return head + b"Subject: innermost\r\n\r\nthe forwarded text\r\n"


def test_fifty_and_a_hundred_nested_multiparts_show_their_text() -> None:
    for levels in (50, 120):
        p = parse_message(nested_multiparts(levels))
        assert p.text == "the text at the bottom\n" and p.attachments == ()
        assert not p.problems


def test_a_hundred_enclosed_messages_are_read() -> None:
    p = parse_message(nested_messages(100))
    depth = 0
    while p.nested:
        (p,) = p.nested
        depth += 1
    assert depth == 100 and p.subject == "innermost" and p.text == "the forwarded text\n"


def test_nesting_past_the_limit_says_so_in_the_text() -> None:
    from tmail.mime.parse import MAX_DEPTH

    p = parse_message(nested_multiparts(MAX_DEPTH + 50))
    assert p.text == (
        f"[-- parts nested more than {MAX_DEPTH} levels deep are not shown: "
        "kept as attachment 1 --]\n"
    )
    (att,) = p.attachments
    assert b"the text at the bottom" in att.data()
    assert any("nested too deeply" in problem for problem in p.problems)


def test_deep_nesting_needs_no_recursion() -> None:
    # Under a recursion limit far below the nesting depth, the parser still reads the text: it
    # walks the structure with its own stack (a subprocess: the limit is process-wide).
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from tests.unit.test_mime_parse import nested_messages, nested_multiparts\n"
        "from tmail.mime import parse_message, render_text\n"
        "raw, chain = nested_multiparts(127), nested_messages(120)\n"
        "sys.setrecursionlimit(60)\n"
        "print(repr(parse_message(raw).text))\n"
        "p = parse_message(chain)\n"
        "print(len(p.nested), p.problems)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["'the text at the bottom\\n'", "1 ()"]


def test_sending_a_deeply_nested_message_from_stdin_does_not_recurse() -> None:
    # The email package recurses once per level (RecursionError at a few hundred): tmail hands
    # it only the header (prepare_raw, `tmail send` reading a whole message); the body is sent
    # byte for byte.
    from tmail.mime.compose import prepare_raw

    for body in (nested_multiparts(5000), nested_messages(5000)):
        raw = b"From: a@x.test\r\nTo: b@y.test\r\n" + body
        composed = prepare_raw(raw, default_from=Address("", "a@x.test"))
        assert composed.recipients == ("b@y.test",)
        assert body.replace(b"\r\n", b"\n").split(b"\n\n", 1)[1] in composed.data
