"""Other mail tools and tmail's store: neomutt and notmuch read what tmail writes; what mbsync,
offlineimap and Dovecot write is read and indexed by tmail."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import MailUser
from tmail.core.models import Flag
from tmail.store import Store


def need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"required in CI: {', '.join(missing)}", pytrace=False)
        pytest.skip(f"not installed: {', '.join(missing)}")


def message(n: int, subject: str) -> bytes:
    return (
        f"From: Sender {n} <s{n}@example.com>\r\nTo: me@example.org\r\nSubject: {subject}\r\n"
        f"Message-ID: <interop{n}@example.com>\r\nDate: Mon, {n} Jan 2024 10:00:00 +0000\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nHello from the interop test.\r\n"
    ).encode()


@pytest.fixture
def tmail_store(tmp_path: Path) -> Store:
    store = Store.open(tmp_path / "data")
    store.add_message("acc", "INBOX", message(1, "Unread hello"), uid=1)
    store.add_message(
        "acc", "INBOX", message(2, "Seen and flagged"), frozenset({Flag.SEEN, Flag.FLAGGED}), uid=2
    )
    store.add_message("acc", "Work/Projects", message(3, "Nested folder"), frozenset({Flag.SEEN}))
    yield store  # type: ignore[misc]
    store.close()


class Tmux:
    """One detached tmux session running a program, read through capture-pane."""

    def __init__(self, name: str, command: str, env: dict[str, str]) -> None:
        self.name = name
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", name, "-x", "160", "-y", "30", command],
            check=True,
            env=env,
        )

    def screen(self) -> str:
        res = subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True
        )
        return res.stdout

    def wait_for(self, text: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; the screen:\n{self.screen()}")

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def kill(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


def test_neomutt_reads_tmail_maildir_and_tmail_sees_its_flag_change(
    tmail_store: Store, tmp_path: Path
) -> None:
    need("neomutt", "tmux")
    inbox = tmail_store.folder_path("acc", "INBOX")
    home = tmp_path / "home"
    home.mkdir()
    cmd = (
        f"neomutt -n -F /dev/null -e 'set folder={tmail_store.mail_dir} spoolfile={inbox} "
        f"mbox_type=Maildir move=no mark_old=no' -f {inbox}"
    )
    env = dict(os.environ, HOME=str(home), TERM="xterm")
    session = Tmux(f"tmail-neomutt-{os.getpid()}", cmd, env)
    try:
        screen = session.wait_for("Seen and flagged")
        lines = {line.split(")")[-1].strip(): line for line in screen.splitlines() if "(0." in line}
        assert " N " in lines["Unread hello"]  # unread, as tmail stored it
        assert "!" in lines["Seen and flagged"]  # flagged
        assert "Msgs:2 New:1 Flag:1" in screen
        session.keys("F")  # flag the first message (the oldest: "Unread hello")
        session.keys("$")  # write the change: neomutt renames the file
        session.wait_for("Flag:2")
        session.keys("q")
        time.sleep(0.5)
    finally:
        session.kill()
    with Store.open(tmail_store.data_dir) as again:
        row = again.by_uid("acc", "INBOX", 1)
        assert row is not None and row.flagged and row.unread
        assert [(p.kind, p.uid, p.data["add"]) for p in again.pending()] == [("flags", 1, "F")]


def test_notmuch_indexes_tmail_maildir_with_its_flags(tmail_store: Store, tmp_path: Path) -> None:
    need("notmuch")
    config = tmp_path / "notmuch-config"
    config.write_text(
        f"[database]\npath={tmail_store.mail_dir}\n[new]\ntags=inbox;unread;\n"
        "[search]\nexclude_tags=\n[maildir]\nsynchronize_flags=true\n"
    )
    env = dict(os.environ, NOTMUCH_CONFIG=str(config), HOME=str(tmp_path))

    def notmuch(*args: str) -> str:
        res = subprocess.run(["notmuch", *args], capture_output=True, text=True, env=env)
        assert res.returncode == 0, res.stderr
        return res.stdout.strip()

    notmuch("new", "--quiet")
    assert notmuch("count", "*") == "3"
    assert notmuch("count", "tag:unread") == "1"
    assert notmuch("count", "tag:flagged") == "1"
    assert notmuch("search", "--output=files", "subject:nested").endswith(
        tuple(f.name for f in (tmail_store.folder_path("acc", "Work/Projects") / "cur").iterdir())
    )
    # notmuch's own database beside the mail is not mistaken for a folder.
    with Store.open(tmail_store.data_dir) as again:
        assert {(f.name, f.total) for f in again.folders()} == {("INBOX", 2), ("Work/Projects", 1)}


# ---------------------------------------------------------------- other tools' Maildirs


def fill_server(user: MailUser) -> None:
    stack = user.stack
    stack.bulk_save(user.name, [message(n, f"inbox {n}") for n in range(1, 6)])
    stack.bulk_save(user.name, [message(n, f"project {n}") for n in range(6, 9)], "Work.Projects")
    stack.doveadm("flags", "add", "-u", user.name, "\\Seen", "mailbox", "INBOX", "uid", "1:2")


def check_indexed(data: Path, account: str, project_folder: str) -> None:
    with Store.open(data) as store:
        folders = {f.name: f for f in store.folders(account)}
        assert folders["INBOX"].total == 5 and folders["INBOX"].unread == 3
        assert folders[project_folder].total == 3
        ids = store.search("subject:project", account=account)
        assert len(ids) == 3
        row = store.get(ids[0])
        assert row is not None and row.folder == project_folder
        assert store.read_raw(row.id).startswith(b"From: Sender")
        # tmail can work on them too: a flag change is a rename the other tool understands.
        store.change_flags([row.id], add=frozenset({Flag.FLAGGED}))
        assert store.path(row.id).name.split(":2,")[1].find("F") >= 0


@pytest.mark.stack
def test_mbsync_maildir_is_read_and_indexed(mail_user: MailUser, tmp_path: Path) -> None:
    need("mbsync")
    fill_server(mail_user)
    stack = mail_user.stack
    data = tmp_path / "data"
    local = data / "mail" / "mbs"
    local.mkdir(parents=True)
    rc = tmp_path / "mbsyncrc"
    rc.write_text(
        f"IMAPAccount a\nHost localhost\nPort {stack.ports.imaps}\nUser {mail_user.name}\n"
        f"Pass {mail_user.password}\nSSLType IMAPS\nCertificateFile {stack.ca_file}\n\n"
        "IMAPStore remote\nAccount a\n\n"
        f"MaildirStore local\nPath {local}/\nInbox {local}/INBOX\nSubFolders Verbatim\n\n"
        "Channel c\nFar :remote:\nNear :local:\nPatterns *\nCreate Near\nSyncState *\n"
    )
    res = subprocess.run(
        ["mbsync", "-c", str(rc), "-a"], capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 0, res.stderr
    assert (local / "Work" / "Projects" / "cur").is_dir()  # mbsync nests the hierarchy
    check_indexed(data, "mbs", "Work/Projects")


@pytest.mark.stack
def test_offlineimap_maildir_is_read_and_indexed(mail_user: MailUser, tmp_path: Path) -> None:
    need("offlineimap")
    fill_server(mail_user)
    stack = mail_user.stack
    data = tmp_path / "data"
    local = data / "mail" / "oi"
    local.mkdir(parents=True)
    rc = tmp_path / "offlineimaprc"
    rc.write_text(
        f"[general]\naccounts = a\nmetadata = {tmp_path}/oi-meta\n\n"
        "[Account a]\nlocalrepository = l\nremoterepository = r\n\n"
        f"[Repository l]\ntype = Maildir\nlocalfolders = {local}\n\n"
        f"[Repository r]\ntype = IMAP\nremotehost = localhost\nremoteport = {stack.ports.imaps}\n"
        f"remoteuser = {mail_user.name}\nremotepass = {mail_user.password}\nssl = yes\n"
        f"sslcacertfile = {stack.ca_file}\n"
    )
    res = subprocess.run(
        ["offlineimap", "-c", str(rc), "-o", "-u", "quiet"],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, HOME=str(tmp_path)),
    )
    assert res.returncode == 0, res.stderr + res.stdout
    assert (local / "Work.Projects" / "cur").is_dir()  # offlineimap joins with its separator
    check_indexed(data, "oi", "Work.Projects")


@pytest.mark.stack
def test_dovecot_maildirplus_is_read_and_indexed(mail_user: MailUser, tmp_path: Path) -> None:
    fill_server(mail_user)
    stack = mail_user.stack
    stack.doveadm("mailbox", "status", "-u", mail_user.name, "messages", "INBOX")  # index it
    data = tmp_path / "data"
    (data / "mail").mkdir(parents=True)
    shutil.copytree(stack.maildir(mail_user.name), data / "mail" / "dove", symlinks=False)
    check_indexed(data, "dove", "Work.Projects")
