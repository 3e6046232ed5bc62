"""kill -9 during an import of thousands of messages leaves a consistent store.

A child process imports messages with server UIDs (as a sync does) and is killed at random moments;
each restart resumes where the store says it stopped. At the end the index and the files must
agree exactly: every file indexed once, every row's file present, every UID stored once.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tmail.store import Store, maildir

COUNT = 2000

IMPORTER = textwrap.dedent(
    """
    import sys
    from tmail.core.models import Flag
    from tmail.store import Store

    data, count = sys.argv[1], int(sys.argv[2])
    store = Store.open(data)
    have = set(store.uid_flags("acc", "INBOX"))
    for uid in range(1, count + 1):
        if uid in have:
            continue
        raw = (
            f"From: Sender {uid % 37} <s{uid % 37}@example.com>\\r\\n"
            f"Subject: message {uid}\\r\\nMessage-ID: <crash{uid}@example.com>\\r\\n"
            f"Date: Wed, 3 Jan 2024 10:00:00 +0000\\r\\n\\r\\nbody of {uid}\\r\\n"
            + "x" * (uid % 700)
        ).encode()
        flags = frozenset({Flag.SEEN}) if uid % 3 else frozenset()
        store.add_message("acc", "INBOX", raw, flags, uid=uid)
        if uid % 400 == 0:
            mid = store.by_uid("acc", "INBOX", uid - 1).id
            store.change_flags([mid], add=frozenset({Flag.FLAGGED}))  # a rename, too
    print("done", flush=True)
    """
)


def run_importer(data: Path, kill_after: float | None) -> bool:
    proc = subprocess.Popen(
        [sys.executable, "-c", IMPORTER, str(data), str(COUNT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if kill_after is None:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
        return "done" in out
    time.sleep(kill_after)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    return False


@pytest.mark.slow
def test_kill_9_during_import_leaves_index_and_files_in_step(tmp_path: Path) -> None:
    rng = random.Random(9)
    kills = 0
    for _ in range(6):
        run_importer(tmp_path, kill_after=rng.uniform(0.8, 2.5))
        kills += 1
    assert run_importer(tmp_path, kill_after=None)

    with Store.open(tmp_path) as store:
        folder = store.folder_path("acc", "INBOX")
        on_disk = {f.rel for f in maildir.scan(folder)}
        rows = store.list_messages("acc", "INBOX", limit=COUNT * 2)
        in_index = {f"{r.path.parent.name}/{r.path.name}" for r in rows}
        assert in_index == on_disk
        assert len(rows) == COUNT
        uids = sorted(r.uid for r in rows if r.uid is not None)
        assert uids == list(range(1, COUNT + 1))  # nothing lost, nothing twice
        for r in rows:
            assert store.read_raw(r.id).startswith(b"From: Sender")
            assert (r.uid % 3 != 0) == (not r.unread) or r.flagged
        assert store.integrity_problems() == []
        assert store.search("subject:message", limit=None).__len__() == COUNT
        before = {r.id: (r.uid, r.thread_id) for r in rows}
    assert kills == 6

    # A reindex killed halfway loses nothing either: ids, UIDs and threads stay.
    for delay in (0.7, 1.5):
        proc = subprocess.Popen(
            [sys.executable, "-m", "tmail", "reindex", "-q"],
            env=dict(os.environ, TMAIL_DATA_DIR=str(tmp_path)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        proc.kill()
        proc.wait(timeout=30)
    with Store.open(tmp_path) as store:
        rows = store.list_messages("acc", "INBOX", limit=COUNT * 2)
        assert {r.id: (r.uid, r.thread_id) for r in rows} == before
        assert {f"{r.path.parent.name}/{r.path.name}" for r in rows} == {
            f.rel for f in maildir.scan(store.folder_path("acc", "INBOX"))
        }
