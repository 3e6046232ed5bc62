"""Compose: the headers form, replies and forwards, the review screen's checks.

Building the message bytes is :mod:`tmail.mime.compose`'s work and sending is the outbox's; here
is what the person sees and types: the From chooser, address fields with completion from the
store, the quoted reply with its attribution, the forgotten-attachment warning.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import urwid

from tmail.core.errors import MessageError
from tmail.core.models import Address
from tmail.core.roles import Role, leaf_role
from tmail.core.safe import safe_line
from tmail.core.sizes import human_size
from tmail.ui.lineedit import LineEdit
from tmail.ui.source import Contact
from tmail.ui.urwidtypes import Size, Widgets, Wrap

if TYPE_CHECKING:
    from tmail.config.model import Identity as ConfigIdentity
    from tmail.mime import ParsedMessage
    from tmail.mime.compose import Draft


@dataclass(frozen=True)
class Identity:
    """An address one can send from, and its account; ``spec`` is its configuration (name,
    Reply-To, Bcc to oneself, signature), None for an account without identities."""

    account: str
    address: Address
    send_charset: str = "utf-8"
    aliases: tuple[str, ...] = ()
    pgp_sign: str = "never"  # the account's OpenPGP settings (config: pgp_sign, pgp_encrypt)
    pgp_encrypt: str = "never"
    autocrypt: bool = False  # learn correspondents' keys from their Autocrypt headers
    pgp_key: str | None = None
    spec: ConfigIdentity | None = None

    @property
    def wildcard(self) -> bool:
        return self.spec is not None and self.spec.wildcard and self.address.addr.startswith("*")


@dataclass
class ComposeState:
    identity: Identity
    to: str = ""
    cc: str = ""
    bcc: str = ""
    subject: str = ""
    body: str = ""
    attachments: list[Path] = field(default_factory=list)
    html: bool = False
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    replied_id: int | None = None
    forwarded_id: int | None = None
    cleanup: list[Path] = field(default_factory=list)  # temp files (forwarded parts) to remove
    resumed_id: int | None = None  # the postponed draft this continues: gone once sent/saved
    signature: str = ""  # the identity's signature as put in the body (swapped with From)
    signature_top: bool = False  # the signature goes above a quote or a forwarded message
    sign: bool | None = None  # OpenPGP toggled on the review screen; None: the account's
    encrypt: bool | None = None

    @property
    def will_sign(self) -> bool:
        return self.sign if self.sign is not None else self.identity.pgp_sign == "always"

    @property
    def encryption(self) -> str:
        """``yes``, ``no``, or ``opportunistic`` (when every recipient has a key)."""
        if self.encrypt is not None:
            return "yes" if self.encrypt else "no"
        mode = self.identity.pgp_encrypt
        return {"always": "yes", "opportunistic": "opportunistic"}.get(mode, "no")

    def recipients(self) -> list[str]:
        from tmail.mime.compose import parse_addresses

        out: list[str] = []
        for value in (self.to, self.cc, self.bcc):
            if value.strip():
                try:
                    out.extend(a.addr for a in parse_addresses("address", [value]))
                except MessageError:  # a typo in an address: the send says so
                    continue
        return out

    def to_draft(self) -> Draft:
        from tmail.mime.compose import Draft, parse_addresses

        def split(value: str) -> tuple[str, ...]:
            return (
                tuple(a.formatted() for a in parse_addresses("address", [value]))
                if value.strip()
                else ()
            )

        spec = self.identity.spec
        bcc = split(self.bcc)
        if spec is not None and spec.bcc_self:
            own = self.identity.address.addr
            if own.lower() not in {b.lower() for b in bcc}:
                bcc = (*bcc, own)
        return Draft(
            from_=self.identity.address,
            to=split(self.to),
            cc=split(self.cc),
            bcc=bcc,
            reply_to=(spec.reply_to,) if spec is not None and spec.reply_to else (),
            subject=self.subject,
            body=self.body,
            html=text_to_html(self.body) if self.html else None,
            attachments=tuple(self.attachments),
            in_reply_to=self.in_reply_to,
            references=self.references,
            send_charset=self.identity.send_charset,
            pgp_sign=self.sign,
            pgp_encrypt=self.encrypt,
        )


# ------------------------------------------------------------------------------ pure helpers


@dataclass(frozen=True)
class Original:
    """What a reply or a forward takes from the message it answers."""

    message_id: str | None
    references: tuple[str, ...]
    date: datetime | None
    from_: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    subject: str
    body_text: str
    reply_to: tuple[Address, ...] = ()

    @classmethod
    def of(cls, parsed: ParsedMessage) -> Original:
        return cls(
            message_id=parsed.message_id,
            references=parsed.references,
            date=parsed.date,
            from_=parsed.from_,
            to=parsed.to,
            cc=parsed.cc,
            subject=parsed.subject,
            body_text=parsed.text,
            reply_to=parsed.reply_to,
        )


_ATTACH_WORDS = re.compile(
    r"\b(attach(ed|ment|ments|ing)?|enclosed)\b|во вложении|вложени[еяи]|прикрепл|прилага",
    re.IGNORECASE,
)


def forgotten_attachment(state: ComposeState) -> bool:
    """The text (not the quoted part) mentions an attachment and there is none."""
    if state.attachments:
        return False
    own = "\n".join(line for line in state.body.split("\n") if not line.lstrip().startswith(">"))
    return bool(_ATTACH_WORDS.search(own + "\n" + state.subject))


def text_to_html(text: str) -> str:
    """A plain HTML alternative of the text: paragraphs, line breaks, quotes as blockquotes."""
    out = ["<html><body>"]
    for para in text.split("\n\n"):
        lines = para.split("\n")
        if all(line.startswith(">") for line in lines if line):
            inner = "<br>\n".join(html.escape(line.lstrip("> ")) for line in lines)
            out.append(f"<blockquote>{inner}</blockquote>")
        else:
            out.append("<p>" + "<br>\n".join(html.escape(line) for line in lines) + "</p>")
    out.append("</body></html>")
    return "\n".join(out)


def _subject_with(prefix: str, subject: str) -> str:
    stripped = subject.strip()
    if re.match(rf"^{prefix}\s*:", stripped, re.IGNORECASE):
        return stripped
    return f"{prefix}: {stripped}"


def quote(body: str) -> str:
    out = []
    for line in body.rstrip("\n").split("\n"):
        if not line.strip():
            out.append(">")  # no trailing space on an empty quoted line
        elif line.startswith(">"):
            out.append(">" + line)
        else:
            out.append("> " + line)
    return "\n".join(out)


def attribution(original: Original) -> str:
    who = original.from_[0].formatted() if original.from_ else "someone"
    if original.date:
        return f"On {original.date.strftime('%a, %d %b %Y %H:%M %z')}, {who} wrote:"
    return f"{who} wrote:"


def reply_state(
    original: Original,
    identity: Identity,
    *,
    reply_all: bool,
    own_addresses: Sequence[str],
    message_row_id: int | None = None,
) -> ComposeState:
    """A reply: Re: subject, quoted body with attribution, In-Reply-To and References kept;
    reply-all adds the other recipients and drops every address of the user's own."""
    own = {a.lower() for a in own_addresses} | {identity.address.addr.lower()}
    to_list = list(original.reply_to or original.from_)
    # Replying to one's own sent message goes to its recipients (as mutt does).
    if to_list and all(a.addr.lower() in own for a in to_list):
        to_list = list(original.to)
    cc_list: list[Address] = []
    if reply_all:
        cc_list = [*original.to, *original.cc]

    def clean(addrs: list[Address], skip: set[str]) -> list[Address]:
        out = []
        for a in addrs:
            key = a.addr.lower()
            if not key or key in own or key in skip:
                continue
            skip.add(key)
            out.append(a)
        return out

    seen: set[str] = set()
    to_final = clean(to_list, seen)
    cc_final = clean(cc_list, seen)
    if not to_final and not cc_final:
        # Everyone on it is oneself (a note from one's other account): reply to its sender,
        # as Thunderbird does, rather than to nobody.
        sender = [a for a in (original.reply_to or original.from_) if a.addr]
        others = [a for a in sender if a.addr.lower() != identity.address.addr.lower()]
        to_final = others or sender
    refs = tuple(original.references)
    if original.message_id:
        refs = (*refs, original.message_id) if original.message_id not in refs else refs
    from tmail.mime.signature import strip_signature

    # The quoted message's own signature is left out (RFC 3676 4.3, as mutt and Thunderbird).
    body = f"\n\n{attribution(original)}\n{quote(strip_signature(original.body_text))}\n"
    return ComposeState(
        identity=identity,
        to=", ".join(a.formatted() for a in to_final),
        cc=", ".join(a.formatted() for a in cc_final),
        subject=_subject_with("Re", original.subject),
        body=body,
        in_reply_to=original.message_id,
        references=refs[-20:],
        replied_id=message_row_id,
        signature_top=identity.spec is not None and identity.spec.signature_placement == "above",
    )


