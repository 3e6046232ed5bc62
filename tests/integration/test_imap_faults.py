"""The IMAP wrapper meets broken servers: each fault gives one clear error, never a hang."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import imapclient
import pytest

from tests.support.fakeimap import (
    BadFetch,
    ControlCharsInFolderName,
    DropMidLiteral,
    FakeImap,
    FetchForUnaskedUid,
    LiteralShorterThanSize,
    OffersCreateSpecialUse,
    OversizedLiteral,
    RefuseCreate,
    RefuseSelect,
    StallOnFetch,
    TwoFetchesForOneUid,
)
from tmail.core.errors import ConnectFailed, ProtocolError
from tmail.protocols.imap import ImapSession


@contextlib.contextmanager
def session(server: FakeImap, timeout: float = 5) -> Iterator[ImapSession]:
    # Plain TCP to a fake on loopback: the faults are in IMAP, not in TLS.
    client = imapclient.IMAPClient("127.0.0.1", port=server.port, ssl=False, timeout=timeout)
    client.login("u", "p")
    s = ImapSession(client, account="acct", server=f"127.0.0.1:{server.port}")
    try:
        yield s
    finally:
        s.logout()


def test_drop_mid_literal_keeps_the_whole_messages_and_says_connection_lost() -> None:
    with DropMidLiteral() as server, session(server) as s:
        s.select("INBOX")
        got = []
        with pytest.raises(ConnectFailed) as info:
            for msg in s.fetch_messages([1, 2, 3]):
                got.append(msg)
    assert [m.uid for m in got] == [1] and got[0].raw == server.messages[1]
    assert info.value.one_line().startswith("acct (127.0.0.1:")
    assert "connection lost" in info.value.one_line()


def test_stall_times_out_instead_of_hanging() -> None:
    with StallOnFetch() as server, session(server, timeout=1) as s:
        s.select("INBOX")
        t0 = time.monotonic()
        with pytest.raises(ConnectFailed, match="stopped answering"):
            list(s.fetch_messages([1]))
    assert time.monotonic() - t0 < 5


def test_no_on_select_is_a_protocol_error_with_the_server_words() -> None:
    with (
        RefuseSelect() as server,
        session(server) as s,
        pytest.raises(ProtocolError, match=r"SELECT INBOX refused.*internal error"),
    ):
        s.select("INBOX")


def test_bad_on_fetch_is_a_protocol_error_made_terminal_safe() -> None:
    with BadFetch() as server, session(server) as s:
        s.select("INBOX")
        with pytest.raises(ProtocolError) as info:
            list(s.fetch_messages([1]))
    line = info.value.one_line()
    assert "refused" in line and "\x1b" not in line and "^[" in line


def test_oversized_literal_is_refused_before_reading_it() -> None:
    with OversizedLiteral() as server, session(server) as s:
        s.select("INBOX")
        t0 = time.monotonic()
        with pytest.raises(ConnectFailed, match="999999999999-byte literal"):
            list(s.fetch_messages([1]))
    assert time.monotonic() - t0 < 3


def test_control_characters_in_folder_name_are_kept_for_the_server_not_shown() -> None:
    with ControlCharsInFolderName() as server, session(server) as s:
        names = [f.name for f in s.folders()]
    assert ControlCharsInFolderName.evil in names


def test_two_fetches_for_one_uid_give_one_copy_and_a_protocol_error_after_the_rest() -> None:
    with TwoFetchesForOneUid() as server, session(server) as s:
        s.select("INBOX")
        got = []
        with pytest.raises(ProtocolError) as info:
            for msg in s.fetch_messages([1, 2, 3]):
                got.append(msg)
        assert not s.broken  # every response was read: the connection serves the next folder
        assert s.noop() is False
    assert [m.uid for m in got] == [1, 2, 3]
    assert [m.raw for m in got] == [server.messages[u] for u in (1, 2, 3)]
    line = info.value.one_line()
    assert line.startswith("acct (127.0.0.1:") and "\n" not in line
    assert "UID FETCH in INBOX: UID 2 came twice with different contents" in line


def test_fetch_data_for_a_uid_not_asked_for_is_passed_over() -> None:
    with FetchForUnaskedUid() as server, session(server) as s:
        s.select("INBOX")
        got = list(s.fetch_messages([1, 3]))
    assert [m.uid for m in got] == [1, 3]  # neither 99 (never listed) nor 2 (not asked for)


def test_a_literal_shorter_than_its_rfc822_size_is_not_given_out() -> None:
    with LiteralShorterThanSize() as server, session(server) as s:
        s.select("INBOX")
        got = []
        with pytest.raises(ProtocolError) as info:
            for msg in s.fetch_messages([1, 2, 3]):
                got.append(msg)
    assert [m.uid for m in got] == [1, 3]
    n = len(server.messages[2])
    assert f"UID 2 is {n} bytes where its RFC822.SIZE says {n + 40}" in info.value.one_line()


def test_create_asks_for_the_special_use_where_the_server_offers_it() -> None:
    with OffersCreateSpecialUse() as server, session(server) as s:
        s.create_folder("Sent", "\\Sent")
    with FakeImap() as plain, session(plain) as s:
        s.create_folder("Sent", "\\Sent")
    assert 'CREATE "Sent" (USE (\\Sent))' in server.commands
    assert [c for c in plain.commands if c.startswith("CREATE")] == ['CREATE "Sent"']


def test_refused_create_keeps_sent_copies_local_and_says_so_once(tmp_path: Path) -> None:
    from tmail.config.model import Account, ServerSettings
    from tmail.core.models import Flag
    from tmail.store.store import Store
    from tmail.sync.imap_sync import sync_imap_account

    copy = b"From: a@example.test\r\nSubject: sent\r\nMessage-ID: <s@x>\r\n\r\nhi\r\n"
    with RefuseCreate() as server, Store.open(tmp_path) as store:
        acc = Account("acct", "a@example.test", ServerSettings("imap", "127.0.0.1", server.port))

        def opener(_acc: Account) -> ImapSession:
            client = imapclient.IMAPClient("127.0.0.1", port=server.port, ssl=False, timeout=5)
            client.login("u", "p")
            return ImapSession(client, account="acct", server=f"127.0.0.1:{server.port}")

        notes = []
        for _ in range(2):  # a sent copy before each sync, as the reader keeps them
            store.add_message("acct", "Sent", copy, frozenset({Flag.SEEN}), record_append=True)
            result = sync_imap_account(store, acc, opener)
            assert result.ok, result.errors
            notes += result.notes
            assert store.pending("acct") == []
        assert store.count("acct", "Sent") == 2
    assert len(notes) == 1 and "would not create" in notes[0] and "NOPERM" in notes[0]
    assert "kept in the local Sent folder" in notes[0]
    assert sum(c.startswith("CREATE") for c in server.commands) == 1
