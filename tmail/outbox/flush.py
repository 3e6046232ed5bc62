"""Flushing an account's outbox: one connection for every due message, retries, rate limits.

Every message ends a flush in exactly one state, each with words for the user:

* ``delivered`` – the server took it for every recipient; removed from the queue, Sent copy made;
* ``partial``   – taken for some recipients and refused for good for others: moved to ``failed``
  with the refused ones named (a Sent copy is made: it did go out);
* ``queued``    – a 4xx reply or network trouble: stays, with the reason and the next try;
* ``waiting``   – held back by a rate limit, with the time it may go: the account's own limits,
  or one the server announced by refusing (``tmail.outbox.ratelimit``: the whole account's queue
  then waits until the window is likely over, and goes by itself after);
* ``failed``    – a 5xx reply (or ``max_queue_age`` passed): moved to ``failed`` with the
  server's words explained;
* ``held``      – the server refused the login: stays, held for the account until the user
  lets it go (``tmail flush --resend``) or a later login works; never retried with the same
  password by itself (a provider locks an account after a few wrong passwords);
* ``uncertain`` – the connection was lost after the final dot, before the server's reply: the
  server may have it. Stays, held, until the user sends it again or drops it (or the account's
  ``resend_uncertain`` sends it again by itself, as ``queued``).

A held entry is skipped by every flush (it is reported, not tried) until released. So is a
``scheduled`` one (``Entry.not_before``: sent later, or in the reader's undo window) until its
time, whatever the flush: forced, or naming it; only the user's "send now" (``Queue.release``)
lets it go early. Its age for ``max_queue_age`` counts from that time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from tmail.config.model import Account
from tmail.core.durations import format_duration
from tmail.core.errors import AuthFailed, MessageError, TmailError
from tmail.outbox.policy import gave_up, next_allowed, retry_delay
from tmail.outbox.queue import Attempt, Entry, Queue, RecipientResult
from tmail.outbox.ratelimit import RateLimit, rate_limit
from tmail.protocols.smtp import Delivery, Dsn, Refusal, Reply, SmtpFailure, SmtpSession

Status = Literal[
    "delivered", "partial", "queued", "waiting", "failed", "held", "uncertain", "scheduled"
]

# Pauses shorter than this (per_second pacing) are slept through; longer ones end the flush.
MAX_INLINE_WAIT = 5.0


@dataclass(frozen=True)
class Outcome:
    entry: Entry
    status: Status
    message: str


@dataclass(frozen=True)
class FlushReport:
    outcomes: tuple[Outcome, ...]
    warnings: tuple[str, ...]

    def of(self, entry_id: str) -> Outcome | None:
        return next((o for o in self.outcomes if o.entry.id == entry_id), None)


Opener = Callable[[], SmtpSession]
SentSink = Callable[[Entry, bytes], None]
Explain = Callable[[int, str], str]


def _plain_explain(code: int, text: str) -> str:
    return f"{code} {text}".strip()


def clock_time(at: float) -> str:
    """``14:05`` today, ``Mon 14:05`` within a week, else the date."""
    dt = datetime.fromtimestamp(at).astimezone()
    now = datetime.now().astimezone()
    if dt.date() == now.date():
        return dt.strftime("%H:%M")
    if abs((dt - now).days) < 7:
        return dt.strftime("%a %H:%M")
    return dt.strftime("%Y-%m-%d %H:%M")


def with_bcc(data: bytes, bcc: Iterable[str]) -> bytes:
    """The Sent copy keeps the Bcc recipients (as mutt and Thunderbird do); never sent."""
    bcc = list(bcc)
    if not bcc:
        return data
    return f"Bcc: {', '.join(bcc)}\n".encode() + data


class Flusher:
    """Sends the due entries of one account's queue; see :func:`flush`."""

    def __init__(
        self,
        account: Account,
        queue: Queue,
        opener: Opener,
        *,
        explain: Explain = _plain_explain,
        sent_sink: SentSink | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.account = account
        self.queue = queue
        self.opener = opener
        self.explain = explain
        self.sent_sink = sent_sink
        self.clock = clock
        self.sleep = sleep
        self.warnings: list[str] = []
        self.server = account.outgoing.label if account.outgoing else ""
        self._login_held = False
        self._server_limited: tuple[float, str] | None = None  # set when the server said stop

    # ------------------------------------------------------------ bookkeeping
    def _temporary(self, entry: Entry, why: str) -> Outcome:
        now = self.clock()
        failures = sum(1 for a in entry.attempts if a.outcome == "temporary") + 1
        nxt = now + retry_delay(failures)
        entry = replace(
            entry,
            attempts=(*entry.attempts, Attempt(now, "temporary", why)),
            last_error=why,
            next_try=nxt,
            waiting_until=None,
        )
        if gave_up(_since(entry), nxt, self.account.max_queue_age):
            age = format_duration(now - entry.created)
            return self._permanent(entry, f"gave up after {age} in the queue; last error: {why}")
        self.queue.update(entry)
        return Outcome(entry, "queued", f"{why}; next try at {clock_time(nxt)}")

    def _permanent(self, entry: Entry, why: str, status: Status = "failed") -> Outcome:
        now = self.clock()
        entry = replace(
            entry,
            attempts=(*entry.attempts, Attempt(now, "permanent", why)),
            last_error=why,
        )
        entry = self.queue.fail(entry)
        return Outcome(entry, status, why)

    def _hold(self, entry: Entry, kind: str, why: str) -> Outcome:
        """Keep the entry, held for the user (see the module docstring)."""
        now = self.clock()
        outcome = "login refused" if kind == "login" else "uncertain"
        entry = replace(
            entry,
            attempts=(*entry.attempts, Attempt(now, outcome, why)),
            last_error=why,
            hold=kind,
            waiting_until=None,
        )
        self.queue.update(entry)
        return self._held(entry)

    def _held(self, entry: Entry) -> Outcome:
        return Outcome(entry, "held" if entry.hold == "login" else "uncertain", held_words(entry))

    def _release_login_holds(self) -> None:
        """A login just worked: entries held for a refused login may go again (next flush)."""
        if not self._login_held:
            return
        self._login_held = False
        now = self.clock()
        for e in self.queue.entries():
            if e.hold == "login":
                self.queue.update(replace(e, hold=None, next_try=now))

    def _words(self, reply: Reply) -> str:
        return self.explain(reply.code, reply.text)

    def _sent_copy(self, entry: Entry, data: bytes) -> Entry:
        if self.sent_sink is None or entry.sent_copy_done or not self.account.save_sent:
            return entry
        try:
            self.sent_sink(entry, with_bcc(data, entry.bcc))
        except (TmailError, OSError) as exc:
            text = exc.one_line() if isinstance(exc, TmailError) else str(exc)
            self.warnings.append(f"message {entry.id} was sent but no Sent copy was saved: {text}")
        return replace(entry, sent_copy_done=True)

    # ------------------------------------------------------------ one entry
    def _deliver(self, session: SmtpSession, entry: Entry) -> Outcome:
        data = self.queue.read(entry)
        dsn = None
        if entry.dsn_notify or entry.dsn_envid:
            dsn = Dsn(notify=entry.dsn_notify, ret=entry.dsn_ret, envid=entry.dsn_envid)
        try:
            delivery = self._send(session, data, entry, dsn)
        except SmtpFailure as exc:
            if exc.uncertain and not self.account.resend_uncertain:
                return self._hold(entry, "uncertain", exc.what)
            if exc.reply is None:
                return self._temporary(entry, exc.what)
            if limit := self._server_limit(exc.reply):
                return self._server_wait(entry, limit)
            words = f"{exc.what}: {self._words(exc.reply)}"
            if exc.permanent:
                return self._permanent(entry, words)
            return self._temporary(entry, words)
        for note in delivery.notes:
            self.warnings.append(f"message {entry.id}: {note}")
        return self._after(entry, data, delivery)

    def _send(self, session: SmtpSession, data: bytes, entry: Entry, dsn: Dsn | None) -> Delivery:
        """One transaction, or with ``split_recipients`` one per batch of ``per_message``
        recipients (the same message each time). A batch refused as a whole after others went
        leaves its recipients and the rest pending, with the server's reply."""
        most = self.account.limits.per_message
        rcpts = entry.recipients
        if not most or len(rcpts) <= most:
            return session.send(data, entry.sender, rcpts, dsn)
        accepted: list[str] = []
        refused: list[Refusal] = []
        final: Reply | None = None
        notes: list[str] = []
        for start in range(0, len(rcpts), most):
            batch = rcpts[start : start + most]
            try:
                d = session.send(data, entry.sender, batch, dsn)
            except SmtpFailure as exc:
                if start == 0 or exc.uncertain:
                    raise  # nothing went yet, or this batch may have: as a single message
                # The earlier batches went: this one and the rest carry the server's reply
                # (refused for good, pending, or waiting for its rate limit, as for a
                # recipient refused at RCPT).
                reply = exc.reply or Reply(451, f"4.4.2 not sent yet ({exc.what})")
                refused += [Refusal(r, reply) for r in rcpts[start:]]
                break
            accepted += d.accepted
            refused += d.refused
            notes += d.notes
            final = d.final or final
        return Delivery(tuple(accepted), tuple(refused), final, tuple(notes))

    def _after(self, entry: Entry, data: bytes, d: Delivery) -> Outcome:
        now = self.clock()
        # A recipient refused for the server's rate limit is not refused for good: it waits.
        limited = {r.recipient: lim for r in d.refused if (lim := self._server_limit(r.reply))}
        final = [r for r in d.refused if r.permanent and r.recipient not in limited]
        later = [r for r in d.refused if not r.permanent or r.recipient in limited]
        refused_for_good = tuple(RecipientResult(r.recipient, r.reply.code, r.reply.text)
                                 for r in final)  # fmt: skip
        still = tuple(r.recipient for r in later)
        refused_words = "; ".join(f"{r.recipient}: {self._words(r.reply)}" for r in final)
        later_words = "; ".join(f"{r.recipient}: {self._words(r.reply)}" for r in later)
        entry = replace(
            entry,
            recipients=still,
            delivered=(*entry.delivered, *d.accepted),
            refused=(*entry.refused, *refused_for_good),
        )
        if d.accepted:
            limits = self.account.limits
            if limits.per_second or limits.per_hour or limits.per_day:
                # Where each recipient counts (Yandex), a message to 35 uses 35 of the day's.
                for _ in range(len(d.accepted) if limits.count_recipients else 1):
                    self.queue.record_sent(now)
            entry = self._sent_copy(entry, data)
        if still:
            why = f"not yet accepted for {later_words}"
            if d.accepted:
                why = f"sent to {', '.join(d.accepted)}; {why}"
            if refused_words:
                why += f"; refused for good: {refused_words}"
            if limited:
                return self._server_wait(entry, next(iter(limited.values())), why)
            return self._temporary(entry, why)
        if entry.refused:
            all_refused = "; ".join(
                f"{r.recipient}: {self.explain(r.code, r.text)}" for r in entry.refused
            )
            if entry.delivered:
                why = f"sent to {', '.join(entry.delivered)}, but refused for {all_refused}"
                return self._permanent(entry, why, "partial")
            return self._permanent(entry, f"refused: {all_refused}")
        entry = replace(entry, attempts=(*entry.attempts, Attempt(now, "delivered", "")))
        self.queue.remove(entry)
        words = f"delivered to {', '.join(entry.delivered)}"
        if d.final is not None:
            words += f" ({d.final.text})"
        return Outcome(entry, "delivered", words)

    # ------------------------------------------------------------ the flush
    def run(self, *, force: bool = False, only: Iterable[str] | None = None) -> FlushReport:
        outcomes: list[Outcome] = []
        with self.queue.lock() as locked:
            if not locked:
                raise TmailError(
                    "another tmail is sending from this outbox",
                    account=self.account.name,
                    hint="the messages stay queued; try again in a moment",
                )
            self.queue.prune_delivered(self.clock())
            entries = self.queue.entries()
            self._login_held = any(e.hold == "login" for e in entries)
            self.warnings += self.queue.warnings
            wanted = set(only) if only is not None else None
            now = self.clock()
            # The server's rate limit holds every message of the account, new ones too, even
            # in a forced flush; only messages the user names (--resend, y) are tried.
            server_hold = self.queue.server_hold(now) if wanted is None else None
            due: list[Entry] = []
            for entry in entries:
                if wanted is not None and entry.id not in wanted:
                    continue
                if entry.scheduled(now):
                    if force or wanted is not None:  # asked for: say when it goes
                        outcomes.append(_scheduled(entry))
                elif entry.hold:
                    outcomes.append(self._held(entry))  # until the user lets it go
                elif server_hold is not None:
                    outcomes.append(self._still_waiting(entry, *server_hold))
                elif gave_up(_since(entry), now, self.account.max_queue_age):
                    age = format_duration(now - _since(entry))
                    why = f"gave up after {age} in the queue; last error: {entry.last_error}"
                    outcomes.append(self._permanent(entry, why))
                elif force or wanted is not None or entry.next_try <= now:
                    due.append(entry)
            outcomes += self._send_all(due)
        return FlushReport(tuple(outcomes), tuple(self.warnings))

    def _send_all(self, due: list[Entry]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        session: SmtpSession | None = None
        try:
            limits = self.account.limits
            limited = bool(limits.per_second or limits.per_hour or limits.per_day)
            sent = self.queue.sent_times(self.clock()) if limited else []
            for i, entry in enumerate(due):
                now = self.clock()
                allowed = next_allowed(limits, sent, now) if limited else now
                if allowed > now + MAX_INLINE_WAIT:
                    outcomes += [self._wait(e, allowed) for e in due[i:]]
                    break
                if allowed > now:
                    self.sleep(allowed - now)
                if session is None or session.broken:
                    if session is not None:
                        session.close()
                    try:
                        session = self.opener()
                    except (TmailError, SmtpFailure) as exc:
                        why = _open_failure(exc)
                        if isinstance(exc, SmtpFailure) and exc.permanent and exc.reply:
                            why = f"{exc.what}: {self._words(exc.reply)}"
                        limit = (
                            self._server_limit(exc.reply)
                            if isinstance(exc, SmtpFailure) and exc.reply is not None
                            else None
                        )
                        if limit is not None:
                            outcomes += [self._server_wait(e, limit) for e in due[i:]]
                        elif isinstance(exc, AuthFailed):
                            # The same password would be refused again: hold, do not retry.
                            outcomes += [self._hold(e, "login", why) for e in due[i:]]
                        else:
                            # Nothing was sent: every due message stays queued with the reason.
                            outcomes += [self._temporary(e, why) for e in due[i:]]
                        session = None
                        break
                    self._release_login_holds()
                    self.queue.remember_server_size(session.size_limit)
                outcome = self._deliver(session, entry)
                outcomes.append(outcome)
                if limited and outcome.entry.delivered != entry.delivered:
                    went = len(outcome.entry.delivered) - len(entry.delivered)
                    sent += [self.clock()] * (went if limits.count_recipients else 1)
                if self._server_limited is not None:
                    # The server said stop: the rest wait with it, untried.
                    until, words = self._server_limited
                    outcomes += [self._still_waiting(e, until, words) for e in due[i + 1 :]]
                    break
        finally:
            if session is not None:
                session.close()
        return outcomes

    def _wait(self, entry: Entry, until: float) -> Outcome:
        entry = replace(entry, waiting_until=until, next_try=max(entry.next_try, until))
        self.queue.update(entry)
        return Outcome(entry, "waiting", f"rate limit reached; waits until {clock_time(until)}")

    # ------------------------------------------------------------ the server's limits
    def _server_limit(self, reply: Reply) -> RateLimit | None:
        now = self.clock()
        return rate_limit(reply.code, reply.text, now, self.queue.sent_times(now))

    def _server_wait(self, entry: Entry, limit: RateLimit, why: str = "") -> Outcome:
        """The server refused for its rate limit: this entry and the account's whole queue
        wait until ``limit.until``; then they go by themselves."""
        now = self.clock()
        kind = "daily sending quota" if limit.daily else "sending rate limit"
        words = f"the server's {kind}: {limit.reply}"
        if why:
            words = f"{why}; {words}"
        self.queue.remember_server_hold(limit.until, words)
        self._server_limited = (limit.until, words)
        entry = replace(
            entry,
            attempts=(*entry.attempts, Attempt(now, "temporary", words)),
            last_error=words,
            next_try=max(entry.next_try, limit.until),
            waiting_until=limit.until,
        )
        self.queue.update(entry)
        return Outcome(entry, "waiting", _until_words(words, limit.until))

    def _still_waiting(self, entry: Entry, until: float, words: str) -> Outcome:
        if entry.waiting_until != until:
            entry = replace(
                entry,
                last_error=words,
                next_try=max(entry.next_try, until),
                waiting_until=until,
            )
            self.queue.update(entry)
        return Outcome(entry, "waiting", _until_words(words, until))


def _since(entry: Entry) -> float:
    """Where the entry's time in the queue starts: when it was queued, or its scheduled time."""
    return max(entry.created, entry.not_before or 0.0)


def _scheduled(entry: Entry) -> Outcome:
    when = clock_time(entry.not_before or entry.next_try)
    return Outcome(entry, "scheduled", f"scheduled for {when}")


def _until_words(words: str, until: float) -> str:
    return f"{words}; the account's messages wait until {clock_time(until)}, then go by themselves"


def held_words(entry: Entry) -> str:
    """Why a held entry waits and what the user can do, in one line."""
    why = entry.last_error or ""
    if entry.hold == "login":
        return (
            f"{why}; held: not tried again with the same password — fix the password, then "
            f"'tmail flush --resend {entry.id}' (a later login that works lets it go too)"
        )
    return (
        f"{why}: delivery uncertain, the server may have it — 'tmail flush --resend "
        f"{entry.id}' sends it again, 'tmail queue --drop {entry.id}' forgets it"
    )


def _open_failure(exc: TmailError | SmtpFailure) -> str:
    if isinstance(exc, TmailError):
        text = exc.message
        if exc.hint:
            text += f" — {exc.hint}"
        return text
    return str(exc)


def flush(
    account: Account,
    queue: Queue,
    opener: Opener,
    *,
    force: bool = False,
    only: Iterable[str] | None = None,
    explain: Explain = _plain_explain,
    sent_sink: SentSink | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> FlushReport:
    """Send what is due (everything with ``force``; just ``only`` when given) on one connection."""
    flusher = Flusher(
        account, queue, opener, explain=explain, sent_sink=sent_sink, clock=clock, sleep=sleep
    )
    return flusher.run(force=force, only=only)


def enqueue(
    queue: Queue,
    *,
    account: Account,
    data: bytes,
    sender: str,
    recipients: Iterable[str],
    subject: str,
    message_id: str,
    bcc: Iterable[str] = (),
    dsn: Dsn | None = None,
    clock: Callable[[], float] = time.time,
    not_before: float | None = None,
) -> Entry:
    """Queue a message durably (see :mod:`tmail.outbox.queue`); returns its entry. With
    ``not_before`` it waits for that time (sent later; see ``Entry.not_before``).

    A message with more recipients (Bcc included) than the provider takes in one message
    (``limits.per_message``) is refused here, before anything is queued, unless the account
    says ``split_recipients = true`` (then it goes in batches: see :meth:`Flusher._deliver`).
    """
    from tmail.outbox.queue import new_id

    recipients = tuple(recipients)
    most = account.limits.per_message
    if most and len(recipients) > most and not account.split_recipients:
        raise MessageError(
            f"{len(recipients)} recipients, but the server takes at most {most} in one message",
            account=account.name,
            hint=f"send it in parts, or set split_recipients = true for the account to send it "
            f"in batches of {most} (everyone still sees the same To and Cc); nothing was queued",
        )
    now = clock()
    entry = Entry(
        id=new_id(),
        account=account.name,
        sender=sender,
        recipients=recipients,
        subject=subject,
        message_id=message_id,
        created=now,
        next_try=max(now, not_before or now),
        bcc=tuple(bcc),
        dsn_notify=dsn.notify if dsn else (),
        dsn_ret=dsn.ret if dsn else "HDRS",
        dsn_envid=dsn.envid if dsn else None,
        not_before=not_before if not_before is not None and not_before > now else None,
    )
    return queue.add(entry, data)
