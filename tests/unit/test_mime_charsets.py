"""Charsets: aliases, declared/missing/wrong labels on KOI8-R, windows-1251 and CP866 letters,
iso-8859-1 read as windows-1252, the assumed_charsets hint, and never raising."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tmail.mime import parse_message
from tmail.mime.charsets import decode_text, detect, normalize_charset

LETTER = (
    "Здравствуйте, Ольга Николаевна!\n\n"
    "Посылаю вам отчёт за третий квартал. Цифры по складу сверены, "
    "замечания бухгалтерии учтены.\nЕсли будут вопросы - звоните.\n\n"
    "С уважением,\nСергей\n"
)
SHORT = "Привет! Как дела?\n"


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("koi8r", "koi8_r"),
        ("KOI8-R", "koi8_r"),
        ("cp-1251", "cp1251"),
        ("x-cp1251", "cp1251"),
        ("windows-1251", "cp1251"),
        ("x-mac-cyrillic", "mac_cyrillic"),
        ("ibm866", "cp866"),
        ('"utf-8"', "utf-8"),
        ("utf-8*en", "utf-8"),
        ("iso-8859-1", "cp1252"),
        ("us-ascii", "cp1252"),
        ("ks_c_5601-1987", "cp949"),
        ("gb2312", "gb18030"),
        ("base64", None),
        ("rot13", None),
        ("fakescii-7", None),
        ("", None),
    ],
)
def test_aliases(label: str, codec: str | None) -> None:
    assert normalize_charset(label) == (codecs.lookup(codec).name if codec else None)


def letter(charset_header: str | None, body: bytes, cte: str = "8bit") -> bytes:
    head = "Subject: test\nMIME-Version: 1.0\n"
    if charset_header is not None:
        head += f"Content-Type: text/plain; charset={charset_header}\n"
    head += f"Content-Transfer-Encoding: {cte}\n\n"
    return head.encode() + body


@pytest.mark.parametrize("codec", ["koi8_r", "cp1251", "cp866"])
@pytest.mark.parametrize("text", [LETTER, SHORT])
@pytest.mark.parametrize("declared", ["right", None, "us-ascii", "iso-8859-1", "utf-8"])
def test_russian_letters_read_as_russian(codec: str, text: str, declared: str | None) -> None:
    label = {"koi8_r": "koi8-r", "cp1251": "windows-1251", "cp866": "ibm866"}[codec]
    header = label if declared == "right" else declared
    parsed = parse_message(letter(header, text.encode(codec)))
    assert parsed.text == text
    assert normalize_charset(parsed.charset) == codecs.lookup(codec).name
    assert parsed.charset_detected is (declared != "right")


def test_no_mime_headers_at_all_koi8() -> None:
    raw = b"From: a@example.org\nSubject: hi\n\n" + LETTER.encode("koi8_r")
    parsed = parse_message(raw)
    assert parsed.text == LETTER and parsed.charset == "koi8-r" and parsed.charset_detected


def test_raw_8bit_subject_and_name_are_detected() -> None:
    raw = "From: Сергей Петров <s@example.ru>\nSubject: Отчёт за квартал\n\nok\n".encode("cp1251")
    parsed = parse_message(raw)
    assert parsed.subject == "Отчёт за квартал"
    assert parsed.from_[0].name == "Сергей Петров"


def test_iso_8859_1_is_read_as_windows_1252() -> None:
    body = "“Smart quotes” cost 5 €\n".encode("cp1252")
    parsed = parse_message(letter("iso-8859-1", body))
    assert parsed.text == "“Smart quotes” cost 5 €\n"
    assert not any(0x80 <= ord(c) <= 0x9F for c in parsed.text)


def test_latin_text_declared_ascii_is_not_taken_for_cyrillic() -> None:
    body = "Grüße aus München, schöne Straße.\n".encode("cp1252")
    assert parse_message(letter("us-ascii", body)).text == "Grüße aus München, schöne Straße.\n"


def test_assumed_charset_hint_wins_for_unlabelled_text() -> None:
    # Two letters are too short to detect ("Ну" in KOI8-R reads as ISO-8859-5 "юе"); the
    # account's hint decides, as in mutt.
    body = "Ну\n".encode("koi8_r")
    assert parse_message(letter(None, body)).text != "Ну\n"
    parsed = parse_message(letter(None, body), assumed_charsets=["koi8-r"])
    assert parsed.text == "Ну\n" and parsed.charset == "koi8-r" and parsed.charset_detected


def test_utf8_is_preferred_over_the_hint_when_valid() -> None:
    parsed = parse_message(letter(None, SHORT.encode()), assumed_charsets=["koi8-r"])
    assert parsed.text == SHORT and parsed.charset == "utf-8"


def test_declared_charset_is_honoured_when_it_decodes() -> None:
    # KOI8-R text declared windows-1251 decodes cleanly but wrongly; the label is trusted, as
    # every mail client does: detection is only for missing or untrustworthy labels.
    parsed = parse_message(letter("windows-1251", SHORT.encode("cp1251")))
    assert parsed.text == SHORT and not parsed.charset_detected


def test_mostly_utf8_with_a_cut_character() -> None:
    data = "Юникод запрещен".encode()[:-1]
    result = decode_text(data, None)
    assert result.text == "Юникод запреще\ufffd" and result.charset == "utf-8"


def test_detect_returns_a_cyrillic_codec_for_each() -> None:
    for codec in ("koi8_r", "cp1251", "cp866", "mac_cyrillic", "iso8859_5"):
        assert detect(LETTER.encode(codec))[0] == codecs.lookup(codec).name


@given(st.binary(max_size=300), st.sampled_from([None, "koi8-r", "utf-8", "x-bogus", "utf-16"]))
def test_decode_text_never_raises(data: bytes, declared: str | None) -> None:
    decode_text(data, declared, ("cp866", "nonsense"))


def test_raw_8bit_headers_follow_the_bodys_declared_charset() -> None:
    # Short CJK names cannot be detected alone; the body's label is the sender's charset.
    raw = (
        "From: 李展锋 <jason@example.com>\nSubject: 装硬碟问题\n"
        "Content-Type: text/plain; charset=gb2312\n\n"
    ).encode("gb18030") + "请检查一下".encode("gb18030")
    parsed = parse_message(raw)
    assert parsed.from_[0].name == "李展锋" and parsed.subject == "装硬碟问题"
    assert parsed.text == "请检查一下\n"


def test_of_several_assumed_charsets_the_detected_one_wins() -> None:
    # koi8-r and windows-1251 both decode any byte: with both as hints (the order a user who gets
    # mostly KOI8-R writes them), a windows-1251 letter mislabelled us-ascii must still read right.
    body = LETTER.encode("cp1251")
    parsed = parse_message(letter("us-ascii", body), assumed_charsets=["koi8-r", "windows-1251"])
    assert parsed.text == LETTER and parsed.charset == "windows-1251"
    body = LETTER.encode("koi8_r")
    parsed = parse_message(letter(None, body), assumed_charsets=["windows-1251", "koi8-r"])
    assert parsed.text == LETTER and parsed.charset == "koi8-r"


@pytest.mark.parametrize(
    ("declared", "shown"),
    [("us-ascii", "us-ascii"), ("US-ASCII", "us-ascii"), (None, "us-ascii"),
     ("iso-8859-1", "iso-8859-1"), ("windows-1252", "windows-1252"), ("utf-8", "utf-8")],
)  # fmt: skip
def test_ascii_text_keeps_its_declared_label(declared: str | None, shown: str) -> None:
    # a bounce in us-ascii said "[charset: windows-1252]" in the pager
    assert decode_text(b"plain ASCII\n", declared).charset == shown
