"""Autocrypt level 1 headers (https://autocrypt.org/level1.html): the ``Autocrypt:`` field tmail
adds to what it sends, and the one it reads in received mail to learn a correspondent's key.

Parsing and building the field are pure; :func:`learn` has a gpg backend import the key.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Protocol

from tmail.mime import headers as hdr
from tmail.mime.structure import _Parser

MAX_KEYDATA = 64 * 1024  # a key in a header larger than this is not read


@dataclass(frozen=True)
class AutocryptHeader:
    addr: str
    prefer_encrypt: bool  # "mutual": the sender prefers encrypted replies
    keydata: bytes  # the OpenPGP key, binary


def read_header(raw: bytes) -> AutocryptHeader | None:
    """The message's Autocrypt field, when it is valid: exactly one, its ``addr`` the From
    address, no unknown critical attribute, ``keydata`` that decodes (spec section 2.3)."""
    top = _Parser(()).entity(raw, 0, len(raw))
    values = top.get_all("autocrypt")
    senders = hdr.parse_addresses(top.get_all("from"), ())
    if len(values) != 1 or len(senders) != 1:
        return None
    attrs: dict[str, str] = {}
    for item in " ".join(values[0].split()).split(";"):
        name, sep, value = item.strip().partition("=")
        if not sep:
            continue
        name = name.strip().lower()
        if name in ("addr", "prefer-encrypt", "keydata"):
            attrs[name] = value.strip()
        elif not name.startswith("_"):
            return None  # an unknown critical attribute: the whole field is ignored
    addr = attrs.get("addr", "").lower()
    if not addr or addr != senders[0].addr.lower() or len(attrs.get("keydata", "")) > MAX_KEYDATA:
        return None
    try:
        key = base64.b64decode("".join(attrs.get("keydata", "").split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    if not key:
        return None
    return AutocryptHeader(addr, attrs.get("prefer-encrypt", "").lower() == "mutual", key)


def header_field(addr: str, keydata: bytes, *, mutual: bool) -> bytes:
    """``Autocrypt: addr=...; [prefer-encrypt=mutual; ]keydata=...`` folded in lines of 78."""
    text = base64.b64encode(keydata).decode("ascii")
    lines = [f"Autocrypt: addr={addr};" + (" prefer-encrypt=mutual;" if mutual else "")]
    lines.append(" keydata=")
    for i in range(0, len(text), 72):
        if len(lines[-1]) + len(text[i : i + 72]) > 78:
            lines.append(" ")
        lines[-1] += text[i : i + 72]
    return "\n".join(lines).encode("ascii")


class KeyStore(Protocol):
    def find_key(self, address: str, secret: bool = False) -> str | None: ...

    def import_key(self, keydata: bytes) -> tuple[str, ...]: ...


def learn(raw: bytes, keys: KeyStore) -> str | None:
    """Import the key in ``raw``'s Autocrypt header when the keyring has no key for that
    address yet (a key already there is never joined by another one from a header: a forged
    From cannot slip a second key in); the address learned, else None."""
    found = read_header(raw)
    if found is None or keys.find_key(found.addr) is not None:
        return None
    return found.addr if keys.import_key(found.keydata) else None
