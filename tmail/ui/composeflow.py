"""Writing a message in the reader: new (``m``), reply (``r``, ``g``), forward (``f``) and a
postponed one resumed (``R``); the headers form, the editor, the review screen and its keys
(send, postpone, attach, detach, HTML, edit again).

The message itself is built and sent by the session (``SendDraft``, ``PostponeDraft``); the
temporary files of a forward are removed when its outcome arrives (:mod:`tmail.ui.events`).
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import urwid

from tmail.core.errors import TmailError
from tmail.core.models import Flag
from tmail.core.safe import safe_line
from tmail.runtime.session import PostponeDraft, SendDraft
from tmail.ui import external
from tmail.ui.compose import (
    ComposeState,
    HeaderForm,
    Identity,
    Original,
    attach_problem,
    forgotten_attachment,
    forward_state,
    is_blank,
    is_drafts_folder,
    reply_state,
    resumed_state,
    review_lines,
)
from tmail.ui.prompt import path_complete, typed_path
from tmail.ui.screens import Screen
from tmail.ui.source import Row
from tmail.ui.urwidtypes import Widgets

if TYPE_CHECKING:
    from tmail.mime.compose import Draft
    from tmail.mime.mailto import Mailto
    from tmail.ui.app import App


def identity_for(app: App, account: str | None) -> Identity:
    """The account's main identity (the default account's for All inboxes)."""
    usable = [i for i in app.identities if not i.wildcard]
    for ident in usable:
        if ident.account == account:
            return ident
    if not usable:
        raise TmailError("no account to send from", hint="add an account to the config file")
    return usable[0]


def identity_for_message(app: App, account: str, raw: bytes) -> Identity:
    """The identity a message was sent to (To, Cc, Delivered-To, X-Original-To), across all
    accounts; else the message's account's main identity."""
    from tmail.mime.recipients import delivered_to

    # After the four of the issue, From: one's own message (in Sent) answered from its sender.
    return _chosen(app, delivered_to(raw, with_from=True)) or identity_for(app, account)


def _chosen(app: App, addresses: list[str]) -> Identity | None:
    from tmail.config.identities import choose

    candidates = [(i.account, i.spec) for i in app.identities if i.spec is not None]
    chosen = choose(candidates, addresses)
    if chosen is not None:
        for ident in app.identities:
            if ident.account == chosen.account and ident.spec == chosen.identity:
                if ident.wildcard:  # the catch-all answers as the address that was written to
                    return replace(ident, address=replace(ident.address, addr=chosen.address))
                return ident
    return None


def signature_of(app: App, ident: Identity) -> str:
    """The identity's signature; a failing or hanging command says so and gives none."""
    if ident.spec is None:
        return ""
    from tmail.config.signature import signature_text

    try:
        return signature_text(ident.spec, ident.account)
    except TmailError as exc:
        app.notice(exc.one_line(), error=True)
        return ""


def _resigned(app: App, before: ComposeState, after: ComposeState) -> ComposeState:
    """After the form: another identity chosen in From brings its own signature."""
    if after.identity == before.identity:
        return after
    from tmail.mime.signature import swap_signature

    new = signature_of(app, after.identity)
    body = swap_signature(after.body, before.signature, new, top=after.signature_top)
    return replace(after, body=body, signature=new)


def compose(app: App, to: str = "") -> None:
    view = app.index.view
    ident = identity_for(app, None if view.unified else view.account)
    start_compose(app, ComposeState(identity=ident, to=to))


def compose_mailto(app: App, mailto: Mailto) -> None:
    """The composer filled from a ``mailto:`` URL (a link in a message, or the desktop's
    ``tmail mailto:...``), from the account of the folder shown; nothing is sent unreviewed."""
    view = app.index.view
    ident = identity_for(app, None if view.unified else view.account)
    state = ComposeState(
        identity=ident,
        to=", ".join(mailto.to),
        cc=", ".join(mailto.cc),
        bcc=", ".join(mailto.bcc),
        subject=mailto.subject or "",
        body=mailto.body or "",
        in_reply_to=mailto.in_reply_to,
    )
    start_compose(app, state)
    if mailto.ignored:
        app.notice("left out of the mailto: link: " + ", ".join(mailto.ignored))


def _original(app: App) -> tuple[Row, bytes] | None:
    row = app.target_row()
    if row is None:
        return None
    return row, app.source.raw(row.id)


def reply(app: App) -> None:
    _reply(app, False)


def reply_all(app: App) -> None:
    _reply(app, True)


