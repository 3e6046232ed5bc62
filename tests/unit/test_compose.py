"""Building outgoing messages: headers, charsets, attachments, limits, sendmail -t input."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tmail.core.errors import MessageError
from tmail.core.models import Address
from tmail.mime.compose import Draft, Limits, compose, guess_type, prepare_raw

IVAN = Address("Иван Петров", "ivan@example.test")


def parse(data: bytes) -> EmailMessage:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_cyrillic_names_and_subject_are_encoded_and_decode_back() -> None:
    c = compose(
        Draft(from_=IVAN, to=("Мария Иванова <maria@example.test>",), subject="Привет, мир")
    )
    head = c.data.split(b"\n\n", 1)[0]
    assert head.isascii()
    msg = parse(c.data)
    assert msg["Subject"] == "Привет, мир"
    assert msg["From"].addresses[0].display_name == "Иван Петров"
    assert msg["To"].addresses[0].display_name == "Мария Иванова"
    assert msg["User-Agent"].startswith("tmail/")
    assert msg["Message-ID"].endswith("@example.test>")
    assert msg["Date"]


def test_ascii_subject_is_not_encoded() -> None:
    c = compose(Draft(from_=IVAN, to=("bob@example.test",), subject="Plain words", body="hi"))
    assert b"\nSubject: Plain words\n" in c.data
    assert b'charset="us-ascii"' in c.data
    assert b"Content-Transfer-Encoding: 7bit" in c.data


def test_bcc_is_a_recipient_but_not_in_the_bytes() -> None:
    c = compose(
        Draft(from_=IVAN, to=("a@example.test",), cc=("b@example.test",), bcc=("c@example.test",))
    )
    assert c.recipients == ("a@example.test", "b@example.test", "c@example.test")
    assert b"c@example.test" not in c.data
    assert b"Bcc" not in c.data


def test_send_charset_koi8r_when_the_text_fits() -> None:
    c = compose(Draft(from_=IVAN, to=("a@x.test",), body="Текст письма", send_charset="koi8-r"))
    msg = parse(c.data)
    body = msg.get_body()
    assert body is not None
    assert body.get_content_charset() == "koi8-r"
    assert body.get_content().strip() == "Текст письма"
    assert c.data.isascii()  # 7-bit clean: base64 or QP, never raw 8-bit


def test_send_charset_falls_back_to_utf8_with_a_warning() -> None:
    c = compose(Draft(from_=IVAN, to=("a@x.test",), body="Текст € евро", send_charset="koi8-r"))
    body = parse(c.data).get_body()
    assert body is not None
    assert body.get_content_charset() == "utf-8"
    assert "koi8-r" in c.warnings[0]


def test_mostly_ascii_body_is_quoted_printable() -> None:
    text = "Hello there, this is a long English letter with a Russian word in it: да.\n" * 3
    c = compose(Draft(from_=IVAN, to=("a@x.test",), body=text))
    assert b"Content-Transfer-Encoding: quoted-printable" in c.data
    body = parse(c.data).get_body()
    assert body is not None and body.get_content() == text


def test_html_alternative() -> None:
    c = compose(Draft(from_=IVAN, to=("a@x.test",), body="текст", html="<p>текст</p>"))
    msg = parse(c.data)
    assert msg.get_content_type() == "multipart/alternative"
    html = msg.get_body(("html",))
    assert html is not None and "<p>текст</p>" in html.get_content()


def test_attachments_are_byte_identical_with_rfc2231_names(tmp_path: Path) -> None:
    blob = bytes(range(256)) * 10
    p1 = tmp_path / "Отчёт за 2024.bin"
    p1.write_bytes(blob)
    p2 = tmp_path / "notes.txt"
    p2.write_bytes(b"line one\r\nline two without end")
    c = compose(Draft(from_=IVAN, to=("a@x.test",), body="см. вложения", attachments=(p1, p2)))
    assert b"filename*=utf-8''" in c.data
    parts = list(parse(c.data).iter_attachments())
    assert [p.get_filename() for p in parts] == ["Отчёт за 2024.bin", "notes.txt"]
    assert parts[0].get_content() == blob
    assert parts[1].get_payload(decode=True) == b"line one\r\nline two without end"
    assert parts[1].get_content_type() == "text/plain"
    assert c.data.count(b"MIME-Version") == 1


def test_type_guessed_from_content_before_name() -> None:
    assert guess_type("scan.txt", b"%PDF-1.7 ...") == "application/pdf"
    assert guess_type("photo", b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert guess_type("report.docx", b"PK\x03\x04...") == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert guess_type("data", b"PK\x03\x04...") == "application/zip"
    assert guess_type("README", "Привет".encode()) == "text/plain"
    assert guess_type("blob", b"\x00\x01\x02") == "application/octet-stream"
    assert guess_type("page.html", b"<html></html>") == "text/html"


@pytest.mark.parametrize(
    "field",
    ["subject", "to", "cc", "bcc", "name"],
)
def test_line_breaks_in_user_headers_are_refused(field: str) -> None:
    evil = "x\r\nBcc: victim@example.test"
    kwargs: dict[str, object] = {"to": ("a@x.test",)}
    if field == "subject":
        kwargs["subject"] = evil
    elif field == "name":
        kwargs["from_"] = Address(evil, "ivan@example.test")
    else:
        kwargs[field] = (f"{evil} <b@x.test>",)
    kwargs.setdefault("from_", IVAN)
    with pytest.raises(MessageError, match="line break"):
        compose(Draft(**kwargs))  # type: ignore[arg-type]


def test_no_recipients_is_bad_input() -> None:
    with pytest.raises(MessageError, match="no recipients") as exc:
        compose(Draft(from_=IVAN, subject="x"))
    assert exc.value.exit_status == 65


def test_bad_address_is_refused() -> None:
    with pytest.raises(MessageError, match="not an e-mail address"):
        compose(Draft(from_=IVAN, to=("not an address",)))


def test_missing_attachment_is_named(tmp_path: Path) -> None:
    with pytest.raises(MessageError, match=r"nope\.pdf does not exist"):
        compose(Draft(from_=IVAN, to=("a@x.test",), attachments=(tmp_path / "nope.pdf",)))


def test_attachment_over_max_attachment_size_names_file_and_limit(tmp_path: Path) -> None:
    p = tmp_path / "big.iso"
    p.write_bytes(b"x" * 3000)
    with pytest.raises(
        MessageError, match=r"big\.iso is 2\.9 KB, over max_attachment_size 2\.0 KB"
    ):
        compose(
            Draft(from_=IVAN, to=("a@x.test",), attachments=(p,)),
            Limits(max_attachment_size=2048),
        )


def test_message_over_max_message_size_names_the_limit(tmp_path: Path) -> None:
    p = tmp_path / "a.bin"
    p.write_bytes(b"y" * 1000)
    with pytest.raises(MessageError, match=r"a\.bin.*limit 1\.0 KB"):
        compose(
            Draft(from_=IVAN, to=("a@x.test",), attachments=(p,)), Limits(max_message_size=1000)
        )
    with pytest.raises(MessageError, match=r"the message is .* over the size limit 1\.4 KB"):
        compose(
            Draft(from_=IVAN, to=("a@x.test",), attachments=(p,)), Limits(max_message_size=1400)
        )


@pytest.mark.parametrize("name", ["setup.EXE", "run.bat", "x.scr. ", "a.pdf.exe"])
def test_blocked_extensions(tmp_path: Path, name: str) -> None:
    p = tmp_path / name
    p.write_bytes(b"MZ")
    with pytest.raises(MessageError, match="are blocked"):
        compose(
            Draft(from_=IVAN, to=("a@x.test",), attachments=(p,)),
            Limits(blocked_extensions=("exe", ".bat", "scr")),
        )


def test_reply_headers() -> None:
    c = compose(
        Draft(
            from_=IVAN,
            to=("a@x.test",),
            subject="Re: вопрос",
            in_reply_to="<parent@x.test>",
            references=("<root@x.test>",),
        )
    )
    msg = parse(c.data)
    assert msg["In-Reply-To"] == "<parent@x.test>"
    assert msg["References"] == "<root@x.test> <parent@x.test>"


# ---------------------------------------------------------------------------- sendmail -t

RAW = b"""From: Dev <dev@example.test>
To: a@example.test, "B" <b@example.test>
Cc: c@example.test
Bcc: hidden@example.test,
 hidden2@example.test
