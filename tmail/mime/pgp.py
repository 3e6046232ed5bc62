"""OpenPGP in received mail: find it, have it verified or decrypted, say what it means.

:func:`open_protected` takes a raw message and returns the bytes to show plus a
:class:`CryptoStatus`. It recognises

* PGP/MIME (RFC 3156): ``multipart/encrypted`` (the decrypted entity takes the place of the
  encrypted one) and ``multipart/signed`` (the first part verified over its exact bytes, line
  ends made CRLF as section 5 asks);
* inline PGP: a ``text/plain`` part holding an armored ``PGP MESSAGE`` or a clear-signed
  ``PGP SIGNED MESSAGE`` (the block is replaced by its text).

The gpg work is a :class:`PgpBackend`'s (:mod:`tmail.mime.gpg` is the real one); this module only
reads structure and gpg's status lines (doc/DETAILS in GnuPG), so it is tested with byte
literals. Nothing here writes to disk and nothing raises: whatever fails becomes the status's
``error`` and the message is shown as far as it can be read. The decrypted bytes live in memory
only: callers parse them and show them, they never go to the store or its index.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from tmail.mime import headers as hdr
from tmail.mime.parts import _decoded, _Part
from tmail.mime.structure import _Parser

MAX_LAYERS = 4  # encryption and signature layers opened one inside the other
_SEARCH_DEPTH = 3  # how deep in the structure a protected part is looked for
_ARMOR_HINT = b"-----BEGIN PGP "

# RFC 4880 section 9.4 hash algorithm ids -> the micalg names of RFC 3156 section 5.
HASH_NAMES = {
    "1": "pgp-md5",
    "2": "pgp-sha1",
    "3": "pgp-ripemd160",
    "8": "pgp-sha256",
    "9": "pgp-sha384",
    "10": "pgp-sha512",
    "11": "pgp-sha224",
}


@dataclass(frozen=True)
class GpgOutcome:
    """What one gpg run gave: its output, its status lines (without the ``[GNUPG:]`` prefix),
    and, when gpg could not run at all, why."""

    ok: bool
    data: bytes
    status: tuple[str, ...]
    failure: str | None = None  # gpg missing or crashed: a sentence for the status line


class PgpBackend(Protocol):
    """The gpg operations reading needs (:class:`tmail.mime.gpg.GnupgBackend`)."""

    def decrypt(self, data: bytes) -> GpgOutcome: ...

    def verify_detached(self, data: bytes, signature: bytes) -> GpgOutcome: ...

    def key_uids(self, keys: Iterable[str]) -> dict[str, tuple[str, ...]]: ...


@dataclass(frozen=True)
class Signature:
    """One signature's verdict.

    ``status``: ``good``, ``bad`` (the text was changed or the signature forged),
    ``unknown-key`` (no public key to check it), ``expired-key``, ``revoked-key``,
    ``expired`` (the signature itself), ``error`` (unreadable).
    """

    status: str
    signer: str = ""  # the user id gpg names
    fingerprint: str = ""  # of the signing (sub)key's primary key when known
    key_id: str = ""
    trusted: bool = False  # the key's validity is full or ultimate
    validity: str = ""  # gpg's: ultimate, full, marginal, undefined, never
    matches_from: bool | None = None  # one of the key's addresses is the From address
    hash_name: str = ""  # pgp-sha256 ...

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "signer": self.signer,
            "fingerprint": self.fingerprint,
            "trusted": self.trusted,
            "matches_from": self.matches_from,
        }


@dataclass(frozen=True)
class CryptoStatus:
    """What OpenPGP in one message amounts to (``tmail show --json``'s ``crypto``)."""

    kind: str  # "pgp/mime" or "inline"
    encrypted: bool = False
    decrypted: bool = False
    signed: bool = False
    signature: Signature | None = None
    encrypted_to: tuple[str, ...] = ()  # key ids, with their user id when the keyring has it
    error: str | None = None
    notes: tuple[str, ...] = ()  # lesser findings (a micalg that does not match ...)
    partial: bool = False  # only a part of the message is signed/encrypted

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "encrypted": self.encrypted,
            "decrypted": self.decrypted,
            "signed": self.signed,
            "signature": self.signature.to_json() if self.signature else None,
            "encrypted_to": list(self.encrypted_to),
            "partial": self.partial,
            "error": self.error,
            "notes": list(self.notes),
        }

    @property
    def level(self) -> str:
        """``good`` (decrypted and/or a good trusted signature matching From), ``bad`` (a bad
        signature or a failure), else ``doubt``: the pager colours the line by it."""
        sig = self.signature
        if self.error or (sig is not None and sig.status != "good"):
            serious = sig is not None and sig.status in ("bad", "error", "revoked-key")
            return "bad" if self.error or serious else "doubt"
        if sig is not None and not (sig.trusted and sig.matches_from is not False):
            return "doubt"
        return "good"

    def line(self) -> str:
        """The one status line the pager shows above the text (not yet terminal-safe)."""
        parts: list[str] = []
        if self.encrypted:  # the verdicts first; to whom (long) last
            parts.append("decrypted" if self.decrypted else "encrypted")
        if self.signature is not None:
            parts.append(_signature_words(self.signature))
        elif self.signed and not self.error:
            parts.append("signed")
        if self.error:
            parts.append(self.error)
        parts.extend(self.notes)
        if self.partial:
            parts.append("only part of the message")
        if self.encrypted and self.encrypted_to:
            parts.append("encrypted to " + ", ".join(self.encrypted_to))
        return "PGP: " + "; ".join(parts)


