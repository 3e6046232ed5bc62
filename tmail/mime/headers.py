"""Header fields: RFC 2047 encoded words, addresses, dates, MIME parameters (RFC 2045/2231).

Hand-written rather than ``email.header``/``email.headerregistry`` because those either raise on
what real mail contains (unknown charset labels, bad base64 padding, an encoded word split in the
middle of a multi-byte character) or silently give up and return the raw ``=?...?=`` text. Each
function here is lenient, fast on plain ASCII, and never raises.
"""

from __future__ import annotations

import binascii
import email.utils
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

from tmail.core.models import Address
from tmail.mime.charsets import decode_text, normalize_charset

# An encoded word (RFC 2047 section 2), leniently: spaces are tolerated inside Q text, as
# Outlook and some list servers produce them.
# Encoded text never contains "?" (RFC 2047 section 5), which also keeps the search linear on a
# header full of unterminated words.
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,75})\?([bBqQ])\?([^?]*)\?=")
_BETWEEN_WORDS = re.compile(r"\s*")
_Q_HEX = re.compile(rb"=([0-9A-Fa-f]{2})")


def _b_decode(text: str) -> bytes:
    data = re.sub(r"[^A-Za-z0-9+/]", "", text)
    data = data[: len(data) - len(data) % 4] if len(data) % 4 == 1 else data
    data += "=" * (-len(data) % 4)
    try:
        return binascii.a2b_base64(data.encode("ascii"))
    except (binascii.Error, ValueError):
        return b""


def _q_decode(text: str) -> bytes:
    raw = text.replace("_", " ").encode("utf-8", errors="surrogateescape")
    return _Q_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), raw)


def decode_words(value: str, assumed: Sequence[str] = ()) -> str:
    """Decode RFC 2047 encoded words in ``value``; plain text is kept.

    White space between adjacent encoded words is dropped (RFC 2047 section 6.2); adjacent words in
    the same charset are joined as bytes before decoding, so a character split across two words
    (common with UTF-8 and ISO-2022-JP) comes out whole.
    """
    if "=?" not in value:
        return value
    out: list[str] = []
    pending: list[bytes] = []
    pending_charset: str | None = None
    pos = 0

    def flush() -> None:
        nonlocal pending_charset
        if pending:
            data = b"".join(pending)
            out.append(decode_text(data, pending_charset, assumed).text)
            pending.clear()
        pending_charset = None

    for match in _ENCODED_WORD.finditer(value):
        gap = value[pos : match.start()]
        if gap and (not pending or _BETWEEN_WORDS.fullmatch(gap) is None):
            flush()
            out.append(gap)
        charset_label, kind, text = match.groups()
        charset = normalize_charset(charset_label) or charset_label.lower()
        data = _b_decode(text) if kind in "bB" else _q_decode(text)
        if pending and charset != pending_charset:
            flush()
        pending_charset = charset
        pending.append(data)
        pos = match.end()
    flush()
    out.append(value[pos:])
    return "".join(out)


def decode_header(value: str, assumed: Sequence[str] = ()) -> str:
    """A header value for display: unfolded, encoded words decoded, surrounding space stripped."""
    if "\n" in value or "\r" in value:
        value = re.sub(r"\r?\n[ \t]*", " ", value)
    decoded = decode_words(value, assumed)
    # Encoded words that decode to further encoded words are shown as they are: decoding twice
    # would let a sender hide one header inside another.
    return decoded.strip()


def _idn(addr: str) -> str:
    """Show ``user@xn--...`` domains in Unicode, as mutt's idn_decode does."""
    local, sep, domain = addr.rpartition("@")
    if not sep or "xn--" not in domain.lower():
        return addr
    try:
        return f"{local}@{domain.encode('ascii').decode('idna')}"
    except (UnicodeError, ValueError):
        return addr


def parse_addresses(values: Sequence[str], assumed: Sequence[str] = ()) -> tuple[Address, ...]:
    """Addresses from raw header values: names decoded, groups flattened, IDN domains shown."""
    if not values:
        return ()
    joined = [re.sub(r"\r?\n[ \t]*", " ", v) for v in values]
    try:
        pairs = email.utils.getaddresses(joined)
    except Exception:  # getaddresses has raised on crafted input in several CPython releases
        pairs = []
    result: list[Address] = []
    for name, addr in pairs:
        name = decode_header(name, assumed).strip().strip('"').strip()
        addr = addr.strip()
        if "=?" in addr and not name:
            # A bare encoded word where an address should be: show it as a name.
            name, addr = decode_header(addr, assumed), ""
        if not name and not addr:
            continue
        result.append(Address(name, _idn(addr)))
    if not result:
        text = decode_header(" ".join(joined), assumed)
        if text and "@" in text:
            result.append(Address("", text))
    return tuple(result)


