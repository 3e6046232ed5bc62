"""The reader writes sizes as the command line does (tmail.core.sizes.human_size)."""

from __future__ import annotations

import base64

from tests.tui.conftest import T0, Harness
from tmail.ui.source import MemorySource, Row


def test_index_pager_and_attachment_list_write_sizes_alike() -> None:
    raw = (
        b"From: A <a@x.test>\nSubject: sizes\nMIME-Version: 1.0\n"
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhi\n"
        b"--b\nContent-Type: application/pdf; name=r.pdf\nContent-Transfer-Encoding: base64\n\n"
        + base64.encodebytes(b"x" * 12_345)
        + b"--b--\n"
    )
    row = Row(1, "demo", "INBOX", T0, "A", "sizes", frozenset(), 1_500_000)
    h = Harness(source=MemorySource([(row, raw)]))
    line = next(x for x in h.screen().splitlines() if "sizes" in x)
    assert line.rstrip().endswith(" 1.4 MB")
    h.press("enter")
    assert "1. r.pdf  (application/pdf, 12 KB)" in h.screen()
    h.press("v")
    assert "1. r.pdf  (application/pdf, 12 KB)" in h.screen()
