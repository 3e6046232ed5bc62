"""Building outgoing messages: headers, body charset, HTML alternative, attachments, limits.

No network and no queue here: :func:`compose` turns a :class:`Draft` into the bytes to send and
the envelope to send them with, and :func:`prepare_raw` does the same for a whole message read
from stdin (``tmail send -t``). ``email`` objects stay inside this module; callers get
:class:`Composed`, bytes plus plain strings.

Choices, each as a careful mutt or Thunderbird user expects:

* Headers are encoded (RFC 2047, UTF-8) only where they hold non-ASCII text; an ASCII subject stays
  readable in the raw message.
* The body goes out in the account's ``send_charset`` when the text fits in it (``koi8-r`` for old
  correspondents), else in UTF-8; plain ASCII stays ``us-ascii``/7bit. Quoted-printable or base64 is
  picked by the email package from the content (whichever is shorter), so the result is 7-bit clean
  and needs no 8BITMIME.
* Attachments are always base64 (byte-identical at the other end, whatever they hold), with RFC 2231
  file names, the type guessed from the content first and the name second. The one exception is
  an enclosed message (a forward as attachment, an ``.eml`` file): RFC 2046 section 5.2.1 allows
  message/rfc822 only in 7bit, 8bit or binary, so it goes in verbatim (see :func:`_enclosed_cte`).
* CR or LF in any value the user typed is refused: it would start a new header (header injection).
"""

from __future__ import annotations

import email.policy
import email.utils
import mimetypes
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address as HAddress
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from tmail import __version__
from tmail.core.errors import MessageError
from tmail.core.models import Address
from tmail.core.sizes import human_size

USER_AGENT = f"tmail/{__version__}"

# Lines end in LF in the queue and on disk (Maildir convention); the SMTP layer sends CRLF.
_POLICY = email.policy.default.clone(linesep="\n", cte_type="7bit", max_line_length=78)
_PARSE_POLICY = email.policy.default


# CR and LF, and everything else Python's str.splitlines() breaks lines at (the email package
# refuses those in header values too), plus the other C0 controls and DEL. TAB is allowed.
_HEADER_BREAKS = re.compile("[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")


@dataclass(frozen=True)
class Limits:
    """What an account allows to be sent; None means no limit."""

    max_attachment_size: int | None = None
    max_message_size: int | None = None  # the account's setting, else the server's SMTP SIZE
    blocked_extensions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Draft:
    """A message as the user describes it. Addresses are ``Address`` or strings as typed."""

    from_: Address
    to: tuple[Address | str, ...] = ()
    cc: tuple[Address | str, ...] = ()
    bcc: tuple[Address | str, ...] = ()
    subject: str = ""
    body: str = ""
    html: str | None = None
    attachments: tuple[Path, ...] = ()
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    reply_to: tuple[Address | str, ...] = ()
    send_charset: str = "utf-8"
    extra_headers: tuple[tuple[str, str], ...] = ()
    date: datetime | None = None  # default: now, local time
    message_id: str | None = None  # default: a fresh one in the sender's domain
    # OpenPGP as chosen on the review screen; None: the account's pgp_sign / pgp_encrypt
    pgp_sign: bool | None = None
    pgp_encrypt: bool | None = None


@dataclass(frozen=True)
class Composed:
    """What goes into the outbox: the bytes (Bcc never among them) and the envelope."""

    data: bytes  # LF line ends; the SMTP layer makes them CRLF
    sender: str  # envelope MAIL FROM
    recipients: tuple[str, ...]  # To + Cc + Bcc, deduplicated, in order
    message_id: str
    subject: str
    warnings: tuple[str, ...] = field(default=())
    bcc: tuple[str, ...] = field(default=())  # for the Sent copy; never in ``data``


# ------------------------------------------------------------------------------ validation


def refuse_line_breaks(what: str, value: str) -> None:
    """Raise MessageError if a user-supplied header value holds CR or LF (header injection)."""
    if _HEADER_BREAKS.search(value):
        raise MessageError(
            f"the {what} contains a line break or control character, which could start a new "
            "header",
            hint=f"put the {what} on one line",
        )


