"""The sync decision as pure functions: what to fetch, push, remove, given three views of a folder.

Nothing here does I/O; the engines (:mod:`tmail.sync.imap_sync`, :mod:`tmail.sync.pop3_fetch`)
gather the views, call :func:`plan` / :func:`plan_pop3` and carry the actions out. Every presence
case of a UID has a named test in ``tests/unit/test_sync_plan.py`` and hypothesis checks the
invariants: after the actions both sides hold the same messages with the same flags, nothing on
the server is lost, nothing is fetched twice, and planning again finds nothing to do.

The three views of one IMAP folder, all keyed by UID under the folder's current UIDVALIDITY:

``last_synced``
    the flags both sides agreed on at the end of the last sync (the base of a three-way merge);
``local_now``
    what the store holds now; ``None`` as a value is a tombstone: the user deleted or moved the
    message away locally and the server does not know yet;
``remote_now``
    every UID the server holds now with its flags (the complete set: a partial view would make
    present messages look expunged).

Flags merge per flag: a flag the user changed locally takes the local value, any other flag the
server's value. A flag cannot conflict with itself (both sides flipping it agree).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from tmail.core.models import Flag

Flags = frozenset[Flag]


@dataclass(frozen=True)
class Fetch:
    """Download the message: on the server, not in the store."""

    uid: int
    flags: Flags


@dataclass(frozen=True)
class SetLocalFlags:
    """Store the merged flags locally (a server-side change, not a pending local one)."""

    uid: int
    flags: Flags


@dataclass(frozen=True)
class PushFlags:
    """UID STORE the local changes: +FLAGS ``add``, -FLAGS ``remove``."""

    uid: int
    add: Flags
    remove: Flags


@dataclass(frozen=True)
class RemoveLocal:
    """The server expunged the message (or it moved away there): drop the local copy."""

    uid: int


@dataclass(frozen=True)
class DeleteRemote:
    """The user deleted the message locally: mark it \\Deleted and UID EXPUNGE it."""

    uid: int


@dataclass(frozen=True)
class ForgetTombstone:
    """A local deletion whose message is gone from the server too: clear the pending change."""

    uid: int


Action = Fetch | SetLocalFlags | PushFlags | RemoveLocal | DeleteRemote | ForgetTombstone


def merge_flags(last: Flags, local: Flags, remote: Flags) -> Flags:
    """Per-flag three-way merge: flags changed locally keep the local value, others the server's."""
    changed_here = local ^ last
    return (local & changed_here) | (remote - changed_here)


def plan(
    last_synced: Mapping[int, Flags],
    local_now: Mapping[int, Flags | None],
    remote_now: Mapping[int, Flags],
) -> list[Action]:
    """The actions that bring the store and one server folder into agreement, in UID order.

    Local messages without a UID (new drafts, messages moved in locally) are not seen here: the
    engine uploads those from the store's pending changes before planning.
    """
    actions: list[Action] = []
    for uid in sorted(set(local_now) | set(remote_now)):
        remote = remote_now.get(uid)
        in_local = uid in local_now
        local = local_now.get(uid)
        if remote is None:
            if not in_local:
                continue
            # Gone from the server: expunged there, or moved to another folder (which fetches it).
            actions.append(ForgetTombstone(uid) if local is None else RemoveLocal(uid))
            continue
        if not in_local:
            actions.append(Fetch(uid, remote))
            continue
        if local is None:
            actions.append(DeleteRemote(uid))
            continue
        # Without a base (state lost after a crash between storing and recording) the server's
        # flags win: the local copy was written from them moments ago.
        last = last_synced.get(uid, local)
        merged = merge_flags(last, local, remote)
        if merged != remote:
            actions.append(PushFlags(uid, add=merged - remote, remove=remote - merged))
        if merged != local:
            actions.append(SetLocalFlags(uid, merged))
    return actions


# --------------------------------------------------------------------------------------- POP3


@dataclass(frozen=True)
class Pop3Plan:
    """What one POP3 pass does: message numbers to RETR, and numbers safe to DELE."""

    fetch: tuple[tuple[int, str], ...]  # (message number, UIDL)
    delete: tuple[tuple[int, str], ...]


def plan_pop3(
    listing: list[tuple[int, str]],
    stored: Mapping[str, float],
    *,
    now: float,
    leave_on_server: bool,
    delete_after: float | None,
    keep: Collection[str] = frozenset(),
) -> Pop3Plan:
    """Decide one POP3 pass from the server's UIDL listing and the UIDLs already stored.

    ``stored`` maps each UIDL whose message is safely in the store (renamed into the Maildir and
    committed) to the time it was stored. Only those may ever be deleted: a message is deleted
    when ``leave_on_server`` is false, or when it has been stored for ``delete_after`` seconds.
    A UIDL listed twice (a broken server) is fetched once and never deleted, and so is a UIDL in
    ``keep`` (a message stored headers only: its body is only on the server).
    """
    counts: dict[str, int] = {}
    for _num, uidl in listing:
        counts[uidl] = counts.get(uidl, 0) + 1
    fetch: list[tuple[int, str]] = []
    delete: list[tuple[int, str]] = []
    seen: set[str] = set()
    for num, uidl in listing:
        if uidl in seen:
            continue
        seen.add(uidl)
        if uidl not in stored:
            fetch.append((num, uidl))
            continue
        if counts[uidl] > 1 or uidl in keep:
            continue
        if not leave_on_server or (delete_after is not None and now - stored[uidl] >= delete_after):
            delete.append((num, uidl))
    return Pop3Plan(tuple(fetch), tuple(delete))
