"""Identities in the reader: the reply goes out from the address the message was sent to, with
that identity's signature; From cycles through identities and swaps the signature; a broken
signature command says so and the message goes on without one."""

from __future__ import annotations

import pytest

from tests.tui.conftest import T0, Harness
from tmail.config import signature as signature_module
from tmail.config.model import Identity as Spec
from tmail.core.models import Address, Flag
from tmail.mime.compose import Draft
from tmail.ui.compose import Identity
from tmail.ui.source import MemorySource, Row

MAIN = Identity("demo", Address("Me", "me@demo.test"), spec=Spec("me@demo.test", "Me"))
SALES = Identity(
    "demo",
    Address("Me (Sales)", "sales@demo.test"),
    spec=Spec(
        "sales@demo.test",
        "Me (Sales)",
        reply_to="orders@demo.test",
        bcc_self=True,
        signature="Me\nSales desk",
    ),
)
CATCHALL = Identity(
    "work",
    Address("Work", "*@work.test"),
    spec=Spec(
        "*@work.test", "Work", signature_command="echo work sig", signature_placement="above"
    ),
)


def source(to: str, extra: str = "") -> MemorySource:
    raw = (
        f"From: Bob <bob@x.test>\nTo: {to}\nSubject: Prices\n{extra}"
        "Date: Fri, 20 Nov 2026 09:30:00 +0000\nMessage-ID: <p1@x.test>\n\n"
        "What do they cost?\n-- \nBob\nBob's shop\n"
    ).encode()
    row = Row(1, "demo", "INBOX", T0, "Bob", "Prices", frozenset({Flag.SEEN}), len(raw))
    return MemorySource(messages=[(row, raw)])


def harness(src: MemorySource, *identities: Identity) -> Harness:
    h = Harness(src, editor_text="")
    h.app.identities[:] = list(identities) or [MAIN, SALES, CATCHALL]
    return h


def sent(h: Harness) -> Draft:
    h.press("y")
    h.work()
    draft = next(c[1] for c in h.backend.calls if c[0] == "send")
    assert isinstance(draft, Draft)
    return draft


def test_a_reply_to_an_alias_goes_out_from_it_with_its_signature() -> None:
    h = harness(source("Friends <friends@x.test>, sales@demo.test"))
    h.press("r")
    assert "From:    Me (Sales) <sales@demo.test> [demo]" in h.screen()
    h.press("enter")
    draft = sent(h)
    assert draft.from_ == SALES.address
    assert draft.reply_to == ("orders@demo.test",) and "sales@demo.test" in draft.bcc
    # the quote without Bob's signature, then ours (below the quote by default)
    assert draft.body.endswith("> What do they cost?\n\n-- \nMe\nSales desk\n")
    assert "Bob's shop" not in draft.body


def test_delivered_to_picks_the_catch_all_and_its_signature_above_the_quote() -> None:
    h = harness(source("list@lists.test", "Delivered-To: orders-7@work.test\n"))
    h.press("r")
    assert "From:    Work <orders-7@work.test> [work]" in h.screen()
    h.press("enter")
    draft = sent(h)
    assert draft.from_.addr == "orders-7@work.test"
    assert draft.body.startswith("\n\n-- \nwork sig\n\nOn ")


def test_a_message_to_no_identity_is_answered_from_the_accounts_main_address() -> None:
    h = harness(source("someone@else.test"))
    h.press("r", "enter")
    assert sent(h).from_ == MAIN.address


def test_the_from_field_cycles_identities_and_swaps_the_signature() -> None:
    h = harness(source("me@demo.test"))
    h.press("m", "up")
    assert "From:    Me <me@demo.test> [demo]" in h.screen()
    h.press("right")  # the wildcard is skipped: no address to send from
    assert "From:    Me (Sales) <sales@demo.test> [demo]" in h.screen()
    h.press("right")
    assert "From:    Me <me@demo.test> [demo]" in h.screen()
    h.press("right", "down")
    h.type("x@y.test")
    h.press("enter", "enter", "enter", "enter")
    assert "Sales desk" in h.screen()
    h.press("E", "up", "up", "up", "up", "left", *["enter"] * 5)
    screen = h.screen()
    assert "From: Me <me@demo.test> [demo]" in screen and "Sales desk" not in screen
    draft = sent(h)
    assert draft.from_ == MAIN.address and "-- " not in draft.body


def test_a_hanging_signature_command_says_so_and_the_message_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(signature_module, "SIGNATURE_TIMEOUT", 0.3)
    slow = Identity(
        "demo",
        Address("Me", "me@demo.test"),
        spec=Spec("me@demo.test", "Me", signature_command="sleep 30; echo never"),
    )
    h = harness(source("me@demo.test"), slow)
    h.press("r")
    assert "signature_command did not finish in 0.3s; no signature added" in h.screen()
    h.press("enter")
    draft = sent(h)
    assert draft.to == ("Bob <bob@x.test>",) and "-- " not in draft.body
    assert "> What do they cost?" in draft.body


def test_a_reply_to_ones_own_sent_message_keeps_its_identity() -> None:
    raw = (
        b"From: Me (Sales) <sales@demo.test>\nTo: Bob <bob@x.test>\nSubject: Offer\n"
        b"Date: Fri, 20 Nov 2026 09:30:00 +0000\nMessage-ID: <o1@demo.test>\n\nOur offer.\n"
    )
    row = Row(1, "demo", "Sent", T0, "Me", "Offer", frozenset({Flag.SEEN}), len(raw), outgoing=True)
    h = harness(MemorySource(messages=[(row, raw)]))
    h.press(":", *"folder demo/Sent", "enter", "r", "enter")
    draft = sent(h)
    assert draft.from_ == SALES.address and draft.to == ("Bob <bob@x.test>",)


def test_a_resumed_draft_keeps_its_catch_all_address_and_swaps_its_signature() -> None:
    raw = (
        b"From: Work <info@work.test>\nTo: Bob <bob@x.test>\nSubject: Draft\n"
        b"Date: Fri, 20 Nov 2026 09:30:00 +0000\nMessage-ID: <d1@work.test>\n\n"
        b"Almost done.\n\n-- \nwork sig\n"
    )
    row = Row(1, "work", "Drafts", T0, "Work", "Draft", frozenset({Flag.DRAFT}), len(raw))
    h = harness(MemorySource(messages=[(row, raw)]))
    h.press(":", *"folder work/Drafts", "enter", "R")
    assert "From: Work <info@work.test> [work]" in h.screen()
    h.press("E", "up", "up", "up", "up", "left", *["enter"] * 5)  # to Me (Sales)
    screen = h.screen()
    assert "From: Me (Sales) <sales@demo.test> [demo]" in screen
    draft = sent(h)
    assert draft.body == "Almost done.\n\n-- \nMe\nSales desk\n"


def test_a_forward_of_mail_to_an_alias_goes_from_it_with_the_signature_above() -> None:
    h = harness(source("sales@demo.test"))
    h.press("f", "i")
    assert "From:    Me (Sales) <sales@demo.test> [demo]" in h.screen()
    h.type("carol@x.test")
    h.press("enter", "enter", "enter", "enter")
    draft = sent(h)
    assert draft.from_ == SALES.address
    assert draft.body.startswith("\n\n-- \nMe\nSales desk\n\n---------- Forwarded message")
