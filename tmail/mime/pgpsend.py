"""OpenPGP for what is sent: a composed message in, the same message signed and/or encrypted as
PGP/MIME (RFC 3156) out.

:func:`protect` is bytes in, bytes out; the gpg work is a :class:`PgpSender`'s
(:class:`tmail.mime.gpg.GnupgBackend`). The fields about the message (From, To, Subject, Date,
Message-ID ...) stay outside; its content (the Content-* fields and the body) is what is signed
or encrypted. Signing puts that content in 7-bit form first (section 3: a signed part must pass
any transport unchanged) and names in ``micalg`` the hash gpg says it used. Encryption goes to
every recipient and to the sender (the Sent copy stays readable), signs in the same pass when
asked (section 6.2), and carries the Subject inside as a protected header (RFC 9788) while the
outside says "...". A recipient without a usable key stops everything with an error naming
them: nothing is ever sent in clear because encryption was not possible.
"""

from __future__ import annotations

import email
import email.policy
import quopri
import re
from collections.abc import Sequence
from email.generator import BytesGenerator
from io import BytesIO
from typing import Protocol

from tmail.core.errors import MessageError
from tmail.mime.pgp import GpgOutcome, read_status

_POLICY = email.policy.default.clone(linesep="\n", max_line_length=78)
_FIELD = re.compile(rb"^([!-9;-~]+)[ \t]*:")
_CONTENT = (b"content-", b"mime-version")
HIDDEN_SUBJECT = "..."  # RFC 9788 section 4.2: what the outside says instead of the subject
# Copied inside an encrypted message as protected headers (RFC 9788 section 2).
_PROTECTED = (b"from", b"to", b"cc", b"reply-to", b"subject", b"date", b"message-id")


class PgpSender(Protocol):
    def sign_detached(self, data: bytes, key: str | None = None) -> GpgOutcome: ...

    def encrypt(
        self, data: bytes, recipients: Sequence[str], sign_key: str | None = None
    ) -> GpgOutcome: ...

    def find_key(self, address: str, secret: bool = False) -> str | None: ...

    def export_minimal(self, fingerprint: str) -> bytes: ...


def missing_keys(backend: PgpSender, recipients: Sequence[str]) -> list[str]:
    """The recipients with no usable encryption key in the keyring (what the review shows)."""
    return [r for r in recipients if backend.find_key(r) is None]


def _split(data: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """(lower-case name, the field's lines) for each header field, and the body."""
    data = data.replace(b"\r\n", b"\n")
    head, sep, body = data.partition(b"\n\n")
    if not sep:
        head, body = data, b""
    fields: list[tuple[bytes, bytes]] = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] = (fields[-1][0], fields[-1][1] + b"\n" + line)
        elif m := _FIELD.match(line):
            fields.append((m.group(1).lower(), line))
    return fields, body


def _seven_bit(entity: bytes) -> bytes:
    """``entity`` with every 8-bit leaf part quoted-printable (a part already 7-bit is kept
    byte for byte)."""
    if entity.isascii():
        return entity
    msg = email.message_from_bytes(entity, policy=email.policy.default)
    for part in msg.walk():
        if part.is_multipart() or part.get_content_maintype() == "message":
            continue
        cte = str(part.get("Content-Transfer-Encoding", "7bit")).strip().lower()
        if cte not in ("8bit", "binary", "7bit"):
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes) or payload.isascii():
            continue
        del part["Content-Transfer-Encoding"]
        part["Content-Transfer-Encoding"] = "quoted-printable"
        part.set_payload(quopri.encodestring(payload.replace(b"\r\n", b"\n")).decode("ascii"))
    out = BytesIO()
    BytesGenerator(out, mangle_from_=False, policy=_POLICY).flatten(msg)
    return out.getvalue()


def _crlf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _boundary(tag: str, *parts: bytes) -> bytes:
    """A boundary that none of ``parts`` contains."""
    n = 0
    while True:
        candidate = f"=-=tmail-{tag}-{n}=-=".encode()
        if not any(candidate in p for p in parts):
            return candidate
        n += 1


def _gpg_failed(what: str, outcome: GpgOutcome) -> MessageError:
    why = outcome.failure or "; ".join(
        line for line in outcome.status if line.startswith(("INV_RECP", "INV_SGNR", "FAILURE"))
    )
    return MessageError(
        f"gpg could not {what}" + (f": {why}" if why else ""),
        hint="check the key with 'gpg --list-secret-keys' and that gpg-agent can ask for the "
        "passphrase (a pinentry program)",
    )


