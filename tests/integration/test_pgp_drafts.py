"""A message to go out encrypted is postponed encrypted to oneself (the Drafts folder, local and
on the server, never holds it in clear) and resumes decrypted, still to be encrypted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.gnupg import GpgUser
from tests.tui.conftest import T0, Harness
from tmail.config import load_config
from tmail.core.models import Address, Flag
from tmail.mime import parse_message
from tmail.mime.compose import Draft
from tmail.mime.gpg import GnupgBackend
from tmail.mime.pgp import open_protected
from tmail.runtime.backend import MailBackend
from tmail.store.store import Store
from tmail.ui.source import MemorySource, Row

SECRET = "Draft of the secret plan"


@pytest.fixture
def me(monkeypatch: pytest.MonkeyPatch) -> Iterator[GpgUser]:
    user = GpgUser.make("Me", "me@example.test")
    monkeypatch.setenv("GNUPGHOME", user.home)
    yield user
    user.close()


def postponed(tmp_path: Path, encrypt: str) -> bytes:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[general]\ndata_dir = "{tmp_path / "data"}"\n'
        f'[accounts.a]\nemail = "me@example.test"\npgp_encrypt = "{encrypt}"\n'
        'incoming.protocol = "imap"\nincoming.host = "127.0.0.1"\n'
    )
    config = load_config(cfg, environ={})
    draft = Draft(
        from_=Address("Me", "me@example.test"),
        to=("friend@example.test",),
        bcc=("hidden@example.test",),
        subject="Plans",
        body=SECRET,
    )
    with Store.open(config.data_dir) as store:
        folder = MailBackend(config, store).postpone("a", draft)
    assert folder
    files = [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
    drafts = [p.read_bytes() for p in files if p.parent.name in ("cur", "new")]  # Maildir
    assert drafts, "the draft is in the store"
    if encrypt != "never":
        for path in files:
            assert SECRET.encode() not in path.read_bytes(), path
    return drafts[0]


def test_postponed_encrypted_message_is_stored_encrypted_to_oneself(
    me: GpgUser, tmp_path: Path
) -> None:
    raw = postponed(tmp_path, "always")
    assert b"multipart/encrypted" in raw and b"Subject: ..." in raw
    opened = open_protected(raw, lambda: GnupgBackend(me.home))
    assert opened.crypto is not None and opened.crypto.decrypted
    parsed = parse_message(opened.raw)
    assert SECRET in parsed.text and parsed.subject == "Plans"
    assert [a.addr for a in parsed.bcc] == ["hidden@example.test"]


def test_a_draft_not_to_be_encrypted_stays_as_it_was(me: GpgUser, tmp_path: Path) -> None:
    raw = postponed(tmp_path, "never")
    assert SECRET.encode() in raw and b"multipart/encrypted" not in raw


def test_an_encrypted_draft_resumes_decrypted_and_still_to_be_encrypted(
    me: GpgUser, tmp_path: Path
) -> None:
    raw = postponed(tmp_path, "opportunistic")
    row = Row(1, "demo", "INBOX", T0, "Me", "...", frozenset({Flag.DRAFT, Flag.SEEN}), len(raw))
    h = Harness(source=MemorySource([(row, raw)]))
    h.press("R")
    screen = h.screen()
    assert SECRET in screen and "Subject: Plans" in screen
    assert "To: friend@example.test" in screen and "Bcc: hidden@example.test" in screen
    assert "encrypt yes" in screen