def forward_state(
    original: Original,
    identity: Identity,
    *,
    attachments: Sequence[Path] = (),
    as_attachment: Path | None = None,
    message_row_id: int | None = None,
) -> ComposeState:
    """A forward: Fwd: subject; inline with the original's headers and its attachments, or the
    whole original attached as a file."""
    subject = _subject_with("Fwd", original.subject)
    if as_attachment is not None:
        return ComposeState(
            identity=identity,
            subject=subject,
            body="\n",
            attachments=[as_attachment],
            forwarded_id=message_row_id,
            cleanup=[as_attachment],
            signature_top=True,
        )
    head = ["", "", "---------- Forwarded message ----------"]
    if original.from_:
        head.append("From: " + ", ".join(a.formatted() for a in original.from_))
    if original.date:
        head.append("Date: " + original.date.strftime("%a, %d %b %Y %H:%M %z"))
    head.append("Subject: " + original.subject)
    if original.to:
        head.append("To: " + ", ".join(a.formatted() for a in original.to))
    head.append("")
    return ComposeState(
        identity=identity,
        subject=subject,
        body="\n".join(head) + "\n" + original.body_text,
        attachments=list(attachments),
        forwarded_id=message_row_id,
        cleanup=list(attachments),
        signature_top=True,
    )