def _reply(app: App, all_: bool) -> None:
    got = _original(app)
    if got is None:
        return
    row, raw = got
    from tmail.mime import parse_message
    from tmail.ui.render import open_pgp

    opened = open_pgp(raw)  # an encrypted message is quoted decrypted (the pager's copy)
    state = reply_state(
        Original.of(parse_message(opened.raw, app.assumed(row.account))),
        identity_for_message(app, row.account, raw),
        reply_all=all_,
        own_addresses=app.own_addresses,
        message_row_id=row.id,
    )
    if opened.crypto is not None and opened.crypto.decrypted:
        state = replace(state, encrypt=True)  # the answer to an encrypted message is too
    start_compose(app, state)


def forward(app: App) -> None:
    got = _original(app)
    if got is None:
        return
    row, raw = got
    from tmail.mime import parse_message
    from tmail.mime.attachments import save_bytes

    parsed = parse_message(raw, app.assumed(row.account))
    original = Original.of(parsed)
    ident = identity_for_message(app, row.account, raw)

    def inline() -> None:
        # The attachments go along: saved to a private temp folder, removed afterwards.
        files = []
        if parsed.attachments:
            folder = Path(tempfile.mkdtemp(prefix="tmail-fwd-"))
            for a in parsed.attachments:
                files.append(save_bytes(a.data(), folder, a.filename))
        start_compose(app, forward_state(original, ident, attachments=files, message_row_id=row.id))

    def attached() -> None:
        from tmail.mime.attachments import safe_filename

        folder = Path(tempfile.mkdtemp(prefix="tmail-fwd-"))
        # named after its subject, as Thunderbird does: the recipient sees what it is
        subject = " ".join(original.subject.replace("/", "-").replace("\\", "-").split())
        name = safe_filename(subject[:100] + ".eml") if subject else "forwarded-message.eml"
        path = folder / name
        path.write_bytes(raw)
        start_compose(
            app, forward_state(original, ident, as_attachment=path, message_row_id=row.id)
        )

    app.prompt.ask_key(
        "Forward (i)nline or as (a)ttachment? ", {"i": inline, "a": attached, "enter": inline}
    )


def resume(app: App) -> None:
    """A postponed message (in Drafts) back on the review screen, attachments and all."""
    row = app.target_row()
    if row is None:
        return
    if Flag.DRAFT not in row.flags and not is_drafts_folder(row.folder):
        app.notice("not a draft: R continues a postponed message (open Drafts with c)")
        return
    from tmail.mime import parse_message
    from tmail.mime.attachments import save_bytes
    from tmail.ui.render import open_pgp

    opened = open_pgp(app.source.raw(row.id))  # a draft of an encrypted message: decrypted
    raw = opened.raw
    parsed = parse_message(raw, app.assumed(row.account))
    files = []
    if parsed.attachments:
        folder = Path(tempfile.mkdtemp(prefix="tmail-draft-"))
        for a in parsed.attachments:
            files.append(save_bytes(a.data(), folder, a.filename))
    senders = [a.addr for a in parsed.from_[:1]]
    ident = _chosen(app, senders) or identity_for(app, row.account)
    html = re.search(rb"(?im)^content-type:\s*text/html", raw) is not None
    state = resumed_state(parsed, ident, attachments=files, html=html, message_row_id=row.id)
    sig = signature_of(app, ident)
    if sig:
        from tmail.mime.signature import block

        if block(sig) in state.body:  # so that another From swaps it rather than adds one
            state = replace(state, signature=sig)
    if opened.crypto is not None and opened.crypto.decrypted:
        state = replace(state, encrypt=True)  # it was to go out encrypted: it still is
    if app.screen.kind == "pager":
        app.pop()
    _show_review(app, state)


def start_compose(app: App, state: ComposeState) -> None:
    from tmail.mime.signature import add_signature

    sig = signature_of(app, state.identity)
    if sig:
        state = replace(
            state, body=add_signature(state.body, sig, top=state.signature_top), signature=sig
        )

    def done(result: ComposeState) -> None:
        app.pop()
        result = _resigned(app, state, result)
        if not result.to.strip():
            app.notice("who is it for? fill in To (E on the review screen)")
        _edit_body(app, result, first=True)

    def abandon() -> None:
        app.pop()
        cleanup(state)
        app.notice("message abandoned")

    def cancel() -> None:  # Esc: a message with anything in it is not lost unasked
        if is_blank(state) and is_blank(form.result()):
            abandon()
        else:
            app.prompt.ask_key("Abandon this message? (y/n) ", {"y": abandon})

    form = HeaderForm(state, app.identities, app.source.contacts, done, cancel)
    app.push(Screen("compose", urwid.Filler(form, "top"), state=state))