def _signature_words(sig: Signature) -> str:
    who = sig.signer or (f"key {sig.key_id}" if sig.key_id else "an unknown key")
    fpr = f", key {sig.fingerprint}" if sig.fingerprint else ""
    if sig.status == "good":
        trust = "trusted" if sig.trusted else f"key not trusted ({sig.validity or 'unknown'})"
        words = f"good signature from {who}, {trust}"
        if sig.matches_from is False:
            words += ", signer is not the From address"
        return words + fpr
    return {
        "bad": f"BAD signature claiming {who}{fpr}: the text was changed or the signature forged",
        "unknown-key": f"signature by unknown key {sig.key_id or sig.fingerprint}: import the "
        "key to check it",
        "expired-key": f"good signature from {who}{fpr}, but the key has expired",
        "revoked-key": f"signature from {who}{fpr}, but the key is REVOKED",
        "expired": f"expired signature from {who}{fpr}",
    }.get(sig.status, "the signature cannot be checked (malformed or unreadable)")


# --- gpg's status lines -----------------------------------------------------------------------

_TRUST = {
    "TRUST_UNDEFINED": "undefined",
    "TRUST_NEVER": "never",
    "TRUST_MARGINAL": "marginal",
    "TRUST_FULLY": "full",
    "TRUST_ULTIMATE": "ultimate",
}


_VERDICTS = {
    "GOODSIG": "good",
    "BADSIG": "bad",
    "EXPSIG": "expired",
    "EXPKEYSIG": "expired-key",
    "REVKEYSIG": "revoked-key",
}


@dataclass
class StatusReading:
    """What a run's status lines say (GnuPG doc/DETAILS, "Format of the status codes")."""

    signature: Signature | None = None
    encrypted_to: list[str] = field(default_factory=list)
    decryption_ok: bool = False
    decryption_failed: bool = False
    no_seckey: list[str] = field(default_factory=list)
    no_data: bool = False
    bad_armor: bool = False
    created_hash: str = ""  # SIG_CREATED's hash algorithm, as a micalg name
    error_codes: list[int] = field(default_factory=list)  # of ERROR/FAILURE lines (libgpg-error)