def resumed_state(
    parsed: ParsedMessage,
    identity: Identity,
    *,
    attachments: Sequence[Path] = (),
    html: bool = False,
    message_row_id: int | None = None,
) -> ComposeState:
    """A postponed draft back on the review screen: its headers, text and attachments."""

    def joined(addrs: Sequence[Address]) -> str:
        return ", ".join(a.formatted() for a in addrs)

    return ComposeState(
        identity=identity,
        to=joined(parsed.to),
        cc=joined(parsed.cc),
        bcc=joined(parsed.bcc),
        subject=parsed.subject,
        body=parsed.text,
        attachments=list(attachments),
        html=html,
        in_reply_to=parsed.in_reply_to,
        references=parsed.references,
        cleanup=list(attachments),
        resumed_id=message_row_id,
    )


def is_blank(state: ComposeState) -> bool:
    """Nothing written yet: leaving it loses nothing, so Esc need not ask."""
    fields = (state.to, state.cc, state.bcc, state.subject, state.body)
    return not any(f.strip() for f in fields) and not state.attachments


def attach_problem(path: Path) -> str | None:
    """Why ``path`` cannot be attached (a folder, nothing there, a device, unreadable), or None."""
    if path.is_dir():
        return "is a folder, not a file: choose a file in it (Tab lists them)"
    if not path.exists():
        return "no such file"
    if not path.is_file():
        return "is not a regular file"
    if not os.access(path, os.R_OK):
        return "cannot be read (permission denied)"
    return None


def is_drafts_folder(name: str) -> bool:
    return leaf_role(name) is Role.DRAFTS


# ------------------------------------------------------------------------------ widgets


class AddressEdit(LineEdit):
    """An address field: Tab completes the last address from the ones seen in the store."""

    def __init__(
        self, caption: str, text: str, complete: Callable[[str], Sequence[Contact]]
    ) -> None:
        super().__init__(("header_name", caption), text)
        self._complete = complete
        self.candidates: list[str] = []
        self._cycle: tuple[str, int, str] | None = None  # (text before, candidate, text shown)

    def keypress(self, size: Size, key: str) -> str | None:
        if key == "tab":
            if self._cycle is not None and self._cycle[2] == self.edit_text and self.candidates:
                # Tab again: the next address that matched (as mutt's completion menu offers)
                before, i, _ = self._cycle
                i = (i + 1) % len(self.candidates)
                self._show(before, i)
                return None
            head, sep, last = self.edit_text.rpartition(",")
            prefix = last.strip()
            if prefix:
                found = [safe_line(c.formatted()) for c in self._complete(prefix)]
                self.candidates = found
                if found:
                    self._show(head + sep + " " if sep else "", 0)
                    return None
            return key
        return super().keypress(size, key)

    def _show(self, before: str, i: int) -> None:
        new = before + self.candidates[i]
        self.set_edit_text(new)
        self.set_edit_pos(len(new))
        self._cycle = (before, i, new)