def sign_entity(entity: bytes, backend: PgpSender, key: str | None) -> bytes:
    """``entity`` (a MIME entity, LF ends) as multipart/signed; the signature covers it in its
    canonical CRLF form, ``micalg`` is the hash gpg reports in SIG_CREATED."""
    entity = _seven_bit(entity).rstrip(b"\n") + b"\n"
    outcome = backend.sign_detached(_crlf(entity), key)
    micalg = read_status(outcome.status).created_hash
    if not outcome.data or not micalg:
        raise _gpg_failed("sign the message", outcome)
    boundary = _boundary("signed", entity, outcome.data)
    # The CRLF before a delimiter belongs to it (RFC 2046 section 5.1.1): the signed text ends
    # with the entity's own last line break, as _crlf(entity) above.
    return (
        b'Content-Type: multipart/signed; micalg="' + micalg.encode() + b'";\n'
        b' protocol="application/pgp-signature"; boundary="' + boundary + b'"\n\n'
        b"This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\n"
        b"--" + boundary + b"\n" + entity + b"\n"
        b"--" + boundary + b"\n"
        b'Content-Type: application/pgp-signature; name="signature.asc"\n'
        b"Content-Description: OpenPGP digital signature\n"
        b'Content-Disposition: attachment; filename="signature.asc"\n\n'
        + outcome.data.replace(b"\r\n", b"\n").rstrip(b"\n")
        + b"\n--"
        + boundary
        + b"--\n"
    )


def encrypt_entity(
    entity: bytes, backend: PgpSender, keys: Sequence[str], sign_key: str | None
) -> bytes:
    """``entity`` as multipart/encrypted to ``keys`` (fingerprints), signed inside when
    ``sign_key`` is given."""
    outcome = backend.encrypt(_crlf(entity), keys, sign_key)
    if b"-----BEGIN PGP MESSAGE-----" not in outcome.data:
        raise _gpg_failed("encrypt the message", outcome)
    boundary = _boundary("encrypted", outcome.data)
    return (
        b'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";\n'
        b' boundary="' + boundary + b'"\n\n'
        b"This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\n"
        b"--" + boundary + b"\n"
        b"Content-Type: application/pgp-encrypted\n"
        b"Content-Description: PGP/MIME version identification\n\n"
        b"Version: 1\n\n"
        b"--" + boundary + b"\n"
        b'Content-Type: application/octet-stream; name="encrypted.asc"\n'
        b"Content-Description: OpenPGP encrypted message\n"
        b'Content-Disposition: inline; filename="encrypted.asc"\n\n'
        + outcome.data.replace(b"\r\n", b"\n").rstrip(b"\n")
        + b"\n--"
        + boundary
        + b"--\n"
    )


def protect(
    data: bytes,
    *,
    sign: bool,
    encrypt: bool,
    sender: str,
    recipients: Sequence[str],
    backend: PgpSender,
    key: str | None = None,
) -> bytes:
    """The message ``data`` (LF or CRLF ends) signed and/or encrypted as PGP/MIME (LF ends).

    ``key`` is the signing key (default: the sender's own); encryption goes to each of
    ``recipients`` and to the sender. Raises MessageError, and returns nothing to send, when a
    recipient has no usable key, the sender has none, or gpg fails.
    """
    if not (sign or encrypt):
        return data
    fields, body = _split(data)
    content = [text for name, text in fields if name.startswith(b"content-")]
    if not content:  # RFC 2045 section 5.2: the default
        content = [b"Content-Type: text/plain; charset=us-ascii"]
    outer = [(name, text) for name, text in fields if not name.startswith(_CONTENT)]
    own = key or backend.find_key(sender, secret=True)
    if own is None:
        raise MessageError(
            f"no OpenPGP secret key of yours for {sender}",
            hint="make or import one (gpg --quick-gen-key), or name it with pgp_key in the "
            "account's configuration",
        )
    if encrypt:
        lacking = missing_keys(backend, recipients)
        if lacking:
            raise MessageError(
                "not sent: no OpenPGP key for " + ", ".join(lacking),
                hint="import their keys (gpg --import), or send without encryption",
            )
        keys = [k for r in recipients if (k := backend.find_key(r))]
        keys.append(own)  # the Sent copy stays readable
        inner_head = list(content)
        first = inner_head[0]
        if first.lower().startswith(b"content-type:"):
            inner_head[0] = first + b'; protected-headers="v1"'
        inner_head += [text for name, text in outer if name in _PROTECTED]
        entity = b"\n".join(inner_head) + b"\n\n" + body
        wrapped = encrypt_entity(entity, backend, keys, own if sign else None)
        outer = [
            (n, b"Subject: " + HIDDEN_SUBJECT.encode() if n == b"subject" else t) for n, t in outer
        ]
    else:
        entity = b"\n".join(content) + b"\n\n" + body
        wrapped = sign_entity(entity, backend, own)
    head = b"\n".join(text for _name, text in outer)
    return head + b"\nMIME-Version: 1.0\n" + wrapped