def read_status(lines: Sequence[str]) -> StatusReading:
    """Read the status lines of one gpg run (the first signature counts)."""
    out = StatusReading()
    sig: dict[str, str] = {}
    for line in lines:
        key, _, rest = line.partition(" ")
        args = rest.split()
        if key == "ENC_TO" and args:
            out.encrypted_to.append(args[0].upper())
        elif key == "DECRYPTION_OKAY":
            out.decryption_ok = True
        elif key == "DECRYPTION_FAILED":
            out.decryption_failed = True
        elif key == "NO_SECKEY" and args:
            out.no_seckey.append(args[0].upper())
        elif key == "NODATA":
            out.no_data = True
        elif key == "BADARMOR":
            out.bad_armor = True
        elif key in ("ERROR", "FAILURE") and len(args) >= 2 and args[1].isdigit():
            out.error_codes.append(int(args[1]) & 0xFFFF)  # the code without its source
        elif key == "SIG_CREATED" and len(args) >= 3:
            out.created_hash = HASH_NAMES.get(args[2], "")
        elif (
            key in ("GOODSIG", "BADSIG", "EXPSIG", "EXPKEYSIG", "REVKEYSIG") and "status" not in sig
        ):
            sig["status"] = {
                "GOODSIG": "good",
                "BADSIG": "bad",
                "EXPSIG": "expired",
                "EXPKEYSIG": "expired-key",
                "REVKEYSIG": "revoked-key",
            }[key]
            key_id, _, uid = rest.partition(" ")
            sig["key_id"], sig["signer"] = key_id.upper(), _percent_unescape(uid)
        elif key == "ERRSIG" and "status" not in sig and args:
            # ERRSIG keyid pkalgo hashalgo class time rc [fpr]; rc 9 = no public key
            sig["status"] = "unknown-key" if args[5:6] == ["9"] else "error"
            sig["key_id"] = args[0].upper()
            if len(args) >= 7 and args[6] != "-":
                sig["fingerprint"] = args[6].upper()
            sig["hash"] = HASH_NAMES.get(args[2], "") if len(args) > 2 else ""
        elif key == "VALIDSIG" and args and "validsig" not in sig:
            sig["validsig"] = "1"
            sig["fingerprint"] = (args[9] if len(args) >= 10 else args[0]).upper()
            sig["hash"] = HASH_NAMES.get(args[7], "") if len(args) > 7 else ""
        elif key in _TRUST and "validity" not in sig:
            sig["validity"] = _TRUST[key]
    if "status" in sig:
        validity = sig.get("validity", "")
        out.signature = Signature(
            status=sig["status"],
            signer=sig.get("signer", ""),
            fingerprint=sig.get("fingerprint", ""),
            key_id=sig.get("key_id", ""),
            trusted=sig["status"] == "good" and validity in ("full", "ultimate"),
            validity=validity,
            hash_name=sig.get("hash", ""),
        )
    return out


def _percent_unescape(text: str) -> str:
    """gpg writes a user id's bytes (UTF-8) with some of them as %XX."""
    raw = re.sub(
        rb"%([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), text.encode("utf-8")
    )
    return raw.decode("utf-8", errors="replace")


# --- finding what is protected ----------------------------------------------------------------


def _has_armor(part: _Part) -> bool:
    if part.ctype != "text/plain" or part.children:
        return False
    return _ARMOR_HINT in _decoded(part)


def _protected(part: _Part) -> bool:
    if part.ctype == "multipart/encrypted":
        return part.params.get("protocol", "").lower() == "application/pgp-encrypted"
    if part.ctype == "multipart/signed":
        return part.params.get("protocol", "").lower() == "application/pgp-signature"
    return _has_armor(part)


def _find(top: _Part) -> _Part | None:
    """The first protected part, breadth first, not deeper than :data:`_SEARCH_DEPTH`."""
    level = [top]
    for _ in range(_SEARCH_DEPTH + 1):
        nxt: list[_Part] = []
        for part in level:
            if _protected(part):
                return part
            if part.ctype.startswith("multipart/"):
                nxt.extend(part.children)
        level = nxt
    return None


