"""IMAP sync and POP3 fetch against the real Dovecot: new mail, flags both ways, moves and
deletes both ways, UIDVALIDITY change, POP3 DELE only after the store committed."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import MailUser
from tests.support.mailstack import MailStack
from tests.support.sessions import account, imap_session, message, pop3_session
from tmail.config.model import Account
from tmail.core.models import Flag
from tmail.protocols.imap import ImapSession
from tmail.protocols.pop3 import Pop3Session
from tmail.store import Store
from tmail.sync.imap_sync import sync_imap_account
from tmail.sync.pop3_fetch import fetch_pop3_account
from tmail.sync.result import AccountSyncResult

pytestmark = pytest.mark.stack


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "data")
    yield s
    s.close()


def imap_sync(stack: MailStack, user: MailUser, store: Store, **kw: object) -> AccountSyncResult:
    acct = account(stack, user.name, user.password, **kw)

    def opener(a: Account) -> ImapSession:
        return imap_session(stack, user.name, user.password)

    result = sync_imap_account(store, acct, opener)
    assert result.ok, result.errors
    return result


def pop_fetch(stack: MailStack, user: MailUser, store: Store, **kw: object) -> AccountSyncResult:
    acct = account(stack, user.name, user.password, protocol="pop3", **kw)

    def opener(a: Account) -> Pop3Session:
        return pop3_session(stack, user.name, user.password)

    result = fetch_pop3_account(store, acct, opener)
    assert result.ok, result.errors
    return result


def local(store: Store, user: MailUser, folder: str = "INBOX") -> dict[str, frozenset[Flag]]:
    """Subject -> flags of the local messages of a folder."""
    return {r.subject: r.flags for r in store.list_messages(user.name, folder, limit=100000)}


def server(stack: MailStack, user: MailUser, folder: str = "INBOX") -> dict[int, frozenset[Flag]]:
    s = imap_session(stack, user.name, user.password)
    try:
        s.select(folder)
        return s.flags() if s.uids() else {}
    finally:
        s.logout()


def test_new_mail_arrives_once_and_a_quiet_resync_does_nothing(
    mailstack: MailStack, mail_user: MailUser, store: Store
) -> None:
    raws = [message(f"s{i}") for i in range(5)]
    mailstack.bulk_save(mail_user.name, raws)
    first = imap_sync(mailstack, mail_user, store)
    assert first.new == 5 and first.new_in_inbox == 5
    rows = store.list_messages(mail_user.name, "INBOX", limit=100)
    on_disk = sorted(hashlib.sha256(store.read_raw(r.id)).hexdigest() for r in rows)
    assert on_disk == sorted(hashlib.sha256(r).hexdigest() for r in raws)
    again = imap_sync(mailstack, mail_user, store)
    assert (again.new, again.changed, again.removed) == (0, 0, 0)
    mailstack.save(mail_user.name, message("late"))
    third = imap_sync(mailstack, mail_user, store)
    assert third.new == 1 and "late" in local(store, mail_user)


def test_flags_go_both_ways(mailstack: MailStack, mail_user: MailUser, store: Store) -> None:
    mailstack.bulk_save(mail_user.name, [message("a"), message("b")])
    imap_sync(mailstack, mail_user, store)
    a = next(r for r in store.list_messages(mail_user.name, "INBOX") if r.subject == "a")
    store.set_flags(a.id, frozenset({Flag.SEEN, Flag.FLAGGED}))  # the user, locally
    s = imap_session(mailstack, mail_user.name, mail_user.password)
    s.select("INBOX")
    uid_b = max(s.uids())
    s.add_flags([uid_b], [Flag.REPLIED])  # another client, on the server
    s.logout()
    result = imap_sync(mailstack, mail_user, store)
    assert result.changed == 1
    assert local(store, mail_user) == {
        "a": frozenset({Flag.SEEN, Flag.FLAGGED}),
        "b": frozenset({Flag.REPLIED}),
    }
    assert sorted(server(mailstack, mail_user).values(), key=len) == [
        frozenset({Flag.REPLIED}),
        frozenset({Flag.SEEN, Flag.FLAGGED}),
    ]
    assert store.pending(mail_user.name) == []


def test_deletes_go_both_ways(mailstack: MailStack, mail_user: MailUser, store: Store) -> None:
    mailstack.bulk_save(
        mail_user.name, [message("keep"), message("gone-here"), message("gone-there")]
    )
    imap_sync(mailstack, mail_user, store)
    here = next(r for r in store.list_messages(mail_user.name, "INBOX") if r.subject == "gone-here")
    store.remove(here.id)  # purged locally
    s = imap_session(mailstack, mail_user.name, mail_user.password)
    s.select("INBOX")
    there = [u for u, raw in _subjects(s).items() if raw == "gone-there"]
    s.delete(there)  # expunged by another client
    s.logout()
    result = imap_sync(mailstack, mail_user, store)
    assert result.removed == 1
    assert set(local(store, mail_user)) == {"keep"}
    assert mailstack.message_count(mail_user.name) == 1


def test_moves_go_both_ways(mailstack: MailStack, mail_user: MailUser, store: Store) -> None:
    mailstack.create_mailbox(mail_user.name, "Archive")
    mailstack.bulk_save(
        mail_user.name, [message("stay"), message("local-move"), message("srv-move")]
    )
    imap_sync(mailstack, mail_user, store)
    row = next(r for r in store.list_messages(mail_user.name, "INBOX") if r.subject == "local-move")
    store.move(row.id, "Archive")
    s = imap_session(mailstack, mail_user.name, mail_user.password)
    s.select("INBOX")
    s.move([u for u, subj in _subjects(s).items() if subj == "srv-move"], "Archive")
    s.logout()
    imap_sync(mailstack, mail_user, store)
    imap_sync(mailstack, mail_user, store)  # settles: the moved-in message is adopted, not doubled
    assert set(local(store, mail_user)) == {"stay"}
    assert sorted(local(store, mail_user, "Archive")) == ["local-move", "srv-move"]
    assert len(store.list_messages(mail_user.name, "Archive")) == 2
    assert mailstack.message_count(mail_user.name) == 1
    assert mailstack.message_count(mail_user.name, "Archive") == 2
    assert store.pending(mail_user.name) == []


def test_a_flag_set_on_a_message_just_moved_here_reaches_the_server(
    mailstack: MailStack, mail_user: MailUser, store: Store
) -> None:
    # The move gives the message its new UID but no agreed flags there yet: the base of the
    # merge is the flags it had before the unpushed change (the journal's), not the change.
    mailstack.create_mailbox(mail_user.name, "Archive")
    mailstack.bulk_save(mail_user.name, [message("moved")])
    imap_sync(mailstack, mail_user, store)
    [row] = store.list_messages(mail_user.name, "INBOX")
    store.move(row.id, "Archive")
    imap_sync(mailstack, mail_user, store)  # pushes the move: the new UID comes by COPYUID
    [moved] = store.list_messages(mail_user.name, "Archive")
    assert moved.id == row.id and moved.uid is not None
    store.change_flags([moved.id], add=frozenset({Flag.FLAGGED}))
    imap_sync(mailstack, mail_user, store)
    assert local(store, mail_user, "Archive") == {"moved": frozenset({Flag.FLAGGED})}
    assert list(server(mailstack, mail_user, "Archive").values()) == [frozenset({Flag.FLAGGED})]
    assert store.pending(mail_user.name) == []


def test_uidvalidity_change_neither_duplicates_nor_drops(
    mailstack: MailStack, mail_user: MailUser, store: Store
) -> None:
    mailstack.bulk_save(mail_user.name, [message(f"v{i}") for i in range(4)])
    imap_sync(mailstack, mail_user, store)
    md = mailstack.maildir(mail_user.name)
    # Dovecot forgets its UID list: every message gets a new UID under a new UIDVALIDITY.
    for f in md.iterdir():
        if f.name.startswith("dovecot-uidlist") or f.name.startswith("dovecot.index"):
            f.unlink()
    mailstack.save(mail_user.name, message("v-new"))
    result = imap_sync(mailstack, mail_user, store)
    assert result.new == 1
    assert sorted(local(store, mail_user)) == ["v-new", "v0", "v1", "v2", "v3"]
    assert len(store.list_messages(mail_user.name, "INBOX")) == 5
    again = imap_sync(mailstack, mail_user, store)
    assert again.new == 0 and len(store.list_messages(mail_user.name, "INBOX")) == 5


def test_local_draft_is_appended_once(
    mailstack: MailStack, mail_user: MailUser, store: Store
) -> None:
    mailstack.create_mailbox(mail_user.name, "Drafts")
    imap_sync(mailstack, mail_user, store)
    store.add_message(mail_user.name, "Drafts", message("draft"), frozenset({Flag.DRAFT}),
                      record_append=True)  # fmt: skip
    imap_sync(mailstack, mail_user, store)
    imap_sync(mailstack, mail_user, store)
    assert mailstack.message_count(mail_user.name, "Drafts") == 1
    assert len(store.list_messages(mail_user.name, "Drafts")) == 1
    assert server(mailstack, mail_user, "Drafts") and all(
        f == {Flag.DRAFT} for f in server(mailstack, mail_user, "Drafts").values()
    )


def test_pop3_leaves_mail_on_server_and_never_fetches_twice(
    mailstack: MailStack, mail_user: MailUser, store: Store
) -> None:
    mailstack.bulk_save(mail_user.name, [message(f"p{i}") for i in range(3)])
    assert pop_fetch(mailstack, mail_user, store).new == 3
    row = store.list_messages(mail_user.name, "INBOX")[0]
    store.remove(row.id)  # deleting locally does not bring it back
    assert pop_fetch(mailstack, mail_user, store).new == 0
    assert len(store.list_messages(mail_user.name, "INBOX")) == 2
    assert mailstack.message_count(mail_user.name) == 3


def test_pop3_deletes_only_what_is_stored(
    mailstack: MailStack, mail_user: MailUser, store: Store
) -> None:
    raws = [message(f"d{i}") for i in range(4)]
    mailstack.bulk_save(mail_user.name, raws)
    result = pop_fetch(mailstack, mail_user, store, leave_on_server=False)
    assert result.new == 4
    assert mailstack.message_count(mail_user.name) == 0
    rows = store.list_messages(mail_user.name, "INBOX")
    assert sorted(store.read_raw(r.id) for r in rows) == sorted(raws)


def test_pop3_delete_after_keeps_young_mail(
    mailstack: MailStack, mail_user: MailUser, store: Store
) -> None:
    mailstack.bulk_save(mail_user.name, [message("young")])
    pop_fetch(mailstack, mail_user, store, delete_after=3600.0)
    pop_fetch(mailstack, mail_user, store, delete_after=3600.0)
    assert mailstack.message_count(mail_user.name) == 1
    pop_fetch(mailstack, mail_user, store, delete_after=0.0)
    assert mailstack.message_count(mail_user.name) == 0
    assert len(store.list_messages(mail_user.name, "INBOX")) == 1


def _subjects(s: ImapSession) -> dict[int, str]:
    out = {}
    for m in s.fetch_messages(s.uids()):
        for line in m.raw.split(b"\r\n"):
            if line.startswith(b"Subject: "):
                out[m.uid] = line[9:].decode()
    return out


def test_max_age_and_max_size_limit_what_is_fetched(
    mailstack: MailStack, mail_user: MailUser, store: Store
) -> None:
    import os
    import time as _time

    mailstack.bulk_save(
        mail_user.name, [message("old"), message("new"), message("big", size=50_000)]
    )
    new_dir = mailstack.maildir(mail_user.name) / "new"
    old = _time.time() - 100 * 86400
    for f in new_dir.iterdir():  # Dovecot takes INTERNALDATE from the file's mtime
        if b"Subject: old" in f.read_bytes():
            os.utime(f, (old, old))
    imap_sync(mailstack, mail_user, store, max_age=30 * 86400.0, max_size=20_000)
    rows = {r.subject: r for r in store.list_messages(mail_user.name, "INBOX")}
    assert set(rows) == {"new", "big"}
    big = store.read_raw(rows["big"].id)
    assert big.startswith(b"X-Tmail-Partial: headers only") and len(big) < 5_000


def test_a_folder_deleted_on_the_server_is_noticed_and_kept_locally(
    mailstack: MailStack, mail_user: MailUser, store: Store
) -> None:
    mailstack.bulk_save(mail_user.name, [message("in-projects")], mailbox="Projects")
    imap_sync(mailstack, mail_user, store)
    mailstack.doveadm("mailbox", "delete", "-u", mail_user.name, "-s", "Projects")
    result = imap_sync(mailstack, mail_user, store)
    assert any("Projects is gone from the server" in n for n in result.notes)
    assert set(local(store, mail_user, "Projects")) == {"in-projects"}
    assert "Projects" not in store.synced_folders(mail_user.name)


def _recording(s: ImapSession, commands: list[str]) -> ImapSession:
    """Record every command line the session sends from now on (after login)."""
    send = s._imap.send

    def logged(data: bytes) -> None:
        commands.append(data.decode("utf-8", "replace").split(" ", 1)[-1].strip())
        send(data)

    s._imap.send = logged
    return s


def test_a_quiet_resync_costs_one_status_per_folder(
    mailstack: MailStack, mail_user: MailUser, store: Store
) -> None:
    mailstack.bulk_save(mail_user.name, [message("i")])
    for box in ("Projects", "Lists"):
        mailstack.bulk_save(mail_user.name, [message(box)], mailbox=box)
    imap_sync(mailstack, mail_user, store)
    commands: list[str] = []
    acct = account(mailstack, mail_user.name, mail_user.password)

    def opener(a: Account) -> ImapSession:
        return _recording(imap_session(mailstack, mail_user.name, mail_user.password), commands)

    result = sync_imap_account(store, acct, opener)
    assert result.ok and (result.new, result.changed, result.removed) == (0, 0, 0)
    verbs = [c.split(" ", 1)[0] for c in commands]
    assert verbs.count("STATUS") == 3, commands
    assert not {"SELECT", "EXAMINE", "UID", "FETCH", "SEARCH"} & set(verbs), commands
    assert len(commands) <= 3 + 3  # LIST, LSUB, LOGOUT besides


def test_moves_without_the_move_extension_use_copy_and_uid_expunge(
    mailstack: MailStack, mail_user: MailUser, store: Store
) -> None:
    mailstack.create_mailbox(mail_user.name, "Archive")
    mailstack.bulk_save(mail_user.name, [message("stay"), message("go")])
    imap_sync(mailstack, mail_user, store)
    row = next(r for r in store.list_messages(mail_user.name, "INBOX") if r.subject == "go")
    store.move(row.id, "Archive")
    commands: list[str] = []
    acct = account(mailstack, mail_user.name, mail_user.password)

    def opener(a: Account) -> ImapSession:
        s = imap_session(mailstack, mail_user.name, mail_user.password)
        s.capabilities = s.capabilities - {"MOVE"}  # a server without RFC 6851
        return _recording(s, commands)

    assert sync_imap_account(store, acct, opener).ok
    assert sync_imap_account(store, acct, opener).ok
    assert any(c.startswith("UID COPY") for c in commands), commands
    assert any(c.startswith("UID EXPUNGE") for c in commands), commands
    assert not any(c.startswith("UID MOVE") for c in commands), commands
    assert mailstack.message_count(mail_user.name) == 1
    assert mailstack.message_count(mail_user.name, "Archive") == 1
    assert set(local(store, mail_user)) == {"stay"}
    assert len(store.list_messages(mail_user.name, "Archive")) == 1
    assert store.pending(mail_user.name) == []


class _NoUidl(Pop3Session):
    """The real Dovecot session, minus UIDL (as some old servers): tmail hashes TOP headers."""

    def uidls(self) -> list[tuple[int, str]] | None:
        return None


def test_pop3_without_uidl_falls_back_to_header_hashes(
    mailstack: MailStack, mail_user: MailUser, store: Store
) -> None:
    raws = [message(f"n{i}") for i in range(3)]
    mailstack.bulk_save(mail_user.name, raws)

    def fetch(**kw: object) -> AccountSyncResult:
        acct = account(mailstack, mail_user.name, mail_user.password, protocol="pop3", **kw)

        def opener(a: Account) -> Pop3Session:
            s = pop3_session(mailstack, mail_user.name, mail_user.password)
            return _NoUidl(s._p, account=s.account, server=s.server)

        result = fetch_pop3_account(store, acct, opener)
        assert result.ok, result.errors
        return result

    assert fetch().new == 3
    assert fetch().new == 0  # the same headers hash the same
    mailstack.save(mail_user.name, message("n-late"))
    assert fetch(leave_on_server=False).new == 1
    assert mailstack.message_count(mail_user.name) == 0  # all four stored, so all deleted
    rows = store.list_messages(mail_user.name, "INBOX")
    assert sorted(r.subject for r in rows) == ["n-late", "n0", "n1", "n2"]
    assert all(store.read_raw(r.id) in raws or r.subject == "n-late" for r in rows)


def test_pop3_max_size_keeps_big_mail_headers_only_and_on_the_server(
    mailstack: MailStack, mail_user: MailUser, store: Store
) -> None:
    mailstack.bulk_save(mail_user.name, [message("small"), message("big", size=60_000)])
    first = pop_fetch(mailstack, mail_user, store, max_size=20_000, leave_on_server=False)
    assert first.new == 2
    rows = {r.subject: r for r in store.list_messages(mail_user.name, "INBOX")}
    big = store.read_raw(rows["big"].id)
    assert big.startswith(b"X-Tmail-Partial: headers only (TOP)") and len(big) < 5_000
    assert b"Subject: big" in big
    assert mailstack.message_count(mail_user.name) == 1  # the small one was stored, so deleted
    again = pop_fetch(mailstack, mail_user, store, max_size=20_000, leave_on_server=False)
    assert again.new == 0 and mailstack.message_count(mail_user.name) == 1  # body only there
    assert len(store.list_messages(mail_user.name, "INBOX")) == 2


def test_headers_only_previews_without_taking_mail_off_the_server(
    mailstack: MailStack, make_mail_user: Callable[[], MailUser], tmp_path: Path
) -> None:
    pop_user, imap_user = make_mail_user(), make_mail_user()
    for u in (pop_user, imap_user):
        mailstack.bulk_save(u.name, [message(f"{u.name} {i}", size=3_000) for i in range(3)])
    with Store.open(tmp_path / "pop") as pop_store:
        kw = {"headers_only": True, "leave_on_server": False, "delete_after": 0.0}
        assert pop_fetch(mailstack, pop_user, pop_store, **kw).new == 3
        assert pop_fetch(mailstack, pop_user, pop_store, **kw).new == 0
        assert mailstack.message_count(pop_user.name) == 3
        raws = [pop_store.read_raw(r.id) for r in pop_store.list_messages(pop_user.name, "INBOX")]
    with Store.open(tmp_path / "imap") as imap_store:
        assert imap_sync(mailstack, imap_user, imap_store, headers_only=True).new == 3
        rows = imap_store.list_messages(imap_user.name, "INBOX")
        raws += [imap_store.read_raw(r.id) for r in rows]
    assert len(raws) == 6
    for raw in raws:
        assert raw.startswith(b"X-Tmail-Partial: headers only") and b"Subject: " in raw
        assert b"xxxxxxxx" not in raw  # no body


def test_a_folder_renamed_on_the_server_is_renamed_here_without_fetching_again(
    mailstack: MailStack, mail_user: MailUser, store: Store
) -> None:
    mailstack.bulk_save(mail_user.name, [message("p1"), message("p2")], mailbox="Projects")
    mailstack.bulk_save(mail_user.name, [message("other")], mailbox="Lists")
    imap_sync(mailstack, mail_user, store)
    p1 = next(r for r in store.list_messages(mail_user.name, "Projects") if r.subject == "p1")
    store.set_flags(p1.id, frozenset({Flag.FLAGGED}))  # a local change waiting to be pushed
    mailstack.doveadm("mailbox", "rename", "-u", mail_user.name, "-s", "Projects", "Work")
    result = imap_sync(mailstack, mail_user, store)
    assert any("Projects was renamed to Work" in n for n in result.notes), result.notes
    assert result.new == 0  # the two messages were not downloaded again
    assert local(store, mail_user, "Work") == {"p1": {Flag.FLAGGED}, "p2": frozenset()}
    assert store.list_messages(mail_user.name, "Projects") == []
    assert set(local(store, mail_user, "Lists")) == {"other"}
    assert {Flag.FLAGGED} in server(mailstack, mail_user, "Work").values()
    again = imap_sync(mailstack, mail_user, store)
    assert (again.new, again.removed, again.notes) == (0, 0, ())


def test_a_deleted_folder_is_not_taken_for_a_new_one_created_meanwhile(
    mailstack: MailStack, mail_user: MailUser, store: Store
) -> None:
    mailstack.bulk_save(mail_user.name, [message("old-1"), message("old-2")], mailbox="Projects")
    imap_sync(mailstack, mail_user, store)
    mailstack.doveadm("mailbox", "delete", "-u", mail_user.name, "-s", "Projects")
    mailstack.bulk_save(mail_user.name, [message("new-1")], mailbox="Other")
    # The same UIDVALIDITY by chance (two folders created in one second): the Message-IDs decide.
    state = store.folder_state(mail_user.name, "Projects")
    assert state is not None
    mailstack.doveadm(
        "mailbox", "update", "-u", mail_user.name, "--uid-validity", str(state.uidvalidity), "Other"
    )
    result = imap_sync(mailstack, mail_user, store)
    assert any("Projects is gone from the server" in n for n in result.notes), result.notes
    assert not any("was renamed" in n for n in result.notes)
    assert set(local(store, mail_user, "Projects")) == {"old-1", "old-2"}
    assert set(local(store, mail_user, "Other")) == {"new-1"}


def _server_by_subject(stack: MailStack, user: MailUser, folder: str) -> dict[str, frozenset[Flag]]:
    s = imap_session(stack, user.name, user.password)
    try:
        s.select(folder)
        subjects = _subjects(s)
        return {subjects[uid]: flags for uid, flags in s.flags().items()}
    finally:
        s.logout()


@pytest.mark.parametrize("move_ext", [True, False], ids=["MOVE", "COPY+EXPUNGE"])
def test_flags_changed_before_a_move_arrive_on_the_moved_copy(
    mailstack: MailStack, mail_user: MailUser, store: Store, move_ext: bool
) -> None:
    mailstack.create_mailbox(mail_user.name, "Archive")
    mailstack.bulk_save(mail_user.name, [message("flag-then-move"), message("move-then-flag")])
    imap_sync(mailstack, mail_user, store)
    rows = {r.subject: r for r in store.list_messages(mail_user.name, "INBOX")}
    first, second = rows["flag-then-move"], rows["move-then-flag"]
    store.change_flags([first.id], add=frozenset({Flag.FLAGGED, Flag.SEEN}))
    store.move(first.id, "Archive")
    store.move(second.id, "Archive")
    store.change_flags([second.id], add=frozenset({Flag.FLAGGED}))
    acct = account(mailstack, mail_user.name, mail_user.password)

    def opener(a: Account) -> ImapSession:
        s = imap_session(mailstack, mail_user.name, mail_user.password)
        if not move_ext:
            s.capabilities = s.capabilities - {"MOVE"}
        return s

    assert sync_imap_account(store, acct, opener).ok  # one sync is enough
    on_server = _server_by_subject(mailstack, mail_user, "Archive")
    assert on_server == {
        "flag-then-move": frozenset({Flag.FLAGGED, Flag.SEEN}),
        "move-then-flag": frozenset({Flag.FLAGGED}),
    }
    assert sync_imap_account(store, acct, opener).ok
    assert local(store, mail_user, "Archive") == on_server
    assert _server_by_subject(mailstack, mail_user, "Archive") == on_server
    assert store.pending(mail_user.name) == []


def test_flags_changed_and_moved_back_before_a_sync_reach_the_server(
    mailstack: MailStack, mail_user: MailUser, store: Store
) -> None:
    mailstack.create_mailbox(mail_user.name, "Archive")
    mailstack.bulk_save(mail_user.name, [message("back-and-forth")])
    imap_sync(mailstack, mail_user, store)
    (row,) = store.list_messages(mail_user.name, "INBOX")
    store.move(row.id, "Archive")
    store.change_flags([row.id], add=frozenset({Flag.FLAGGED}))
    store.move(row.id, "INBOX")  # changed one's mind: it never left the server's INBOX
    imap_sync(mailstack, mail_user, store)
    assert _server_by_subject(mailstack, mail_user, "INBOX") == {
        "back-and-forth": frozenset({Flag.FLAGGED})
    }
    assert mailstack.message_count(mail_user.name, "Archive") == 0
    imap_sync(mailstack, mail_user, store)
    assert local(store, mail_user) == {"back-and-forth": frozenset({Flag.FLAGGED})}
    assert store.pending(mail_user.name) == []
