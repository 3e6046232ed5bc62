"""What a message offers to unsubscribe (RFC 2369, RFC 8058): decided without any network."""

from __future__ import annotations

import pytest

from tmail.mime.unsubscribe import unsubscribe_offer

POST = ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")


def test_one_click_needs_the_post_field_and_an_https_url() -> None:
    lu = ("List-Unsubscribe", "<mailto:l@x.test?subject=out>, <https://x.test/u?id=1>")
    offer = unsubscribe_offer([lu, POST])
    assert offer is not None and offer.method == "one-click"
    assert (offer.url, offer.host) == ("https://x.test/u?id=1", "x.test")
    offer = unsubscribe_offer([lu])  # no List-Unsubscribe-Post: the mailto: way
    assert offer is not None and offer.method == "mailto"
    assert offer.mailto is not None and offer.mailto.to == ("l@x.test",)
    assert offer.mailto.subject == "out"


def test_a_plain_link_alone_is_a_web_page_never_a_post() -> None:
    offer = unsubscribe_offer([("List-Unsubscribe", "<https://x.test/page>")])
    assert offer is not None and offer.method == "web"


def test_one_click_over_http_is_kept_to_be_refused_with_its_reason() -> None:
    offer = unsubscribe_offer([("List-Unsubscribe", "<http://x.test/u>"), POST])
    assert offer is not None and (offer.method, offer.url) == ("one-click", "http://x.test/u")


def test_a_folded_url_is_joined_and_controls_are_made_safe() -> None:
    offer = unsubscribe_offer([("List-Unsubscribe", "<https://x.test/u?a=1\r\n &b=\x1b[2J>"), POST])
    assert offer is not None and "\x1b" not in offer.url and " " not in offer.url


@pytest.mark.parametrize("value", ["", "junk", "<>", "<javascript:alert(1)>", "<mailto:>"])
def test_nothing_usable_is_no_offer(value: str) -> None:
    assert unsubscribe_offer([("List-Unsubscribe", value), POST]) is None


def test_no_field_no_offer() -> None:
    assert unsubscribe_offer([("Subject", "hi")]) is None
