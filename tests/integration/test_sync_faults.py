"""A sync meeting a broken server: one clear error line for the account, what was stored stays,
and the next sync against a healthy server resumes without duplicates. IMAP faults come from
small fake servers; the POP3 connection lost mid-download is the real Dovecot behind a proxy
that drops it."""

from __future__ import annotations

import poplib
import ssl
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import imapclient
import pytest

from tests.conftest import MailUser
from tests.support.fakeimap import (
    BadFetch,
    ControlCharsInFolderName,
    DropMidLiteral,
    FakeImap,
    FetchForUnaskedUid,
    LiteralShorterThanSize,
    OversizedLiteral,
    RefuseSelect,
    StallOnFetch,
    TwoFetchesForOneUid,
)
from tests.support.faultservers import drops_after
from tests.support.mailstack import MailStack
from tests.support.sessions import account, message
from tmail.config.model import Account, ServerSettings
from tmail.protocols.imap import ImapSession
from tmail.protocols.pop3 import Pop3Session
from tmail.store import Store
from tmail.sync.imap_sync import sync_imap_account
from tmail.sync.pop3_fetch import fetch_pop3_account
from tmail.sync.result import AccountSyncResult


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "data")
    yield s
    s.close()


def sync(server: FakeImap, store: Store, timeout: float = 5) -> AccountSyncResult:
    acct = Account("acct", "a@x", ServerSettings("imap", "127.0.0.1", server.port, "none"))

    def opener(a: Account) -> ImapSession:
        # Plain TCP to a fake on loopback: the faults are in IMAP, not in TLS.
        client = imapclient.IMAPClient("127.0.0.1", port=server.port, ssl=False, timeout=timeout)
        client.login("u", "p")
        return ImapSession(client, account=a.name, server=a.incoming.label)

    return sync_imap_account(store, acct, opener)


def stored(store: Store) -> list[bytes]:
    return sorted(store.read_raw(r.id) for r in store.list_messages("acct", "INBOX"))


def resume_is_clean(store: Store) -> None:
    with FakeImap() as healthy:
        result = sync(healthy, store)
        assert result.ok, result.errors
        assert stored(store) == sorted(healthy.messages.values())


def test_drop_mid_literal_keeps_the_first_message_and_resumes(store: Store) -> None:
    with DropMidLiteral() as server:
        result = sync(server, store)
        assert stored(store) == [server.messages[1]]
    assert len(result.errors) == 1
    assert result.errors[0].startswith("acct (127.0.0.1:") and "connection lost" in result.errors[0]
    resume_is_clean(store)


def test_stall_is_a_timeout_error_not_a_hang(store: Store) -> None:
    with StallOnFetch() as server:
        result = sync(server, store, timeout=1)
    assert len(result.errors) == 1 and "stopped answering" in result.errors[0]
    resume_is_clean(store)


@pytest.mark.parametrize("fault", [RefuseSelect, BadFetch])
def test_no_and_bad_answers_name_the_command(fault: type[FakeImap], store: Store) -> None:
    with fault() as server:
        result = sync(server, store)
    assert len(result.errors) == 1 and "refused" in result.errors[0]
    assert "\x1b" not in result.errors[0]
    resume_is_clean(store)


def test_oversized_literal_is_refused_and_nothing_half_stored(store: Store) -> None:
    with OversizedLiteral() as server:
        result = sync(server, store)
    assert len(result.errors) == 1 and "literal" in result.errors[0]
    assert stored(store) == []
    resume_is_clean(store)


def test_control_characters_in_a_folder_name_never_reach_the_terminal(store: Store) -> None:
    with ControlCharsInFolderName() as server:
        result = sync(server, store)
    text = " ".join([*result.errors, *result.notes, *(f.folder for f in result.folders)])
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert stored(store) == sorted(server.messages.values())
    visible = "Evil^[]0;owned^G<U+202E>Folder"
    assert visible in {f.name for f in store.folders("acct")}
    assert len(store.list_messages("acct", visible)) == len(server.messages)


