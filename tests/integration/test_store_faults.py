"""Faults of the store's environment: a full disk (a real, tiny tmpfs) and concurrent processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tmail.core.errors import StoreError
from tmail.core.models import Flag
from tmail.store import Store, maildir


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs (needs root; CI runs as root)."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    res = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True
    )
    if res.returncode != 0:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"cannot mount a tmpfs in CI: {res.stderr!r}", pytrace=False)
        pytest.skip("mounting a tmpfs needs root")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def message(n: int, size: int) -> bytes:
    head = f"From: a@example.com\r\nSubject: fill {n}\r\nMessage-ID: <fill{n}@x>\r\n\r\n"
    return head.encode() + b"y" * size + b"\r\n"


def files_of(folder: Path) -> set[str]:
    return {f.rel for f in maildir.scan(folder)}


def test_full_disk_stops_with_a_clear_error_and_no_partial_file(tiny_disk: Path) -> None:
    store = Store.open(tiny_disk)
    ballast = tiny_disk / "ballast"  # other files on the disk, which the user deletes later
    ballast.write_bytes(b"\0" * 200_000)
    first = store.add_message("acc", "INBOX", message(0, 1000))
    folder = store.folder_path("acc", "INBOX")
    # A message bigger than the whole disk: refused, nothing left behind.
    with pytest.raises(StoreError) as info:
        store.add_message("acc", "INBOX", message(1, 2_000_000))
    assert "disk is full" in info.value.one_line()
    assert files_of(folder) == {f"{store.path(first).parent.name}/{store.path(first).name}"}
    assert os.listdir(folder / "tmp") == []
    # Fill the disk with ordinary messages until something gives: the file write or the index
    # commit. Either way every file is indexed and every row has its file.
    n, failed = 2, None
    while failed is None and n < 2000:
        try:
            store.add_message("acc", "INBOX", message(n, 3000), uid=n)
        except StoreError as exc:
            failed = exc
        n += 1
    assert failed is not None and "disk is full" in failed.one_line()
    assert os.listdir(folder / "tmp") == []
    rows = store.list_messages("acc", "INBOX", limit=10_000)
    assert {f"{r.path.parent.name}/{r.path.name}" for r in rows} == files_of(folder)
    # Space freed: the store carries on where it stopped.
    ballast.unlink()
    store.add_message("acc", "INBOX", message(9999, 100), uid=9999)
    assert store.by_uid("acc", "INBOX", 9999) is not None
    store.close()


WRITER = textwrap.dedent(
    """
    import sys
    from tmail.core.models import Flag
    from tmail.store import Store

    data, tag, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    store = Store.open(data)
    mine = []
    for i in range(count):
        raw = (f"From: {tag}@example.com\\r\\nSubject: {tag} {i}\\r\\n"
               f"Message-ID: <{tag}.{i}@x>\\r\\n\\r\\nbody\\r\\n").encode()
        mine.append(store.add_message("acc", "INBOX", raw))
        if i % 5 == 4:
            store.change_flags(mine[-3:], add=frozenset({Flag.SEEN}))
            store.move(mine[-5], "Archive")
    print("ok")
    """
)


def test_two_processes_write_one_store_safely(tmp_path: Path) -> None:
    Store.open(tmp_path).close()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path), f"p{k}{uuid.uuid4().hex[:4]}", "60"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(2)
    ]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0 and out.strip() == "ok", err
    with Store.open(tmp_path) as store:
        assert store.count() == 120
        assert {(f.name, f.total) for f in store.folders()} == {("INBOX", 96), ("Archive", 24)}
        for name in ("INBOX", "Archive"):
            rows = store.list_messages("acc", name, limit=500)
            assert {f"{r.path.parent.name}/{r.path.name}" for r in rows} == files_of(
                store.folder_path("acc", name)
            )
        seen = [r for r in store.list_messages(folder="INBOX", limit=500) if Flag.SEEN in r.flags]
        assert len(seen) == 72  # 3 of every 5 flagged seen, one of those moved away
        assert store.integrity_problems() == []


def _tmail_under_file_size_limit(
    data: Path, limit: int, *argv: str
) -> subprocess.CompletedProcess[str]:
    import resource

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = dict(os.environ, TMAIL_DATA_DIR=str(data), TMAIL_CONFIG=str(data.parent / "none.toml"))
    return subprocess.run(
        [sys.executable, "-m", "tmail", *argv],
        env=env,
        preexec_fn=limited,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.mark.parametrize("limit", [8192, 65536])
def test_a_file_size_limit_is_named_when_the_index_is_created(tmp_path: Path, limit: int) -> None:
    # 64 KiB: the migration's COMMIT failed, and a ROLLBACK after it hid the cause behind
    # "cannot rollback - no transaction is active"; 8 KiB: "disk I/O error".
    done = _tmail_under_file_size_limit(tmp_path / "data", limit, "list")
    assert done.returncode == 74 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "cannot write the index" in done.stderr and "File too large" in done.stderr
    assert "ulimit -f" in done.stderr


GROW = textwrap.dedent(
    """
    import os, resource, sys
    from tmail.core.errors import StoreError
    from tmail.store import Store

    store = Store.open(sys.argv[1])
    limit = 2 * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    for i in range(200):
        body = os.urandom(60_000).hex().encode()  # text the index keeps for search
        raw = b"Subject: big %d\\r\\nMessage-ID: <%d@x>\\r\\n\\r\\n" % (i, i) + body
        try:
            store.add_message("acc", "INBOX", raw, uid=i + 1)
        except StoreError as exc:
            print(exc.one_line())
            break
    """
)


def test_a_file_size_limit_is_named_when_the_index_grows(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", GROW, str(tmp_path / "data")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "cannot write the index" in done.stdout and "File too large" in done.stdout


def test_a_full_disk_is_named_when_the_index_is_created(tiny_disk: Path) -> None:
    ballast = tiny_disk / "ballast"
    free = os.statvfs(tiny_disk).f_bavail * os.statvfs(tiny_disk).f_frsize
    ballast.write_bytes(b"\0" * (free - 16384))
    with pytest.raises(StoreError) as info:
        Store.open(tiny_disk / "data")
    line = info.value.one_line()
    assert "cannot write the index" in line and "No space left on device" in line
    assert "rollback" not in line
    ballast.unlink()
    Store.open(tiny_disk / "data").close()  # room again: the index is created


def test_a_read_only_file_system_is_named(tiny_disk: Path) -> None:
    Store.open(tiny_disk / "data").close()
    (tiny_disk / "fresh" / "mail").mkdir(parents=True)
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], check=True)
    for data in ("data", "fresh"):
        with pytest.raises(StoreError) as info:
            Store.open(tiny_disk / data)
        line = info.value.one_line()
        assert "cannot write the index" in line and "Read-only file system" in line