def _check_header_name(name: str) -> None:
    if not re.fullmatch(r"[!-9;-~]+", name):
        raise MessageError(f"{name!r} is not a valid header name", hint="use letters, digits, -")


def parse_addresses(what: str, values: Iterable[Address | str]) -> list[Address]:
    """Addresses as typed (``Name <a@b>``, ``a@b, c@d``) -> Address list; refuses bad ones."""
    out: list[Address] = []
    for value in values:
        if isinstance(value, Address):
            refuse_line_breaks(what, value.name)
            refuse_line_breaks(what, value.addr)
            out.append(value)
            continue
        refuse_line_breaks(what, value)
        pairs = email.utils.getaddresses([value])
        if not pairs or any(not addr for _name, addr in pairs):
            raise MessageError(f"{what}: {value!r} is not an e-mail address")
        for name, addr in pairs:
            if addr.count("@") != 1 or " " in addr or addr.startswith("@") or addr.endswith("@"):
                raise MessageError(
                    f"{what}: {addr!r} is not an e-mail address", hint="write it as name@domain"
                )
            out.append(Address(name, addr))
    return out


def _blocked(name: str, blocked: Sequence[str]) -> str | None:
    # Windows ignores trailing dots and spaces ("virus.exe. "), so do we when matching.
    stem = name.rstrip(". ").lower()
    for ext in blocked:
        ext = ext.lower().lstrip(".")
        if ext and stem.endswith("." + ext):
            return ext
    return None


def check_attachments(paths: Sequence[Path], limits: Limits) -> list[tuple[Path, bytes]]:
    """Read every attachment, refusing (MessageError naming the file and the limit) what is
    missing, unreadable, too large or of a blocked type."""
    loaded: list[tuple[Path, bytes]] = []
    total = 0
    for path in paths:
        if _HEADER_BREAKS.search(path.name):
            raise MessageError(
                f"attachment {path!r}: its name has a line break, which would start a new header",
                hint="rename the file",
            )
        ext = _blocked(path.name, limits.blocked_extensions)
        if ext:
            raise MessageError(
                f"attachment {path}: files ending in .{ext} are blocked for this account",
                hint="remove it from blocked_extensions or send it in an archive",
            )
        if not path.exists():
            raise MessageError(f"attachment {path} does not exist")
        if not path.is_file():
            raise MessageError(f"attachment {path} is not a regular file")
        size = path.stat().st_size
        if limits.max_attachment_size is not None and size > limits.max_attachment_size:
            raise MessageError(
                f"attachment {path} is {human_size(size)}, over max_attachment_size "
                f"{human_size(limits.max_attachment_size)}",
                hint="send a link or split the file",
            )
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise MessageError(f"attachment {path} cannot be read: {exc.strerror}") from exc
        total += len(data)
        loaded.append((path, data))
    # base64 grows a file by a third: refuse early instead of building a huge message.
    if limits.max_message_size is not None and total * 4 // 3 > limits.max_message_size:
        biggest = max(loaded, key=lambda pd: len(pd[1]))[0]
        raise MessageError(
            f"attachments ({human_size(total)}, {human_size(total * 4 // 3)} encoded; "
            f"largest {biggest}) "
            f"exceed the message size limit {human_size(limits.max_message_size)}",
            hint="attach fewer or smaller files",
        )
    return loaded


# ------------------------------------------------------------------------------ types

# Magic numbers for the formats people attach most. The standard library guesses only from the
# name; python-magic needs the C libmagic. A few signatures catch a misnamed or unnamed file.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"\x1f\x8b", "application/gzip"),
    (b"BZh", "application/x-bzip2"),
    (b"\xfd7zXZ\x00", "application/x-xz"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"Rar!\x1a\x07", "application/vnd.rar"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),  # old .doc/.xls
    (b"-----BEGIN PGP", "application/pgp-keys"),
    (b"\x7fELF", "application/x-executable"),
    (b"MZ", "application/x-msdownload"),
)


