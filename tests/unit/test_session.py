"""MailSession's contract, run without its thread: every request ends in exactly one outcome."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pytest

from tmail.core.errors import AuthFailed
from tmail.core.models import Address, Flag
from tmail.mime.compose import Draft
from tmail.runtime.session import Backend as SessionBackend
from tmail.runtime.session import (
    ChangesApplied,
    DeleteMessages,
    DraftPostponed,
    Event,
    MailSession,
    MessageSent,
    MoveMessages,
    NewMessages,
    PostponeDraft,
    Request,
    RequestFailed,
    SendDraft,
    SendResult,
    SetFlags,
    SyncFailed,
    SyncFinished,
    SyncNow,
    SyncProgress,
)
from tmail.sync.result import AccountSyncResult, FolderResult

DRAFT = Draft(from_=Address("Me", "me@x.test"), to=("a@x.test",), subject="hi", body="b")


class Backend(SessionBackend):
    def __init__(self, fail: Exception | None = None) -> None:
        self.fail = fail
        self.flags: list[tuple[tuple[int, ...], frozenset[Flag], frozenset[Flag]]] = []

    def accounts(self) -> Sequence[str]:
        return ["a", "b"]

    def poll_interval(self, account: str) -> float | None:
        return None

    def _maybe_fail(self) -> None:
        if self.fail is not None:
            raise self.fail

    def sync(self, account: str, progress: object = None, stop: object = None) -> AccountSyncResult:
        self._maybe_fail()
        return AccountSyncResult(account, folders=(FolderResult("INBOX", new=3),))

    def set_flags(self, ids: Sequence[int], add: Iterable[Flag], remove: Iterable[Flag]) -> None:
        self._maybe_fail()
        self.flags.append((tuple(ids), frozenset(add), frozenset(remove)))

    def move(self, ids: Sequence[int], folder: str) -> None:
        self._maybe_fail()

    def delete(self, ids: Sequence[int]) -> None:
        self._maybe_fail()

    def send(self, account: str, draft: Draft) -> SendResult:
        self._maybe_fail()
        return SendResult("queued", "451 try later")

    def postpone(self, account: str, draft: Draft) -> str:
        self._maybe_fail()
        return "Drafts"

    def close(self) -> None:
        pass


REQUESTS: list[Request] = [
    SyncNow(account="a"),
    SyncNow(),
    SetFlags(ids=(1,), add=frozenset({Flag.SEEN})),
    MoveMessages(ids=(1,), folder="Archive"),
    DeleteMessages(ids=(1,)),
    SendDraft(account="a", draft=DRAFT),
    PostponeDraft(account="a", draft=DRAFT),
]


def outcomes(events: list[Event], request: Request) -> list[Event]:
    return [e for e in events if e.request_id == request.request_id]


@pytest.mark.parametrize("request_", REQUESTS, ids=lambda r: type(r).__name__)
@pytest.mark.parametrize(
    "fail",
    [None, AuthFailed("login refused", account="a", server="imap:993"), RuntimeError("bug")],
    ids=["works", "tmail-error", "bug"],
)
def test_every_request_ends_in_exactly_one_outcome(
    request_: Request, fail: Exception | None
) -> None:
    session = MailSession(Backend(fail), poll=False)
    events = session.run_once(request_)
    assert len(outcomes(events, request_)) == 1
    for e in events:
        for text in vars(e).values():
            if isinstance(text, str):
                assert "\n" not in text and "Traceback" not in text


def test_sync_reports_new_mail_then_finishes() -> None:
    events = MailSession(Backend(), poll=False).run_once(SyncNow(account="a"))
    assert NewMessages(account="a", folder="INBOX", count=3) in events
    assert isinstance(events[-1], SyncFinished)


def test_failures_are_one_line_naming_account_and_server() -> None:
    fail = AuthFailed("login refused", account="a", server="imap:993", hint="check the password")
    session = MailSession(Backend(fail), poll=False)
    (sync,) = [e for e in session.run_once(SyncNow(account="a")) if e.request_id is not None]
    assert isinstance(sync, SyncFailed)
    assert sync.error == "a (imap:993): login refused — check the password"
    (sent,) = session.run_once(SendDraft(account="a", draft=DRAFT))
    assert isinstance(sent, MessageSent) and sent.status == "refused"
    (bug,) = MailSession(Backend(RuntimeError("x")), poll=False).run_once(DeleteMessages(ids=(1,)))
    assert isinstance(bug, RequestFailed) and bug.error.startswith("internal error")


def test_a_sent_reply_flags_the_original_replied() -> None:
    backend = Backend()
    session = MailSession(backend, poll=False)
    (sent,) = session.run_once(SendDraft(account="a", draft=DRAFT, replied_id=7))
    assert isinstance(sent, MessageSent) and sent.status == "queued"
    assert sent.detail == "451 try later"
    assert backend.flags == [((7,), frozenset({Flag.REPLIED}), frozenset())]


def test_local_changes_and_postpone_outcomes() -> None:
    session = MailSession(Backend(), poll=False)
    assert isinstance(session.run_once(SetFlags(ids=(1, 2)))[0], ChangesApplied)
    (p,) = session.run_once(PostponeDraft(account="a", draft=DRAFT))
    assert isinstance(p, DraftPostponed) and p.folder == "Drafts"


class TwoFoldersFail(Backend):
    """A sync where two folders failed (the others synced), reporting progress on the way."""

    def sync(self, account: str, progress: object = None, stop: object = None) -> AccountSyncResult:
        assert callable(progress)
        progress("INBOX", 200, 500)
        errors = ("a (imap:993): Lists: NO over quota", "a (imap:993): Archive: NO gone")
        return AccountSyncResult(account, folders=(FolderResult("INBOX", new=500),), errors=errors)


def test_every_failed_folder_reaches_the_user_not_only_the_first() -> None:
    session = MailSession(TwoFoldersFail(), poll=False)
    request = SyncNow(account="a")
    events = session.run_once(request)
    facts = [e.error for e in events if isinstance(e, SyncFailed) and e.request_id is None]
    assert facts == ["a (imap:993): Lists: NO over quota", "a (imap:993): Archive: NO gone"]
    (outcome,) = outcomes(events, request)
    assert isinstance(outcome, SyncFailed)
    assert outcome.error == "2 sync errors in a (E lists them): a (imap:993): Lists: NO over quota"
    assert NewMessages(account="a", folder="INBOX", count=500) in events  # the rest synced


def test_every_failed_folder_of_every_account_reaches_the_user() -> None:
    request = SyncNow()
    events = MailSession(TwoFoldersFail(), poll=False).run_once(request)
    facts = [(e.account, e.error) for e in events if isinstance(e, SyncFailed)]
    assert len(facts) == 4 and {a for a, _ in facts} == {"a", "b"}
    (outcome,) = outcomes(events, request)
    assert isinstance(outcome, RequestFailed) and outcome.error.startswith("2 accounts failed")


def test_a_syncs_progress_reaches_the_ui_as_events() -> None:
    events = MailSession(TwoFoldersFail(), poll=False).run_once(SyncNow(account="a"))
    assert SyncProgress(account="a", folder="INBOX", done=200, total=500) in events


def test_a_session_not_started_hands_over_its_requests_in_order() -> None:
    session = MailSession(Backend(), poll=False)
    asked = [PostponeDraft(account="a", draft=DRAFT), SyncNow(account="a")]
    for request in asked:
        session.submit(request)
    assert session.take_requests() == asked
    assert session.take_requests() == []
    assert session.events.empty()  # taken, not done


def test_run_pending_does_every_waiting_request_as_the_worker_would() -> None:
    backend = Backend()
    session = MailSession(backend, poll=False)
    flags = SetFlags(ids=(1,), add=frozenset({Flag.SEEN}))
    sync = SyncNow(account="a")
    session.submit(flags)  # a local change: applied at once, not handed to a worker
    assert backend.flags == [((1,), frozenset({Flag.SEEN}), frozenset())]
    assert [type(e) for e in outcomes(session.drain(), flags)] == [ChangesApplied]
    session.submit(sync)
    events = session.run_pending()
    assert [type(e) for e in outcomes(events, sync)] == [SyncFinished]
    assert session.run_pending() == [] and session.take_requests() == []


def test_a_backend_without_an_outbox_or_push_has_the_protocols_defaults() -> None:
    # the test Backend defines neither send_queued nor push_waiter: it inherits them
    backend = Backend()
    assert "send_queued" not in vars(Backend) and "push_waiter" not in vars(Backend)
    assert backend.push_waiter("a") is None
    session = MailSession(backend, poll=False)
    sync = SyncNow(account="a", send_now=True)
    events = session.run_once(sync)
    assert [type(e) for e in outcomes(events, sync)] == [SyncFinished]
    assert not [e for e in events if isinstance(e, MessageSent)]