def test_full_disk_is_one_error_and_nothing_half_written(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from tmail.store import maildir

    def full(fd: int, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with FakeImap() as server:
        monkeypatch.setattr(maildir, "_write_all", full)
        result = sync(server, store)
        monkeypatch.undo()
    assert len(result.errors) == 1 and "disk is full" in result.errors[0]
    assert stored(store) == []
    assert not [p for p in store.mail_dir.rglob("*") if p.is_file()]
    resume_is_clean(store)


def test_two_fetches_for_one_uid_store_one_copy_and_fail_the_folder(store: Store) -> None:
    with TwoFetchesForOneUid() as server:
        result = sync(server, store)
        rows = store.list_messages("acct", "INBOX")
        assert sorted(r.uid for r in rows) == [1, 2, 3]  # one copy per UID
        assert stored(store) == sorted(server.messages.values())
    assert not result.ok and len(result.errors) == 1
    assert result.errors[0].startswith("acct (127.0.0.1:")
    assert "UID 2 came twice with different contents" in result.errors[0]
    assert [f.error for f in result.folders] == [result.errors[0]]
    resume_is_clean(store)


def test_fetch_data_for_a_uid_not_asked_for_is_not_stored(store: Store) -> None:
    with FetchForUnaskedUid() as server:
        result = sync(server, store)
        assert result.ok, result.errors
        assert stored(store) == sorted(server.messages.values())  # no UID 99
    resume_is_clean(store)


def test_a_literal_shorter_than_its_size_is_not_stored_and_fetched_again_later(
    store: Store,
) -> None:
    with LiteralShorterThanSize() as server:
        result = sync(server, store)
        assert stored(store) == sorted([server.messages[1], server.messages[3]])
    assert len(result.errors) == 1 and "RFC822.SIZE" in result.errors[0]
    resume_is_clean(store)  # the next sync of a sane server brings UID 2 whole


def test_sync_command_reports_the_folders_protocol_error_in_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    with TwoFetchesForOneUid() as server:
        cfg = tmp_path / "config.toml"
        cfg.write_text(f"""[general]
data_dir = "{tmp_path / "data"}"
[accounts.acct]
email = "a@example.test"
incoming.protocol = "imap"
incoming.host = "127.0.0.1"
incoming.port = {server.port}
incoming.security = "none"
incoming.allow_plaintext_auth = true
incoming.username = "u"
incoming.password_command = "echo p"
incoming.timeout = "5s"
""")
        res = subprocess.run(
            [sys.executable, "-m", "tmail", "--config", str(cfg), "sync"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert res.returncode == 1, res.stderr
    errors = res.stderr.strip().splitlines()
    assert len(errors) == 1, res.stderr
    assert errors[0].startswith(f"tmail: acct (127.0.0.1:{server.port}): UID FETCH in INBOX: ")
    assert "UID 2 came twice" in errors[0]


@pytest.mark.stack
def test_pop3_connection_lost_mid_download_deletes_nothing_and_resumes(
    mailstack: MailStack, mail_user: MailUser, store: Store
) -> None:
    raws = [message(f"drop {i}", size=10_000) for i in range(40)]
    mailstack.bulk_save(mail_user.name, raws)
    acct = account(mailstack, mail_user.name, mail_user.password, protocol="pop3")
    acct = replace(acct, leave_on_server=False)  # DELE as soon as stored

    def through(port: int) -> Callable[[Account], Pop3Session]:
        def opener(a: Account) -> Pop3Session:
            ctx = ssl.create_default_context(cafile=str(mailstack.ca_file))
            pop = poplib.POP3_SSL("127.0.0.1", port, context=ctx, timeout=10)
            pop.user(mail_user.name)
            pop.pass_(mail_user.password)
            return Pop3Session(pop, account=a.name, server=f"127.0.0.1:{port}")

        return opener

    with drops_after(mailstack.ports.pop3s, 150_000) as port:
        broken = fetch_pop3_account(store, acct, through(port))
    assert not broken.ok and len(broken.errors) == 1
    assert "connection lost" in broken.errors[0] and "\n" not in broken.errors[0]
    kept = [store.read_raw(r.id) for r in store.list_messages(mail_user.name, "INBOX")]
    assert 0 < len(kept) < 40 and all(raw in raws for raw in kept)  # whole messages only
    assert mailstack.message_count(mail_user.name) == 40  # no QUIT: no DELE took effect
    resumed = fetch_pop3_account(store, acct, through(mailstack.ports.pop3s))
    assert resumed.ok and resumed.new == 40 - len(kept)
    assert mailstack.message_count(mail_user.name) == 0
    rows = store.list_messages(mail_user.name, "INBOX")
    assert sorted(store.read_raw(r.id) for r in rows) == sorted(raws)  # none lost, none twice
