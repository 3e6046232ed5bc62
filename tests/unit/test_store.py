"""The store against real files and a real SQLite index in a temporary data dir."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tmail.core.errors import StoreError
from tmail.core.models import Flag
from tmail.store import FolderState, Store, maildir

S, F, R = Flag.SEEN, Flag.FLAGGED, Flag.REPLIED


def msg(
    n: int,
    *,
    subject: str = "Hello",
    sender: str = "Alice <alice@example.com>",
    body: str = "Body text",
    date: str | None = None,
    extra: str = "",
) -> bytes:
    day = date or f"Mon, {1 + n % 28:02d} Jan 2024 10:{n % 60:02d}:00 +0000"
    return (
        f"From: {sender}\r\nTo: Bob <bob@example.org>\r\nSubject: {subject}\r\n"
        f"Message-ID: <m{n}@example.com>\r\nDate: {day}\r\n{extra}"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "data")
    yield s  # type: ignore[misc]
    s.close()


def files(store: Store, account: str = "acc", folder: str = "INBOX") -> list[str]:
    path = store.folder_path(account, folder)
    return sorted(f"{sub}/{n}" for sub in ("cur", "new") for n in os.listdir(path / sub))


# ------------------------------------------------------------------ Maildir on disk


def test_message_is_written_byte_for_byte_into_new_or_cur(store: Store) -> None:
    raw = msg(1)
    a = store.add_message("acc", "INBOX", raw)
    b = store.add_message("acc", "INBOX", msg(2), frozenset({S, F}))
    pa, pb = store.path(a), store.path(b)
    assert pa.parent.name == "new" and ":2," not in pa.name
    assert pb.parent.name == "cur" and pb.name.endswith(":2,FS")
    assert store.read_raw(a) == raw
    assert not os.listdir(store.folder_path("acc", "INBOX") / "tmp")


def test_flag_change_is_a_rename_never_an_edit(store: Store) -> None:
    mid = store.add_message("acc", "INBOX", msg(1))
    inode = store.path(mid).stat().st_ino
    store.change_flags([mid], add=frozenset({S, R}))
    path = store.path(mid)
    assert path.parent.name == "cur" and path.name.endswith(":2,RS")
    assert path.stat().st_ino == inode
    assert store.read_raw(mid) == msg(1)


def test_unknown_info_letters_of_other_tools_survive() -> None:
    assert maildir.name_with_flags("123.abc:2,Sa", frozenset({F})) == "123.abc:2,Fa"


@given(st.text(max_size=30))
def test_folder_names_encode_reversibly_and_safely(name: str) -> None:
    enc = maildir.encode_name(name)
    assert maildir.decode_name(enc) == name
    assert "/" not in enc and "\x00" not in enc
    assert enc not in (".", "..") and not enc.startswith(".")


def test_folder_names_stay_readable() -> None:
    assert maildir.encode_name("INBOX") == "INBOX"
    assert maildir.encode_name("Входящие") == "Входящие"
    assert maildir.encode_name("Work/Projects") == "Work%2FProjects"
    assert maildir.encode_name("100%") == "100%25"


def test_full_disk_leaves_no_partial_file(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    real_write = os.write

    def full(fd: int, data: bytes) -> int:
        if len(data) > 100:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(maildir.os, "write", full)
    with pytest.raises(StoreError) as info:
        store.add_message("acc", "INBOX", msg(1, body="x" * 500))
    assert "disk is full" in info.value.one_line()
    monkeypatch.undo()
    folder = store.folder_path("acc", "INBOX")
    assert files(store) == [] and os.listdir(folder / "tmp") == []
    assert store.count() == 0


# ------------------------------------------------------------------ index and lookups


def test_unparseable_message_is_still_stored_and_indexed(store: Store) -> None:
    raw = b"Subject: only a subject\r\n\xff\xfe garbage without a blank line"
    mid = store.add_message("acc", "INBOX", raw)
    row = store.get(mid)
    assert row is not None and row.subject == "only a subject"
    assert store.read_raw(mid) == raw
    junk = store.add_message("acc", "INBOX", b"\x00\x01\x02")
    assert store.get(junk) is not None


def test_lookups_for_sync(store: Store) -> None:
    a = store.add_message("acc", "INBOX", msg(1), frozenset({S}), uid=10)
    b = store.add_message("acc", "INBOX", msg(2), uid=11)
    c = store.add_message("pop", "INBOX", msg(3), uidl="odd/uidl:1")
    assert store.by_uid("acc", "INBOX", 10).id == a  # type: ignore[union-attr]
    assert store.by_uid("acc", "inbox", 11).id == b  # type: ignore[union-attr]
    assert store.by_uidl("pop", "odd/uidl:1").id == c  # type: ignore[union-attr]
    assert [r.id for r in store.by_message_id("<m2@example.com>")] == [b]
    assert store.uid_flags("acc", "INBOX") == {10: frozenset({S}), 11: frozenset()}
    assert store.synced_flags("acc", "INBOX") == {10: frozenset({S}), 11: frozenset()}
    assert set(store.pop3_stored("pop")) == {"odd/uidl:1"}
    # Replaying a fetch after a crash writes nothing new.
    assert store.add_message("acc", "INBOX", msg(1), uid=10) == a
    assert len(files(store)) == 2


def test_sync_state_round_trips(store: Store) -> None:
    state = FolderState(server_name="INBOX", uidvalidity=7, uidnext=12, highestmodseq=99)
    store.set_folder_state("acc", "INBOX", state)
    assert store.folder_state("acc", "INBOX") == state
    store.set_account_state("acc", {"x": [1]})
    assert store.account_state("acc") == {"x": [1]}
    assert store.folder_state("acc", "Nope") is None


def test_stored_file_without_commit_is_adopted_not_duplicated(store: Store) -> None:
    # Simulate a crash after the rename, before the commit: the file is there, the row is not.
    folder = store.folder_path("acc", "INBOX")
    maildir.ensure_maildir(folder)
    maildir.deliver(folder, msg(1), frozenset())
    store.check()
    assert store.count() == 1 and store.get(1).uid is None  # type: ignore[union-attr]
    mid = store.add_message("acc", "INBOX", msg(1), uid=42)
    assert store.by_uid("acc", "INBOX", 42).id == mid  # type: ignore[union-attr]
    assert len(files(store)) == 1


# ------------------------------------------------------------------ local changes


def test_local_flag_changes_are_recorded_and_merged(store: Store) -> None:
    mid = store.add_message("acc", "INBOX", msg(1), uid=5)
    store.change_flags([mid], add=frozenset({S}))
    store.change_flags([mid], add=frozenset({F}))
    [p] = store.pending("acc")
    assert (p.kind, p.uid, p.data["add"], p.data["remove"]) == ("flags", 5, "FS", "")
    store.change_flags([mid], remove=frozenset({S, F}))
    assert store.pending() == []  # back where the server is: nothing to push


def test_server_flag_changes_are_not_recorded(store: Store) -> None:
    mid = store.add_message("acc", "INBOX", msg(1), uid=5)
    store.set_flags(mid, frozenset({S}), record=False)
    assert store.pending() == []
    assert store.synced_flags("acc", "INBOX") == {5: frozenset({S})}


def test_move_records_old_folder_and_uid(store: Store) -> None:
    mid = store.add_message("acc", "INBOX", msg(1), frozenset({S}), uid=5)
    store.move(mid, "Archive")
    row = store.get(mid)
    assert row is not None and row.folder == "Archive" and row.uid is None
    assert row.path.exists() and files(store) == []
    [p] = store.pending()
    assert (p.folder, p.kind, p.uid) == ("INBOX", "move", 5)
    assert p.data == {"to": "Archive", "base": "S"}  # the flags the server has
    store.set_uid(mid, 77)
    store.clear_pending([p.id])
    assert store.by_uid("acc", "Archive", 77).id == mid  # type: ignore[union-attr]


def test_a_flag_change_after_a_move_is_merged_from_the_flags_before_it(store: Store) -> None:
    mid = store.add_message("acc", "INBOX", msg(1), frozenset({S}), uid=5)
    store.move(mid, "Archive")
    store.set_uid(mid, 77)  # the sync pushed the move: the new UID, no agreed flags there yet
    assert store.synced_flags("acc", "Archive") == {}
    store.change_flags([mid], add=frozenset({F}))
    assert store.synced_flags("acc", "Archive") == {77: frozenset({S})}  # the journal's base
    assert store.local_flags("acc", "Archive") == {77: frozenset({S, F})}


def test_purge_leaves_a_tombstone(store: Store) -> None:
    mid = store.add_message("acc", "INBOX", msg(1), uid=5)
    store.remove(mid)
    assert store.get(mid) is None and files(store) == []
    assert store.tombstones("acc", "INBOX") == {5}
    assert store.search("hello") == []


def test_purge_after_local_move_deletes_where_the_server_has_it(store: Store) -> None:
    mid = store.add_message("acc", "INBOX", msg(1), uid=5)
    store.move(mid, "Trash")
    store.remove(mid)
    assert [(p.kind, p.folder, p.uid) for p in store.pending()] == [("delete", "INBOX", 5)]


def test_server_expunge_records_nothing(store: Store) -> None:
    mid = store.add_message("acc", "INBOX", msg(1), uid=5)
    store.remove(mid, record=False)
    assert store.pending() == [] and store.count() == 0


# ------------------------------------------------------------------ listing, search, threads


def test_listing_pages_newest_first_and_counts(store: Store) -> None:
    for n in range(30):
        store.add_message("acc", "INBOX", msg(n), frozenset({S}) if n % 3 else frozenset())
    store.add_message("other", "INBOX", msg(100, date="Tue, 1 Jan 2030 00:00:00 +0000"))
    page = store.list_messages("acc", "INBOX", limit=10)
    dates = [r.date for r in page]
    assert dates == sorted(dates, reverse=True) and len(page) == 10
    page2 = store.list_messages("acc", "INBOX", offset=10, limit=10)
    assert not {r.id for r in page} & {r.id for r in page2}
    assert store.count("acc", "INBOX") == 30
    assert store.count("acc", "INBOX", unread_only=True) == 10
    unified = store.list_messages(folder="INBOX", limit=1)
    assert unified[0].account == "other"
    by_subject = store.list_messages("acc", sort="subject", reverse=False, limit=1)
    assert by_subject[0].subject == "Hello"
    [acc_inbox, other_inbox] = store.folders()
    assert (acc_inbox.total, acc_inbox.unread) == (30, 10)
    assert (other_inbox.account, other_inbox.total) == ("other", 1)


def test_search_is_case_and_diacritics_insensitive_in_cyrillic(store: Store) -> None:
    a = store.add_message("acc", "INBOX", msg(1, subject="=?utf-8?b?0J/QoNCY0JLQldCi?="))  # ПРИВЕТ
    b = store.add_message("acc", "INBOX", msg(2, subject="Ёлка and café"))
    store.add_message("acc", "INBOX", msg(3, subject="other"))
    assert store.search("привет") == [a]
    assert store.search("елка") == [b]
    assert store.search("CAFE") == [b]


def test_search_combines_fields_and_flags(store: Store) -> None:
    a = store.add_message("acc", "INBOX", msg(1, sender="Alice <alice@example.com>"))
    b = store.add_message(
        "acc", "INBOX", msg(2, sender="Carol <carol@example.net>"), frozenset({F})
    )
    c = store.add_message("work", "Sent", msg(3, sender="Alice <alice@example.com>", body="budget"))
    assert store.search("from:alice@example.com") == [c, a]
    assert store.search("from:alice -folder:Sent") == [a]
    assert store.search("is:flagged OR budget") == [c, b]
    assert store.search("account:work budget") == [c]
    assert store.search("(from:carol OR from:alice) -is:flagged", account="acc") == [a]
    assert store.search("text -budget", limit=10) == [b, a]
    assert store.search("(text OR budget) -from:carol", limit=10) == [c, a]
    assert store.count_search("text -budget") == 2
    # msg(n) is dated 2024-01-(n+1): after: includes its day, before: excludes it.
    assert store.search("after:2024-01-03") == [c, b]
    assert store.search("before:2024-01-03") == [a]


def test_reply_arriving_before_its_parent_joins_its_thread(store: Store) -> None:
    reply = store.add_message(
        "acc", "INBOX", msg(2, subject="Re: Plan", extra="In-Reply-To: <m1@example.com>\r\n")
    )
    other = store.add_message("acc", "INBOX", msg(5, subject="Unrelated"))
    parent = store.add_message("acc", "INBOX", msg(1, subject="Plan"))
    sibling = store.add_message(
        "acc", "INBOX", msg(3, subject="Re: Plan", extra="References: <m1@example.com>\r\n")
    )
    rows = {i: store.get(i) for i in (reply, other, parent, sibling)}
    tid = rows[reply].thread_id  # type: ignore[union-attr]
    assert rows[parent].thread_id == tid == rows[sibling].thread_id  # type: ignore[union-attr]
    assert rows[other].thread_id != tid  # type: ignore[union-attr]
    order = [(e.depth, e.message.id) for e in store.thread(tid)]
    assert order == [(0, parent), (1, reply), (1, sibling)]
    assert store.count_threads("acc") == 2


# ------------------------------------------------------------------ repair


def test_files_added_renamed_removed_by_other_tools_are_picked_up(store: Store) -> None:
    keep = store.add_message("acc", "INBOX", msg(1), uid=1)
    gone = store.add_message("acc", "INBOX", msg(2), uid=2)
    folder = store.folder_path("acc", "INBOX")
    # mutt marks `keep` read (rename), deletes `gone`, and procmail delivers a new file.
    old = store.path(keep)
    os.rename(old, folder / "cur" / (old.name + ":2,S"))
    store.path(gone).unlink()
    (folder / "new" / "123.procmail.host").write_bytes(msg(3, subject="delivered"))
    s2 = Store.open(store.data_dir)
    assert {r.subject for r in s2.list_messages()} == {"Hello", "delivered"}
    assert s2.get(keep).flags == frozenset({S})  # type: ignore[union-attr]
    assert s2.get(gone) is None
    assert [(p.kind, p.uid, p.data["add"]) for p in s2.pending()] == [("flags", 1, "S")]
    s2.close()


def test_corrupt_index_is_set_aside_and_rebuilt(tmp_path: Path) -> None:
    with Store.open(tmp_path) as s:
        s.add_message("acc", "INBOX", msg(1))
    for suffix in ("-wal", "-shm"):
        Path(str(s.index_path) + suffix).unlink(missing_ok=True)
    s.index_path.write_bytes(b"this is not sqlite" * 100)
    with Store.open(tmp_path) as s2:
        assert s2.count() == 1
        assert list(tmp_path.glob("index.sqlite3.corrupt-*"))


def test_missing_index_is_rebuilt(tmp_path: Path) -> None:
    with Store.open(tmp_path) as s:
        s.add_message("acc", "Work/Projects", msg(1))
    s.index_path.unlink()
    with Store.open(tmp_path) as s2:
        assert [(f.account, f.name, f.total) for f in s2.folders()] == [("acc", "Work/Projects", 1)]


def test_reindex_keeps_uids_and_thread_ids(store: Store) -> None:
    a = store.add_message("acc", "INBOX", msg(1), uid=10)
    b = store.add_message("acc", "INBOX", msg(2, extra="In-Reply-To: <m1@example.com>\r\n"), uid=11)
    tid = store.get(a).thread_id  # type: ignore[union-attr]
    assert store.reindex() == 2
    rows = store.list_messages()
    assert {r.uid for r in rows} == {10, 11}
    assert {r.thread_id for r in rows} == {tid}
    del b


def test_index_is_sqlite_wal(store: Store) -> None:
    conn = sqlite3.connect(store.index_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] >= 1
    conn.close()


def test_sync_helpers_for_uidvalidity_change_and_pushed_changes(store: Store) -> None:
    a = store.add_message("acc", "INBOX", msg(1), uid=1)
    b = store.add_message("acc", "INBOX", msg(2), uid=2)
    store.set_folder_state("acc", "INBOX", FolderState("INBOX", 1, 3, None))
    assert store.synced_folders("acc") == ["INBOX"]
    assert store.local_identities("acc", "INBOX") == [
        (1, "<m1@example.com>", len(msg(1))),
        (2, "<m2@example.com>", len(msg(2))),
    ]
    store.change_flags([a], add=frozenset({S}))
    store.remove(b)
    assert store.has_pending("acc", "INBOX")
    store.reassign_uids("acc", "INBOX", {1: 101, 2: None})
    assert store.uid_flags("acc", "INBOX") == {101: frozenset({S})}
    assert [(p.kind, p.uid) for p in store.pending()] == [("flags", 101)]
    store.clear_pending_flags("acc", "INBOX")
    assert not store.has_pending("acc", "INBOX")
    assert store.synced_flags("acc", "INBOX") == {101: frozenset({S})}  # pushed: agreed
    store.mark_synced(a, frozenset({S, F}))
    assert store.synced_flags("acc", "INBOX") == {101: frozenset({S, F})}
    store.forget_folder_state("acc", "INBOX")
    assert store.synced_folders("acc") == []


def test_missing_date_falls_back_to_received(store: Store) -> None:
    from datetime import UTC, datetime

    when = datetime(2020, 5, 6, 7, 8, tzinfo=UTC)
    mid = store.add_message("acc", "INBOX", b"Subject: no date\r\n\r\nx", received=when)
    assert store.get(mid).date == when  # type: ignore[union-attr]


def test_interrupted_deliveries_left_in_tmp_are_cleaned_after_36_hours(store: Store) -> None:
    store.add_message("acc", "INBOX", msg(1))
    tmp = store.folder_path("acc", "INBOX") / "tmp"
    old, fresh = tmp / "old.partial", tmp / "fresh.partial"
    old.write_bytes(b"half a mess")
    fresh.write_bytes(b"being written")
    week_ago = os.stat(old).st_mtime - 7 * 86400
    os.utime(old, (week_ago, week_ago))
    store.check()
    assert sorted(os.listdir(tmp)) == ["fresh.partial"]


def test_reply_without_references_joins_by_subject_only_when_recent(store: Store) -> None:
    first = store.add_message("acc", "INBOX", msg(1, subject="Budget 2024"))
    reply = store.add_message("acc", "INBOX", msg(2, subject="RE: Budget 2024"))
    stale = store.add_message(
        "acc", "INBOX", msg(3, subject="Re: Budget 2024", date="Mon, 1 Jan 2029 10:00:00 +0000")
    )
    same_subject_not_a_reply = store.add_message("acc", "INBOX", msg(4, subject="Budget 2024"))
    tid = store.get(first).thread_id  # type: ignore[union-attr]
    assert store.get(reply).thread_id == tid  # type: ignore[union-attr]
    assert store.get(stale).thread_id != tid  # type: ignore[union-attr]
    assert store.get(same_subject_not_a_reply).thread_id != tid  # type: ignore[union-attr]


def test_threads_joined_by_a_late_parent_merge_into_the_older_thread(store: Store) -> None:
    a = store.add_message(
        "acc", "INBOX", msg(2, subject="x", extra="In-Reply-To: <m1@example.com>\r\n")
    )
    b = store.add_message(
        "acc", "INBOX", msg(3, subject="y", extra="In-Reply-To: <m1@example.com>\r\n")
    )
    c = store.add_message(
        "acc", "INBOX", msg(4, subject="z", extra="In-Reply-To: <m9@example.com>\r\n")
    )
    ta, tc = store.get(a).thread_id, store.get(c).thread_id  # type: ignore[union-attr]
    assert store.get(b).thread_id == ta  # siblings under a missing parent  # type: ignore[union-attr]
    # m9 arrives and says it replies to m1: the two threads become one, with the older id.
    store.add_message("acc", "INBOX", msg(9, subject="w", extra="References: <m1@example.com>\r\n"))
    assert {store.get(i).thread_id for i in (a, b, c)} == {min(ta, tc)}  # type: ignore[union-attr]
    [info] = store.threads("acc", "INBOX")
    assert info.count == 4


def test_thread_pages_are_newest_activity_first(store: Store) -> None:
    for n in (1, 2, 3):  # three threads, dated Jan 2, 3, 4
        store.add_message("acc", "INBOX", msg(n, subject=f"topic {n}"))
    # a late reply revives the oldest thread
    store.add_message(
        "acc", "INBOX", msg(20, subject="Re: topic 1", extra="In-Reply-To: <m1@example.com>\r\n")
    )
    store.add_message("acc", "Archive", msg(21, subject="elsewhere"))
    pages = [store.threads("acc", "INBOX", offset=o, limit=2) for o in (0, 2)]
    got = [(t.subject, t.count) for page in pages for t in page]
    assert got == [("topic 1", 2), ("topic 3", 1), ("topic 2", 1)]
    assert store.count_threads("acc", "INBOX") == 3 and store.count_threads() == 4


# ------------------------------------------------------------------ sorting a folder (migration 4)


def _sort_fixture(store: Store) -> None:
    from tmail.store.models import NewMessage

    senders = ["Zoe <zoe@example.com>", "adam <Adam@example.com>", "Mia <mia@example.com>"]
    subjects = ["beta", "Alpha", "alpha", "Gamma", "delta"]
    items = [
        NewMessage(
            msg(
                n,
                sender=senders[n % 3],
                subject=subjects[n % 5],
                body="x" * (n * 37 % 500),
                date=f"Mon, {1 + n % 7:02d} Jan 2024 10:00:00 +0000",  # many equal dates
            )
        )
        for n in range(60)
    ]
    store.add_messages("acc", "INBOX", items)
    store.add_message("other", "INBOX", msg(99, sender="Aaron <a@example.com>", subject="aaa"))


@pytest.mark.parametrize("key", ["date", "from", "subject", "size"])
@pytest.mark.parametrize("reverse", [True, False], ids=["desc", "asc"])
def test_sorted_pages_are_in_order_and_cover_the_folder_once(
    store: Store, key: str, reverse: bool
) -> None:
    _sort_fixture(store)
    pages = [
        store.list_messages("acc", "INBOX", sort=key, reverse=reverse, offset=o, limit=7)  # type: ignore[arg-type]
        for o in range(0, 60, 7)
    ]
    rows = [r for page in pages for r in page]
    assert len(rows) == 60 and len({r.id for r in rows}) == 60
    sign = -1 if reverse else 1
    if key == "date":
        want = sorted(rows, key=lambda r: (sign * r.date.timestamp(), sign * r.id))
    elif key == "size":
        want = sorted(rows, key=lambda r: (sign * r.size, sign * r.id))
    else:
        col = (
            (lambda r: r.from_[0].addr.lower()) if key == "from" else (lambda r: r.subject.lower())
        )
        # newest first (then highest id) within one sender or subject, whichever way the key goes
        want = sorted(rows, key=lambda r: (-r.date.timestamp(), -r.id))
        want = sorted(want, key=col, reverse=reverse)
    assert [r.id for r in rows] == [r.id for r in want]


@pytest.mark.parametrize("key", ["date", "from", "subject", "size"])
@pytest.mark.parametrize("reverse", [True, False], ids=["desc", "asc"])
def test_first_page_of_a_sort_reads_an_index_instead_of_sorting_the_folder(
    store: Store, key: str, reverse: bool
) -> None:
    _sort_fixture(store)
    seen: list[str] = []
    store.db.set_trace_callback(seen.append)
    store.list_messages("acc", "INBOX", sort=key, reverse=reverse, limit=50)  # type: ignore[arg-type]
    store.db.set_trace_callback(None)
    [sql] = [s for s in seen if "ORDER BY" in s]
    plan = " | ".join(r[3] for r in store.db.execute("EXPLAIN QUERY PLAN " + sql))
    # A full "USE TEMP B-TREE FOR ORDER BY" sorts every row of the folder before the first page;
    # at most the equal-sender/subject runs may be sorted ("RIGHT PART OF ORDER BY").
    assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan
    if reverse:  # the reader's default direction reads the index with no sorting at all
        assert "TEMP B-TREE" not in plan, plan


def test_migration_4_adds_the_sort_indexes_to_an_existing_index(tmp_path: Path) -> None:
    from tmail.store.schema import MIGRATIONS, _statements

    data = tmp_path / "data"
    with Store.open(data) as s:
        a = s.add_message("acc", "INBOX", msg(1))
    conn = sqlite3.connect(data / "index.sqlite3")
    for name in ("messages_folder_sender", "messages_folder_subject", "messages_folder_size"):
        conn.execute(f"DROP INDEX {name}")
    conn.execute("PRAGMA user_version = 3")  # as a store written before this migration
    conn.commit()
    conn.close()
    assert len(MIGRATIONS) >= 4 and _statements(MIGRATIONS[3])
    with Store.open(data) as s:
        assert s.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        names = {r[0] for r in s.db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        assert {
            "messages_folder_sender",
            "messages_folder_subject",
            "messages_folder_size",
        } <= names
        assert [r.id for r in s.list_messages("acc", "INBOX", sort="from")] == [a]


# ------------------------------------------------------------------ assumed charsets per account

# Upper-case KOI8-R with no charset anywhere: a detector takes it for windows-1251 ("феуф").
KOI8_UNDECLARED = (
    b"From: Boris <boris@example.ru>\nTo: me@example.org\nSubject: "
    + "ТЕСТ СВЯЗИ".encode("koi8-r")
    + b"\nDate: Mon, 01 Jan 2024 10:00:00 +0000\nMessage-ID: <koi@example.ru>\n\n"
    + "ПРОВЕРКА СВЯЗИ".encode("koi8-r")
    + b"\n"
)


def _ru_only(account: str) -> tuple[str, ...]:
    return ("koi8-r",) if account == "ru" else ()


def test_indexing_uses_the_accounts_assumed_charsets(tmp_path: Path) -> None:
    from tmail.store.models import NewMessage

    with Store.open(tmp_path, assumed_charsets=_ru_only) as s:
        ru = s.add_message("ru", "INBOX", KOI8_UNDECLARED)
        [batch] = s.add_messages("ru", "Archive", [NewMessage(KOI8_UNDECLARED)])
        other = s.add_message("other", "INBOX", KOI8_UNDECLARED)
        assert s.get(ru).subject == "ТЕСТ СВЯЗИ"  # type: ignore[union-attr]
        assert s.get(batch).subject == "ТЕСТ СВЯЗИ"  # type: ignore[union-attr]
        assert s.get(other).subject != "ТЕСТ СВЯЗИ"  # type: ignore[union-attr]  # no hint there
        assert s.search("проверка", account="ru") == [batch, ru]


def test_files_from_other_tools_and_reindex_use_the_assumed_charsets(tmp_path: Path) -> None:
    with Store.open(tmp_path) as s:
        s.ensure_folder("ru", "INBOX")
        folder = s.folder_path("ru", "INBOX")
    (folder / "new" / "1700000000.koi.host").write_bytes(KOI8_UNDECLARED)  # as mbsync would
    with Store.open(tmp_path, assumed_charsets=_ru_only) as s:  # check() picks the file up
        [row] = s.list_messages("ru", "INBOX")
        assert row.subject == "ТЕСТ СВЯЗИ"
    with Store.open(tmp_path) as s:  # without the setting, a reindex loses it ...
        s.reindex("ru")
        assert s.list_messages("ru", "INBOX")[0].subject != "ТЕСТ СВЯЗИ"
    with Store.open(tmp_path, assumed_charsets=_ru_only) as s:  # ... and with it, gets it back
        s.reindex("ru")
        assert s.list_messages("ru", "INBOX")[0].subject == "ТЕСТ СВЯЗИ"


def test_changes_not_yet_pushed_follow_a_renamed_folder(store: Store) -> None:
    a = store.add_message("acc", "Projects", msg(1), uid=1)
    b = store.add_message("acc", "Projects", msg(2), uid=2)
    store.set_flags(a, frozenset({F}))
    store.move(b, "Later")
    store.rename_folder("acc", "Projects", "Work")  # the server renamed both
    store.rename_folder("acc", "Later", "Someday")
    kinds = sorted((c.kind, str(c.data.get("to", ""))) for c in store.pending("acc", "Work"))
    assert kinds == [("flags", ""), ("move", "Someday")]
    assert store.pending("acc", "Projects") == []
