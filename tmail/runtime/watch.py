"""Running syncs: one pass over several accounts in parallel, and the ``--watch`` loop.

This is the only place sync work gets threads: one worker per account. Each worker opens its own
:class:`tmail.store.Store` (SQLite wants one connection per thread) through ``open_store``.

The watch loop, per account: sync; run the ``on_new_mail`` hook when INBOX got mail; then wait
for the next pass: IMAP accounts IDLE on INBOX (push) for up to ``poll_interval``, POP3 accounts
sleep it. Network failures back off exponentially with jitter. ``stop`` (set by SIGTERM/SIGINT)
is honoured between messages, so the current message is finished and stored before exit.
"""

from __future__ import annotations

import os
import random
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from tmail.config.model import Account, Config
from tmail.core.errors import TmailError
from tmail.core.safe import safe_line
from tmail.store import Store
from tmail.sync.engine import DEFAULT_OPENERS, Openers, sync_account
from tmail.sync.idle import InboxWatcher
from tmail.sync.result import ProgressFn, SyncResult

StoreOpener = Callable[[], Store]
LogFn = Callable[[str], None]

BACKOFF_START = 5.0
BACKOFF_MAX = 15 * 60.0


def sync_accounts(
    config: Config,
    accounts: Sequence[Account],
    open_store: StoreOpener,
    *,
    folders: Iterable[str] | None = None,
    progress: ProgressFn | None = None,
    stop: threading.Event | None = None,
    openers: Openers = DEFAULT_OPENERS,
) -> list[SyncResult]:
    """One pass over ``accounts``, in parallel; results in the order of ``accounts``."""
    folder_list = list(folders) if folders is not None else None
    stop_fn = stop.is_set if stop is not None else None

    def one(account: Account) -> SyncResult:
        try:
            store = open_store()
        except TmailError as exc:
            return SyncResult(account.name, errors=(exc.one_line(),))
        try:
            return sync_account(
                config,
                store,
                account,
                folders=folder_list,
                progress=progress,
                stop=stop_fn,
                openers=openers,
            )
        finally:
            _close(store)

    if len(accounts) == 1:
        return [one(accounts[0])]
    with ThreadPoolExecutor(max_workers=min(8, len(accounts))) as pool:
        return list(pool.map(one, accounts))


def backoff_delay(failures: int, rng: random.Random | None = None) -> float:
    """Seconds to wait after ``failures`` consecutive failures: 5 s doubling to 15 min, with
    +-50 % jitter so many clients do not reconnect in step."""
    r = rng or random
    base = min(BACKOFF_MAX, BACKOFF_START * 2.0 ** max(0, failures - 1))
    return float(base * r.uniform(0.5, 1.5))


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
    on_result: Callable[[SyncResult], None] | None = None,
    openers: Openers = DEFAULT_OPENERS,
) -> None:
    """Sync every account on its own interval until ``stop`` is set; returns after all workers
    finished their current message."""
    folder_list = list(folders) if folders is not None else None
    lock = threading.Lock()

    def say(line: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        with lock:
            log(f"{stamp} {line}")

    threads = [
        threading.Thread(
            target=_watch_account,
            args=(config, account, open_store, say, stop, folder_list, on_result, openers),
            name=f"watch-{account.name}",
            daemon=True,
        )
        for account in accounts
    ]
    for t in threads:
        t.start()
    for t in threads:
        while t.is_alive():
            t.join(0.5)


def _watch_account(
    config: Config,
    account: Account,
    open_store: StoreOpener,
    log: LogFn,
    stop: threading.Event,
    folders: list[str] | None,
    on_result: Callable[[SyncResult], None] | None,
    openers: Openers,
) -> None:
    interval = account.poll_interval or config.poll_interval
    watcher = InboxWatcher(account, openers.imap) if account.incoming.protocol == "imap" else None
    failures = 0
    try:
        store = open_store()
    except TmailError as exc:
        log(exc.one_line())
        return
    try:
        while not stop.is_set():
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
            if stop.is_set():
                break
            failures = failures + 1 if result.errors else 0
            if failures:
                delay = backoff_delay(failures)
                log(safe_line(f"{account.name}: retrying in {delay:.0f}s"))
                stop.wait(delay)
                continue
            if watcher is None:
                stop.wait(interval)
                continue
            started = time.monotonic()
            try:
                pushed = watcher.wait(interval, stop.is_set)
            except TmailError as exc:
                failures += 1
                delay = backoff_delay(failures)
                log(f"{exc.one_line()} (IDLE; retrying in {delay:.0f}s)")
                stop.wait(max(0.0, min(delay, interval - (time.monotonic() - started))))
                continue
            if pushed and watcher.announced:  # not when it only (re)connected
                log(safe_line(f"{account.name}: new mail announced (IDLE)"))
    finally:
        if watcher is not None:
            watcher.close()
        _close(store)


def _close(store: Store) -> None:
    close = getattr(store, "close", None)
    if callable(close):
        close()
