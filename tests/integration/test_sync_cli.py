"""``tmail sync`` as a user runs it: every security mode (tls, starttls, and none with plaintext
login allowed), several accounts in one pass with one failing, JSON output, and ``--watch``
ending cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import MailUser
from tests.support.mailstack import MailStack, free_ports
from tests.support.sessions import message

pytestmark = pytest.mark.stack

TMAIL = [sys.executable, "-m", "tmail"]


def account_toml(
    stack: MailStack, name: str, user: MailUser | None, protocol: str, security: str, port: int
) -> str:
    pwfile = Path(stack.root) / f"pw-{name}"
    pwfile.write_text(user.password if user else "nothing")
    return f"""
[accounts.{name}]
email = "{name}@example.test"
incoming.protocol = "{protocol}"
incoming.host = "{stack.host}"
incoming.port = {port}
incoming.security = "{security}"
incoming.username = "{user.name if user else "nobody"}"
incoming.password_command = "cat {pwfile}"
incoming.ca_file = "{stack.ca_file}"
incoming.timeout = "5s"
""" + ("incoming.allow_plaintext_auth = true\n" if security == "none" else "")


def run(cfg: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TMAIL, "--config", str(cfg), "sync", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_security_mode_and_a_failing_account_in_one_pass(
    mailstack: MailStack, make_mail_user: Callable[[], MailUser], tmp_path: Path
) -> None:
    users = [make_mail_user() for _ in range(6)]
    for i, u in enumerate(users):
        mailstack.bulk_save(u.name, [message(f"{u.name} {j}") for j in range(i + 1)])
    p = mailstack.ports
    closed = free_ports(1)[0]
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[general]\ndata_dir = "{tmp_path / "data"}"\n'
        + account_toml(mailstack, "imaps", users[0], "imap", "tls", p.imaps)
        + account_toml(mailstack, "imapstls", users[1], "imap", "starttls", p.imap)
        + account_toml(mailstack, "pops", users[2], "pop3", "tls", p.pop3s)
        + account_toml(mailstack, "popstls", users[3], "pop3", "starttls", p.pop3)
        + account_toml(mailstack, "imapplain", users[4], "imap", "none", p.imap)
        + account_toml(mailstack, "popplain", users[5], "pop3", "none", p.pop3)
        + account_toml(mailstack, "broken", None, "imap", "tls", closed)
    )
    res = run(cfg)
    assert res.returncode == 1, res.stderr
    lines = sorted(res.stdout.splitlines())
    assert lines == [
        "broken: 0 new, 0 changed, 0 removed, 1 error",
        "imapplain: 5 new, 0 changed, 0 removed, 0 errors",
        "imaps: 1 new, 0 changed, 0 removed, 0 errors",
        "imapstls: 2 new, 0 changed, 0 removed, 0 errors",
        "popplain: 6 new, 0 changed, 0 removed, 0 errors",
        "pops: 3 new, 0 changed, 0 removed, 0 errors",
        "popstls: 4 new, 0 changed, 0 removed, 0 errors",
    ]
    errors = res.stderr.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith(f"tmail: broken (127.0.0.1:{closed}): ")
    again = run(cfg, "--json", "--account", "imaps", "--account", "pops")
    assert again.returncode == 0, again.stderr
    data = json.loads(again.stdout)
    assert data["ok"] and [a["new"] for a in data["accounts"]] == [0, 0]


def test_watch_exits_cleanly_on_sigterm(
    mailstack: MailStack, mail_user: MailUser, tmp_path: Path
) -> None:
    mailstack.bulk_save(mail_user.name, [message(f"w{i}") for i in range(3)])
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[general]\ndata_dir = "{tmp_path / "data"}"\n'
        + account_toml(mailstack, "w", mail_user, "imap", "tls", mailstack.ports.imaps)
    )
    log = tmp_path / "watch.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [*TMAIL, "--config", str(cfg), "sync", "--watch"], stdout=err, stderr=err
        )
        try:
            deadline = time.monotonic() + 30
            while b"3 new" not in log.read_bytes() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert b"w: 3 new, 0 changed, 0 removed, 0 errors" in log.read_bytes()
            t0 = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
            assert time.monotonic() - t0 < 5
        finally:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()


def test_the_summary_says_what_a_sync_pushed(
    mailstack: MailStack, mail_user: MailUser, tmp_path: Path
) -> None:
    mailstack.save(mail_user.name, message("to flag"))
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[general]\ndata_dir = "{tmp_path / "data"}"\n'
        + account_toml(mailstack, "p", mail_user, "imap", "tls", mailstack.ports.imaps)
    )
    assert run(cfg).stdout == "p: 1 new, 0 changed, 0 removed, 0 errors\n"
    listed = subprocess.run(
        [*TMAIL, "--config", str(cfg), "list", "--json"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    rows = json.loads(listed.stdout)
    flagged = subprocess.run(
        [*TMAIL, "--config", str(cfg), "flag", str(rows[0]["id"]), "+F"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert flagged.returncode == 0, flagged.stderr
    res = run(cfg)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "p: 0 new, 0 changed, 0 removed, 1 pushed, 0 errors\n"
    assert "\\Flagged" in mailstack.doveadm(
        "fetch", "-u", mail_user.name, "flags", "mailbox", "INBOX", "all"
    )  # it really reached the server
    again = run(cfg, "--json")
    assert json.loads(again.stdout)["accounts"][0]["pushed"] == 0


def test_a_server_that_worked_and_went_down_is_not_answering_a_new_one_points_to_settings(
    mailstack: MailStack, mail_user: MailUser, tmp_path: Path
) -> None:
    from tests.support.faultservers import goes_down

    closed = free_ports(1)[0]
    cfg = tmp_path / "config.toml"
    with goes_down(mailstack.ports.imaps) as server:
        cfg.write_text(
            f'[general]\ndata_dir = "{tmp_path / "data"}"\n'
            + account_toml(mailstack, "work", mail_user, "imap", "tls", server.port)
            + account_toml(mailstack, "fresh", None, "imap", "tls", closed)
        )
        first = run(cfg, "--account", "work")
        assert first.returncode == 0, first.stderr
        server.stop()  # the server goes down (a restart, an outage)
        down = run(cfg, "--account", "work")
        never = run(cfg, "--account", "fresh")
        check = subprocess.run(
            [*TMAIL, "--config", str(cfg), "check"], capture_output=True, text=True, timeout=120
        )
    assert down.returncode == 1 and never.returncode == 1
    # It worked a minute ago: the server is down; the settings are not the suspect.
    assert f"work (127.0.0.1:{server.port}): the server is not answering" in down.stderr
    assert "try again later" in down.stderr and "check incoming" not in down.stderr
    # Never reached: the settings are the suspect.
    assert f"connection refused on port {closed}" in never.stderr
    assert "check incoming.host, incoming.port and incoming.security" in never.stderr
    # tmail check words each account's refusal the same way.
    work, fresh = check.stdout.split("fresh <")
    assert "the server is not answering" in work and "check incoming" not in work
    assert "check incoming.host, incoming.port and incoming.security" in fresh
