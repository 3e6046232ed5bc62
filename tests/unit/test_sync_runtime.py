"""Pure parts of the sync runtime: backoff, the new-mail hook, result lines, folder choice."""

from __future__ import annotations

import random
from pathlib import Path

from tmail.config.model import Account, ServerSettings
from tmail.protocols.imap import RemoteFolder, assign_roles, parse_uid_set
from tmail.runtime.watch import BACKOFF_MAX, backoff_delay, run_hook
from tmail.sync.imap_sync import choose_folders, local_name
from tmail.sync.result import AccountSyncResult, FolderResult


def account(**kw: object) -> Account:
    return Account("work", "w@x", ServerSettings("imap", "h", 993), **kw)  # type: ignore[arg-type]


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    rng = random.Random(1)
    firsts = [backoff_delay(1, rng) for _ in range(200)]
    assert all(2.5 <= d <= 7.5 for d in firsts) and len(set(firsts)) > 100
    assert all(5 <= backoff_delay(2, rng) <= 15 for _ in range(50))
    assert all(backoff_delay(40, rng) <= BACKOFF_MAX * 1.5 for _ in range(50))


def test_on_new_mail_hook_gets_account_and_count(tmp_path: Path) -> None:
    out = tmp_path / "hook.txt"
    acct = account(on_new_mail=f'echo "$TMAIL_ACCOUNT $TMAIL_NEW_COUNT" > {out}')
    logged: list[str] = []
    run_hook(acct, 3, logged.append)
    assert out.read_text() == "work 3\n" and logged == []
    run_hook(account(on_new_mail="echo oops >&2; exit 4"), 1, logged.append)
    assert logged == ["work: on_new_mail exited 4: oops"]


def test_hook_is_not_run_without_new_mail(tmp_path: Path) -> None:
    out = tmp_path / "hook.txt"
    run_hook(account(on_new_mail=f"touch {out}"), 0, print)
    assert not out.exists()


def test_summary_line_counts_everything() -> None:
    r = AccountSyncResult(
        "work",
        folders=(FolderResult("INBOX", new=2, changed=1), FolderResult("Sent", removed=4)),
        errors=("work (h:993): boom",),
    )
    assert r.summary() == "work: 2 new, 1 changed, 4 removed, 1 error"  # not "1 errors"
    assert not r.ok and r.as_dict()["new"] == 2


def test_summary_line_says_what_was_pushed() -> None:
    r = AccountSyncResult(
        "work", folders=(FolderResult("INBOX", pushed=1), FolderResult("Sent", pushed=2))
    )
    assert r.summary() == "work: 0 new, 0 changed, 0 removed, 3 pushed, 0 errors"
    assert r.as_dict()["pushed"] == 3


def folder(name: str, attrs: tuple[str, ...] = (), subscribed: bool = True) -> RemoteFolder:
    return RemoteFolder(name, ".", frozenset(attrs), None, subscribed)


def test_special_use_beats_names_and_each_role_goes_once() -> None:
    fs = assign_roles(
        [
            folder("INBOX"),
            folder("INBOX.Sent Items"),
            folder("INBOX.Gesendet", ("\\sent",)),
            folder("Trash"),
            folder("Old.Trash"),
        ]
    )
    roles = {f.name: f.role for f in fs}
    assert roles == {
        "INBOX": "INBOX",
        "INBOX.Sent Items": None,
        "INBOX.Gesendet": "Sent",
        "Trash": "Trash",
        "Old.Trash": None,
    }


def test_sent_mail_and_draft_without_special_use_get_their_roles() -> None:
    # Names the reader already knew (storesource, compose) now count on the server too.
    fs = assign_roles([folder("INBOX"), folder("INBOX.Sent Mail"), folder("INBOX.Draft")])
    assert [f.role for f in fs] == ["INBOX", "Sent", "Drafts"]
    assert [local_name(f) for f in fs] == ["INBOX", "Sent", "Drafts"]


def test_folder_choice_subscribed_include_exclude() -> None:
    fs = assign_roles(
        [
            folder("INBOX"),
            folder("Lists.python"),
            folder("Lists.rust"),
            folder("Unsubscribed", subscribed=False),
            folder("Box", ("\\noselect",)),
        ]
    )
    names = [f.name for f in choose_folders(account(), fs)]
    assert names == ["INBOX", "Lists.python", "Lists.rust"]
    names = [f.name for f in choose_folders(account(folders_exclude=("Lists/r*",)), fs)]
    assert names == ["INBOX", "Lists.python"]
    names = [f.name for f in choose_folders(account(folders_include=("Unsubscribed",)), fs)]
    assert names == ["INBOX", "Unsubscribed"]
    assert local_name(fs[1]) == "Lists/python"


def test_uid_sets_parse() -> None:
    assert parse_uid_set("1:3,7,10:9") == [1, 2, 3, 7, 9, 10]


def test_progress_line_overwrites_itself_and_is_terminal_safe() -> None:
    import io

    from tmail.cli.commands.sync import _ProgressLine
    from tmail.sync.result import Progress

    out = io.StringIO()
    bar = _ProgressLine(out)
    bar(Progress("work", "Lists/\x1b[2Jevil", 10, 200, 2_000_000))
    bar.clear()
    text = out.getvalue()
    assert text.startswith("\r\x1b[K") and text.endswith("\r\x1b[K")
    assert "work Lists/^[[2Jevil 10/200 1.9 MB" in text and "/s" in text
    assert "\x1b[2J" not in text
