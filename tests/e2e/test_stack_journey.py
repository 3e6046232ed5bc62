"""The real ``tmail`` in tmux against the real Dovecot and Postfix: open, read a KOI8-R letter,
reply, send, and see the reply arrive after ``$``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import MailUser
from tests.e2e.tmux import TMAIL, Pane, editor_script, tmux_missing

pytestmark = [
    pytest.mark.stack,
    pytest.mark.skipif(tmux_missing() is not None, reason=str(tmux_missing())),
]

KOI8_LETTER = (
    "From: =?koi8-r?b?4c7OwSDwxdTSz9fB?= <{sender}>\n"
    "To: {me}\n"
    "Subject: =?koi8-r?b?79Teo9Qg2sEgy9fB0tTBzA==?=\n"
    "Date: Mon, 02 Nov 2026 10:00:00 +0300\n"
    "Message-ID: <koi8-e2e@example.test>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=koi8-r\n"
    "Content-Transfer-Encoding: 8bit\n\n"
).encode("ascii") + "Здравствуйте!\nОтчёт за квартал готов.\n".encode("koi8-r")


def write_config(tmp_path: Path, user: MailUser) -> Path:
    stack = user.stack
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f"""
[general]
data_dir = "{tmp_path / "data"}"
poll_interval = "1h"

[accounts.me]
email = "{user.address}"
name = "Me Myself"
incoming.protocol = "imap"
incoming.host = "{stack.host}"
incoming.port = {stack.ports.imaps}
incoming.security = "tls"
incoming.username = "{user.name}"
incoming.password_env = "TMAIL_E2E_PW"
incoming.ca_file = "{stack.ca_file}"
outgoing.host = "{stack.host}"
outgoing.port = {stack.ports.smtp}
outgoing.security = "starttls"
outgoing.username = "{user.name}"
outgoing.password_env = "TMAIL_E2E_PW"
outgoing.ca_file = "{stack.ca_file}"

[ui]
hints = true
""",
        encoding="utf-8",
    )
    cfg.chmod(0o600)
    return cfg


@pytest.fixture
def people(make_mail_user: Callable[..., MailUser]) -> tuple[MailUser, MailUser]:
    return make_mail_user("me"), make_mail_user("anna")


@pytest.fixture
def pane(tmp_path: Path, people: tuple[MailUser, MailUser]) -> Iterator[Pane]:
    me, anna = people
    me.stack.save(me.name, KOI8_LETTER.replace(b"{sender}", anna.address.encode()).replace(
        b"{me}", me.address.encode()))  # fmt: skip
    cfg = write_config(tmp_path, me)
    editor = editor_script(tmp_path, "Спасибо, получил.")
    p = Pane(
        [str(TMAIL)],
        env={
            "TMAIL_CONFIG": str(cfg),
            "TMAIL_E2E_PW": me.password,
            "EDITOR": str(editor),
            "VISUAL": str(editor),
            "HOME": str(tmp_path),
        },
        cwd=tmp_path,
    )
    try:
        yield p
    finally:
        p.close()


def test_read_koi8r_reply_send_and_see_it_arrive(
    pane: Pane, people: tuple[MailUser, MailUser]
) -> None:
    me, anna = people
    # the start-up sync brings the letter in; its KOI8-R subject reads as Russian
    screen = pane.wait_for("Отчёт за квартал", timeout=60)
    assert "Анна Петрова" in screen
    pane.keys("Enter")
    screen = pane.wait_for("Отчёт за квартал готов.")
    assert "From: Анна Петрова" in screen

    # reply to Anna, with a copy to myself, so it comes back into this inbox
    pane.keys("r")
    pane.wait_for("Subject: Re: Отчёт за квартал")
    pane.keys("Up", "Up")  # the form opens on Subject; up to Cc
    pane.keys(me.address)
    pane.keys("Enter", "Enter", "Enter")  # Cc -> Bcc -> Subject -> the editor
    screen = pane.wait_for("Compose: review and send")
    assert "Спасибо, получил." in screen and "> Здравствуйте!" in screen
    pane.keys("y")
    pane.wait_for("sent: Re: Отчёт за квартал", timeout=60)
    assert anna.stack.wait_for(anna.name, 1) == 1
    delivered = anna.stack.stored_messages(anna.name)[0]
    assert b"In-Reply-To: <koi8-e2e@example.test>" in delivered

    # $: the reply arrives in my inbox and shows as new
    pane.keys("q")
    me.stack.wait_for(me.name, 2)
    pane.keys("$")
    screen = pane.wait_for("Re: Отчёт за квартал", timeout=60)
    line = next(ln for ln in screen.splitlines() if "Re: Отчёт за квартал" in ln)
    assert line.split("│", 1)[1].startswith("N")
    pane.keys("Q")
    pane.wait_for("TMAIL-EXITED=0")


def test_undo_send_counts_down_takes_back_then_sends(
    pane: Pane, people: tuple[MailUser, MailUser]
) -> None:
    """y holds the reply for undo_seconds (default 10) with a countdown; Z takes it back into
    the review screen and nothing reaches Anna; y again sends it when the countdown ends."""
    _me, anna = people
    pane.wait_for("Отчёт за квартал", timeout=60)
    pane.keys("Enter")
    pane.wait_for("Отчёт за квартал готов.")
    pane.keys("r")
    pane.wait_for("Subject: Re: Отчёт за квартал")
    pane.keys("Enter")
    pane.wait_for("Compose: review and send")
    pane.keys("y")
    screen = pane.wait_for("Z takes it back", timeout=30)
    assert 'sending "Re: Отчёт за квартал" in' in screen
    pane.keys("Z")
    screen = pane.wait_for("taken back: not sent", timeout=30)
    assert "Compose: review and send" in screen and "Спасибо, получил." in screen
    assert anna.stack.stored_messages(anna.name) == []
    pane.keys("y")
    pane.wait_for("sent: Re: Отчёт за квартал", timeout=60)
    assert anna.stack.wait_for(anna.name, 1) == 1
