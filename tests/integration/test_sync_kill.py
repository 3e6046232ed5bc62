"""Kill ``tmail sync`` with SIGKILL at random points of a large sync, again and again; then sync to
completion and compare every Message-ID and body hash with the server. Nothing may be lost or
duplicated, and with POP3 DELE no message may ever leave the server before it is on disk.

Kill points are chosen by progress, not only by time: most runs are killed once a random number
of new message files has appeared (a kill while bodies stream, between a rename and its commit,
or while state is written), the others after a short random delay (start-up, login, SELECT).
A time-only schedule let a fast machine finish the sync before the twentieth kill. Each run is
meant to consume at most ``COUNT // (2 * KILLS)`` messages; on a loaded machine a kill can land
late, so a sync that finishes early gets more mail delivered and the kills go on.

Sizes: 5,000 messages (~1.5 kB each) over IMAP and 2,500 over POP3 with DELE.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import MailUser
from tests.support.mailstack import MailStack
from tests.support.sessions import message, write_config

pytestmark = [pytest.mark.stack, pytest.mark.slow]

TMAIL = [sys.executable, "-m", "tmail"]
KILLS = 20
COUNT = 5000
POP3_COUNT = 2500
POLL = 0.01


def digest(raw: bytes) -> str:
    return hashlib.sha256(raw.replace(b"\r\n", b"\n")).hexdigest()


def local_files(data_dir: Path) -> list[Path]:
    """Every message file tmail holds (any Maildir under data_dir), tmp/ excluded."""
    out = []
    for sub in ("cur", "new"):
        out.extend(p for p in data_dir.rglob(f"{sub}/*") if p.is_file())
    return out


_CACHE: dict[tuple[int, int, int], str] = {}


def file_digest(path: Path) -> str:
    """Digest of a message file, cached by inode: Maildir files are renamed, never rewritten."""
    st = path.stat()
    key = (st.st_dev, st.st_ino, st.st_size)
    if key not in _CACHE:
        _CACHE[key] = digest(path.read_bytes())
    return _CACHE[key]


def local_digests(data_dir: Path) -> list[str]:
    return sorted(file_digest(p) for p in local_files(data_dir))


def count_files(data_dir: Path) -> int:
    """Message files written so far, tmp/ included (cheap: directory listings only).

    tmp/ counts because the store writes a batch there and renames it in one go: counting only
    cur/ and new/ would move in steps of a whole batch.
    """
    total = 0
    for root, dirs, files in os.walk(data_dir):
        if os.path.basename(root) in ("cur", "new", "tmp"):
            total += len(files)
            dirs.clear()
    return total


def run_and_kill(cfg: Path, rng: random.Random, data_dir: Path, most: int) -> bool:
    """Start ``tmail sync`` and SIGKILL it at a random point; True when it was killed.

    One run in four is killed after a random delay of up to 0.6 s (start-up, login, SELECT,
    the first FETCH); the others once 1..``most`` new message files have appeared, plus a few
    milliseconds of jitter so that kills also land between a rename and its commit.
    """
    env = dict(os.environ, TMAIL_CONFIG=str(cfg))
    errors = cfg.parent / "stderr.txt"
    base = count_files(data_dir)
    with open(errors, "wb") as err:
        proc = subprocess.Popen(
            [*TMAIL, "sync", "--quiet"], env=env, stdout=subprocess.DEVNULL, stderr=err
        )
        if rng.random() < 0.25:
            time.sleep(rng.uniform(0.05, 0.6))
        else:
            goal = base + rng.randint(1, most)
            deadline = time.monotonic() + 60
            while proc.poll() is None and time.monotonic() < deadline:
                if count_files(data_dir) >= goal:
                    time.sleep(rng.uniform(0, 0.02))
                    break
                time.sleep(POLL)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
    assert proc.returncode == 0, errors.read_text()
    return False


def server_digests(stack: MailStack, user: str) -> list[str]:
    """Digests of what Dovecot holds, retried while Dovecot renames files new/ -> cur/."""
    md = stack.maildir(user)
    for _ in range(20):
        try:
            # new/ before cur/: Dovecot moves files new/ -> cur/, so a file moved while we look
            # is seen twice (a set absorbs it), never missed.
            files = [
                f for sub in ("new", "cur") if (md / sub).is_dir() for f in (md / sub).iterdir()
            ]
            return sorted({file_digest(f) for f in files})
        except FileNotFoundError:
            time.sleep(0.05)
    raise AssertionError("the server's Maildir kept changing")


def sync_to_completion(cfg: Path) -> None:
    env = dict(os.environ, TMAIL_CONFIG=str(cfg))
    res = subprocess.run([*TMAIL, "sync"], env=env, capture_output=True, timeout=120, check=False)
    assert res.returncode == 0, res.stderr.decode()


def test_kill_imap_sync_twenty_times_loses_and_duplicates_nothing(
    mailstack: MailStack, mail_user: MailUser, tmp_path: Path
) -> None:
    rng = random.Random(int(os.environ.get("TMAIL_KILL_SEED", "6")))
    total = 0

    def deliver(count: int) -> None:
        nonlocal total
        msgs = [message(f"kill {total + i}", size=rng.randint(500, 2500)) for i in range(count)]
        mailstack.bulk_save(mail_user.name, msgs)
        mailstack.message_count(mail_user.name)  # Dovecot indexes now, not during a kill
        total += count

    deliver(COUNT)
    cfg = write_config(tmp_path, mailstack, mail_user.name, mail_user.password)
    kills = finished = 0
    while kills < KILLS:
        if run_and_kill(cfg, rng, tmp_path / "data", COUNT // (2 * KILLS)):
            kills += 1
            continue
        # On a loaded machine a run can get far before its kill lands, and the sync may finish
        # before KILLS kills: more mail keeps the remaining kills mid-download.
        finished += 1
        assert finished <= 5, f"the sync finished {finished} times before {KILLS} kills"
        deliver(COUNT // 4)
    sync_to_completion(cfg)
    server = server_digests(mailstack, mail_user.name)
    local = local_digests(tmp_path / "data")
    assert kills == KILLS
    assert len(local) == len(server) == total
    assert local == server
    ids = [_message_id(p.read_bytes()) for p in local_files(tmp_path / "data")]
    assert len(set(ids)) == total


def test_kill_pop3_fetch_with_dele_never_loses_a_message(
    mailstack: MailStack, mail_user: MailUser, tmp_path: Path
) -> None:
    rng = random.Random(int(os.environ.get("TMAIL_KILL_SEED", "7")))
    everything: list[str] = []

    def deliver(count: int) -> None:
        start = len(everything)
        msgs = [message(f"pop kill {start + i}", size=rng.randint(500, 2500)) for i in range(count)]
        mailstack.bulk_save(mail_user.name, msgs)
        mailstack.message_count(mail_user.name)
        everything.extend(digest(m) for m in msgs)
        everything.sort()

    deliver(POP3_COUNT)
    cfg = write_config(
        tmp_path,
        mailstack,
        mail_user.name,
        mail_user.password,
        protocol="pop3",
        extra="leave_on_server = false",
    )
    kills = finished = 0
    while kills < KILLS:
        killed = run_and_kill(cfg, rng, tmp_path / "data", POP3_COUNT // (2 * KILLS))
        # After every kill: whatever left the server is on disk.
        on_server = server_digests(mailstack, mail_user.name)
        local = local_digests(tmp_path / "data")
        assert sorted(set(on_server) | set(local)) == everything
        if killed:
            kills += 1
            continue
        finished += 1  # finished before its kill landed (a loaded machine): more mail, go on
        assert finished <= 5, f"the fetch finished {finished} times before {KILLS} kills"
        deliver(POP3_COUNT // 4)
    sync_to_completion(cfg)
    assert kills == KILLS
    assert mailstack.message_count(mail_user.name) == 0
    assert local_digests(tmp_path / "data") == everything


def _message_id(raw: bytes) -> str:
    for line in raw.split(b"\n"):
        if line.lower().startswith(b"message-id:"):
            return line.split(b":", 1)[1].strip().decode()
    return ""
