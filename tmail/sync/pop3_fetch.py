"""POP3 fetching of one account into the store's INBOX.

One pass: UIDL (or a hash of each ``TOP n 0`` header when the server has no UIDL), let
:func:`tmail.sync.plan.plan_pop3` decide, RETR what is new (pipelined) and store each message;
then DELE what may go. The order is the safety: a message is stored (fsynced, renamed into the
Maildir, its UIDL committed with its index row) before its DELE is even sent, and deletions take
effect only at QUIT, which is sent only when everything before it succeeded. Any failure drops the
connection without QUIT, so the server keeps every message.

``headers_only`` (preview mode) and ``max_size`` store a message's header alone (``TOP n 0``,
marked with an ``X-Tmail-Partial`` field); such a message is never deleted from the server.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from tmail.config.model import Account
from tmail.core.errors import TmailError
from tmail.protocols.pop3 import Pop3Session
from tmail.store import NewMessage
from tmail.sync.imap_sync import BATCH_BYTES, BATCH_MESSAGES, PARTIAL_HEADER
from tmail.sync.plan import plan_pop3
from tmail.sync.result import AccountSyncResult, FolderResult, Progress, ProgressFn, StopFn
from tmail.sync.storeview import SyncStore

Pop3Opener = Callable[[Account], Pop3Session]
INBOX = "INBOX"
# The store records a message kept headers only (``headers_only``, ``max_size``) under its UIDL
# with this prefix: known (never fetched again) but never deleted, since its body is only on
# the server. UIDLs have no spaces (RFC 1939 7), so no real UIDL looks like this.
PREVIEW = "headers "


def fetch_pop3_account(
    store: SyncStore,
    account: Account,
    open_session: Pop3Opener,
    *,
    progress: ProgressFn | None = None,
    stop: StopFn | None = None,
    headers_only: bool = False,
) -> AccountSyncResult:
    """One POP3 pass. Never raises for server or store trouble: each failure is one line in
    ``AccountSyncResult.errors``; whatever was stored stays stored and on the server."""
    try:
        session = open_session(account)
    except TmailError as exc:
        return AccountSyncResult(account.name, errors=(exc.one_line(),))
    acct = account.name
    new = removed = 0
    stopped = False
    try:
        listing = session.uidls()
        if listing is None:
            count, _size = session.stat()
            listing = session.header_hash_uidls(count)
        seen = store.pop3_stored(acct)
        previewed = {k[len(PREVIEW) :] for k in seen if k.startswith(PREVIEW)}
        stored = {k.removeprefix(PREVIEW): t for k, t in seen.items()}
        now = time.time()
        todo = plan_pop3(
            listing,
            stored,
            now=now,
            leave_on_server=account.leave_on_server,
            delete_after=account.delete_after,
            keep=previewed,
        )
        total = len(todo.fetch)
        nbytes = 0
        uidl_of = dict(todo.fetch)
        deletable: list[int] = [n for n, _u in todo.delete]
        wanted = [n for n, _u in todo.fetch]
        preview: set[int] = set()  # stored headers only (TOP n 0)
        if headers_only or account.headers_only:
            preview = set(wanted)
        elif account.max_size is not None and wanted:
            sizes = session.sizes()
            preview = {n for n in wanted if sizes.get(n, 0) > account.max_size}
        numbers = [n for n in wanted if n not in preview]
        batch: list[NewMessage] = []
        batch_numbers: list[int] = []
        batch_bytes = 0

        def flush() -> None:
            # add_messages returns only after fsync + rename + commit: only now may DELE go.
            nonlocal new, batch, batch_numbers
            store.add_messages(acct, INBOX, batch)
            new += len(batch)
            if not account.leave_on_server:
                deletable.extend(batch_numbers)
            batch, batch_numbers = [], []
            if progress is not None:
                progress(Progress(acct, INBOX, new, total, nbytes))

        heads: list[NewMessage] = []
        try:
            for number in sorted(preview):  # TOP n 0; these are never deleted
                raw = PARTIAL_HEADER + b": headers only (TOP), body left on the server\r\n"
                heads.append(
                    NewMessage(raw + session.headers(number), uidl=PREVIEW + uidl_of[number])
                )
                if len(heads) >= BATCH_MESSAGES:
                    store.add_messages(acct, INBOX, heads)
                    new, heads = new + len(heads), []
                if stop is not None and stop():
                    stopped = True
                    break
            store.add_messages(acct, INBOX, heads)
            new, heads = new + len(heads), []
            for number, raw in () if stopped else session.retrieve(numbers):
                batch.append(NewMessage(raw, uidl=uidl_of[number]))
                batch_numbers.append(number)
                nbytes += len(raw)
                batch_bytes += len(raw)
                if len(batch) >= BATCH_MESSAGES or batch_bytes > BATCH_BYTES:
                    flush()
                    batch_bytes = 0
                if stop is not None and stop() and new + len(batch) < total:
                    stopped = True
                    break
        except TmailError:
            store.add_messages(acct, INBOX, heads)  # whole messages already read are kept
            new += len(heads)
            flush()
            raise
        flush()
        if stopped:
            session.abandon()  # mid-pipeline: no QUIT, nothing deleted; the next pass resumes
        else:
            for number in deletable:
                session.delete(number)
            session.quit()  # commits the DELEs
            removed = len(deletable)
            # UIDLs the server no longer lists will never come back: keep the set small.
            listed = {u for _n, u in listing}
            gone = [k for k in seen if k.removeprefix(PREVIEW) not in listed]
            if gone:
                store.forget_uidls(acct, gone)
    except TmailError as exc:
        session.abandon()
        return AccountSyncResult(
            acct,
            folders=(FolderResult(INBOX, new=new, error=exc.one_line()),),
            errors=(exc.one_line(),),
            new_in_inbox=new,
        )
    except BaseException:
        session.abandon()
        raise
    return AccountSyncResult(
        acct,
        folders=(FolderResult(INBOX, new=new, pushed=removed),),
        new_in_inbox=new,
        stopped=stopped,
    )