def _edit_body(app: App, state: ComposeState, first: bool = False) -> None:
    text = external.edit_text(app, state.body, private=state.encryption != "no")
    if text is None:
        if first:
            app.notice("the editor failed; the message is kept on the review screen", True)
    else:
        state = replace(state, body=text)
    _show_review(app, state)


def _show_review(app: App, state: ComposeState) -> None:
    warnings = []
    if forgotten_attachment(state):
        warnings.append("the text mentions an attachment, but nothing is attached")
    if not state.to.strip() and not state.cc.strip() and not state.bcc.strip():
        warnings.append("no recipients yet: E edits the headers")
    warnings.extend(_pgp_warnings(state))
    listbox = urwid.ListBox(urwid.SimpleFocusListWalker(review_lines(state, warnings)))
    screen = Screen("review", listbox, state=state)
    if app.screen.kind == "review":
        app.replace(screen)
        app.update_status()
    else:
        app.push(screen)
    body: Widgets = list(listbox.body)  # type: ignore[call-overload]
    for i, w in enumerate(body):
        if w.selectable():
            listbox.set_focus(i)
            break


def review(app: App, state: ComposeState) -> None:
    """The review screen of ``state`` (a message taken back from its undo window)."""
    _show_review(app, state)


def _review_state(app: App) -> ComposeState:
    state = app.screen.state
    assert state is not None
    return state


def edit(app: App) -> None:
    _edit_body(app, _review_state(app))


def edit_headers(app: App) -> None:
    state = _review_state(app)

    def done(result: ComposeState) -> None:
        app.pop()
        _show_review(app, _resigned(app, state, result))

    def cancel() -> None:  # Esc: changed headers are not dropped unasked
        if form.result() == state:
            app.pop()
        else:
            app.prompt.ask_key("Drop the changes to the headers? (y/n) ", {"y": app.pop})

    form = HeaderForm(state, app.identities, app.source.contacts, done, cancel)
    app.push(Screen("compose", urwid.Filler(form, "top"), state=state))


def attach(app: App) -> None:
    state = _review_state(app)

    def answer(text: str) -> None:
        if not text.strip():
            return
        path = Path(typed_path(text))
        problem = attach_problem(path)
        if problem is not None:
            app.notice(f"{safe_line(str(path))}: {problem}", error=True)
            if path.is_dir():  # the folder's files are one Tab away
                here = str(path).rstrip("/") + "/"
                app.prompt.ask("Attach file: ", answer, text=here, complete=path_complete)
            return
        _show_review(app, replace(state, attachments=[*state.attachments, path]))

    app.prompt.ask("Attach file: ", answer, text=str(Path.cwd()) + "/", complete=path_complete)


def detach(app: App) -> None:
    state = _review_state(app)
    if not state.attachments:
        app.notice("nothing attached")
        return
    listbox = app.screen.widget
    drop = len(state.attachments) - 1
    if isinstance(listbox, urwid.ListBox):
        items: Widgets = list(listbox.body)  # type: ignore[call-overload]
        selectable = [i for i, w in enumerate(items) if w.selectable()]
        if listbox.focus_position in selectable:
            drop = selectable.index(listbox.focus_position)
    kept = [p for i, p in enumerate(state.attachments) if i != drop]
    name = safe_line(state.attachments[drop].name)

    def go() -> None:
        app.notice(f"detached {name}")
        _show_review(app, replace(state, attachments=kept))

    app.prompt.ask_key(f"Remove {name} from the message? (y/n) ", {"y": go})


def _pgp_warnings(state: ComposeState) -> list[str]:
    """Recipients without an OpenPGP key, said before sending (gpg is asked only when the
    message is to be encrypted)."""
    if state.encryption == "no":
        return []
    from tmail.mime.gpg import default_backend
    from tmail.mime.pgpsend import missing_keys

    lacking = missing_keys(default_backend(), state.recipients())
    if not lacking:
        return []
    names = ", ".join(lacking)
    if state.encryption == "yes":
        return [f"no OpenPGP key for {names}: encrypted, it cannot be sent (X: send unencrypted)"]
    return [f"no OpenPGP key for {names}: it will go unencrypted (X: encrypt anyway)"]


def toggle_sign(app: App) -> None:
    state = _review_state(app)
    _show_review(app, replace(state, sign=not state.will_sign))


def toggle_encrypt(app: App) -> None:
    state = _review_state(app)
    would = state.encryption == "yes" or (
        state.encryption == "opportunistic" and not _pgp_warnings(state)
    )
    _show_review(app, replace(state, encrypt=not would))