def guess_type(name: str, data: bytes) -> str:
    """The MIME type of an attachment: a known signature wins, then the name, then text or
    binary by content."""
    by_name, _enc = mimetypes.guess_type(name, strict=False)
    if data.startswith(b"PK\x03\x04"):
        # docx/xlsx/odt/jar are zip files too: trust a name that says which one.
        return by_name if by_name and by_name != "application/zip" else "application/zip"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    for magic, mime in _SIGNATURES:
        if data.startswith(magic):
            if mime == "application/x-ole-storage":
                return by_name or "application/octet-stream"
            return mime
    if by_name:
        return by_name
    if _looks_like_text(data):
        return "text/plain"
    return "application/octet-stream"


def _looks_like_text(data: bytes) -> bool:
    sample = data[:8192]
    if b"\0" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multibyte character cut at the end of the sample is still text.
        return exc.start >= len(sample) - 3
    return True


# ------------------------------------------------------------------------------ building


def _header_address(a: Address) -> HAddress:
    try:
        return HAddress(display_name=a.name, addr_spec=a.addr)
    except (ValueError, IndexError) as exc:
        raise MessageError(f"{a.addr!r} is not an e-mail address: {exc}") from exc


def _msgid(domain: str) -> str:
    return email.utils.make_msgid(idstring="tmail", domain=domain or "localhost")


def _body_charset(text: str, wanted: str) -> tuple[str, list[str]]:
    """The charset for a body: us-ascii if it is, ``wanted`` if the text fits, else utf-8."""
    if text.isascii():
        return "us-ascii", []
    wanted = (wanted or "utf-8").lower()
    if wanted in ("utf-8", "utf8"):
        return "utf-8", []
    try:
        text.encode(wanted)
    except LookupError:
        return "utf-8", [f"send_charset {wanted!r} is unknown; sent as UTF-8"]
    except UnicodeEncodeError as exc:
        ch = text[exc.start]
        return "utf-8", [f"the text has {ch!r}, which {wanted} cannot hold; sent as UTF-8"]
    return wanted, []


def _normalise_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text if text.endswith("\n") or not text else text + "\n"


def compose(draft: Draft, limits: Limits | None = None, *, postponed: bool = False) -> Composed:
    """Build the message of ``draft``; raises MessageError for bad input or a broken limit.

    ``postponed``: the copy for the Drafts folder, which is never sent as it is: it may have no
    recipient yet and keeps its Bcc field, so resuming it loses nothing (as in mutt and
    Thunderbird)."""
    limits = limits or Limits()
    refuse_line_breaks("subject", draft.subject)
    to = parse_addresses("To", draft.to)
    cc = parse_addresses("Cc", draft.cc)
    bcc = parse_addresses("Bcc", draft.bcc)
    reply_to = parse_addresses("Reply-To", draft.reply_to)
    sender = parse_addresses("From", [draft.from_])[0]
    if not (to or cc or bcc) and not postponed:
        raise MessageError("no recipients", hint="give at least one --to, --cc or --bcc")
    for ref in (draft.in_reply_to or "", *draft.references):
        refuse_line_breaks("In-Reply-To/References", ref)
    for name, value in draft.extra_headers:
        _check_header_name(name)
        refuse_line_breaks(f"{name} header", value)
    attachments = check_attachments(draft.attachments, limits)

    msg = EmailMessage(policy=_POLICY)
    msg["From"] = _header_address(sender)
    if to:
        msg["To"] = [_header_address(a) for a in to]
    if cc:
        msg["Cc"] = [_header_address(a) for a in cc]
    if bcc and postponed:
        msg["Bcc"] = [_header_address(a) for a in bcc]
    if reply_to:
        msg["Reply-To"] = [_header_address(a) for a in reply_to]
    msg["Subject"] = draft.subject
    msg["Date"] = email.utils.format_datetime(draft.date or datetime.now().astimezone())
    message_id = draft.message_id or _msgid(sender.addr.rpartition("@")[2])
    msg["Message-ID"] = message_id
    if draft.in_reply_to:
        msg["In-Reply-To"] = _angle(draft.in_reply_to)
    refs = [_angle(r) for r in draft.references]
    if draft.in_reply_to and _angle(draft.in_reply_to) not in refs:
        refs.append(_angle(draft.in_reply_to))
    if refs:
        msg["References"] = " ".join(refs)
    msg["User-Agent"] = USER_AGENT
    for name, value in draft.extra_headers:
        msg[name] = value

    warnings: list[str] = []
    body = _normalise_text(draft.body)
    charset, notes = _body_charset(body, draft.send_charset)
    warnings += notes
    msg.set_content(body, charset=charset)
    if draft.html is not None:
        html = _normalise_text(draft.html)
        # HTML declares its charset inside too; UTF-8 is the safe choice for it.
        msg.add_alternative(html, subtype="html", charset="us-ascii" if html.isascii() else "utf-8")
    enclosed: dict[bytes, bytes] = {}  # placeholder -> the enclosed message's bytes
    for path, data in attachments:
        mime = guess_type(path.name, data)
        if mime == "message/rfc822" and _attach_message(msg, path.name, data, enclosed):
            continue
        if mime == "message/rfc822":
            mime = "application/octet-stream"  # see _enclosed_cte: not sendable as message/*
        maintype, _, subtype = mime.partition("/")
        # Always base64 (add_attachment with bytes): the file arrives byte for byte.
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=path.name)

    for part in msg.walk():
        if part is not msg:
            del part["MIME-Version"]  # the email package repeats it in every part it adds
    data = _flatten(msg, enclosed)
    if limits.max_message_size is not None and len(data) > limits.max_message_size:
        raise MessageError(
            f"the message is {human_size(len(data))}, over the size limit "
            f"{human_size(limits.max_message_size)}",
            hint="attach fewer or smaller files",
        )
    recipients = _dedupe([a.addr for a in (*to, *cc, *bcc)])
    return Composed(
        data=data,
        sender=sender.addr,
        recipients=tuple(recipients),
        message_id=message_id,
        subject=draft.subject,
        warnings=tuple(warnings),
        bcc=tuple(a.addr for a in bcc),
    )


