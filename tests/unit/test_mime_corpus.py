"""Every real-world message of ../shared/corpus parses and renders; spot checks of decoding."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tmail.mime import parse_message, render_text, summarize

_C0C1 = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def corpus_files(corpus: Path) -> list[Path]:
    listed = [
        line.split("\t", 1)[0]
        for line in (corpus / "MANIFEST.tsv").read_text().splitlines()[1:]
        if line.strip()
    ]
    return [corpus / name for name in listed]


def test_every_corpus_message_parses_and_renders(corpus: Path) -> None:
    files = corpus_files(corpus)
    assert len(files) > 150
    for path in files:
        raw = path.read_bytes()
        parsed = parse_message(raw)
        assert not [p for p in parsed.problems if p.startswith("parser error")], path
        out = render_text(parsed)
        assert "Subject:" in out, path
        # The body keeps TAB and LF only; header lines carry no control or bidi character at all.
        assert _C0C1.search(out) is None, path
        header = out.split("\n\n", 1)[0]
        assert _CONTROL.search(header) is None, path
        summary = summarize(raw)
        assert summary.size == len(raw)
        for att in parsed.attachments:
            assert len(att.data()) == att.size, (path, att.filename)


SUBJECTS = {
    "mozilla-comm-central/sample04.eml": "Алфавит",  # KOI8-R B word
    "mozilla-comm-central/sample05.eml": "Алфавит",  # windows-1251 B word
    "mimekit/japanese.eml": "日本語メールテスト (testing Japanese emails)",  # ISO-2022-JP
    "mozilla-comm-central/charset-cp932.eml": "ここに本文がきます。",
    "spamassassin/cjk-gb2312-2.eml": "RE: 装硬碟问题",
    "ruby-mail/japanese_attachment_long_name.eml": "まみむめも" * 10,
    "spamscope-mail-parser/mail_test_12-gb2312-8bit.eml": "代开各地增值税发票",
}


@pytest.mark.parametrize(("name", "subject"), sorted(SUBJECTS.items()))
def test_cyrillic_and_cjk_subjects(corpus: Path, name: str, subject: str) -> None:
    assert parse_message((corpus / name).read_bytes()).subject == subject


BODIES = {
    "mozilla-comm-central/sample04.eml": ("Вопрос", "koi8-r", False),
    "mozilla-comm-central/sample05.eml": ("Вопрос", "windows-1251", False),
    "mozilla-comm-central/noCharsetKOI8U.eml": ("У меня большая семья", "koi8-r", True),
    "proton-bridge/text_plain_charset_KOI8R_misspelled.eml": ("ИИИИИИИ", "koi8-r", False),
    "php-mime-mail-parser/issue230-x-mac-cyrillic.eml": (
        "ACADEMIC NEWSLETTER",
        "x-mac-cyrillic",
        False,
    ),
    "mozilla-comm-central/iso-2022-jp-qp.eml": ("日本語の本文", "iso-2022-jp", False),
    "ruby-mail/ks_c_5601-1987.eml": ("스티해", "euc-kr", False),
    "mimekit/tnef-winmail-koi8r.eml": ("шостий", "koi8-r", False),
}


@pytest.mark.parametrize(("name", "expected"), sorted(BODIES.items()))
def test_legacy_charset_bodies(corpus: Path, name: str, expected: tuple[str, str, bool]) -> None:
    text, charset, detected = expected
    parsed = parse_message((corpus / name).read_bytes())
    assert text in parsed.text
    assert (parsed.charset, parsed.charset_detected) == (charset, detected)


def test_tmail_show_renders_every_corpus_message(corpus: Path) -> None:
    import io
    import json

    from tmail.cli import main

    for path in corpus_files(corpus):
        out, err = io.StringIO(), io.StringIO()
        assert main(["show", str(path)], stdout=out, stderr=err) == 0, (path, err.getvalue())
        assert _C0C1.search(out.getvalue()) is None, path
        out = io.StringIO()
        assert main(["show", "--json", str(path)], stdout=out, stderr=err) == 0, path
        data = json.loads(out.getvalue())
        assert isinstance(data["subject"], str) and isinstance(data["text"], str)
        for att in data["attachments"]:
            assert set(att) >= {"filename", "content_type", "size"}