Subject: [PATCH] fix it

diff --git a/x b/x
 context line
-old
+new
"""


def test_prepare_raw_takes_recipients_strips_bcc_keeps_body() -> None:
    c = prepare_raw(RAW, default_from=IVAN, extra_recipients=["d@example.test", "a@example.test"])
    assert c.recipients == (
        "a@example.test",
        "b@example.test",
        "c@example.test",
        "hidden@example.test",
        "hidden2@example.test",
        "d@example.test",
    )
    assert b"hidden" not in c.data
    assert c.sender == "dev@example.test"
    assert c.data.endswith(b"\n\ndiff --git a/x b/x\n context line\n-old\n+new\n")
    assert b"\nMessage-ID: <" in c.data and b"\nDate: " in c.data
    assert c.subject == "[PATCH] fix it"


def test_prepare_raw_without_from_uses_the_account() -> None:
    c = prepare_raw(b"To: a@x.test\nSubject: s\n\nbody\n", default_from=IVAN)
    assert parse(c.data)["From"].addresses[0].display_name == "Иван Петров"
    assert c.sender == "ivan@example.test"


def test_prepare_raw_without_recipients_is_bad_input() -> None:
    with pytest.raises(MessageError, match="no recipients"):
        prepare_raw(b"Subject: s\n\nbody\n", default_from=IVAN)


def test_prepare_raw_envelope_from_wins() -> None:
    c = prepare_raw(RAW, default_from=IVAN, envelope_from="bounce@example.test")
    assert c.sender == "bounce@example.test"


def test_line_break_in_an_attachment_name_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "a\nBcc: victim@example.test"
    p.write_bytes(b"x")
    with pytest.raises(MessageError, match="line break"):
        compose(Draft(from_=IVAN, to=("a@x.test",), attachments=(p,)))


@settings(max_examples=150, deadline=None)
@given(name=st.text(max_size=40), subject=st.text(max_size=80), body=st.text(max_size=200))
def test_any_text_builds_or_is_refused_cleanly(name: str, subject: str, body: str) -> None:
    try:
        c = compose(
            Draft(from_=Address(name, "ivan@example.test"), to=("a@x.test",), subject=subject,
                  body=body)
        )  # fmt: skip
    except MessageError:
        return
    msg = parse(c.data)
    assert " ".join(msg["Subject"].split()) == " ".join(subject.split())
    assert c.data.isascii()


@settings(max_examples=200, deadline=None)
@given(
    head=st.lists(
        st.sampled_from([b"To: a@x.test", b"Cc: ", b"Bcc: h@x.test", b"Subject: \xff\xfe", b"From:",
                         b"Message-ID:", b" folded", b"Bcc:", b"To: <>", b"X: y"]),
        max_size=8,
    ),
    body=st.binary(max_size=100),
)  # fmt: skip
def test_any_raw_message_is_prepared_or_refused_cleanly(head: list[bytes], body: bytes) -> None:
    raw = b"\n".join(head) + b"\n\n" + body
    try:
        c = prepare_raw(raw, default_from=IVAN)
    except MessageError:
        return
    assert c.recipients and b"h@x.test" not in c.data.split(b"\n\n", 1)[0]
    # The body goes through untouched but for CRLF -> LF and a final line end.
    sent_body = c.data.split(b"\n\n", 1)[1]
    assert sent_body.rstrip(b"\n") == body.replace(b"\r\n", b"\n").rstrip(b"\n")


# ------------------------------------------------------------------ forwarding as attachment

ENCLOSED_ASCII = (
    b"From: Boris <boris@example.test>\r\n"
    b"To: Ivan <ivan@example.test>\r\n"
    b"Subject: the original\r\n"
    b"Message-ID: <orig-1@example.test>\r\n"
    b"DKIM-Signature: v=1; a=rsa-sha256; d=example.test; s=x;\r\n"
    b"    bh=abc; b=def\r\n"
    b"Content-Type: multipart/mixed; boundary=inner\r\n"
    b"\r\n"
    b"--inner\r\n"
    b"Content-Type: text/plain\r\n"
    b"\r\n"
    b"Body line one.\r\n"
    b"From the start of a line, .dots and all\r\n"
    b"--inner--\r\n"
)


def _forward(tmp_path: Path, enclosed: bytes, name: str = "forwarded-message.eml") -> bytes:
    f = tmp_path / name
    f.write_bytes(enclosed)
    draft = Draft(
        from_=IVAN,
        to=("maria@example.test",),
        subject="Fwd: x",
        body="see below\n",
        attachments=(f,),
    )
    return compose(draft).data


def _part(data: bytes, ctype: str) -> EmailMessage:
    [part] = [p for p in parse(data).walk() if p.get_content_type() == ctype]
    assert isinstance(part, EmailMessage)
    return part


def test_forward_as_attachment_encloses_the_message_verbatim_in_7bit(tmp_path: Path) -> None:
    from tmail.mime import parse_message

    data = _forward(tmp_path, ENCLOSED_ASCII)
    assert ENCLOSED_ASCII.replace(b"\r\n", b"\n") in data  # byte for byte (LF in the queue)
    part = _part(data, "message/rfc822")
    assert part["Content-Transfer-Encoding"] == "7bit"
    assert part.get_filename() == "forwarded-message.eml"
    assert b"base64" not in data.lower()
    parsed = parse_message(data)
    assert "see below" in parsed.text
    [inner] = parsed.nested
    assert inner.subject == "the original" and inner.message_id == "<orig-1@example.test>"
    assert "Body line one." in inner.text


def test_forward_of_an_8bit_message_is_8bit_and_verbatim(tmp_path: Path) -> None:
    from tmail.mime import parse_message

    koi = "Привет из КОИ-8".encode("koi8-r")
    enclosed = (
        b"From: boris@example.test\nSubject: koi\n"
        b"Content-Type: text/plain; charset=koi8-r\nContent-Transfer-Encoding: 8bit\n\n"
        + koi
        + b"\n"
    )
    data = _forward(tmp_path, enclosed, "Письмо.eml")
    assert enclosed in data
    assert _part(data, "message/rfc822")["Content-Transfer-Encoding"] == "8bit"
    assert parse(data)["Content-Transfer-Encoding"] == "8bit"  # RFC 2045 6.4: the multipart too
    assert _part(data, "message/rfc822").get_filename() == "Письмо.eml"
    [inner] = parse_message(data).nested
    assert "Привет из КОИ-8" in inner.text


@pytest.mark.parametrize(
    "bad",
    [b"x" * 1200 + b"\n", b"a NUL \x00 here\n", b"a bare CR \r here\n"],
    ids=["long-line", "nul", "bare-cr"],
)
def test_forward_that_8bit_cannot_carry_goes_as_octet_stream_byte_for_byte(
    tmp_path: Path, bad: bytes
) -> None:
    enclosed = b"From: boris@example.test\nSubject: odd\n\n" + bad
    data = _forward(tmp_path, enclosed)
    assert not [p for p in parse(data).walk() if p.get_content_type() == "message/rfc822"]
    part = _part(data, "application/octet-stream")
    assert part["Content-Transfer-Encoding"] == "base64"
    assert part.get_content() == enclosed
    assert part.get_filename() == "forwarded-message.eml"


def test_forward_enclosing_the_outer_boundary_gets_a_fresh_boundary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import email.generator

    # Make the email package pick a boundary that the enclosed message contains.
    monkeypatch.setattr(
        email.generator.Generator, "_make_boundary", classmethod(lambda cls, text=None: "inner")
    )
    data = _forward(tmp_path, ENCLOSED_ASCII)
    assert ENCLOSED_ASCII.replace(b"\r\n", b"\n") in data
    outer = parse(data).get_boundary()
    assert outer and outer != "inner"
    assert parse(data).get_payload()[1].get_payload()[0]["Subject"] == "the original"


# ------------------------------------------------------------------ sendmail -t: Resent-*

RESENT = (
    b"Resent-From: Boris <boris@example.test>\n"
    b"Resent-To: new-one@example.test,\n new-two@example.test\n"
    b'Resent-Cc: "Doe, Jane" <jane@example.test>\n'
    b"Resent-Bcc: hidden@example.test\n"
    b"Received: from somewhere by mx.example.test; Mon, 2 Jan 2023 10:00:00 +0000\n"
    b"Resent-From: older@example.test\n"
    b"Resent-To: older-target@example.test\n"
    b"Resent-Date: Mon, 2 Jan 2023 09:00:00 +0000\n"
    b"From: author@example.test\n"
    b"To: original-to@example.test\n"
    b"Cc: original-cc@example.test\n"
    b"Subject: resent\n"
    b"Date: Sun, 1 Jan 2023 00:00:00 +0000\n"
    b"Message-ID: <original@example.test>\n"
    b"\n"
    b"body\n"
)


def test_send_t_with_resent_fields_goes_to_the_newest_resent_block_only() -> None:
    c = prepare_raw(RESENT, default_from=IVAN)
    assert c.recipients == (
        "new-one@example.test",
        "new-two@example.test",
        "jane@example.test",
        "hidden@example.test",
    )
    assert c.sender == "boris@example.test"  # bounces go to whoever resent it
    head = c.data.split(b"\n\n", 1)[0]
    assert b"hidden@example.test" not in c.data and b"Resent-Bcc" not in head
    assert c.data.endswith(b"\n\nbody\n")
    msg = parse(c.data)
    # The block got what RFC 5322 requires of it, on top of it, and nothing else changed.
    fields = [k.lower() for k in msg]
    assert fields[:5] == [
        "resent-date",
        "resent-message-id",
        "resent-from",
        "resent-to",
        "resent-cc",
    ]
    assert msg["Resent-Message-ID"] == c.message_id != "<original@example.test>"
    assert msg["Message-ID"] == "<original@example.test>"
    assert b"\nDate: Sun, 1 Jan 2023 00:00:00 +0000\n" in head
    assert msg.get_all("Resent-From")[1] == "older@example.test"  # the older block is untouched


def test_send_t_resent_block_without_from_gets_the_account_and_keeps_its_ids() -> None:
    raw = (
        b"Resent-To: x@example.test\nResent-Message-ID: <r1@example.test>\n"
        + RESENT[RESENT.index(b"From: author") :]
    )
    c = prepare_raw(raw, default_from=IVAN)
    assert c.recipients == ("x@example.test",)
    assert c.sender == IVAN.addr and c.message_id == "<r1@example.test>"
    msg = parse(c.data)
    assert msg["Resent-From"].addresses[0].addr_spec == IVAN.addr
    assert msg["Resent-Date"] and msg.get_all("Resent-Message-ID") == ["<r1@example.test>"]


def test_send_t_resent_block_without_recipients_is_refused() -> None:
    with pytest.raises(MessageError, match="resent block"):
        prepare_raw(b"Resent-From: a@example.test\nTo: b@example.test\n\nx\n", default_from=IVAN)


def test_send_t_without_resent_fields_still_uses_to_cc_bcc() -> None:
    raw = b'From: a@example.test\nTo: "Doe, J" <b@example.test>\nBcc: c@example.test\n\nx\n'
    c = prepare_raw(raw, default_from=IVAN)
    assert c.recipients == ("b@example.test", "c@example.test") and c.sender == "a@example.test"
    assert b"Resent" not in c.data and b"c@example.test" not in c.data
