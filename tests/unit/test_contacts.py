"""The address book harvested from mail as it is indexed (tmail.store.contacts)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tmail.store import Store
from tmail.store.contacts import automated


def mail(
    n: int,
    *,
    sender: str = "Anna Petrova <anna@example.org>",
    to: str = "Me <me@example.test>",
    cc: str = "",
    day: int = 1,
    month: str = "Nov",
) -> bytes:
    head = f"From: {sender}\nTo: {to}\n" + (f"Cc: {cc}\n" if cc else "")
    return (
        f"{head}Subject: s{n}\nMessage-ID: <c{n}@x.test>\n"
        f"Date: Mon, {day:02d} {month} 2026 10:00:00 +0000\n"
        "Content-Type: text/plain; charset=utf-8\n\nhi\n"
    ).encode()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "data") as s:
        yield s


def addrs(store: Store, query: str = "", **kw: object) -> list[str]:
    return [c.addr for c in store.contacts(query, **kw)]  # type: ignore[arg-type]


def test_from_to_and_cc_are_harvested_with_counts(store: Store) -> None:
    store.add_message("a", "INBOX", mail(1, cc="Bob <Bob@Example.org>, x@y.test"))
    store.add_message("a", "INBOX", mail(2, sender="bob@example.org"))
    got = {c.addr: c for c in store.contacts(limit=None)}
    assert set(got) == {"anna@example.org", "me@example.test", "bob@example.org", "x@y.test"}
    assert (got["bob@example.org"].received, got["bob@example.org"].sent) == (2, 0)
    assert got["bob@example.org"].name == "Bob"  # a message without a name keeps the old one
    assert got["anna@example.org"].last is not None
    assert addrs(store, exclude=["ME@example.test"]).count("me@example.test") == 0


def test_sent_to_weighs_more_than_received_and_recent_more_than_old(store: Store) -> None:
    for i in range(2):
        store.add_message("a", "INBOX", mail(10 + i, sender="Often <often@x.test>"))
    store.add_message("a", "Sent", mail(20, sender="me@example.test", to="Wrote <wrote@x.test>"))
    store.add_message("a", "INBOX", mail(30, sender="Old <old@x.test>", month="Jan", day=2))
    for i in range(3):
        store.add_message("a", "INBOX", mail(40 + i, sender="Old <old@x.test>", month="Jan"))
    order = addrs(store, exclude=["me@example.test"])
    # 1 sent (x3) beats 2 received of the same day; 4 old ones (ten months ago) come last
    assert order == ["wrote@x.test", "often@x.test", "old@x.test"]
    sent = store.contacts("wrote")[0]
    assert (sent.sent, sent.received) == (1, 0)
    me = store.contacts("me@example")[0]  # To of the 6 received; not From of one's Sent mail
    assert (me.received, me.sent) == (6, 0)


def test_drafts_junk_noreply_and_bounces_are_left_out(store: Store) -> None:
    store.add_message("a", "Drafts", mail(1, to="draft@x.test"))
    store.add_message("a", "Junk", mail(2, sender="spam@x.test"))
    for n, who in enumerate(
        (
            "GitHub <noreply@github.com>",
            "no-reply@accounts.google.com",
            "MAILER-DAEMON@mx.test",
            "bounces+123-abc@mail.test",
            "list-bounces@lists.test",
            "msprvs1=abc=bounces-1@x.test",
            "Do Not Reply <do_not_reply@bank.test>",
        ),
        3,
    ):
        store.add_message("a", "INBOX", mail(n, sender=who, to="friend@x.test"))
    assert addrs(store, limit=None) == ["friend@x.test"]
    assert not automated("replyall@x.test") and not automated("bouncer.fan@x.test")


def test_the_name_comes_from_the_most_recent_message(store: Store) -> None:
    store.add_message("a", "INBOX", mail(1, sender="New Name <p@x.test>", day=20))
    store.add_message("a", "INBOX", mail(2, sender="Old Name <p@x.test>", day=3))
    assert store.contacts("p@x")[0].name == "New Name"


def test_search_is_case_and_accent_insensitive_cyrillic_included(store: Store) -> None:
    store.add_message("a", "INBOX", mail(1, sender="José Müller <jm@x.test>"))
    store.add_message("a", "INBOX", mail(2, sender="Фёдор Иванов <fedor@x.test>"))
    store.add_message("a", "INBOX", mail(3, sender="Joanna <jo@x.test>"))
    assert addrs(store, "jose MULLER") == ["jm@x.test"]
    assert addrs(store, "ФЕДОР") == ["fedor@x.test"]
    assert addrs(store, "иванов фёдор") == ["fedor@x.test"]
    assert addrs(store, "fedor@") == ["fedor@x.test"]
    # a word's start before a match inside a word: "jo" is Joanna's and José's start
    assert sorted(addrs(store, "jo")) == ["jm@x.test", "jo@x.test"]
    assert addrs(store, "anna") == ["jo@x.test"]  # inside a word, still found
    for i in range(3):  # Joanna is written to more often; Andrea's name starts with "an"
        store.add_message("a", "INBOX", mail(4 + i, sender="Joanna <jo@x.test>"))
    store.add_message("a", "INBOX", mail(9, sender="Andrea <ae@x.test>"))
    assert addrs(store, "an") == ["ae@x.test", "jo@x.test"]
    assert addrs(store, "nobody") == []
    assert len(addrs(store, "x.test", limit=2)) == 2


def test_reindex_does_not_count_twice(store: Store) -> None:
    store.add_message("a", "INBOX", mail(1))
    store.reindex()
    store.reindex("a")
    assert store.contacts("anna")[0].received == 1


def test_messages_indexed_before_the_address_book_are_harvested_at_the_first_query(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    with Store.open(data) as s:
        s.add_message("a", "INBOX", mail(1))
        s.add_message("a", "Sent", mail(2, sender="me@example.test", to="Bob <bob@x.test>"))
    conn = sqlite3.connect(data / "index.sqlite3")  # as an index written before schema 5
    conn.executescript(
        "DROP TABLE contacts; DROP TABLE contacts_harvested; DROP TABLE contacts_backfill;"
        "PRAGMA user_version = 4;"
    )
    conn.close()
    with Store.open(data) as s:
        got = {c.addr: (c.received, c.sent) for c in s.contacts(limit=None)}
        assert got == {"anna@example.org": (1, 0), "me@example.test": (1, 0), "bob@x.test": (0, 1)}
        assert s.contacts("bob")[0].sent == 1  # the second query does not count again
