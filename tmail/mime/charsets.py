"""Charsets: turning declared labels into Python codecs, and 8-bit text into str.

What arrives in mail is often mislabelled: ``koi8r``, ``cp-1251``, ``x-mac-cyrillic``, a
windows-1251 letter that says it is ``us-ascii``, a KOI8-R one with no MIME headers at all, or
``iso-8859-1`` that is really windows-1252. The order of trust, as a careful mutt user expects:

1. the declared charset, through our alias table, when the bytes decode cleanly with it and it is
   not one of the labels that mailers put on anything (us-ascii, iso-8859-1, windows-1252);
2. UTF-8, when the bytes are valid UTF-8 (it almost never is by accident);
3. the account's ``assumed_charsets`` hint, in order, for single-byte text (mutt's
   ``assumed_charset``);
4. a detector, restricted to the charsets mail actually uses (see :func:`detect`);
5. windows-1252 for a declared Latin-1 label, then UTF-8 with U+FFFD as the last resort.

Nothing here raises on any bytes.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

# Labels seen in real mail that Python does not know, or knows under another name. Supersets are
# chosen where mailers are known to send the superset under the subset's name (Thunderbird and
# the WHATWG Encoding Standard do the same): gb2312 -> gb18030, shift_jis -> cp932, euc-kr -> cp949.
_ALIASES: dict[str, str] = {
    "koi8r": "koi8_r",
    "koi8u": "koi8_u",
    "koi8ru": "koi8_u",
    "koi8-ru": "koi8_u",
    "cp-1251": "cp1251",
    "x-cp1251": "cp1251",
    "win-1251": "cp1251",
    "win1251": "cp1251",
    "windows1251": "cp1251",
    "windows-1251": "cp1251",
    "x-mac-cyrillic": "mac_cyrillic",
    "mac-cyrillic": "mac_cyrillic",
    "maccyrillic": "mac_cyrillic",
    "x-mac-ukrainian": "mac_cyrillic",
    "ibm866": "cp866",
    "866": "cp866",
    "cp-866": "cp866",
    "csibm866": "cp866",
    "x-cp866": "cp866",
    "dos-866": "cp866",
    "alt": "cp866",
    "iso-8859-1": "cp1252",  # WHATWG: bytes 0x80-0x9F are windows-1252's, not C1 controls
    "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "ansi_x3.4-1968": "cp1252",
    "windows-1252": "cp1252",
    "x-cp1252": "cp1252",
    "cp-1252": "cp1252",
    "cp-1250": "cp1250",
    "x-cp1250": "cp1250",
    "iso-8859-9": "cp1254",
    "iso-8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "x-sjis": "cp932",
    "sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "x-windows-949": "cp949",
    "iso-2022-jp": "iso2022_jp_ext",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "utf8": "utf-8",
    "x-utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
    "x-unicode20utf8": "utf-8",
}

# Labels that say nothing about 8-bit bytes: mailers put them on whatever they send.
_UNTRUSTED = frozenset({"cp1252", "ascii", "latin_1"})

# Charsets a detector may pick from. Left unrestricted, detectors take short KOI8-R Russian for
# Shift_JIS or mac_roman (measured in bench/charsets.py and docs/benchmarks.md).
CYRILLIC = ("koi8_r", "cp1251", "cp866", "mac_cyrillic", "iso8859_5", "koi8_u")
DETECT_CANDIDATES = (*CYRILLIC, "cp1252", "cp1250", "iso8859_2", "iso8859_15", "cp1253", "cp1254")

_LABEL_CLEAN = re.compile(r"[\s\"']")


@dataclass(frozen=True)
class Decoded:
    """Text decoded from bytes, the codec used, and whether it was detected rather than declared."""

    text: str
    charset: str
    detected: bool


@lru_cache(maxsize=512)
def normalize_charset(label: str | None) -> str | None:
    """The Python codec name for a MIME charset label, or None when it names no text codec.

    ``koi8r`` -> ``koi8_r``, ``utf-8*en`` (RFC 2231 language tag) -> ``utf-8``; binary codecs
    Python happens to register (``base64``, ``rot13``, ``zlib``) are refused.
    """
    if not label:
        return None
    name = _LABEL_CLEAN.sub("", label).lower().split("*", 1)[0]
    if not name or len(name) > 64:
        return None
    for candidate in (name, name.removeprefix("x-"), name.replace("_", "-")):
        if candidate in _ALIASES:
            return _ALIASES[candidate]
        try:
            info = codecs.lookup(candidate)
        except (LookupError, ValueError):
            continue
        if not getattr(info, "_is_text_encoding", True):
            return None
        canonical = info.name.replace("-", "_")
        if canonical in ("latin_1", "iso8859_1", "ascii"):
            return "cp1252"
        return info.name
    return None


def charset_label(codec: str) -> str:
    """A MIME-style label for a codec name, for display and JSON (``koi8_r`` -> ``koi8-r``)."""
    label = codec.replace("_", "-").lower()
    return {"cp1251": "windows-1251", "cp1252": "windows-1252", "cp1250": "windows-1250"}.get(
        label, label
    )


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


# Russian letter frequencies make a cheap, robust tie-break between single-byte Cyrillic codecs:
# the right codec gives mostly lower-case letters from the common set; a wrong one gives upper-case
# letters inside words, box drawing (cp866 read as another codec) or Latin accents.
_COMMON_RU = frozenset("оеаинтсрвлкмдпуяызьгбчйхжшюцщэфъё")
_CYR_LOWER = re.compile("[а-яёіїєґў]")


def _cyrillic_score(text: str) -> float:
    letters = 0
    good = 0.0
    for ch in text:
        if ch.isalpha():
            letters += 1
            if ch in _COMMON_RU:
                good += 1.0
            elif "а" <= ch <= "я" or ch in "ёіїєґў":
                good += 0.5
            elif "А" <= ch <= "Я" or ch == "Ё":
                good += 0.2
            elif ch.isascii():
                good += 0.3
        elif ord(ch) > 0x7F and not ch.isspace():
            good -= 1.0  # symbols, box drawing: a wrong codec
    return good / letters if letters else 0.0


_NOT_LETTER = rb"[^\x00-\x40\x5b-\x60\x7b-\x7f]*"
_HIGH_WORD = re.compile(_NOT_LETTER + rb"[\x80-\xff]" + _NOT_LETTER)


def _high_text(data: bytes, limit: int = 4096) -> bytes:
    """The 8-bit words of the first part of ``data``: what a detector needs, without the ASCII."""
    sample = data[: limit * 4]
    words = _HIGH_WORD.findall(sample)
    joined = b" ".join(words)
    return joined[:limit] if joined else sample[:limit]


def detect(data: bytes, hints: Sequence[str] = ()) -> tuple[str, float]:
    """Guess the single-byte charset of 8-bit ``data``: (codec, confidence 0..1).

    charset-normalizer restricted to :data:`DETECT_CANDIDATES` picks the family (Cyrillic or Latin);
    within Cyrillic, a letter-frequency score ranks KOI8-R, windows-1251, CP866 and MacCyrillic,
    which the detector confuses on short texts. ``hints`` are tried first.
    """
    sample = _high_text(data)
    # Within the Cyrillic family: the codec whose reading looks most like Russian.
    best_cyr = ""
    best_score = -10.0
    for codec in CYRILLIC:
        text = sample.decode(codec, errors="replace")
        score = _cyrillic_score(text)
        if score > best_score + 1e-9:
            best_cyr, best_score = codec, score
    if best_score >= 0.75:
        return best_cyr, min(1.0, best_score)
    try:
        from charset_normalizer import from_bytes

        guess = from_bytes(
            sample, cp_isolation=list(DETECT_CANDIDATES), preemptive_behaviour=False
        ).best()
    except Exception:  # the detector must never take a message down with it
        guess = None
    if guess is not None:
        codec = normalize_charset(guess.encoding) or "cp1252"
        if codec in CYRILLIC:
            return best_cyr, max(0.5, best_score)
        return codec, 1.0 - float(guess.chaos)
    return "cp1252", 0.0


def decode_text(data: bytes, declared: str | None = None, assumed: Sequence[str] = ()) -> Decoded:
    """Decode message text; never raises. See the module docstring for the order of trust."""
    codec = normalize_charset(declared)
    if data.isascii() and (codec is None or codec in _UNTRUSTED or codec == "utf-8"):
        return Decoded(data.decode("ascii"), charset_label(codec or "us-ascii"), False)
    if codec is not None and codec not in _UNTRUSTED:
        text = _strict(data, codec)
        if text is not None:
            return Decoded(text, charset_label(codec), False)
    text = _strict(data, "utf-8")
    if text is not None:
        return Decoded(text, "utf-8", codec != "utf-8")
    for hint in assumed:
        hinted = normalize_charset(hint)
        if hinted and hinted != "utf-8":
            text = _strict(data, hinted)
            if text is not None:
                return Decoded(text, charset_label(hinted), True)
    guess, confidence = detect(data)
    if codec == "cp1252" and guess not in CYRILLIC:
        return Decoded(data.decode("cp1252", errors="replace"), "windows-1252", False)
    if confidence > 0.0 or codec is None:
        return Decoded(data.decode(guess, errors="replace"), charset_label(guess), True)
    fallback = codec or "utf-8"
    return Decoded(data.decode(fallback, errors="replace"), charset_label(fallback), False)