class HeaderForm(Wrap):
    """From (choose with left/right or space), To, Cc, Bcc, Subject. Enter on Subject goes on to
    the editor; Esc cancels."""

    def __init__(
        self,
        state: ComposeState,
        identities: Sequence[Identity],
        complete: Callable[[str], Sequence[Contact]],
        on_done: Callable[[ComposeState], None],
        on_cancel: Callable[[], None],
    ) -> None:
        self.state = state
        # A wildcard (*@example.org) is no address to send from; the one a reply chose is.
        self.identities = [i for i in identities if not i.wildcard]
        if state.identity not in self.identities:
            self.identities.insert(0, state.identity)
        self._index = next(
            (i for i, ident in enumerate(self.identities) if ident == state.identity), 0
        )
        self._on_done = on_done
        self._on_cancel = on_cancel
        self.from_text = urwid.Text("")
        self.to = AddressEdit("To:      ", state.to, complete)
        self.cc = AddressEdit("Cc:      ", state.cc, complete)
        self.bcc = AddressEdit("Bcc:     ", state.bcc, complete)
        self.subject = LineEdit(("header_name", "Subject: "), state.subject)
        self._from = _Chooser(self.from_text, self._cycle)
        self._update_from()
        fields = [self._from, self.to, self.cc, self.bcc, self.subject]
        rows: Widgets = [urwid.AttrMap(f, "field", "field_focus") for f in fields]
        rows.append(urwid.Divider())
        rows.append(
            urwid.Text(
                "Tab: complete an address   Enter on Subject: write the message   Esc: cancel"
            )
        )
        self.pile = urwid.Pile(rows)
        self.pile.focus_position = 1 if not state.to else 4
        super().__init__(self.pile)

    def _cycle(self, step: int) -> None:
        self._index = (self._index + step) % len(self.identities)
        self._update_from()

    def _update_from(self) -> None:
        ident = self.identities[self._index]
        more = "  (←/→ to change)" if len(self.identities) > 1 else ""
        self.from_text.set_text(
            [
                ("header_name", "From:    "),
                safe_line(f"{ident.address.formatted()} [{ident.account}]"),
                more,
            ]
        )

    def focused_field(self) -> str:
        return ("from", "to", "cc", "bcc", "subject")[min(self.pile.focus_position, 4)]

    def result(self) -> ComposeState:
        return replace(
            self.state,
            identity=self.identities[self._index],
            to=self.to.edit_text.strip().rstrip(","),
            cc=self.cc.edit_text.strip().rstrip(","),
            bcc=self.bcc.edit_text.strip().rstrip(","),
            subject=self.subject.edit_text,
        )

    def keypress(self, size: Size, key: str) -> str | None:
        if key == "esc":
            self._on_cancel()
            return None
        if key == "enter":
            if self.pile.focus_position >= 4:
                self._on_done(self.result())
                return None
            self.pile.focus_position += 1
            return None
        return super().keypress(size, key)


class _Chooser(Wrap):
    def __init__(self, text: urwid.Text, cycle: Callable[[int], None]) -> None:
        self._cycle = cycle
        super().__init__(text)

    def selectable(self) -> bool:
        return True

    def keypress(self, size: Size, key: str) -> str | None:
        if key in ("right", " "):
            self._cycle(1)
            return None
        if key == "left":
            self._cycle(-1)
            return None
        return key


def review_lines(state: ComposeState, warnings: Sequence[str] = ()) -> Widgets:
    """The review screen: headers, attachments, the HTML choice, the start of the body."""
    rows: Widgets = []

    def header(name: str, value: str) -> None:
        if value:
            rows.append(urwid.Text([("header_name", f"{name}: "), safe_line(value)]))

    header("From", f"{state.identity.address.formatted()} [{state.identity.account}]")
    header("To", state.to or "(nobody yet: press E)")
    header("Cc", state.cc)
    header("Bcc", state.bcc)
    header("Subject", state.subject or "(no subject)")
    rows.append(
        urwid.Text(
            [("header_name", "HTML alternative: "), "yes" if state.html else "no (plain text only)"]
        )
    )
    encrypt = {"opportunistic": "if every recipient has a key"}.get(
        state.encryption, state.encryption
    )
    sign = "yes" if state.will_sign else "no"
    if state.sign is None and state.identity.pgp_sign == "ask":
        sign = "ask (when sending)"
    rows.append(
        urwid.Text([("header_name", "OpenPGP: "), f"sign {sign}, encrypt {encrypt} (S, X)"])
    )
    rows.append(urwid.Divider())
    if state.attachments:
        rows.append(urwid.Text(("title", f"Attachments ({len(state.attachments)}):")))
        for i, path in enumerate(state.attachments, 1):
            try:
                size = path.stat().st_size
            except OSError:
                size = -1
            label = f"  {i}. {safe_line(path.name)}  ({human_size(size) if size >= 0 else '?'})"
            rows.append(urwid.AttrMap(_Selectable(label), "attachment", "field_focus"))
    else:
        rows.append(urwid.Text("No attachments (a: attach a file)"))
    for w in warnings:
        rows.append(urwid.Text(("warning", "! " + w)))
    rows.append(urwid.Divider("─"))
    for line in state.body.split("\n")[:200]:
        rows.append(urwid.Text(("quote", line) if line.startswith(">") else line))
    return rows


class _Selectable(urwid.Text):
    def selectable(self) -> bool:
        return True

    def keypress(self, size: Size, key: str) -> str | None:
        return key
