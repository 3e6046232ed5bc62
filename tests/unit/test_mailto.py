"""mailto: URLs (RFC 6068, issue 18 item 5): read safely; ``tmail mailto:...`` opens the reader's
composer (tests/e2e/test_mailto_journey.py), ``tmail send`` takes the same URL
(tests/integration/test_send_cli.py)."""

from __future__ import annotations

import pytest

from tmail.cli import _route_mailto
from tmail.core.errors import UsageError
from tmail.mime.mailto import parse_mailto


def test_addresses_subject_and_body_are_percent_decoded_as_utf8() -> None:
    m = parse_mailto(
        "mailto:anna@example.org,bob@example.org?cc=carol@example.org"
        "&subject=%D0%9F%D1%80%D0%B8%D0%B2%D0%B5%D1%82%20a+b&body=Line%201%0D%0ALine%202"
    )
    assert m.to == ("anna@example.org", "bob@example.org")
    assert m.cc == ("carol@example.org",)
    assert m.subject == "Привет a+b"  # "+" is a plus sign in mailto, not a space
    assert m.body == "Line 1\nLine 2"


def test_field_names_are_case_insensitive_and_to_adds_up() -> None:
    m = parse_mailto("MAILTO:?To=a@x.test&TO=b@x.test&Subject=hi&BCC=c@x.test")
    assert m.to == ("a@x.test", "b@x.test") and m.bcc == ("c@x.test",) and m.subject == "hi"


def test_unsafe_fields_are_dropped_and_named() -> None:
    m = parse_mailto("mailto:a@x.test?from=boss@x.test&attach=/etc/passwd&x-mailer=evil&subject=s")
    assert m.ignored == ("from", "attach", "x-mailer")
    assert m.to == ("a@x.test",) and m.subject == "s"


def test_a_line_break_cannot_start_a_header_in_subject_or_address() -> None:
    m = parse_mailto("mailto:a@x.test%0D%0ABcc:%20spy@x.test?subject=hi%0D%0ABcc:%20spy@x.test")
    assert "\n" not in m.subject and "\r" not in m.subject  # type: ignore[operator]
    assert all("\n" not in a and "\r" not in a for a in m.to)
    assert m.bcc == ()


def test_control_characters_in_the_body_are_shown_not_passed_on() -> None:
    m = parse_mailto("mailto:a@x.test?body=%1B%5D0%3Bpwned%07ok")
    assert m.body == "^[]0;pwned^Gok"


@pytest.mark.parametrize(
    "url", ["http://x.test/", "mailto:not-an-address", "mailto:" + "a" * 70000]
)
def test_what_is_no_mailto_url_is_one_usage_error(url: str) -> None:
    with pytest.raises(UsageError) as exc:
        parse_mailto(url)
    assert "\n" not in exc.value.one_line()


def test_tmail_mailto_url_routes_to_the_reader_composer() -> None:
    url = "mailto:a@x.test?subject=hi"
    assert _route_mailto([url]) == ["ui", "--mailto", url]
    assert _route_mailto(["--config", "c.toml", url]) == [
        "--config",
        "c.toml",
        "ui",
        "--mailto",
        url,
    ]
    assert _route_mailto(["--demo", url]) == ["--demo", "ui", "--mailto", url]
    # only in the command's place: an argument of a command stays what it is
    assert _route_mailto(["send", url]) == ["send", url]
    assert _route_mailto(["--config", "mailto:odd.toml", "list"]) == [
        "--config",
        "mailto:odd.toml",
        "list",
    ]
