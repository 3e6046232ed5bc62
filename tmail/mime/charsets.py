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
_UNTRUSTED = frozenset({"cp1252", "ascii", "latin-1"})

# Charsets a detector may pick from. Left unrestricted, detectors take short KOI8-R Russian for
# Shift_JIS or mac_roman (measured in bench/charsets.py and docs/benchmarks.md).
# Codec names as codecs.lookup() spells them, which is what normalize_charset returns.
CYRILLIC = tuple(
    codecs.lookup(c).name
    for c in ("koi8_r", "cp1251", "cp866", "mac_cyrillic", "iso8859_5", "koi8_u")
)
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


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


# Russian letter frequencies make a cheap, robust tie-break between single-byte Cyrillic codecs:
# the right codec gives mostly lower-case letters from the common set with capitals only at the
# start of a word (or whole words in capitals); a wrong one gives capitals inside words, box
# drawing (cp866 read as another codec), no-break spaces or Latin accents.
_COMMON_RU = frozenset("оеаинтсрвлкмдпуяызьгбчйхжшюцщэфё")
_RARE_CYR = frozenset("іїєґўј")
_WORD = re.compile(r"[^ \t\r\n]+")


def _cyrillic_score(text: str) -> float:
    """How much ``text`` (the 8-bit words of a message, decoded) looks like Cyrillic prose: 0..1."""
    total = 0.0
    count = 0
    for word in _WORD.findall(text):
        letters = [ch for ch in word if ch.isalpha()]
        if not letters:
            if any(ord(ch) > 0x7F for ch in word):
                total -= len(word)
                count += len(word)
            continue
        all_upper = all(ch.isupper() for ch in letters)
        for pos, ch in enumerate(letters):
            count += 1
            if ch.isascii():
                total -= 0.5  # Latin letters inside an 8-bit word: not Russian
            elif ch in _COMMON_RU:
                total += 1.0
            elif "а" <= ch <= "я" or ch in _RARE_CYR:
                total += 0.6
            elif "А" <= ch <= "Я" or ch == "Ё" or ch.lower() in _RARE_CYR:
                total += 0.9 if pos == 0 else (0.7 if all_upper else -0.5)
            else:
                total -= 1.0  # Latin accents, Greek, symbols
        count += sum(1 for ch in word if not ch.isalpha() and ord(ch) > 0x7F)
        total -= sum(1.0 for ch in word if not ch.isalpha() and ord(ch) > 0x7F)
    return total / count if count else 0.0


_NOT_LETTER = rb"[^\x00-\x40\x5b-\x60\x7b-\x7f]*"
_HIGH_WORD = re.compile(_NOT_LETTER + rb"[\x80-\xff]" + _NOT_LETTER)
_ASCII_LETTERS = bytes(range(0x80)).translate(
    None, bytes(range(0x41, 0x5B)) + bytes(range(0x61, 0x7B))
)


def _high_text(data: bytes, limit: int = 4096) -> bytes:
    """The 8-bit words of the first part of ``data``: what a detector needs, without the ASCII."""
    sample = data[: limit * 4]
    joined = b" ".join(_HIGH_WORD.findall(sample))
    return joined[:limit] if joined else sample[:limit]


def _high_share(words: bytes) -> float:
    """Share of 8-bit bytes among the letters of the 8-bit words: ~1 Cyrillic, <0.5 Latin."""
    letters = len(words.translate(None, _ASCII_LETTERS))
    high = sum(1 for b in words if b > 0x7F)
    return high / letters if letters else 0.0


LATIN = tuple(codecs.lookup(c).name for c in ("cp1252", "cp1250", "iso8859_2", "cp1257", "cp1254"))


def detect(data: bytes, hints: Sequence[str] = ()) -> tuple[str, float]:
    """Guess the single-byte charset of 8-bit ``data``: (codec, confidence 0..1).

    The family comes from the shape of the 8-bit words: Cyrillic words are all 8-bit bytes, Latin
    words are ASCII letters with a few accented ones. Within Cyrillic, a Russian letter-frequency
    and letter-case score ranks KOI8-R, windows-1251, CP866, MacCyrillic and ISO-8859-5 (which
    detectors confuse on short texts, bench/charsets.py); within Latin, charset-normalizer
    restricted to :data:`LATIN` may overrule windows-1252 when it is clearly better.
    """
    sample = _high_text(data)
    if _high_share(sample) >= 0.6:
        best_cyr = ""
        best_score = -10.0
        for codec in CYRILLIC:
            score = _cyrillic_score(sample.decode(codec, errors="replace"))
            if score > best_score + 1e-9:
                best_cyr, best_score = codec, score
        if best_score > 0.3:
            return best_cyr, min(1.0, best_score)
        cjk = _cjk(data)
        if cjk is not None:
            return cjk, 0.5
        return best_cyr, max(0.1, best_score)
    return _latin(sample), 0.5


def _cjk(data: bytes) -> str | None:
    """A multi-byte charset the bytes are valid in, as charset-normalizer ranks them."""
    try:
        from charset_normalizer import from_bytes

        guess = from_bytes(
            data[:8192], cp_isolation=["gb18030", "cp932", "big5hkscs", "cp949", "euc_jp"]
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


def _mostly_utf8(data: bytes) -> str | None:
    """UTF-8 with a few broken sequences (a character cut by a truncating gateway): the text
    with U+FFFD for the broken bytes, when valid multi-byte characters outnumber them 4 to 1."""
    text = data[:65536].decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 0x7F) - bad
    if good >= 4 * bad and good >= 4:
        return data.decode("utf-8", errors="replace")
    return None


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
    text = _mostly_utf8(data)
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