def looks_protected(raw: bytes) -> bool:
    """Cheap test before any parsing: the message may hold OpenPGP."""
    return (
        b"application/pgp-encrypted" in raw
        or b"application/pgp-signature" in raw
        or _ARMOR_HINT in raw
        or b"LS0tLS1CRUdJTiBQR1Ag" in raw  # the armor line in base64 (3-byte aligned)
        or b"=2D=2D=2D=2D=2DBEGIN PGP " in raw
    )


# --- putting the result back ------------------------------------------------------------------

_FIELD = re.compile(rb"^([!-9;-~]+)[ \t]*:")


def _header_lines(block: bytes) -> list[tuple[bytes, bytes]]:
    """A header block as (lower-case name, the field's raw lines)."""
    fields: list[tuple[bytes, bytes]] = []
    for line in block.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t") and fields:
            name, text = fields[-1]
            fields[-1] = (name, text + line)
            continue
        m = _FIELD.match(line)
        if m:
            fields.append((m.group(1).lower(), line))
    return fields


_CONTENT_FIELDS = (b"content-", b"mime-version")
_PROTECTED = (b"subject", b"from", b"to", b"cc", b"reply-to", b"date", b"message-id")


def _splice(raw: bytes, part: _Part, entity: bytes) -> bytes:
    """``raw`` with ``part`` replaced by ``entity`` (a MIME entity: header, blank line, body).

    The part's own fields that are not about its content (From, Subject ... of a whole
    message) stay; the content fields are the entity's. With ``protected-headers`` (RFC 9788)
    the entity's Subject, From, To ... replace the outer ones.
    """
    own = _header_lines(raw[part.head : part.start])
    split = re.search(rb"\r?\n\r?\n", entity)
    if split is None and entity[:1] in (b"\n", b"\r"):
        inner_head, body = b"", entity.lstrip(b"\r\n")
    elif split is None or not _FIELD.match(entity):
        inner_head, body = b"", entity
    else:
        inner_head, body = entity[: split.start()] + b"\n", entity[split.end() :]
    inner = _header_lines(inner_head)
    ctype = next((text for name, text in inner if name == b"content-type"), b"")
    replaced = {n for n, _ in inner if n in _PROTECTED} if b"protected-headers" in ctype else set()
    kept = [
        text for name, text in own if not name.startswith(_CONTENT_FIELDS) and name not in replaced
    ]
    taken = [text for name, text in inner if name.startswith(_CONTENT_FIELDS) or name in replaced]
    header = b"".join(t if t.endswith(b"\n") else t + b"\n" for t in kept + taken)
    return raw[: part.head] + header + b"\n" + body + raw[part.end :]


def _canonical(data: bytes) -> bytes:
    """CRLF line ends (RFC 3156 section 5: the signature is over the canonical form)."""
    return re.sub(rb"\r?\n", b"\r\n", data)


# --- one layer --------------------------------------------------------------------------------


# libgpg-error codes (gpg-error.h) that say why the secret key could not be used.
_AGENT_ERRORS = {
    11: "bad passphrase",
    85: "no pinentry program to ask for the passphrase",
    86: "the pinentry program failed",
    99: "the passphrase was not given (cancelled)",
    198: "the passphrase was not given (cancelled)",
    32870: "no terminal to ask for the passphrase on: set GPG_TTY=$(tty) (gpg-agent(1))",
}


def _describe_failure(reading: StatusReading, outcome: GpgOutcome) -> str:
    if outcome.failure:
        return f"cannot run gpg: {outcome.failure}"
    why = next((_AGENT_ERRORS[c] for c in reading.error_codes if c in _AGENT_ERRORS), None)
    if why:
        return f"cannot decrypt: {why}"
    if reading.no_seckey and not reading.decryption_ok:
        keys = ", ".join(reading.no_seckey)
        return f"cannot decrypt: no secret key for {keys} in your keyring"
    if reading.bad_armor or reading.no_data:
        return "cannot decrypt: the armored data is damaged or cut short"
    return "cannot decrypt: gpg failed"


