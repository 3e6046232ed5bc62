"""At 80 columns: the folder list steps aside and HTML text fills the pager's real width."""

from __future__ import annotations

import pytest

from tests.tui.conftest import T0, Harness
from tmail.core.errors import ConfigError
from tmail.ui.source import MemorySource, Row

PARAGRAPH = " ".join(f"word{i}" for i in range(60))


def _html_letter() -> Harness:
    html = (
        f"<html><body><p>{PARAGRAPH}</p><blockquote>{PARAGRAPH}</blockquote>"
        "<p>Read <a href='https://example.org/x'>more</a></p></body></html>"
    )
    raw = (
        "From: A <a@x.test>\nTo: me@demo.test\nSubject: news\nMessage-ID: <h@x>\n"
        "MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n" + html + "\n"
    ).encode()
    row = Row(1, "demo", "INBOX", T0, "A", "news", frozenset(), len(raw))
    return Harness(MemorySource([(row, raw)]))


def _paragraph_rows(screen: str, first: str) -> list[str]:
    """The screen rows of the paragraph starting with ``first``, the sidebar cut off."""
    rows = [r.split("│", 1)[-1].rstrip() for r in screen.splitlines()]
    start = next(i for i, r in enumerate(rows) if r.startswith(first))
    end = next(i for i in range(start, len(rows)) if not rows[i])
    return rows[start:end]


def test_html_fills_80_columns_and_is_wrapped_again_on_a_resize() -> None:
    h = _html_letter()
    h.app.render_text(80, 40)
    h.press("enter")
    screen = h.app.render_text(80, 40)
    assert "│" not in screen  # no folder list at 80 columns: the message has them all
    rows = _paragraph_rows(screen, "word0 ")
    # even lines up to the edge, not 78-column lines cut again into 63 + 15 (the issue)
    assert all(70 <= len(r) <= 80 for r in rows[:-1]), rows
    assert " ".join(rows).split() == PARAGRAPH.split()  # no word lost or broken
    quote = _paragraph_rows(screen, "> word0 ")
    assert all(r.startswith("> ") and len(r) >= 70 for r in quote[:-1]), quote

    wide = h.app.render_text(120, 40)  # a wider window: converted again for 95 columns
    assert "│From: A <a@x.test>" in wide
    assert all(85 <= len(r) <= 95 for r in _paragraph_rows(wide, "word0 ")[:-1])
    rows = _paragraph_rows(h.app.render_text(80, 40), "word0 ")  # and back
    assert all(70 <= len(r) <= 80 for r in rows[:-1]), rows


def test_search_and_links_still_work_after_a_resize(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BROWSER", "browser")
    h = _html_letter()
    h.press("enter")
    h.app.render_text(80, 40)
    h.press("/", *"word59", "enter")
    assert "match 1 of 2" in h.app.render_text(80, 40)
    h.app.render_text(100, 40)
    h.press("n")
    assert "match 2 of 2" in h.app.render_text(100, 40)
    opened: list[list[str]] = []
    h.app.options.opener = lambda argv: opened.append(list(argv)) or 0
    h.press("u", "1", "enter")
    assert opened and opened[0][-1] == "https://example.org/x"


def test_the_folder_list_hides_under_100_columns_and_b_toggles_it(ui: Harness) -> None:
    assert ui.app.render_text(120, 20).startswith("All inboxes")  # wide: shown
    narrow = ui.app.render_text(80, 20)
    assert "│" not in narrow and "Archive" not in narrow
    ui.press("B")
    assert ui.app.render_text(80, 20).startswith("All inbox")  # asked for: shown, narrowed
    ui.press("B")
    assert "│" not in ui.app.render_text(80, 20)
    # hidden by B: it stays so on a wider window too, until B again
    assert not ui.app.render_text(120, 20).startswith("All inboxes")
    ui.press("B")
    assert ui.app.render_text(120, 20).startswith("All inboxes")


def test_c_shows_the_hidden_folder_list_while_choosing(ui: Harness) -> None:
    ui.app.render_text(80, 20)
    ui.press("c")
    screen = ui.app.render_text(80, 20)
    assert "Archive" in screen and "│" in screen
    ui.press("j", "j", "j", "enter")  # demo/Archive
    screen = ui.app.render_text(80, 20)
    assert "│" not in screen and "Old thread" in screen


def test_the_help_screen_names_the_key(ui: Harness) -> None:
    ui.press("?")
    assert "folder list (sidebar) on/off" in ui.app.render_text(120, 60)


def test_the_sidebar_setting_is_checked() -> None:
    from tmail.ui.main import _sidebar_setting

    assert _sidebar_setting("auto") is None and _sidebar_setting(False) is False
    with pytest.raises(ConfigError, match=r'expected true, false or "auto"'):
        _sidebar_setting("maybe")
