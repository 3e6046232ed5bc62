"""The reader shows an attachment under the safe name that saving uses, never the sender's path."""

from __future__ import annotations

from tests.tui.conftest import T0, Harness
from tests.unit.test_mime_attachments import HOSTILE_NAMES
from tmail.ui.source import MemorySource, Row


def test_pager_and_attachment_list_show_the_safe_names() -> None:
    raw = b"From: A <a@x.test>\r\nMIME-Version: 1.0\r\n" + HOSTILE_NAMES
    row = Row(1, "demo", "INBOX", T0, "A", "names", frozenset(), len(raw))
    h = Harness(source=MemorySource([(row, raw)]))
    h.press("enter")
    pager = h.screen()
    assert "1. bashrc  (text/plain" in pager and "2. evil.dll  (application/octet-stream" in pager
    h.press("v")
    listed = h.screen()
    assert "1. bashrc  (text/plain" in listed and "3. job  (text/plain" in listed
    for screen in (pager, listed):
        assert "../" not in screen and "\\" not in screen and "/etc/" not in screen