_NUMERIC_DATE = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{2})(?::(\d{2}))?\s*(Z|[+-]\d{2}:?\d{2})?"
)


def parse_date(value: str | None) -> datetime | None:
    """A timezone-aware datetime from a Date header, or None when it cannot be read.

    ``-0000`` and a missing zone are taken as UTC (RFC 5322 section 3.3 says the zone is unknown;
    UTC is what mutt shows). ISO 8601 dates from broken mailers are accepted.
    """
    if not value:
        return None
    value = " ".join(value.split())
    try:
        parts = email.utils.parsedate_tz(value)
    except Exception:
        parts = None
    if parts is not None:
        try:
            year = parts[0]
            if year < 100:
                year += 2000 if year < 50 else 1900
            offset = parts[9] or 0
            if abs(offset) >= 24 * 3600:
                offset = 0
            return datetime(
                year,
                parts[1],
                parts[2],
                parts[3],
                parts[4],
                min(parts[5], 59),
                tzinfo=timezone(timedelta(seconds=offset)) if offset else UTC,
            )
        except (ValueError, OverflowError, TypeError):
            pass
    match = _NUMERIC_DATE.search(value)
    if match:
        y, mo, d, h, mi, s, zone = match.groups()
        try:
            tz = UTC
            if zone and zone != "Z":
                sign = -1 if zone[0] == "-" else 1
                digits = zone[1:].replace(":", "")
                tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
            return datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0), tzinfo=tz)
        except (ValueError, OverflowError):
            return None
    return None


def message_ids(value: str | None) -> tuple[str, ...]:
    """The ``<id>`` tokens of a References/In-Reply-To header, in order, without brackets' noise."""
    if not value:
        return ()
    found = re.findall(r"<[^<>\s]+>", value)
    if found:
        return tuple(found)
    return tuple(t for t in value.split() if "@" in t)


# --- MIME parameters -----------------------------------------------------------------------

# Possessive quantifiers: no backtracking, so junk without "=" costs linear time.
# A parameter, or (second branch) one word of junk to step over, so finditer never rescans.
_PARAM = re.compile(
    r"""\s*+;?\s*+(?:([^\s=;"]++)\s*+=\s*+("(?:[^"\\]++|\\.)*+"?|[^;]*+)|[^;\s]++)""", re.S
)
MAX_PARAMS_CHARS = 1 << 16  # of a Content-Type/-Disposition value; real ones are far shorter


def split_content_header(value: str) -> tuple[str, dict[str, str]]:
    """``text/plain; charset="koi8-r"; name*0*=...`` -> (``text/plain``, parameters).

    Parameter names are lower-cased; RFC 2231 continuations (``name*0*``, ``name*1``) are joined
    and their ``charset'lang'`` prefix and %XX escapes decoded; RFC 2047 words in quoted values
    (what Outlook sends instead of RFC 2231) are decoded. A missing ``;`` before a parameter is
    tolerated.
    """
    value = re.sub(r"\r?\n[ \t]*", " ", value[:MAX_PARAMS_CHARS])
    head, _, rest = value.partition(";")
    main = head.strip()
    if "=" in main and " " in main:
        main, _, extra = main.partition(" ")
        rest = extra + ";" + rest
    plain: dict[str, str] = {}
    pieces: dict[str, dict[int, tuple[str, bool]]] = {}
    for match in _PARAM.finditer(rest):
        if match.group(1) is None:
            continue  # junk between parameters
        name = match.group(1).lower()
        raw = match.group(2).strip()
        if raw.startswith('"'):
            raw = re.sub(
                r"\\(.)", r"\1", raw[1:-1] if raw.endswith('"') and len(raw) > 1 else raw[1:]
            )
        if "*" in name:
            base, _, section = name.partition("*")
            encoded = section.endswith("*") or section == ""
            number = section.rstrip("*")
            index = int(number) if number.isdigit() and len(number) < 6 else 0
            pieces.setdefault(base, {})[index] = (raw, encoded)
        elif name not in plain:
            plain[name] = raw
    for base, sections in pieces.items():
        plain[base] = _join_2231(sections)
    return main.lower(), plain


def _join_2231(sections: dict[int, tuple[str, bool]]) -> str:
    charset: str | None = None
    data = bytearray()
    order = sorted(sections)
    for number in order:
        text, encoded = sections[number]
        if encoded:
            if number == order[0] and text.count("'") >= 2:
                charset, _lang, text = text.split("'", 2)
            elif number == order[0] and text.count("'") == 1:
                charset, text = text.split("'", 1)  # the second quote is missing: tolerated
            data += _percent_decode(text)
        else:
            data += text.encode("utf-8", errors="surrogateescape")
    return decode_text(bytes(data), charset or "utf-8").text


def _percent_decode(text: str) -> bytes:
    raw = text.encode("utf-8", errors="surrogateescape")
    return re.sub(rb"%([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)