def html(app: App) -> None:
    state = _review_state(app)
    _show_review(app, replace(state, html=not state.html))


def _no_own_key(app: App, state: ComposeState, *, draft: bool = False) -> bool:
    """Signing or encryption is on but there is no key of one's own: said on the review screen
    (the message stays), True."""
    needed = state.encryption != "no" if draft else state.will_sign or state.encryption == "yes"
    if not needed:
        return False
    from tmail.outbox.protect import own_key

    if own_key(state.identity.pgp_key, state.identity.address.addr) is not None:
        return False
    app.notice(
        f"no OpenPGP secret key of yours for {state.identity.address.addr}: S and X turn "
        "signing and encryption off",
        error=True,
    )
    return True


def postpone(app: App) -> None:
    state = _review_state(app)
    if _no_own_key(app, state, draft=True):
        return
    draft = state.to_draft()
    rid = app.session.submit(PostponeDraft(account=state.identity.account, draft=draft))
    app.events.cleanup_after[rid] = state
    _finish(app)
    app.notice("postponing…")


def send(app: App) -> None:
    state = _review_state(app)
    if not (state.to.strip() or state.cc.strip() or state.bcc.strip()):
        app.notice("no recipients: press E and fill in To", error=True)
        return
    draft = state.to_draft()  # raises MessageError on a bad address: shown in the status
    if state.encryption == "yes":
        lacking = _pgp_warnings(state)
        if lacking:  # said here, with the message still on the screen, not after it is gone
            app.notice("not sent: " + lacking[0], error=True)
            return
    if state.sign is None and state.identity.pgp_sign == "ask":

        def answer(sign: bool) -> Callable[[], None]:
            def again() -> None:
                _show_review(app, replace(state, sign=sign))
                send(app)

            return again

        prompt = "Sign it with OpenPGP? (y/n) "
        app.prompt.ask_key(prompt, {"y": answer(True), "n": answer(False)})
        return
    if _no_own_key(app, state):
        return

    def go() -> None:
        _submit(app, state, draft, None)

    if forgotten_attachment(state):
        app.prompt.ask_key(
            "You wrote about an attachment but attached nothing. Send anyway? (y/n) ",
            {"y": go},
        )
        return
    go()


def _submit(app: App, state: ComposeState, draft: Draft, send_at: float | None) -> None:
    rid = app.session.submit(
        SendDraft(
            account=state.identity.account,
            draft=draft,
            replied_id=state.replied_id,
            forwarded_id=state.forwarded_id,
            undo_seconds=app.session.undo_seconds(state.identity.account),
            send_at=send_at,
        )
    )
    app.events.cleanup_after[rid] = state
    _finish(app)
    app.notice("sending…" if send_at is None else "scheduling…")


def send_later(app: App) -> None:
    """L on the review screen: "send at..." (18:00, tomorrow 9:00, +2h, an ISO time); the
    message waits in the outbox until then (a past time asks, then sends at once)."""
    from datetime import datetime

    from tmail.core.when import parse_when

    state = _review_state(app)
    if not (state.to.strip() or state.cc.strip() or state.bcc.strip()):
        app.notice("no recipients: press E and fill in To", error=True)
        return
    draft = state.to_draft()

    def answer(text: str) -> None:
        if not text.strip():
            return
        now = datetime.now().astimezone()
        try:
            at = parse_when(text, now)
        except ValueError as exc:
            app.notice(str(exc), error=True)
            return
        if at > now:
            _submit(app, state, draft, at.timestamp())
            return
        app.prompt.ask_key(
            f"{at:%Y-%m-%d %H:%M} has passed: send it now? (y/n) ",
            {"y": lambda: _submit(app, state, draft, None)},
        )

    app.prompt.ask("Send at (18:00, tomorrow 9:00, +2h, 2026-12-24T09:00): ", answer)


def abandon(app: App) -> None:
    """q on the review screen, answered yes: the message and its temporary files go."""
    state = _review_state(app)
    _finish(app)
    cleanup(state)
    app.notice("message abandoned")


def _finish(app: App) -> None:
    """Off the compose and review screens, back to where writing started."""
    while len(app.stack) > 1 and app.screen.kind in ("review", "compose"):
        app.stack.pop()
    app.main.original_widget = app.screen.widget
    app.columns.focus_position = 2


def cleanup(state: ComposeState) -> None:
    """The temporary files of a message (a forward's attachments, a resumed draft's)."""
    for path in state.cleanup:
        with contextlib.suppress(OSError):
            path.unlink()
            path.parent.rmdir()
