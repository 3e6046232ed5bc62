"""Charsets: turning declared labels into Python codecs, and 8-bit text into str.

What arrives in mail is often mislabelled: ``koi8r``, ``cp-1251``, ``x-mac-cyrillic``, a
windows-1251 letter that says it is ``us-ascii``, a KOI8-R one with no MIME headers at all, or
``iso-8859-1`` that is really windows-1252. The order of trust, as a careful mutt user expects:

1. the declared charset, through our alias table, when the bytes decode cleanly with it and it is
   not one of the labels that mailers put on anything (us-ascii, iso-8859-1, windows-1252);
2. UTF-8, when the bytes are valid UTF-8 (it almost never is by accident), or UTF-8 with a few
   broken sequences (a character cut by a truncating gateway);
3. the account's ``assumed_charsets`` hint, in order (mutt's ``assumed_charset``);
4. detection (:func:`detect`): the family from the shape of the 8-bit words, the Cyrillic codec
   by Russian letter frequency and case, charset-normalizer restricted to the Latin or CJK
   charsets otherwise (bench/charsets.py measured the choices);
5. windows-1252 for a declared Latin-1/ASCII label that is not Cyrillic, with U+FFFD for
   undecodable bytes as the last resort.

Nothing here raises on any bytes.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeAlias

Buffer: TypeAlias = bytes | bytearray | memoryview

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
_UNTRUSTED = frozenset({"cp1252", "ascii", "latin-1"})

# The Cyrillic codecs detect() ranks, as codecs.lookup() spells them (what normalize_charset
# returns). Left unrestricted, charset-normalizer takes short KOI8-R Russian for Big5
# (bench/charsets.py, docs/benchmarks.md).
CYRILLIC = tuple(
    codecs.lookup(c).name
    for c in ("koi8_r", "cp1251", "cp866", "mac_cyrillic", "iso8859_5", "koi8_u")
)
# The candidates bench/charsets.py gives charset-normalizer for its restricted run.
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
            return codecs.lookup(_ALIASES[candidate]).name
        try:
            info = codecs.lookup(candidate)
        except (LookupError, ValueError):
            continue
        if not getattr(info, "_is_text_encoding", True):
            return None
        if info.name in ("latin-1", "iso8859-1", "ascii"):
            return "cp1252"
        return info.name
    return None


def charset_label(codec: str) -> str:
    """The MIME name of a codec, for display and JSON (``koi8-r``, ``windows-1251``, ``ibm866``)."""
    label = codec.replace("_", "-").lower()
    if label.startswith("iso8859-"):
        return "iso-8859-" + label[8:]
    return _LABELS.get(label, label)


_LABELS = {
    "cp1250": "windows-1250",
    "cp1251": "windows-1251",
    "cp1252": "windows-1252",
    "cp1253": "windows-1253",
    "cp1254": "windows-1254",
    "cp1257": "windows-1257",
    "cp866": "ibm866",
    "mac-cyrillic": "x-mac-cyrillic",
    "iso2022-jp-ext": "iso-2022-jp",
    "cp932": "shift_jis",
    "cp949": "euc-kr",
    "big5hkscs": "big5",
    "euc-jp": "euc-jp",
}


def _strict(data: Buffer, codec: str) -> str | None:
    try:
        return str(data, codec)
    except (UnicodeDecodeError, LookupError):
        return None


# Russian letter frequencies make a cheap, robust tie-break between single-byte Cyrillic codecs:
# the right codec gives mostly lower-case letters from the common set with capitals only at the
# start of a word (or whole words in capitals); a wrong one gives capitals inside words, box
# drawing (cp866 read as another codec), no-break spaces or Latin accents.
_COMMON_RU = frozenset("оеаинтсрвлкмдпуяызьгбчйхжшюцщэфё")
_OTHER_LOWER = frozenset("ъіїєґўј")
_CAPITALS = frozenset("АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯІЇЄҐЎЈ")
_ALL_BYTES = bytes(range(256))


@dataclass(frozen=True)
class _ByteClasses:
    """For one codec, which 8-bit bytes are common Russian lower-case letters, other lower-case
    Cyrillic letters and capitals; stored as ``bytes.translate`` delete tables so counting a
    class in a sample runs at C speed (this runs for every candidate codec of every message)."""

    not_common: bytes
    not_other: bytes
    not_capital: bytes
    inner_capital: re.Pattern[bytes]  # a lower-case letter then a capital: a wrong codec's mark


@lru_cache(maxsize=16)
def _byte_classes(codec: str) -> _ByteClasses:
    classes: dict[str, bytearray] = {
        "common": bytearray(),
        "other": bytearray(),
        "cap": bytearray(),
    }
    for b in range(0x80, 0x100):
        ch = bytes([b]).decode(codec, errors="replace")
        if ch in _COMMON_RU:
            classes["common"].append(b)
        elif ch in _OTHER_LOWER:
            classes["other"].append(b)
        elif ch in _CAPITALS:
            classes["cap"].append(b)

    def delete_all_but(keep: bytearray) -> bytes:
        return _ALL_BYTES.translate(None, bytes(keep))

    def char_class(members: bytes) -> bytes:
        return b"[" + b"".join(b"\\x%02x" % b for b in members) + b"]"

    lower = bytes(classes["common"] + classes["other"])
    return _ByteClasses(
        not_common=delete_all_but(classes["common"]),
        not_other=delete_all_but(classes["other"]),
        not_capital=delete_all_but(classes["cap"]),
        inner_capital=re.compile(char_class(lower) + char_class(bytes(classes["cap"]))),
    )


def _cyrillic_score(sample: bytes, codec: str, latin: int, high: int) -> float:
    """How much ``sample`` (the 8-bit words of a message) read in ``codec`` looks like Cyrillic
    prose, about -1..1: common lower-case letters count most, capitals at word starts a little,
    capitals after lower-case letters, Latin letters inside the words and anything that is no
    Cyrillic letter at all (box drawing, accents, no-break spaces) count against."""
    c = _byte_classes(codec)
    common = len(sample.translate(None, c.not_common))
    other = len(sample.translate(None, c.not_other))
    capitals = len(sample.translate(None, c.not_capital))
    inner = len(c.inner_capital.findall(sample))
    bad = high - common - other - capitals
    total = common + other + capitals + latin + bad
    if not total:
        return 0.0
    return (common + 0.6 * other + 0.8 * capitals - 2.0 * inner - 0.5 * latin - bad) / total


_NOT_HIGH = bytes(range(0x80))
_NOT_LETTER = rb"[^\x00-\x40\x5b-\x60\x7b-\x7f]*"
_HIGH_WORD = re.compile(_NOT_LETTER + rb"[\x80-\xff]" + _NOT_LETTER)
_ASCII_LETTERS = bytes(range(0x80)).translate(
    None, bytes(range(0x41, 0x5B)) + bytes(range(0x61, 0x7B))
)


def _high_text(data: Buffer, limit: int = 2048) -> bytes:
    """The 8-bit words of the first part of ``data``: what a detector needs, without the ASCII."""
    sample = bytes(data[: limit * 8])
    joined = b" ".join(_HIGH_WORD.findall(sample))
    return joined[:limit] if joined else sample[:limit]


def _high_share(words: bytes) -> float:
    """Share of 8-bit bytes among the letters of the 8-bit words: ~1 Cyrillic, <0.5 Latin."""
    letters = len(words.translate(None, _ASCII_LETTERS))
    high = sum(1 for b in words if b > 0x7F)
    return high / letters if letters else 0.0


LATIN = tuple(codecs.lookup(c).name for c in ("cp1252", "cp1250", "iso8859_2", "cp1257", "cp1254"))


def detect(data: Buffer) -> tuple[str, float]:
    """Guess the single-byte charset of 8-bit ``data``: (codec, confidence 0..1).

    The family comes from the shape of the 8-bit words: Cyrillic words are all 8-bit bytes, Latin
    words are ASCII letters with a few accented ones. Within Cyrillic, a Russian letter-frequency
    and letter-case score ranks KOI8-R, windows-1251, CP866, MacCyrillic and ISO-8859-5 (which
    detectors confuse on short texts, bench/charsets.py); within Latin, charset-normalizer
    restricted to :data:`LATIN` may overrule windows-1252 when it is clearly better.
    """
    sample = _high_text(data)
    if _high_share(sample) >= 0.6:
        high = len(sample.translate(None, _NOT_HIGH))
        latin = len(sample.translate(None, _ASCII_LETTERS)) - high
        best_cyr = ""
        best_score = -10.0
        for codec in CYRILLIC:
            score = _cyrillic_score(sample, codec, latin, high)
            if score > best_score + 1e-9:
                best_cyr, best_score = codec, score
        if best_score > 0.3:
            return best_cyr, min(1.0, best_score)
        cjk = _cjk(data)
        if cjk is not None:
            return cjk, 0.5
        return best_cyr, max(0.1, best_score)
    return _latin(sample), 0.5


def _cjk(data: Buffer) -> str | None:
    """A multi-byte charset the bytes are valid in, as charset-normalizer ranks them."""
    try:
        from charset_normalizer import from_bytes

        guess = from_bytes(
            bytes(data[:8192]), cp_isolation=["gb18030", "cp932", "big5hkscs", "cp949", "euc_jp"]
        ).best()
    except Exception:  # the detector must never take a message down with it
        return None
    return normalize_charset(guess.encoding) if guess is not None else None


def _latin(sample: bytes) -> str:
    try:
        from charset_normalizer import from_bytes

        matches = list(from_bytes(sample, cp_isolation=list(LATIN)))
    except Exception:
        return "cp1252"
    chaos = {normalize_charset(m.encoding) or m.encoding: float(m.chaos) for m in matches}
    if not chaos:
        return "cp1252"
    best = min(chaos, key=lambda c: chaos[c])
    if "cp1252" in chaos and chaos["cp1252"] <= chaos[best] + 0.05:
        return "cp1252"
    return best


def _mostly_utf8(data: Buffer) -> str | None:
    """UTF-8 with a few broken sequences (a character cut by a truncating gateway): the text
    with U+FFFD for the broken bytes, when valid multi-byte characters outnumber them 4 to 1."""
    text = bytes(data[:65536]).decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 0x7F) - bad
    if good >= 4 * bad and good >= 4:
        return str(data, "utf-8", "replace")
    return None


_CHUNK = 1 << 22


def is_ascii(data: Buffer) -> bool:
    """``bytes.isascii`` for any buffer, in chunks (no copy of a 100 MB body)."""
    if isinstance(data, bytes):
        return data.isascii()
    view = memoryview(data)
    return all(bytes(view[i : i + _CHUNK]).isascii() for i in range(0, len(view), _CHUNK))


def _ascii_label(declared: str | None, codec: str | None) -> str:
    """What to call ASCII text: its declared label (``us-ascii`` stays ``us-ascii``, not the
    windows-1252 we would read its 8-bit bytes with), ``us-ascii`` when none was declared."""
    if codec is None:
        return "us-ascii"
    name = _LABEL_CLEAN.sub("", declared or "").lower().split("*", 1)[0]
    if name in ("us-ascii", "ascii", "ansi_x3.4-1968", "us"):
        return "us-ascii"
    if name in ("iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1"):
        return "iso-8859-1"
    return charset_label(codec)


def decode_text(data: Buffer, declared: str | None = None, assumed: Sequence[str] = ()) -> Decoded:
    """Decode message text; never raises. See the module docstring for the order of trust.

    ``data`` may be a memoryview into the raw message: text is decoded from it without a copy.
    """
    codec = normalize_charset(declared)
    if (codec is None or codec in _UNTRUSTED or codec == "utf-8") and is_ascii(data):
        return Decoded(str(data, "ascii"), _ascii_label(declared, codec), False)
    if codec is not None and codec not in _UNTRUSTED:
        text = _strict(data, codec)
        if text is not None:
            return Decoded(text, charset_label(codec), False)
    text = _strict(data, "utf-8")
    if text is not None:
        return Decoded(text, "utf-8", codec != "utf-8")
    text = _mostly_utf8(data)
    if text is not None:
        return Decoded(text, "utf-8", codec != "utf-8")
    fits: dict[str, str] = {}
    for hint in assumed:
        hinted = normalize_charset(hint)
        if hinted and hinted != "utf-8" and hinted not in fits:
            text = _strict(data, hinted)
            if text is not None:
                fits[hinted] = text
    guess, confidence = detect(data)
    if fits:
        # Several hints that decode (koi8-r and windows-1251 both take any byte): the one the
        # detector ranks first among them, else the first in the account's order, as in mutt.
        hinted = guess if guess in fits and len(fits) > 1 else next(iter(fits))
        return Decoded(fits[hinted], charset_label(hinted), True)
    if codec == "cp1252" and guess not in CYRILLIC:
        return Decoded(str(data, "cp1252", "replace"), "windows-1252", False)
    if confidence > 0.0 or codec is None:
        return Decoded(str(data, guess, "replace"), charset_label(guess), True)
    fallback = codec or "utf-8"
    return Decoded(str(data, fallback, "replace"), charset_label(fallback), False)
