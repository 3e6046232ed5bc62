"""``tmail mailto:...`` as the desktop's mail handler runs it (issue 18 item 5): the reader opens
on the composer filled from the URL; nothing goes before the review; sent, it arrives."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.tmux import TMAIL, Pane, editor_script, tmux_missing

pytestmark = pytest.mark.skipif(tmux_missing() is not None, reason=str(tmux_missing()))


def test_a_mailto_url_opens_the_composer_and_sends_after_review(tmp_path: Path) -> None:
    editor = editor_script(tmp_path, "Signed by hand.")
    url = (
        "mailto:Hiro%20Tanaka%20%3Chiro@tanaka.example%3E"
        "?subject=%D0%9F%D1%80%D0%B8%D0%B2%D0%B5%D1%82%20from%20a%20link"
        "&body=First%20line%0D%0ASecond%20line&from=boss@evil.example"
    )
    pane = Pane(
        [str(TMAIL), "--demo", url],
        env={"EDITOR": str(editor), "VISUAL": str(editor), "HOME": str(tmp_path)},
        cwd=tmp_path,
    )
    try:
        screen = pane.wait_for("Subject: Привет from a link")
        assert "Hiro Tanaka <hiro@tanaka.example>" in screen
        assert "left out of the mailto: link: from" in screen
        pane.keys("Enter")
        screen = pane.wait_for("Compose: review and send")
        assert "First line" in screen and "Second line" in screen
        assert "boss@evil.example" not in screen
        pane.keys("y")
        pane.wait_for("sent: Привет from a link")
    finally:
        pane.close()


def test_a_broken_mailto_url_is_one_line_before_any_screen(tmp_path: Path) -> None:
    pane = Pane([str(TMAIL), "--demo", "mailto:no-address-here"], env={"HOME": str(tmp_path)})
    try:
        screen = pane.wait_for("TMAIL-EXITED=")
        assert "tmail: mailto: 'no-address-here' is not a mail address" in screen
        assert "TMAIL-EXITED=2" in screen
    finally:
        pane.close()
