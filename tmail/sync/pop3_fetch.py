"""POP3 fetching of one account into the store's INBOX.

One pass: UIDL (or a hash of each ``TOP n 0`` header when the server has no UIDL), let
:func:`tmail.sync.plan.plan_pop3` decide, RETR what is new (pipelined) and store each message;
then DELE what may go. The order is the safety: a message is stored (fsynced, renamed into the
Maildir, its UIDL committed with its index row) before its DELE is even sent, and deletions take
effect only at QUIT, which is sent only when everything before it succeeded. Any failure drops the
connection without QUIT, so the server keeps every message.
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
from tmail.sync.result import FolderResult, Progress, ProgressFn, StopFn, SyncResult
from tmail.sync.storeview import SyncStore

Pop3Opener = Callable[[Account], Pop3Session]
INBOX = "INBOX"


def fetch_pop3_account(
    store: SyncStore,
    account: Account,
    open_session: Pop3Opener,
    *,
    progress: ProgressFn | None = None,
    stop: StopFn | None = None,
    headers_only: bool = False,
) -> SyncResult:
    """One POP3 pass. Never raises for server or store trouble: each failure is one line in
    ``SyncResult.errors``; whatever was stored stays stored and on the server."""
    try:
        session = open_session(account)
    except TmailError as exc:
        return SyncResult(account.name, errors=(exc.one_line(),))
    acct = account.name
    new = removed = 0
    stopped = False
    try:
        listing = session.uidls()
        if listing is None:
            count, _size = session.stat()
            listing = session.header_hash_uidls(count)
        stored = store.pop3_seen(acct)
        now = time.time()
        todo = plan_pop3(
            listing,
            stored,
            now=now,
            leave_on_server=account.leave_on_server,
            delete_after=account.delete_after,
        )
        total = len(todo.fetch)
        nbytes = 0
        uidl_of = dict(todo.fetch)
        deletable: list[int] = [n for n, _u in todo.delete]
        numbers = [n for n, _u in todo.fetch]
        batch: list[NewMessage] = []
        batch_numbers: list[int] = []
        batch_bytes = 0

        def flush() -> None:
            # add_batch returns only after fsync + rename + commit: only now may DELE go.
            nonlocal new, batch, batch_numbers
            store.add_batch(acct, INBOX, batch)
            new += len(batch)
            if not account.leave_on_server:
                deletable.extend(batch_numbers)
            batch, batch_numbers = [], []
            if progress is not None:
                progress(Progress(acct, INBOX, new, total, nbytes))

        try:
            for number in numbers if headers_only else ():
                raw = PARTIAL_HEADER + b": headers only (TOP)\r\n" + session.headers(number)
                store.add_batch(acct, INBOX, [NewMessage(raw, uidl=uidl_of[number])])
                new += 1
            for number, raw in () if headers_only else session.retrieve(numbers):
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
            flush()  # whole messages already read are kept
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
            gone = [u for u in stored if u not in listed]
            if gone:
                store.forget_uidls(acct, gone)
    except TmailError as exc:
        session.abandon()
        return SyncResult(
            acct,
            folders=(FolderResult(INBOX, new=new, error=exc.one_line()),),
            errors=(exc.one_line(),),
            new_in_inbox=new,
        )
    except BaseException:
        session.abandon()
        raise
    return SyncResult(
        acct,
        folders=(FolderResult(INBOX, new=new, pushed=removed),),
        new_in_inbox=new,
        stopped=stopped,
    )