def _names(backend: PgpBackend, ids: Sequence[str]) -> tuple[str, ...]:
    known = backend.key_uids(ids)
    return tuple(f"{k}" + (f" ({known[k][0]})" if known.get(k) else "") for k in ids)


def _with_from(sig: Signature, backend: PgpBackend, sender: str) -> Signature:
    """``matches_from``: one of the signing key's addresses is the From address."""
    if not sender or sig.status not in ("good", "expired-key", "revoked-key", "expired"):
        return sig
    keys = [k for k in (sig.fingerprint, sig.key_id) if k]
    uids = next((u for k in keys if (u := backend.key_uids([k]).get(k))), ())
    addrs = {a.addr.lower() for uid in (*uids, sig.signer) for a in hdr.parse_addresses([uid])}
    return replace(sig, matches_from=sender.lower() in addrs)


def _decrypt_layer(
    raw: bytes, part: _Part, backend: PgpBackend
) -> tuple[bytes, CryptoStatus, bool]:
    """A multipart/encrypted part: the raw message with it decrypted (or unchanged), the
    status, and whether something was opened."""
    if len(part.children) < 2:
        return (
            raw,
            CryptoStatus("pgp/mime", encrypted=True, error="malformed encrypted part"),
            False,
        )
    outcome = backend.decrypt(_decoded(part.children[1]))
    reading = read_status(outcome.status)
    status = CryptoStatus(
        "pgp/mime",
        encrypted=True,
        encrypted_to=_names(backend, reading.encrypted_to),
        signature=reading.signature,
        signed=reading.signature is not None,
    )
    if not (reading.decryption_ok and outcome.data):
        return raw, replace(status, error=_describe_failure(reading, outcome)), False
    return _splice(raw, part, outcome.data), replace(status, decrypted=True), True


def _verify_layer(part: _Part, backend: PgpBackend) -> CryptoStatus:
    status = CryptoStatus("pgp/mime", signed=True)
    if len(part.children) < 2 or part.children[1].ctype != "application/pgp-signature":
        return replace(status, error="malformed signed message: no signature part")
    first = part.children[0]
    signed = _canonical(first.buf[first.head : first.end])
    outcome = backend.verify_detached(signed, _decoded(part.children[1]))
    reading = read_status(outcome.status)
    if outcome.failure:
        return replace(status, error=f"cannot run gpg: {outcome.failure}")
    sig = reading.signature
    if sig is None:
        return replace(status, error="malformed signature part: no OpenPGP signature in it")
    notes: tuple[str, ...] = ()
    micalg = part.params.get("micalg", "").lower()
    if sig.hash_name and micalg != sig.hash_name:
        notes = (f"micalg {micalg or '(none)'} does not name the hash used ({sig.hash_name})",)
    return replace(status, signature=sig, notes=notes)


_BLOCK = re.compile(
    rb"-----BEGIN PGP (SIGNED )?MESSAGE-----\r?\n.*?(?:-----END PGP (?:SIGNATURE|MESSAGE)-----|\Z)",
    re.S,
)


