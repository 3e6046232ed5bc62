"""The typed values that cross the session's thread boundary: requests in, events out.

Requests are imperative (``SyncNow``, ``SetFlags``, ``SendDraft``); events are past-tense facts
(``NewMessages``, ``SyncProgress``, ``SyncFailed``, ``MessageSent``). Every request ends in
exactly one outcome event carrying its ``request_id``. :mod:`tmail.runtime.session` (which
re-exports these) carries them; front ends build requests and read events.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from tmail.core.models import Flag

if TYPE_CHECKING:
    from tmail.mime.compose import Draft

_ids = itertools.count(1)


def _next_id() -> int:
    return next(_ids)


# ------------------------------------------------------------------------------ requests


@dataclass(frozen=True, kw_only=True)
class Request:
    request_id: int = field(default_factory=_next_id)


@dataclass(frozen=True, kw_only=True)
class SyncNow(Request):
    """Fetch (and push pending changes, and flush the outbox) for one account, or all.

    ``send_now``: the person asked ($): what waits in the outbox goes now, not at its next
    retry time (rate limits still hold)."""

    account: str | None = None
    send_now: bool = False


@dataclass(frozen=True, kw_only=True)
class SetFlags(Request):
    ids: tuple[int, ...]
    add: frozenset[Flag] = frozenset()
    remove: frozenset[Flag] = frozenset()


@dataclass(frozen=True, kw_only=True)
class MoveMessages(Request):
    ids: tuple[int, ...]
    folder: str


@dataclass(frozen=True, kw_only=True)
class DeleteMessages(Request):
    """Move to Trash (or expunge where the folder is Trash); pushed by the next sync."""

    ids: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class SendDraft(Request):
    account: str
    draft: Draft
    replied_id: int | None = None  # message answered: flagged R once the reply is out
    forwarded_id: int | None = None
    # held this long in the outbox first (the reader's undo window); then SendHeld sends it
    undo_seconds: float = 0.0
    send_at: float | None = None  # "send at...": kept in the outbox until then (send later)


@dataclass(frozen=True, kw_only=True)
class PostponeDraft(Request):
    account: str
    draft: Draft


@dataclass(frozen=True, kw_only=True)
class ResendQueued(Request):
    """Send an outbox entry now, held or not (the user's "send again"); MessageSent follows."""

    account: str
    entry_id: str


@dataclass(frozen=True, kw_only=True)
class SendHeld(Request):
    """A SendDraft's undo window ended: send its entry now if still there; MessageSent."""

    account: str
    entry_id: str
    subject: str = ""
    replied_id: int | None = None
    forwarded_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class AnswerInvitation(Request):
    """Send an RFC 5546 REPLY (accept, tentative, decline) to ``ics``; MessageSent."""

    account: str
    ics: bytes
    answer: str
    comment: str | None = None


@dataclass(frozen=True, kw_only=True)
class DropQueued(Request):
    """Forget an outbox entry (not sent, or delivery uncertain and the user says it went)."""

    account: str
    entry_id: str


@dataclass(frozen=True, kw_only=True)
class OneClickUnsubscribe(Request):
    """RFC 8058: POST to the list's HTTPS unsubscribe URL (the person confirmed the host)."""

    account: str
    url: str


# ------------------------------------------------------------------------------ events


@dataclass(frozen=True, kw_only=True)
class Event:
    request_id: int | None = None  # set on the outcome of a request


@dataclass(frozen=True, kw_only=True)
class NewMessages(Event):
    account: str
    folder: str
    count: int


@dataclass(frozen=True, kw_only=True)
class SyncProgress(Event):
    """A running sync stored ``done`` of the ``total`` new messages of ``folder`` so far (each
    batch is committed: the store shows them now)."""

    account: str
    folder: str
    done: int
    total: int


@dataclass(frozen=True, kw_only=True)
class SyncStarted(Event):
    account: str


@dataclass(frozen=True, kw_only=True)
class SyncFinished(Event):
    account: str


@dataclass(frozen=True, kw_only=True)
class SyncFailed(Event):
    account: str
    error: str  # one line, terminal-safe


# held: kept in the outbox but not tried again by itself (login refused, delivery uncertain)
SendStatus = Literal["delivered", "queued", "refused", "held", "scheduled"]


@dataclass(frozen=True, kw_only=True)
class MessageSent(Event):
    """The outcome of SendDraft: delivered, queued (with the reason) or refused (why)."""

    account: str
    subject: str
    status: SendStatus
    detail: str = ""
    entry_id: str = ""
    until: float | None = None  # held in the outbox until then (undo window): not sent yet


@dataclass(frozen=True, kw_only=True)
class DraftPostponed(Event):
    account: str
    folder: str


@dataclass(frozen=True, kw_only=True)
class ChangesApplied(Event):
    ids: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class OutboxChanged(Event):
    """The outcome of ResendQueued / DropQueued; ``text`` says what happened, when anything."""

    account: str
    text: str = ""


@dataclass(frozen=True)
class OutboxItem:
    """One message in an outbox, as the reader lists it (terminal-safe text)."""

    account: str
    id: str
    subject: str
    recipients: str
    # queued, scheduled (sent later), waiting (rate limit), held (login refused), uncertain, failed
    state: str
    last_error: str
    next_try: float | None  # when it goes by itself; None: it does not


@dataclass(frozen=True, kw_only=True)
class Unsubscribed(Event):
    """The outcome of OneClickUnsubscribe: what the list server answered (terminal-safe)."""

    text: str


@dataclass(frozen=True, kw_only=True)
class RequestFailed(Event):
    error: str  # one line, terminal-safe
