"""Store.add_messages: the sync engine's batch path (one commit, one fsync per directory)."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from tmail.core.errors import StoreError
from tmail.core.models import Flag
from tmail.store import NewMessage, Store


def raw(n: int) -> bytes:
    return f"Message-ID: <b{n}@x>\r\nSubject: batch {n}\r\n\r\nbody {n}\r\n".encode()


def files(store: Store) -> list[Path]:
    return sorted(p for p in store.mail_dir.rglob("*") if p.is_file() and p.parent.name != "tmp")


def test_batch_stores_every_message_and_skips_known_uids(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        first = store.add_message("a", "INBOX", raw(0), uid=10)
        ids = store.add_messages(
            "a",
            "INBOX",
            [
                NewMessage(raw(0), uid=10),
                NewMessage(raw(1), frozenset({Flag.SEEN}), uid=11),
                NewMessage(raw(2), uidl="U2"),
            ],
        )
        assert ids[0] == first and len(set(ids)) == 3
        assert store.uid_flags("a", "INBOX") == {10: frozenset(), 11: frozenset({Flag.SEEN})}
        assert store.synced_flags("a", "INBOX")[11] == {Flag.SEEN}
        assert set(store.pop3_stored("a")) == {"U2"}
        assert sorted(p.read_bytes() for p in files(store)) == [raw(0), raw(1), raw(2)]


def test_batch_on_a_full_disk_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tmail.store import maildir

    with Store.open(tmp_path) as store:
        calls = 0
        real = maildir._write_all

        def write_all(fd: int, data: bytes) -> None:
            nonlocal calls
            calls += 1
            if calls == 2:
                raise OSError(errno.ENOSPC, "No space left on device")
            real(fd, data)

        monkeypatch.setattr(maildir, "_write_all", write_all)
        with pytest.raises(StoreError, match="disk is full"):
            store.add_messages("a", "INBOX", [NewMessage(raw(1), uid=1), NewMessage(raw(2), uid=2)])
        monkeypatch.undo()
        assert files(store) == [] and store.uid_flags("a", "INBOX") == {}
        assert not any((store.mail_dir).rglob("tmp/*"))


def test_pop3_message_whose_commit_was_lost_is_adopted_not_duplicated(tmp_path: Path) -> None:
    from tmail.store import maildir

    with Store.open(tmp_path) as store:
        store.ensure_folder("a", "INBOX")
        # A kill between rename and commit: the file is in the Maildir, the row is not.
        maildir.deliver(store.folder_path("a", "INBOX"), raw(5), frozenset())
    with Store.open(tmp_path) as store:  # check() indexes the orphan, without UIDL
        assert len(files(store)) == 1 and store.pop3_stored("a") == {}
        ids = store.add_messages("a", "INBOX", [NewMessage(raw(5), uidl="U5")])
        assert len(files(store)) == 1
        assert set(store.pop3_stored("a")) == {"U5"}
        assert store.by_uidl("a", "U5") is not None and store.by_uidl("a", "U5").id == ids[0]  # type: ignore[union-attr]


def test_server_flags_for_many_messages_rename_files_and_record_no_pending(
    tmp_path: Path,
) -> None:
    with Store.open(tmp_path) as store:
        store.add_messages("a", "INBOX", [NewMessage(raw(i), uid=i) for i in range(1, 4)])
        n = store.set_server_flags(
            "a",
            "INBOX",
            {1: frozenset({Flag.SEEN}), 2: frozenset({Flag.SEEN, Flag.FLAGGED}), 9: frozenset()},
        )
        assert n == 2
        assert store.uid_flags("a", "INBOX") == {
            1: frozenset({Flag.SEEN}),
            2: frozenset({Flag.SEEN, Flag.FLAGGED}),
            3: frozenset(),
        }
        assert store.synced_flags("a", "INBOX")[2] == {Flag.SEEN, Flag.FLAGGED}
        assert store.pending("a") == []
        names = sorted(p.name for p in files(store))
        assert sum(n.endswith(":2,S") for n in names) == 1
        assert sum(n.endswith(":2,FS") for n in names) == 1
