"""To/Cc/Bcc complete from the address book harvested into the real store (not a stub)."""

from __future__ import annotations

from pathlib import Path

from tests.tui.conftest import Harness
from tmail.mime.compose import Draft
from tmail.store import Store
from tmail.ui.storesource import StoreSource


def mail(n: int, sender: str, to: str = "Me <me@demo.test>", day: int = 1) -> bytes:
    return (
        f"From: {sender}\nTo: {to}\nSubject: s{n}\nMessage-ID: <t{n}@x.test>\n"
        f"Date: Mon, {day:02d} Nov 2026 10:00:00 +0000\n\nhi\n"
    ).encode()


def test_tab_completes_names_and_addresses_from_harvested_mail(tmp_path: Path) -> None:
    with Store.open(tmp_path / "data") as store:
        store.add_message("demo", "INBOX", mail(1, "Фёдор Иванов <fedor@x.test>"))
        store.add_message("demo", "INBOX", mail(2, '"Petrova, Anna" <anna@x.test>'))
        store.add_message("demo", "Sent", mail(3, "me@demo.test", to="Anders <anders@y.test>"))
        h = Harness()
        h.app.source.contacts = StoreSource(store, ["demo"], ["me@demo.test"]).contacts  # type: ignore[method-assign]
        h.press("m")
        h.type("федор")  # without ё, lower case: still Фёдор
        h.press("tab")
        assert "To:      Фёдор Иванов <fedor@x.test>" in h.screen()
        h.type(", an")
        h.press("tab")  # the one written to first (sent weighs more)
        assert "Фёдор Иванов <fedor@x.test>, Anders <anders@y.test>" in h.screen()
        h.press("tab")  # Tab again: the next one; a name with a comma comes quoted
        assert 'Фёдор Иванов <fedor@x.test>, "Petrova, Anna" <anna@x.test>' in h.screen()
        h.press("down")
        h.type("me@demo")
        h.press("tab")  # one's own address is no contact
        assert "Cc:      me@demo" in h.screen() and "Cc:      Me <" not in h.screen()
        h.press("enter", "enter", "enter", "y")
        h.work()
    draft = next(c[1] for c in h.backend.calls if c[0] == "send")
    assert isinstance(draft, Draft)
    assert [a.rsplit("<", 1)[-1] for a in draft.to] == ["fedor@x.test>", "anna@x.test>"]


def test_tab_on_a_group_writes_its_members(tmp_path: Path) -> None:
    book = tmp_path / "book.vcf"
    book.write_text(
        "BEGIN:VCARD\nUID:a1\nFN:Anna\nEMAIL:anna@x.test\nEND:VCARD\n"
        "BEGIN:VCARD\nVERSION:4.0\nKIND:group\nFN:Команда\nMEMBER:urn:uuid:a1\n"
        "MEMBER:mailto:guest@y.test\nEND:VCARD\n"
    )
    with Store.open(tmp_path / "data") as store:
        store.import_vcards(book)
        h = Harness()
        h.app.source.contacts = StoreSource(store, ["demo"]).contacts  # type: ignore[method-assign]
        h.press("m")
        h.type("bob@x.test, коман")
        h.press("tab")
        assert "To:      bob@x.test, anna@x.test, guest@y.test" in h.screen()