def _enclosed_cte(inner: bytes) -> str | None:
    """The Content-Transfer-Encoding for an enclosed message (LF line ends), or None.

    RFC 2046 section 5.2.1: message/rfc822 may only be 7bit, 8bit or binary, never base64 or
    quoted-printable. 7bit when the message is ASCII, 8bit when it has 8-bit bytes (the SMTP
    layer then asks for BODY=8BITMIME). None when even 8bit is wrong: a NUL, a bare CR or a
    line over 998 bytes (RFC 5322 section 2.1.1) -- that would be "binary", which SMTP cannot
    carry without BINARYMIME. Thunderbird sends such a message as 7bit/8bit anyway (broken on
    the wire); mutt re-encodes the enclosed message's own parts to 7bit, which changes its bytes
    (breaks its DKIM signature, the point of forwarding a message as evidence). We attach it as
    application/octet-stream in base64 instead: allowed, byte for byte, and every client still
    offers the ``.eml`` file to open.
    """
    if b"\0" in inner or b"\r" in inner:
        return None
    if any(len(line) > 998 for line in inner.split(b"\n")):
        return None
    return "7bit" if inner.isascii() else "8bit"


def _attach_message(
    msg: EmailMessage, name: str, data: bytes, enclosed: dict[bytes, bytes]
) -> bool:
    """Attach ``data`` as a message/rfc822 part kept verbatim; False if it cannot be."""
    inner = data.replace(b"\r\n", b"\n")  # LF in the queue, like the rest of the message
    cte = _enclosed_cte(inner)
    if cte is None:
        return False
    # The email package would re-serialise (re-fold, re-encode) an enclosed message: a unique
    # placeholder goes in its place and the exact bytes are spliced in by _flatten.
    token = f"tmail-enclosed-message-{uuid.uuid4().hex}"
    part = EmailMessage(policy=_POLICY)
    part["Content-Type"] = "message/rfc822"
    part.add_header("Content-Disposition", "attachment", filename=name)
    part["Content-Transfer-Encoding"] = cte
    part.set_payload(token)
    if msg.get_content_type() != "multipart/mixed":
        msg.make_mixed()
    msg.attach(part)
    if cte == "8bit":
        # RFC 2045 section 6.4: a multipart holding 8-bit data is itself 8bit, not 7bit.
        del msg["Content-Transfer-Encoding"]
        msg["Content-Transfer-Encoding"] = "8bit"
    enclosed[token.encode()] = inner
    return True


