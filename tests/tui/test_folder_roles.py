"""Folder roles in the reader: one table (tmail.core.roles) for the sidebar, the index and the
backend. Names that only some of the former tables knew now count everywhere (issue 12)."""

from __future__ import annotations

from pathlib import Path

from tests.tui.test_thread_sort import letter
from tmail.core.models import Address
from tmail.core.roles import Role
from tmail.mime.compose import Draft
from tmail.runtime.backend import DemoBackend
from tmail.runtime.demo import DEMO_ACCOUNT, DEMO_EMAIL, demo_config
from tmail.store import Store
from tmail.ui.index import RowWidget
from tmail.ui.sidebar import Sidebar
from tmail.ui.source import View
from tmail.ui.storesource import StoreSource


def test_sent_messages_and_junk_e_mail_sit_with_the_special_folders(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "data")
    for folder in ("Zeta", "Junk E-mail", "Sent Messages", "Archives"):
        store.ensure_folder("a", folder)
    source = StoreSource(store, ["a"])
    roles = {f.name: f.role for f in source.folders()}
    assert roles["Sent Messages"] is Role.SENT and roles["Junk E-mail"] is Role.JUNK
    sidebar = Sidebar(lambda account, folder: None)
    sidebar.update(["a"], source.folders(), None)
    text = "\n".join(t.decode() for t in sidebar.render((30, 10)).text)
    listed = [line.strip() for line in text.splitlines()][2:7]
    assert listed == ["INBOX", "Sent Messages", "Archives", "Junk E-mail", "Zeta"]
    store.close()


def test_mail_in_sent_messages_names_its_recipient(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "data")
    store.add_message("a", "Sent Messages", letter(1, 1, "Ann <ann@x.test>", "Minutes"))
    source = StoreSource(store, ["a"])
    (row,) = source.rows(View("a", "Sent Messages"), 0, 10)
    assert "To: me@demo.test" in RowWidget(row).text(100)
    store.close()


def test_the_sent_copy_goes_to_an_existing_sent_mail_folder(tmp_path: Path) -> None:
    config = demo_config(tmp_path / "data")
    store = Store.open(config.data_dir)
    store.ensure_folder(DEMO_ACCOUNT, "Sent Mail")
    me = Address("You", DEMO_EMAIL)
    DemoBackend(config, store).send(DEMO_ACCOUNT, Draft(from_=me, to=(me,), subject="Hi"))
    counts = {f.name: f.total for f in store.folders(DEMO_ACCOUNT)}
    assert counts.get("Sent Mail") == 1 and "Sent" not in counts
    store.close()
