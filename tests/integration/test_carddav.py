"""The CardDAV address book against a real Radicale on loopback (TLS verified with its CA):
discovery, sync-collection, changes, a refused password and a server that is down."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import MailUser
from tests.support.radicale import Radicale, radicale
from tests.support.sessions import write_config
from tmail.cli import main

PW = "s3cret"


def card(uid: str, fn: str, email: str) -> str:
    return f"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{fn}\r\nEMAIL:{email}\r\nEND:VCARD\r\n"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        code = main(list(argv), stdout=out, stderr=err)
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Radicale]:
    with radicale(tmp_path / "radicale") as srv:
        srv.add_user("alice", PW)
        yield srv


def configure(tmp_path: Path, srv: Radicale, monkeypatch: pytest.MonkeyPatch, pw: str) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f"""
[contacts]
carddav_url = "{srv.url}"
carddav_username = "alice"
carddav_password_env = "TMAIL_CARDDAV_PW"
carddav_ca_file = "{srv.ca_file}"
""")
    monkeypatch.setenv("TMAIL_CONFIG", str(cfg))
    monkeypatch.setenv("TMAIL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TMAIL_CARDDAV_PW", pw)


def test_carddav_contacts_are_synced_found_and_kept_when_the_server_fails(
    server: Radicale, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = server.make_book("alice", PW)
    server.put("alice", PW, book + "ivan.vcf", card("ivan", "Иван Петров", "ivan@x.test"))
    server.put("alice", PW, book + "zoe.vcf", card("zoe", "Zoë Martin", "zoe@x.test"))
    configure(tmp_path, server, monkeypatch, PW)
    code, out, err = run("contacts", "sync")  # the book found from the server's root
    assert (code, out) == (0, "contacts: CardDAV address book synced, 2 addresses\n"), err
    code, out, _ = run("contacts", "ИВАН", "--json")
    got = json.loads(out)
    assert got[0]["name"] == "Иван Петров" and got[0]["source"] == "carddav"
    assert run("contacts", "sync")[1] == "contacts: CardDAV address book unchanged, 2 addresses\n"
    # a change on the server: one card edited, one deleted, one added
    server.put("alice", PW, book + "ivan.vcf", card("ivan", "Иван Петров", "ivan@new.test"))
    assert server.request("alice", PW, "DELETE", book + "zoe.vcf") == 200
    server.put("alice", PW, book + "ann.vcf", card("ann", "Ann Lee", "ann@x.test"))
    assert run("contacts", "sync")[1] == "contacts: CardDAV address book synced, 2 addresses\n"
    code, out, _ = run("contacts", "x.test", "--json", "--limit", "0")
    assert [c["addresses"][0] for c in json.loads(out)] == ["ann@x.test"]
    assert run("contacts", "ivan@new")[0] == 0
    # a refused password, then a server that is down: the last copy stays, and it is said
    configure(tmp_path, server, monkeypatch, "wrong")
    code, out, err = run("contacts", "sync")
    assert code == 1 and "refused the login" in err
    assert "the last synced copy is kept (2 addresses)" in err
    configure(tmp_path, server, monkeypatch, PW)
    server.stop()
    code, out, err = run("contacts", "sync")
    assert code == 1 and "cannot reach the CardDAV server" in err and "kept (2 addresses)" in err
    assert run("contacts", "ann")[1].startswith("Ann Lee <ann@x.test>")


def test_an_untrusted_certificate_is_refused(
    server: Radicale, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.make_book("alice", PW)
    configure(tmp_path, server, monkeypatch, PW)
    cfg = tmp_path / "config.toml"
    cfg.write_text(cfg.read_text().replace(f'carddav_ca_file = "{server.ca_file}"\n', ""))
    code, _, err = run("contacts", "sync")
    assert code == 1 and "certificate is not trusted" in err


@pytest.mark.stack
def test_tmail_sync_syncs_the_address_book_with_the_mail(
    server: Radicale, mail_user: MailUser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = server.make_book("alice", PW)
    server.put("alice", PW, book + "ivan.vcf", card("ivan", "Иван Петров", "ivan@x.test"))
    cfg = write_config(tmp_path, mail_user.stack, mail_user.name, mail_user.password)
    cfg.write_text(
        cfg.read_text()
        + f'\n[contacts]\ncarddav_url = "{server.url}alice/contacts/"\n'
        + 'carddav_username = "alice"\ncarddav_password_env = "TMAIL_CARDDAV_PW"\n'
        + f'carddav_ca_file = "{server.ca_file}"\n'
    )
    monkeypatch.setenv("TMAIL_CONFIG", str(cfg))
    monkeypatch.delenv("TMAIL_DATA_DIR", raising=False)
    monkeypatch.setenv("TMAIL_CARDDAV_PW", PW)
    code, out, err = run("sync")
    assert code == 0, err
    assert "contacts: CardDAV address book synced, 1 address" in out
    assert run("contacts", "ivan")[1].startswith("Иван Петров <ivan@x.test>")
    monkeypatch.setenv("TMAIL_CARDDAV_PW", "wrong")
    code, out, err = run("sync")
    assert code == 0  # the mail was synced; the address book's trouble is said, its copy kept
    assert "refused the login" in err and "the last synced copy is kept: 1 address" in err


@pytest.mark.stack
def test_the_readers_background_sync_brings_the_address_book_too(
    server: Radicale, mail_user: MailUser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tmail.config import load_config
    from tmail.runtime.backend import MailBackend
    from tmail.store import Store

    book = server.make_book("alice", PW)
    server.put("alice", PW, book + "ivan.vcf", card("ivan", "Иван Петров", "ivan@x.test"))
    cfg = write_config(tmp_path, mail_user.stack, mail_user.name, mail_user.password)
    cfg.write_text(
        cfg.read_text()
        + f'\n[contacts]\ncarddav_url = "{server.url}"\ncarddav_username = "alice"\n'
        + f'carddav_password_env = "TMAIL_CARDDAV_PW"\ncarddav_ca_file = "{server.ca_file}"\n'
    )
    monkeypatch.setenv("TMAIL_CARDDAV_PW", PW)
    config = load_config(cfg)
    with Store.open(config.data_dir) as store:
        backend = MailBackend(config, store)
        assert backend.sync("acct").errors == ()
        assert [c.addr for c in store.contacts("иван")] == ["ivan@x.test"]
        server.stop()
        errors = backend.sync("acct").errors
        assert len(errors) == 1 and "cannot reach the CardDAV server" in errors[0]
        assert "the last synced copy is kept: 1 address" in errors[0]
        assert [c.addr for c in store.contacts("иван")] == ["ivan@x.test"]