def _flatten(msg: EmailMessage, enclosed: dict[bytes, bytes]) -> bytes:
    """The message's bytes with each enclosed message spliced in verbatim."""
    while True:
        data = msg.as_bytes(policy=_POLICY)
        # The email package chose the boundaries without seeing the enclosed bytes: a boundary
        # that occurs in one of them would cut it, so that multipart gets a fresh one.
        clash = [
            part
            for part in msg.walk()
            if part.is_multipart()
            and any(b"--" + (part.get_boundary() or "").encode() in i for i in enclosed.values())
        ]
        if not clash:
            break
        for part in clash:
            part.set_boundary(f"=_tmail_{uuid.uuid4().hex}")
    for token, inner in enclosed.items():
        if data.count(token) != 1:  # pragma: no cover - a uuid4 does not occur by chance
            raise MessageError("could not enclose the forwarded message")
        data = data.replace(token, inner)
    return data


def _encoded_header(name: str, value: object) -> bytes:
    """One header line as it goes on the wire (RFC 2047 where needed), without the line end."""
    msg = EmailMessage(policy=_POLICY)
    msg[name] = value
    return msg.as_bytes(policy=_POLICY).rstrip(b"\n")


def _angle(msgid: str) -> str:
    msgid = msgid.strip()
    return msgid if msgid.startswith("<") else f"<{msgid}>"


