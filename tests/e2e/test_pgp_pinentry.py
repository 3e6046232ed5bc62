"""The real ``tmail`` in tmux opens an encrypted message whose key has a passphrase: the agent
asks through pinentry-curses on the reader's own terminal ($GPG_TTY), and after the passphrase
the pager shows the decrypted text under its status line, the screen whole again."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import MailUser
from tests.e2e.test_stack_journey import write_config
from tests.e2e.tmux import TMAIL, Pane, tmux_missing
from tests.support.gnupg import GpgUser, mime_encrypted, text_entity

pytestmark = [
    pytest.mark.stack,
    pytest.mark.skipif(tmux_missing() is not None, reason=str(tmux_missing())),
]

SECRET = "The vault opens at dawn"
PASSPHRASE = "correct horse battery"


@pytest.fixture
def keys(make_mail_user: Callable[..., MailUser]) -> Iterator[tuple[MailUser, GpgUser, GpgUser]]:
    me = make_mail_user("me")
    mine = GpgUser.make("Me Myself", me.address, passphrase=PASSPHRASE)
    anna = GpgUser.make("Anna", "anna@example.test")
    try:
        anna.learn(mine)
        mine.learn(anna)  # certifying would need the passphrase
        yield me, mine, anna
    finally:
        mine.close()
        anna.close()


def test_passphrase_through_pinentry_then_the_decrypted_text(
    keys: tuple[MailUser, GpgUser, GpgUser], tmp_path: Path
) -> None:
    me, mine, anna = keys
    me.stack.save(me.name, mime_encrypted(anna, mine, "Vault", text_entity(SECRET)))
    cfg = write_config(tmp_path, me)
    env = {
        "TMAIL_CONFIG": str(cfg),
        "TMAIL_E2E_PW": me.password,
        "HOME": str(tmp_path),
        "GNUPGHOME": mine.home,
    }
    # as gpg-agent(1) asks: GPG_TTY names the terminal pinentry is to use
    pane = Pane(["sh", "-c", f'GPG_TTY="$(tty)" exec "{TMAIL}"'], env=env, cwd=tmp_path)
    try:
        pane.wait_for("Vault", timeout=60)
        pane.keys("Enter")
        pane.wait_for("Passphrase", timeout=30)
        pane.keys(PASSPHRASE, "Enter")
        screen = pane.wait_for(SECRET, timeout=30)
        assert "PGP: decrypted; good signature from Anna <anna@example.test>" in screen
        assert "Passphrase" not in screen and "Please enter" not in screen
        # the rows pinentry drew over are drawn again: the folder list's edge on every row
        rows = screen.splitlines()[:-2]
        assert all(len(row) > 24 and row[24] == "│" for row in rows), screen
        pane.keys("Q")
        pane.wait_for("TMAIL-EXITED=0")
    finally:
        pane.close()
