"""Kill ``tmail sync`` with SIGKILL at random points of a large sync, again and again; then sync to
completion and compare every Message-ID and body hash with the server. Nothing may be lost or
duplicated, and with POP3 DELE no message may ever leave the server before it is on disk.

Sizes: IMAP 2,500 messages (~1.5 kB each) and POP3 1,500, at least 20 kills each, so both tests
together stay near a minute on the 2-core machine (the issue asks 5,000; bench/sync.py covers
the large count without kills).
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
COUNT = 2500


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


def run_and_kill(cfg: Path, rng: random.Random, window: tuple[float, float]) -> bool:
    """Start ``tmail sync``, SIGKILL it after a random delay; True when it was killed."""
    env = dict(os.environ, TMAIL_CONFIG=str(cfg))
    errors = cfg.parent / "stderr.txt"
    with open(errors, "wb") as err:
        proc = subprocess.Popen(
            [*TMAIL, "sync", "--quiet"], env=env, stdout=subprocess.DEVNULL, stderr=err
        )
        time.sleep(rng.uniform(*window))
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
    msgs = [message(f"kill {i}", size=rng.randint(500, 2500)) for i in range(COUNT)]
    mailstack.bulk_save(mail_user.name, msgs)
    mailstack.message_count(mail_user.name)  # Dovecot indexes now, not during the first kill
    cfg = write_config(tmp_path, mailstack, mail_user.name, mail_user.password)
    kills = 0
    while kills < KILLS:
        # Most kills land while bodies stream; some during start-up, login or state writes.
        if not run_and_kill(cfg, rng, (0.3, 1.4)):
            break
        kills += 1
    sync_to_completion(cfg)
    server = server_digests(mailstack, mail_user.name)
    local = local_digests(tmp_path / "data")
    assert kills >= KILLS, f"the sync finished after {kills} kills: make it larger"
    assert len(local) == len(server) == COUNT
    assert local == server
    ids = [_message_id(p.read_bytes()) for p in local_files(tmp_path / "data")]
    assert len(set(ids)) == COUNT


def test_kill_pop3_fetch_with_dele_never_loses_a_message(
    mailstack: MailStack, mail_user: MailUser, tmp_path: Path
) -> None:
    rng = random.Random(int(os.environ.get("TMAIL_KILL_SEED", "7")))
    msgs = [message(f"pop kill {i}", size=rng.randint(500, 2500)) for i in range(1500)]
    mailstack.bulk_save(mail_user.name, msgs)
    mailstack.message_count(mail_user.name)
    everything = sorted(digest(m) for m in msgs)
    cfg = write_config(
        tmp_path,
        mailstack,
        mail_user.name,
        mail_user.password,
        protocol="pop3",
        extra="leave_on_server = false",
    )
    kills = 0
    while kills < KILLS:
        killed = run_and_kill(cfg, rng, (0.3, 1.2))
        # After every kill: whatever left the server is on disk.
        on_server = server_digests(mailstack, mail_user.name)
        local = local_digests(tmp_path / "data")
        assert sorted(set(on_server) | set(local)) == everything
        if not killed:
            break
        kills += 1
    sync_to_completion(cfg)
    assert kills >= KILLS, f"the fetch finished after {kills} kills: make it larger"
    assert mailstack.message_count(mail_user.name) == 0
    assert local_digests(tmp_path / "data") == everything


def _message_id(raw: bytes) -> str:
    for line in raw.split(b"\n"):
        if line.lower().startswith(b"message-id:"):
            return line.split(b":", 1)[1].strip().decode()
    return ""