def _inline_layer(raw: bytes, part: _Part, backend: PgpBackend) -> tuple[bytes, CryptoStatus, bool]:
    """A text/plain part holding an armored block: the block replaced by its text."""
    body = _decoded(part)
    m = _BLOCK.search(body)
    if m is None:
        return raw, CryptoStatus("inline"), False
    clearsigned = m.group(1) is not None
    status = CryptoStatus("inline", encrypted=not clearsigned, signed=clearsigned)
    truncated = not m.group(0).rstrip().endswith(b"-----")
    outcome = backend.decrypt(m.group(0) + b"\n")
    reading = read_status(outcome.status)
    status = replace(
        status,
        signature=reading.signature,
        signed=clearsigned or reading.signature is not None,
        encrypted_to=_names(backend, reading.encrypted_to),
    )
    opened = bool(outcome.data) and (clearsigned or reading.decryption_ok)
    if not opened:
        if clearsigned:
            why = "the signed block is cut short" if truncated else "the signed block is unreadable"
            return raw, replace(status, error=why), False
        return raw, replace(status, error=_describe_failure(reading, outcome)), False
    if clearsigned and reading.signature is None:
        status = replace(status, error="the signature block is malformed")
    if truncated and clearsigned:
        status = replace(status, error="the signature block is cut short")
    before, after = body[: m.start()], body[m.end() :]
    text = outcome.data
    outside = before.strip() or after.strip()
    if outside:  # text around the block is not covered: mark where the protected text is
        word = "signed" if clearsigned else "decrypted"
        text = b"[-- Begin " + word.encode() + b" text --]\n" + text.rstrip(b"\r\n")
        text += b"\n[-- End " + word.encode() + b" text --]\n"
    fields = _header_lines(part.buf[part.head : part.start])
    ctype = next((t.partition(b":")[2].strip() for n, t in fields if n == b"content-type"), b"")
    entity = (
        b"Content-Type: "
        + (ctype or b"text/plain")
        + b"\nContent-Transfer-Encoding: 8bit\n\n"
        + before
        + text
        + after
    )
    status = replace(status, decrypted=not clearsigned, partial=bool(outside))
    return _splice(raw, part, entity), status, True


# --- the whole message ------------------------------------------------------------------------


@dataclass(frozen=True)
class Opened:
    """A message ready to parse: ``raw`` is the input with its protected parts opened (in
    memory only), ``crypto`` says what was found (None: no OpenPGP in it)."""

    raw: bytes
    crypto: CryptoStatus | None


def _merge(outer: CryptoStatus | None, inner: CryptoStatus) -> CryptoStatus:
    if outer is None:
        return inner
    return replace(
        outer,
        signed=outer.signed or inner.signed,
        signature=outer.signature or inner.signature,
        error=outer.error or inner.error,
        notes=outer.notes + inner.notes,
        partial=outer.partial or inner.partial,
    )


def open_protected(raw: bytes, backend: Callable[[], PgpBackend]) -> Opened:
    """Decrypt and verify the OpenPGP in ``raw``; ``backend`` is called only when there is
    some. Never raises: a failure is the status's ``error`` and ``raw`` is returned as it is."""
    if not looks_protected(raw):
        return Opened(raw, None)
    try:
        return _open(raw, backend)
    except Exception as exc:  # a bug must not stop a message from being shown; say so
        return Opened(raw, CryptoStatus("pgp/mime", error=f"OpenPGP: {type(exc).__name__}"))


def _open(raw: bytes, backend_factory: Callable[[], PgpBackend]) -> Opened:
    status: CryptoStatus | None = None
    gpg: PgpBackend | None = None
    sender = ""
    for _ in range(MAX_LAYERS):
        top = _Parser(()).parse(raw)
        if not sender:
            found = hdr.parse_addresses(top.get_all("from"), ())
            sender = found[0].addr if found else ""
        part = _find(top)
        if part is None:
            break
        if gpg is None:
            gpg = backend_factory()
        partial = part is not top and not _only_child(top, part)
        if part.ctype == "multipart/signed":
            layer = _verify_layer(part, gpg)
            status = _merge(status, replace(layer, partial=partial))
            break  # the signed text is shown as it is; what it holds is not opened further
        if part.ctype == "multipart/encrypted":
            raw, layer, opened = _decrypt_layer(raw, part, gpg)
        else:
            raw, layer, opened = _inline_layer(raw, part, gpg)
            opened = False  # its text may quote armor of its own: not opened again
        layer = replace(layer, partial=layer.partial or partial)
        status = _merge(status, layer)
        if not opened:
            break
    if status is not None and status.signature is not None and gpg is not None:
        status = replace(status, signature=_with_from(status.signature, gpg, sender))
    return Opened(raw, status)


def _only_child(top: _Part, part: _Part) -> bool:
    """``part`` is all there is to read of ``top`` (a multipart with nothing else in it)."""
    node = top
    while len(node.children) == 1:
        node = node.children[0]
        if node is part:
            return True
    return False
