"""The reader over a real store: an account's assumed_charsets reach the index and the pager."""

from __future__ import annotations

from pathlib import Path

from tmail.config.model import Account, Config, ServerSettings
from tmail.runtime.backend import DemoBackend
from tmail.store import Store
from tmail.ui.app import App
from tmail.ui.main import build_app
from tmail.ui.source import View

# Upper-case KOI8-R, no charset declared anywhere: a detector reads it as windows-1251
# ("феуф учсъй"); the account's assumed_charsets = ["koi8-r"] must win.
LETTER = (
    b"From: Boris <boris@example.ru>\nTo: me@example.ru\nSubject: "
    + "ТЕСТ СВЯЗИ".encode("koi8-r")
    + b"\nDate: Mon, 01 Jan 2024 10:00:00 +0000\nMessage-ID: <koi@example.ru>\n\n"
    + "ПРОВЕРКА СВЯЗИ, ПРИЁМ.".encode("koi8-r")
    + b"\n"
)


def config_for(data_dir: Path, charsets: tuple[str, ...]) -> Config:
    server = ServerSettings(protocol="imap", host="localhost", port=0)
    acc = Account(name="ru", email="me@example.ru", incoming=server, assumed_charsets=charsets)
    return Config(path=None, data_dir=data_dir, poll_interval=0, accounts={"ru": acc})


def open_reader(data_dir: Path, charsets: tuple[str, ...]) -> tuple[App, Store]:
    config = config_for(data_dir, charsets)
    # As tmail.ui.main.run opens it.
    store = Store.open(config.data_dir, assumed_charsets=config.assumed_charsets)
    app = build_app(
        config, store, DemoBackend(config, store), {}, poll=False, start_view=View("ru", "INBOX")
    )
    return app, store


def test_undeclared_koi8r_letter_reads_right_in_index_and_pager(tmp_path: Path) -> None:
    with Store.open(tmp_path) as s:
        s.ensure_folder("ru", "INBOX")
        folder = s.folder_path("ru", "INBOX")
    (folder / "new" / "1700000000.koi.host").write_bytes(LETTER)  # delivered by another tool
    app, store = open_reader(tmp_path, ("koi8-r",))
    try:
        screen = app.render_text(120, 30)
        assert "ТЕСТ СВЯЗИ" in screen  # the index row, from the store
        app.press("enter", size=(120, 30))
        screen = app.render_text(120, 30)
        assert "Subject: ТЕСТ СВЯЗИ" in screen
        assert "ПРОВЕРКА СВЯЗИ, ПРИЁМ." in screen
        assert "феуф" not in screen
    finally:
        store.close()


def test_without_assumed_charsets_the_pager_guesses_and_the_hint_is_per_account(
    tmp_path: Path,
) -> None:
    # The same letter on an account without the setting is read by detection alone: this is
    # what the setting fixes (and shows that the test above does not pass by luck).
    with Store.open(tmp_path) as s:
        s.add_message("ru", "INBOX", LETTER)
    app, store = open_reader(tmp_path, ())
    try:
        app.press("enter", size=(120, 30))
        screen = app.render_text(120, 30)
        assert "ПРОВЕРКА СВЯЗИ" not in screen
    finally:
        store.close()
