"""IMAP synchronisation of one account into the store.

Per folder: STATUS first (one round trip; when UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ match what
the last sync recorded and nothing is pending locally, the folder is done); else SELECT, gather
the three views (the store's flags, the base of the last sync, the server's flags: via CONDSTORE
CHANGEDSINCE when the server has it, a full UID/FLAGS listing otherwise), let
:func:`tmail.sync.plan.plan` decide, and carry the actions out: push local flag changes and
deletions, pull the server's, and stream new bodies into the store one message at a time.

A message is known only once the store has committed it (file fsynced, renamed into the Maildir,
index row committed), so a kill at any point loses nothing: the next sync simply fetches what was
not committed. The folder's sync state is recorded last, after every action succeeded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tmail.config.model import Account
from tmail.core.errors import ConnectFailed, NetworkError, ProtocolError, StoreError, TmailError
from tmail.core.models import flags_from_maildir
from tmail.core.roles import Role, local_role, special_use
from tmail.core.safe import safe_line
from tmail.protocols.imap import ImapSession, RemoteFolder
from tmail.store import FolderState, NewMessage, PendingChange
from tmail.sync.plan import (
    DeleteRemote,
    Fetch,
    Flags,
    ForgetTombstone,
    PushFlags,
    RemoveLocal,
    SetLocalFlags,
    plan,
)
from tmail.sync.result import AccountSyncResult, FolderResult, Progress, ProgressFn, StopFn
from tmail.sync.storeview import SyncStore

PARTIAL_HEADER = b"X-Tmail-Partial"
# New mail is committed in batches: one fsync per directory and one commit per batch. A kill
# loses at most the batch in flight, which the next sync fetches again (no duplicates).
BATCH_MESSAGES = 200
BATCH_BYTES = 8 * 1024 * 1024
BATCH_SECONDS = 1.0

ImapOpener = Callable[[Account], ImapSession]


@dataclass
class _Stopped(Exception):
    """Raised inside a folder when a stop was requested between two messages."""


def local_name(folder: RemoteFolder) -> str:
    """The store's folder name: the role for special folders, else the path with ``/``.

    Control and bidi characters a server put in a name are made visible (``^[``, ``<U+202E>``):
    the local name is shown on terminals, the server name is kept for talking to the server.
    """
    if folder.role:
        return folder.role.value
    name = folder.name
    if folder.delimiter and folder.delimiter != "/":
        name = name.replace(folder.delimiter, "/")
    return safe_line(name)


def choose_folders(account: Account, folders: list[RemoteFolder]) -> list[RemoteFolder]:
    """Subscribed, selectable folders, narrowed by the account's include/exclude lists.

    Names in include/exclude match the server name or the local name, case-sensitively, with
    ``*`` as a wildcard (fnmatch). INBOX is always included unless excluded by name.
    """
    from fnmatch import fnmatchcase

    def matches(f: RemoteFolder, patterns: Iterable[str]) -> bool:
        return any(fnmatchcase(f.name, p) or fnmatchcase(local_name(f), p) for p in patterns)

    out = []
    for f in folders:
        if not f.selectable:
            continue
        if account.folders_include:
            if not matches(f, account.folders_include) and f.role != Role.INBOX:
                continue
        elif not f.subscribed and f.role is None:
            continue
        if matches(f, account.folders_exclude):
            continue
        out.append(f)
    return out


def sync_imap_account(
    store: SyncStore,
    account: Account,
    open_session: ImapOpener,
    *,
    only_folders: Iterable[str] | None = None,
    progress: ProgressFn | None = None,
    stop: StopFn | None = None,
) -> AccountSyncResult:
    """One pass over the account's folders. Never raises for server or store trouble: each
    failure becomes one line in ``AccountSyncResult.errors`` and what was stored stays stored."""
    results: list[FolderResult] = []
    errors: list[str] = []
    notes: list[str] = []
    stopped = False
    try:
        session = open_session(account)
    except TmailError as exc:
        return AccountSyncResult(account.name, errors=(exc.one_line(),))
    try:
        listed = session.folders()
        folders = choose_folders(account, listed)
        if only_folders is not None:
            wanted = set(only_folders)
            folders = [f for f in folders if f.name in wanted or local_name(f) in wanted]
            if not folders:
                known = ", ".join(sorted(wanted))
                errors.append(safe_line(f"{account.name}: no folder named {known} on the server"))
        notes.extend(_notice_folder_changes(store, account, session, folders, only_folders is None))
        server_names = {local_name(f): f.name for f in folders}
        if only_folders is None:
            notes.extend(
                _create_for_uploads(store, account, session, listed, folders, server_names)
            )
        for folder in folders:
            if stop is not None and stop():
                stopped = True
                break
            name = local_name(folder)
            try:
                results.append(
                    sync_folder(store, account, session, folder, progress, stop, server_names)
                )
            except _Stopped:
                stopped = True
                break
            except ConnectFailed as exc:
                results.append(FolderResult(name, error=exc.one_line()))
                errors.append(exc.one_line())
                break  # the connection is gone: the other folders wait for the next sync
            except (NetworkError, StoreError) as exc:
                results.append(FolderResult(name, error=exc.one_line()))
                errors.append(exc.one_line())
                if session.broken:
                    break
    except TmailError as exc:
        errors.append(exc.one_line())
    finally:
        session.logout()
    inbox_new = sum(r.new for r in results if r.folder == "INBOX")
    return AccountSyncResult(
        account.name,
        folders=tuple(results),
        errors=tuple(errors),
        new_in_inbox=inbox_new,
        stopped=stopped,
        notes=tuple(notes),
    )


def _notice_folder_changes(
    store: SyncStore,
    account: Account,
    session: ImapSession,
    folders: list[RemoteFolder],
    complete: bool,
) -> list[str]:
    """Folders the last sync knew that the server no longer lists: renamed there (the same
    UIDVALIDITY and Message-IDs under a new name) are renamed here too, with their sync state;
    otherwise their sync state is forgotten (their UIDs are void) but the local mail is kept.
    Either way, say so once."""
    if not complete:
        return []
    acct = account.name
    present = {local_name(f) for f in folders}
    synced = store.synced_folders(acct)
    gone = [name for name in synced if name not in present]
    fresh = [f for f in folders if local_name(f) not in synced]  # listed, never synced yet
    notes = []
    for name in gone:
        target = _renamed_to(store, acct, name, session, fresh)
        if target is not None:
            try:
                store.rename_folder(acct, name, local_name(target))
            except StoreError:
                target = None  # a local folder of that name exists: keep both apart
        if target is not None:
            fresh.remove(target)
            notes.append(
                safe_line(
                    f"{acct}: folder {name} was renamed to {local_name(target)} on the server; "
                    "renamed here too"
                )
            )
            continue
        store.forget_folder_state(acct, name)
        notes.append(
            safe_line(
                f"{acct}: folder {name} is gone from the server (deleted, renamed "
                "or unsubscribed); its local copy is kept"
            )
        )
    return notes


def _create_for_uploads(
    store: SyncStore,
    account: Account,
    session: ImapSession,
    listed: list[RemoteFolder],
    folders: list[RemoteFolder],
    server_names: dict[str, str],
) -> list[str]:
    """Local folders with messages to upload (a sent copy, a postponed draft) that the server
    lacks are created there, marked with their special use where the server can (RFC 6154),
    and join this sync, whose APPENDs fill them. Without this a new account's sent copies wait
    forever for a Sent folder nobody makes. A server that refuses: the copies stay in the
    local folder, and the notes say so once (the folder is remembered as local only)."""
    acct = account.name
    waiting = {f: ids for f, ids in store.uploads_waiting(acct).items() if f not in server_names}
    if not waiting:
        return []
    local_only = store.local_only_folders(acct)
    delimiter = next((f.delimiter for f in listed if f.delimiter), None)
    there = {local_name(f): f for f in listed}
    notes = []
    for name, ids in sorted(waiting.items()):
        if name in there:  # on the server, only not chosen (unsubscribed): upload all the same
            folders.append(there[name])
            server_names[name] = there[name].name
            continue
        if name in local_only:
            store.clear_pending(ids)  # said once already
            continue
        remote = name.replace("/", delimiter) if delimiter else name
        role = local_role(name)
        try:
            session.create_folder(remote, special_use(role))
        except ProtocolError as exc:
            store.set_local_only(acct, name)
            store.clear_pending(ids)
            notes.append(
                safe_line(
                    f"{acct}: the server has no {name} folder and would not create one "
                    f"({exc.message}); what goes to {name} is kept in the local {name} folder"
                )
            )
            continue
        folders.append(RemoteFolder(remote, delimiter or "/", frozenset(), role, True))
        server_names[name] = remote
    return notes


def _renamed_to(
    store: SyncStore, acct: str, name: str, session: ImapSession, fresh: list[RemoteFolder]
) -> RemoteFolder | None:
    """The one new server folder that is ``name`` renamed, or None.

    A rename keeps UIDVALIDITY and UIDs (RFC 3501 6.3.5, and Dovecot does), but two folders can
    share a UIDVALIDITY by chance, so the Message-IDs must agree too: at least half of those
    stored locally are found under the same UIDs there.
    """
    state = store.folder_state(acct, name)
    if state is None or not fresh:
        return None
    local = {uid: mid for uid, mid, _size in store.local_identities(acct, name) if mid}
    found = []
    for f in fresh:
        st = session.status(f.name)
        if st.uidvalidity != state.uidvalidity:
            continue
        if local:
            if st.exists == 0:
                continue
            try:
                session.select(f.name, readonly=True)
                there = {m.uid: m.message_id for m in session.identities()}
            except ProtocolError:  # not readable as expected: not taken for the renamed one
                continue
            if sum(there.get(uid) == mid for uid, mid in local.items()) * 2 < len(local):
                continue
        found.append(f)
    return found[0] if len(found) == 1 else None


def sync_folder(
    store: SyncStore,
    account: Account,
    session: ImapSession,
    folder: RemoteFolder,
    progress: ProgressFn | None,
    stop: StopFn | None,
    server_names: dict[str, str] | None = None,
) -> FolderResult:
    name = local_name(folder)
    acct = account.name
    state = store.folder_state(acct, name)
    pending = store.has_pending(acct, name)
    moved = 0
    if state is not None and not pending and state.highestmodseq is not None:
        st = session.status(folder.name)
        if (
            st.uidvalidity == state.uidvalidity
            and st.uidnext == state.uidnext
            and st.highestmodseq == state.highestmodseq
        ):
            return FolderResult(name)
    sel = session.select(folder.name)
    if state is not None and sel.uidvalidity != state.uidvalidity:
        _reassociate(store, acct, name, session)
        state = None
    if pending:
        moved = _push_moves_and_appends(store, acct, name, folder, session, server_names or {})
        if moved:
            sel = session.select(folder.name)

    local = store.local_flags(acct, name)  # uid -> flags, None for a pending local deletion
    last = store.synced_flags(acct, name)  # uid -> flags the last sync agreed on
    remote: dict[int, Flags] = {}
    if sel.exists == 0:
        pass
    elif state is not None and state.highestmodseq is not None and sel.highestmodseq is not None:
        # CONDSTORE: only what changed since the last sync, plus the UID list for expunges.
        changed = session.flags(changed_since=state.highestmodseq)
        all_uids = session.uids()
        unknown = [u for u in all_uids if u not in changed and u not in last]
        changed.update(session.flags(unknown) if unknown else {})
        remote = {
            uid: changed[uid] if uid in changed else last[uid]
            for uid in all_uids
            if uid in changed or uid in last  # else expunged between SEARCH and FETCH
        }
    else:
        remote = session.flags()

    actions = plan(last, local, remote)
    pushed = changed_n = removed = 0
    # 1. Local intent first: flags and deletions made here go to the server.
    by_change: dict[tuple[Flags, Flags], list[int]] = {}
    for a in actions:
        if isinstance(a, PushFlags):
            by_change.setdefault((a.add, a.remove), []).append(a.uid)
    for (add, remove), uids in by_change.items():
        session.add_flags(uids, add)
        session.remove_flags(uids, remove)
        pushed += len(uids)
    deletions = [a.uid for a in actions if isinstance(a, DeleteRemote)]
    if deletions:
        session.delete(deletions)
        store.forget_local_deletions(acct, name, deletions)
        pushed += len(deletions)
    # 2. The server's changes.
    server_flags = {a.uid: a.flags for a in actions if isinstance(a, SetLocalFlags)}
    if server_flags:
        store.set_server_flags(acct, name, server_flags)
        changed_n = len(server_flags)
    for a in actions:
        if isinstance(a, RemoveLocal):
            row = store.by_uid(acct, name, a.uid)
            if row is not None:
                store.remove(row.id, record=False)
            removed += 1
        elif isinstance(a, ForgetTombstone):
            store.forget_local_deletions(acct, name, [a.uid])
    store.clear_pending_flags(acct, name)
    # 3. New mail, streamed.
    fetch = [a.uid for a in actions if isinstance(a, Fetch)]
    new = _fetch_new(store, account, session, name, fetch, remote, progress, stop)
    store.set_folder_state(
        acct,
        name,
        FolderState(
            server_name=folder.name,
            uidvalidity=sel.uidvalidity,
            uidnext=sel.uidnext or (max(remote, default=0) + 1),
            highestmodseq=sel.highestmodseq,
        ),
    )
    return FolderResult(name, new=new, changed=changed_n, removed=removed, pushed=pushed + moved)


def _push_moves_and_appends(
    store: SyncStore,
    acct: str,
    name: str,
    folder: RemoteFolder,
    session: ImapSession,
    server_names: dict[str, str],
) -> int:
    """Carry out the user's moves out of this folder (UID MOVE, or COPY + UID EXPUNGE) and
    uploads into it (APPEND), giving each local message its new UID when the server says.

    Replaying after a crash is harmless: a UID already moved is simply not found, and an
    APPEND is skipped when the folder already holds the Message-ID; the destination folder's
    next fetch then adopts the local copy by Message-ID and size instead of duplicating it.
    """
    done = 0
    changes = store.pending(acct, name)
    by_dest: dict[str, list[tuple[int, int, int]]] = {}
    for ch in changes:
        if ch.kind == "move" and ch.uid is not None and ch.message is not None:
            by_dest.setdefault(str(ch.data.get("to", "")), []).append((ch.id, ch.uid, ch.message))
    for dest, items in by_dest.items():
        target = server_names.get(dest)
        if target is None:
            target = dest.replace("/", folder.delimiter) if folder.delimiter else dest
            session.create_folder(target)
            server_names[dest] = target
        moved_flags = _flags_before_move(store, session, changes, items)
        mapping = session.move([uid for _p, uid, _m in items], target)
        for _pid, uid, message in items:
            new_uid = mapping.get(uid)
            if new_uid is not None:
                store.set_uid(message, new_uid, synced_flags=moved_flags.get(message))
        store.clear_pending([pid for pid, _u, _m in items])
        done += len(items)
    for ch in changes:
        if ch.kind != "append" or ch.message is None:
            continue
        row = store.get(ch.message)
        if row is None:
            store.clear_pending([ch.id])
            continue
        raw, flags = store.read_raw(row.id), row.flags
        mid = _header_message_id(raw)
        if mid and session.search_message_id(mid):
            store.clear_pending([ch.id])  # an earlier, interrupted sync already uploaded it
            continue
        new_uid = session.append(folder.name, raw, flags)
        if new_uid is not None:
            store.set_uid(ch.message, new_uid, synced_flags=flags)
        store.clear_pending([ch.id])
        done += 1
    return done


def _flags_before_move(
    store: SyncStore,
    session: ImapSession,
    changes: list[PendingChange],
    items: list[tuple[int, int, int]],
) -> dict[int, Flags]:
    """Set on the server's copies the flags changed here since the last sync (before or after
    the local move), so that the move carries them to the destination; a MOVE or COPY keeps a
    message's flags (RFC 6851 section 3.3). Returns the flags each message now has there.

    What changed is the difference between the message's flags now and the server's flags
    when it was moved (the move's ``base``); a move recorded without one pushes nothing.
    """
    base = {ch.message: ch.data.get("base") for ch in changes if ch.kind == "move"}
    by_change: dict[tuple[Flags, Flags], list[int]] = {}
    agreed: dict[int, Flags] = {}
    for _pid, uid, message in items:
        letters = base.get(message)
        row = store.get(message)
        if not isinstance(letters, str) or row is None:
            continue
        now = row.flags
        was = flags_from_maildir(letters)
        by_change.setdefault((now - was, was - now), []).append(uid)
        agreed[message] = now
    for (add, remove), uids in by_change.items():
        session.add_flags(uids, add)
        session.remove_flags(uids, remove)
    return agreed


def _header_message_id(raw: bytes) -> str | None:
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    for line in head.splitlines():
        if line[:11].lower() == b"message-id:":
            value = line[11:].strip().decode("ascii", "replace")
            return value or None
    return None


def _fetch_new(
    store: SyncStore,
    account: Account,
    session: ImapSession,
    name: str,
    uids: list[int],
    remote: dict[int, Flags],
    progress: ProgressFn | None,
    stop: StopFn | None,
) -> int:
    if not uids:
        return 0
    if account.max_age is not None:
        since = (datetime.now(UTC) - timedelta(seconds=account.max_age)).date()
        recent = set(session.uids(since=since))
        uids = [u for u in uids if u in recent]
    sizes: dict[int, int] = {}
    headers_only: list[int] = []
    if account.headers_only:
        headers_only = list(uids)
    elif account.max_size is not None and uids:
        sizes = session.sizes(uids)
        headers_only = [u for u in uids if sizes.get(u, 0) > account.max_size]
    total = len(uids)
    done = nbytes = 0
    batch: list[NewMessage] = []
    batch_bytes = 0
    last_flush = time.monotonic()

    def flush() -> None:
        nonlocal done, batch, batch_bytes, last_flush
        store.add_messages(account.name, name, batch)
        done += len(batch)
        batch, batch_bytes, last_flush = [], 0, time.monotonic()
        if progress is not None:
            progress(Progress(account.name, name, done, total, nbytes))

    wanted = set(uids)  # at most one copy per UID, and only UIDs asked for
    try:
        for msg in session.fetch_messages(uids, headers_only=headers_only, sizes=sizes):
            if msg.uid not in wanted:
                continue
            wanted.discard(msg.uid)
            raw = msg.raw
            if msg.partial:
                # Headers only (max_size): the local copy says so; it is never uploaded.
                raw = PARTIAL_HEADER + b": headers only, body left on the server\r\n" + raw
            flags = remote.get(msg.uid, msg.flags)
            batch.append(NewMessage(raw, flags, uid=msg.uid, received=msg.internaldate))
            batch_bytes += len(raw)
            nbytes += len(raw)
            if (
                len(batch) >= BATCH_MESSAGES
                or batch_bytes >= BATCH_BYTES
                or time.monotonic() - last_flush > BATCH_SECONDS
            ):
                flush()
            if stop is not None and stop() and done + len(batch) < total:
                flush()
                session.broken = True  # mid-FETCH: the connection cannot be reused
                raise _Stopped()
    except NetworkError:
        flush()  # the whole messages already read are kept
        raise
    flush()
    return done


def _reassociate(store: SyncStore, acct: str, name: str, session: ImapSession) -> None:
    """UIDVALIDITY changed: every stored UID of the folder is void (RFC 3501 2.3.1.1).

    Give each local message the new UID of the server message with the same Message-ID and
    size; local messages with no match lose their UID but stay (never dropped, never
    uploaded twice); server messages with no match are fetched by the plan as new.
    """
    by_key: dict[tuple[str | None, int], list[int]] = {}
    for ident in session.identities():
        by_key.setdefault((ident.message_id, ident.size), []).append(ident.uid)
    mapping: dict[int, int | None] = {}
    for local_id, message_id, size in store.local_identities(acct, name):
        uids = by_key.get((message_id, size)) if message_id else None
        mapping[local_id] = uids.pop(0) if uids else None
    store.reassign_uids(acct, name, mapping)
    store.forget_folder_state(acct, name)
