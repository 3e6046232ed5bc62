"""Running syncs: one pass over several accounts in parallel, and the ``--watch`` loop.

Sync work gets threads only in :mod:`tmail.runtime`: one worker per account. Each opens its own
:class:`tmail.store.Store` through ``open_store``.

The watch loop runs each account on an :class:`~tmail.runtime.worker.AccountWorker`, the same
worker the reader's session uses: sync; run the ``on_new_mail`` hook when INBOX got mail; then
wait for the next pass: IMAP accounts IDLE on INBOX (push) and sync when the server announces
mail, and every ``poll_interval``; POP3 accounts sync every ``poll_interval``. Network failures
back off exponentially with jitter. ``stop`` (set by SIGTERM/SIGINT) is honoured between
messages, so the current message is finished and stored before exit.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime

from tmail.config.model import Account, Config
from tmail.config.paths import outbox_waiting
from tmail.core.errors import TmailError
from tmail.core.safe import safe_line
from tmail.runtime.worker import BACKOFF_MAX, BACKOFF_START, AccountWorker, backoff_delay
from tmail.store import Store
from tmail.sync.engine import DEFAULT_OPENERS, Openers, sync_account
from tmail.sync.idle import InboxWatcher
from tmail.sync.result import AccountSyncResult, ProgressFn

StoreOpener = Callable[[], Store]
OUTBOX_CHECK = 5.0  # seconds between looks at the outboxes for a message whose time came
LogFn = Callable[[str], None]

__all__ = ["BACKOFF_MAX", "BACKOFF_START", "backoff_delay", "run_hook", "sync_accounts", "watch"]


def sync_accounts(
    config: Config,
    accounts: Sequence[Account],
    open_store: StoreOpener,
    *,
    folders: Iterable[str] | None = None,
    progress: ProgressFn | None = None,
    stop: threading.Event | None = None,
    openers: Openers = DEFAULT_OPENERS,
) -> list[AccountSyncResult]:
    """One pass over ``accounts``, in parallel; results in the order of ``accounts``."""
    folder_list = list(folders) if folders is not None else None
    stop_fn = stop.is_set if stop is not None else None

    def one(account: Account) -> AccountSyncResult:
        try:
            store = open_store()
        except TmailError as exc:
            return AccountSyncResult(account.name, errors=(exc.one_line(),))
        try:
            result = sync_account(
                config,
                store,
                account,
                folders=folder_list,
                progress=progress,
                stop=stop_fn,
                openers=openers,
            )
            if stop_fn is not None and stop_fn():
                return result
            sent = _flush_due(config, account, store)
            return replace(result, notes=(*result.notes, *sent)) if sent else result
        finally:
            _close(store)

    if len(accounts) == 1:
        return [one(accounts[0])]
    with ThreadPoolExecutor(max_workers=min(8, len(accounts))) as pool:
        return list(pool.map(one, accounts))


def run_hook(account: Account, new: int, log: LogFn) -> None:
    """The ``on_new_mail`` command, with TMAIL_ACCOUNT and TMAIL_NEW_COUNT in its environment;
    without one, a desktop notification (:func:`tmail.runtime.notify.notify_new_mail`);
    ``on_new_mail = ""`` turns both off."""
    if new <= 0:
        return
    if account.on_new_mail is None:
        from tmail.runtime.notify import notify_new_mail

        notify_new_mail(account.name, new)
        return
    if not account.on_new_mail:
        return
    env = dict(os.environ, TMAIL_ACCOUNT=account.name, TMAIL_NEW_COUNT=str(new))
    try:
        res = subprocess.run(
            account.on_new_mail, shell=True, env=env, timeout=60, check=False,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        log(safe_line(f"{account.name}: on_new_mail failed: {exc}"))
        return
    if res.returncode != 0:
        err = res.stderr.decode("utf-8", "replace").strip().splitlines()
        log(
            safe_line(
                f"{account.name}: on_new_mail exited {res.returncode}"
                + (f": {err[-1]}" if err else "")
            )
        )


def watch(
    config: Config,
    accounts: Sequence[Account],
    open_store: StoreOpener,
    *,
    log: LogFn,
    stop: threading.Event,
    folders: Iterable[str] | None = None,
    on_result: Callable[[AccountSyncResult], None] | None = None,
    openers: Openers = DEFAULT_OPENERS,
    clock: Callable[[], float] = time.time,
) -> None:
    """Sync every account on its own worker until ``stop`` is set; returns after all workers
    finished their current message. Between passes, a message in an outbox whose time came
    goes then (``clock`` tells the time)."""
    folder_list = list(folders) if folders is not None else None
    lock = threading.Lock()

    def say(line: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        with lock:
            log(f"{stamp} {line}")

    running: list[tuple[AccountWorker, Store, InboxWatcher | None]] = []
    outboxes: list[tuple[Account, AccountWorker, Store]] = []
    for account in accounts:
        try:
            store = open_store()
        except TmailError as exc:
            say(exc.one_line())
            continue
        worker, watcher = _account_worker(
            config, account, store, say, stop, folder_list, on_result, openers, clock
        )
        running.append((worker, store, watcher))
        outboxes.append((account, worker, store))
        worker.start()
    outbox_due = _outbox_timer(config, outboxes, say, stop, clock)
    try:
        while not stop.wait(0.5):  # a short wait: signals reach the main thread meanwhile
            outbox_due()
    finally:
        stop.set()
        for worker, _store, _watcher in running:
            worker.stop()
        for worker, store, watcher in running:
            while not worker.join(0.5):
                pass
            for pusher in worker.pushers:
                pusher.join()
            if watcher is not None:
                watcher.close()
            _close(store)


def _account_worker(
    config: Config,
    account: Account,
    store: Store,
    log: LogFn,
    stop: threading.Event,
    folders: list[str] | None,
    on_result: Callable[[AccountSyncResult], None] | None,
    openers: Openers,
    clock: Callable[[], float],
) -> tuple[AccountWorker, InboxWatcher | None]:
    """The account's worker: its pass is one sync with its log lines and hook; IMAP accounts
    also IDLE on INBOX for mail between passes."""
    interval = account.poll_interval or config.poll_interval

    def one_pass() -> bool:
        result = sync_account(
            config, store, account, folders=folders, stop=stop.is_set, openers=openers
        )
        if on_result is not None:
            on_result(result)
        if result.new or result.changed or result.removed or result.pushed or result.errors:
            log(result.summary())
        for line in result.errors:
            log(line)
        run_hook(account, result.new_in_inbox, log)
        if not stop.is_set():
            for line in _flush_due(config, account, store, clock):
                log(safe_line(line))
        from tmail.sync.carddav import with_mail

        book = with_mail(config, store, account.name)  # the address book, with the mail
        if book is not None and (book[2] or not book[1]):
            log(safe_line(book[0]))
        return not result.errors

    def retrying(failures: int, delay: float) -> None:
        if not stop.is_set():
            log(safe_line(f"{account.name}: retrying in {delay:.0f}s"))

    worker = AccountWorker(
        account.name,
        one_pass,
        interval=interval,
        stop=stop,
        backoff=lambda failures: backoff_delay(failures),  # looked up here: tests replace it
        on_backoff=retrying,
        first_pass=True,
    )
    if account.incoming.protocol != "imap":
        return worker, None
    watcher = InboxWatcher(account, openers.imap)

    def idle_failed(exc: TmailError, failures: int, delay: float) -> None:
        log(f"{exc.one_line()} (IDLE; retrying in {delay:.0f}s)")

    def announced(changed: bool) -> None:
        if changed and watcher.announced:  # not when it only (re)connected
            log(safe_line(f"{account.name}: new mail announced (IDLE)"))

    worker.watch(watcher.wait, interval, idle_failed, after_wait=announced)
    return worker, watcher


def _flush_due(
    config: Config, account: Account, store: Store, clock: Callable[[], float] = time.time
) -> list[str]:
    """The account's outbox: what is due goes (a message sent later whose time came)."""
    if account.outgoing is None or not outbox_waiting(config.data_dir, account.name):
        return []  # an empty outbox: the outbox and the composer are not even imported
    from tmail.outbox.service import flush_due

    return flush_due(config.data_dir, account, store, clock)


def _outbox_timer(
    config: Config,
    running: Sequence[tuple[Account, AccountWorker, Store]],
    log: LogFn,
    stop: threading.Event,
    clock: Callable[[], float],
) -> Callable[[], None]:
    """A check for the watch loop: an account whose outbox has a message due (its scheduled
    time came, whoever queued it: ``tmail send --at`` from another shell too) gets a flush
    on its worker then, not at its next pass. Reads the outbox at most every few seconds."""
    from tmail.outbox.service import next_due

    checked = [0.0]
    asked: dict[str, float] = {}

    def tick() -> None:
        now = clock()
        if now - checked[0] < OUTBOX_CHECK:
            return
        checked[0] = now
        for account, worker, store in running:
            if account.outgoing is None:
                continue
            due = next_due(config.data_dir, account, now)
            if due is None or due > now or asked.get(account.name) == due:
                continue
            asked[account.name] = due  # once per due time; the flush moves it on

            def job(account: Account = account, store: Store = store) -> None:
                if not stop.is_set():
                    for line in _flush_due(config, account, store, clock):
                        log(safe_line(line))

            worker.submit(job)

    return tick


def _close(store: Store) -> None:
    close = getattr(store, "close", None)
    if callable(close):
        close()