def _dedupe(addrs: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for a in addrs:
        if a.lower() not in seen:
            seen.add(a.lower())
            out.append(a)
    return out


# ------------------------------------------------------------------------------ sendmail -t

_HEADER_END = re.compile(rb"\r?\n\r?\n")


def _split_header(raw: bytes) -> tuple[list[bytes], bytes]:
    """Header lines (each with its continuation lines) and the rest, untouched."""
    m = _HEADER_END.search(raw)
    if m is None:
        head, rest = raw, b""
    else:
        head, rest = raw[: m.start()], raw[m.start() :]
    fields: list[bytes] = []
    for line in re.split(rb"\r?\n", head):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += b"\n" + line
        elif line:
            fields.append(line)
    return fields, rest


def _field_name(field: bytes) -> bytes:
    return field.split(b":", 1)[0].strip().lower()


def _field_addresses(fields: Iterable[bytes]) -> list[str]:
    """The addresses in raw address fields. The raw value, not the RFC 2047-decoded one: a
    decoded display name may hold a comma (``"Doe, John"``) that would split an address."""
    values = [f.split(b":", 1)[1].decode("utf-8", "replace") for f in fields if b":" in f]
    return [addr for _n, addr in email.utils.getaddresses(values) if addr]


def _newest_resent_block(fields: Sequence[bytes]) -> range:
    """Where the newest resent block is (RFC 5322 section 3.6.6): each resend puts its block of
    Resent-* fields on top, so the newest is the first run of them; empty when there is none."""
    first = next((i for i, f in enumerate(fields) if _field_name(f).startswith(b"resent-")), None)
    if first is None:
        return range(0)
    last = first
    while last + 1 < len(fields) and _field_name(fields[last + 1]).startswith(b"resent-"):
        last += 1
    return range(first, last + 1)


def prepare_raw(
    raw: bytes,
    *,
    default_from: Address,
    extra_recipients: Sequence[str] = (),
    take_header_recipients: bool = True,
    envelope_from: str | None = None,
) -> Composed:
    """A whole message from stdin, as ``sendmail -t`` takes it.

    Recipients are To, Cc and Bcc (and any given on the command line, as Postfix and msmtp do);
    Bcc lines are removed from the bytes; Date, Message-ID and From are added when missing.
    A message being resent (it has Resent-* fields, RFC 5322 section 3.6.6) goes only to the
    Resent-To/-Cc/-Bcc of its newest resent block, never to its original To/Cc; that block gets
    the Resent-From, Resent-Date and Resent-Message-ID it lacks (as Postfix and sendmail add
    them), and Resent-Bcc is removed like Bcc.
    Everything else stays byte for byte as given (a patch from git must arrive unchanged).
    """
    raw = raw.replace(b"\r\n", b"\n")
    if raw.startswith(b"From ") and not raw.startswith(b"From: "):
        raw = raw.split(b"\n", 1)[1] if b"\n" in raw else b""  # mbox separator line
    fields, rest = _split_header(raw)
    if not fields:
        raise MessageError("the message on stdin has no header", hint="start it with From:, To:")
    parsed = BytesParser(policy=_PARSE_POLICY).parsebytes(raw, headersonly=True)
    block = _newest_resent_block(fields)
    block_fields = [fields[i] for i in block]
    block_names = {_field_name(f) for f in block_fields}
    recipients: list[str] = []
    if take_header_recipients:
        if block:
            wanted = (b"resent-to", b"resent-cc", b"resent-bcc")
            recipients += _field_addresses(f for f in block_fields if _field_name(f) in wanted)
        else:
            wanted = (b"to", b"cc", b"bcc")
            recipients += _field_addresses(f for f in fields if _field_name(f) in wanted)
    for value in extra_recipients:
        refuse_line_breaks("recipient", value)
        recipients += [a for _n, a in email.utils.getaddresses([value]) if a]
    recipients = _dedupe(recipients)
    if not recipients:
        if block:
            raise MessageError(
                "no recipients in the newest resent block",
                hint="a message with Resent-* fields goes to its Resent-To/-Cc/-Bcc: add them",
            )
        raise MessageError("no recipients", hint="add To:, Cc: or Bcc: headers, or name them")
    for addr in recipients:
        if addr.count("@") != 1:
            raise MessageError(f"{addr!r} is not an e-mail address")

    names = {_field_name(f) for f in fields if b":" in f}
    sender_addr = envelope_from or default_from.addr
    if not block and b"from" in names:
        froms = email.utils.getaddresses([str(v) for v in parsed.get_all("from", [])])
        if not envelope_from and froms and froms[0][1]:
            sender_addr = froms[0][1]
    resent_added: list[bytes] = []
    message_id = str(parsed.get("message-id", "")).strip()
    if block:
        # Bounces of a resend go to whoever resent it (Resent-Sender, else Resent-From).
        for name in (b"resent-sender", b"resent-from"):
            given = _field_addresses(f for f in block_fields if _field_name(f) == name)
            if given and not envelope_from:
                sender_addr = given[0]
                break
        if b"resent-from" not in block_names:
            resent_added.append(_encoded_header("Resent-From", _header_address(default_from)))
        if b"resent-date" not in block_names:
            now = email.utils.format_datetime(datetime.now().astimezone())
            resent_added.append(f"Resent-Date: {now}".encode())
        resent_ids = [f for f in block_fields if _field_name(f) == b"resent-message-id"]
        if resent_ids:
            message_id = resent_ids[0].split(b":", 1)[1].decode("ascii", "replace").strip()
        else:
            message_id = _msgid(sender_addr.rpartition("@")[2])
            resent_added.append(f"Resent-Message-ID: {message_id}".encode())

    kept: list[bytes] = []
    for i, f in enumerate(fields):
        if block and i == block.start:
            kept += resent_added  # on top of the newest block, so it stays one block
        if _field_name(f) not in (b"bcc", b"resent-bcc"):
            kept.append(f)
    added: list[bytes] = []
    if b"from" not in names:
        added.append(_encoded_header("From", _header_address(default_from)))
    if b"date" not in names:
        added.append(f"Date: {email.utils.format_datetime(datetime.now().astimezone())}".encode())
    if b"message-id" not in names or not str(parsed.get("message-id", "")).strip():
        new_id = _msgid(sender_addr.rpartition("@")[2])
        added.append(f"Message-ID: {new_id}".encode())
        if not block:
            message_id = new_id
    data = b"\n".join(kept + added) + (rest if rest else b"\n\n")
    if not data.endswith(b"\n"):
        data += b"\n"
    return Composed(
        data=data,
        sender=sender_addr,
        recipients=tuple(recipients),
        message_id=message_id,
        subject=str(parsed.get("subject", "")),
    )


def message_size_limit(account_limit: int | None, server_size: int | None) -> int | None:
    """The effective max_message_size: the account's, else the server's SIZE (0 = none)."""
    if account_limit is not None:
        return account_limit
    return server_size or None
