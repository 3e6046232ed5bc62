"""Who really sent it (issue 18 item 3): Authentication-Results believed only from the account's
own server, a From whose name shows another address flagged; in ``tmail show`` and ``--json``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tmail.cli import main
from tmail.core.models import Address
from tmail.mime import parse_message
from tmail.mime.sender import check_sender
from tmail.store import Store

OURS = "mx.home.test"
REAL = (
    f"Authentication-Results: {OURS};\r\n"
    "  dkim=pass header.d=bank.test header.i=@bank.test header.b=abc;\r\n"
    "  spf=pass smtp.mailfrom=bounce@bank.test;\r\n"
    "  dmarc=pass (p=reject) header.from=bank.test\r\n"
)
# What a sender writes into the message itself, hoping to be believed.
FORGED_OTHER = "Authentication-Results: mx.evil.test; dkim=pass header.d=bank.test; dmarc=pass\r\n"
FORGED_OURS = f"Authentication-Results: {OURS}; dkim=pass header.d=bank.test; spf=pass\r\n"


def letter(top: str, below: str = "", sender: str = "Bank <news@bank.test>") -> bytes:
    return (
        f"{top}Received: from mail.bank.test by {OURS}\r\n{below}"
        f"From: {sender}\r\nTo: me@home.test\r\nSubject: Statement\r\n"
        "Date: Tue, 01 Dec 2026 09:00:00 +0000\r\nMessage-ID: <s1@bank.test>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nYour statement.\r\n"
    ).encode()


def check(raw: bytes, trusted: tuple[str, ...] = (OURS,)):  # type: ignore[no-untyped-def]
    parsed = parse_message(raw)
    return check_sender(parsed.headers, parsed.from_, trusted), parsed


def test_the_own_servers_verdicts_make_one_short_line() -> None:
    result, _ = check(letter(REAL))
    assert result.auth_line() == (
        "DKIM pass bank.test, SPF pass bank.test, DMARC pass bank.test (checked by mx.home.test)"
    )


def test_a_verdict_from_an_unknown_server_is_ignored() -> None:
    result, _ = check(letter(FORGED_OTHER))
    assert result.authserv_id is None and result.auth_line() is None
    # the own server's fail wins over the stranger's pass written below it
    result, _ = check(letter(REAL.replace("dkim=pass", "dkim=fail"), FORGED_OTHER))
    assert result.auth_line() is not None and "DKIM fail" in result.auth_line()  # type: ignore[operator]


def test_only_the_topmost_field_of_the_own_id_counts() -> None:
    # the server's own field is on top; a forged one with its id sits lower, written by the sender
    real_fail = f"Authentication-Results: {OURS}; dkim=fail header.d=bank.test; spf=softfail\r\n"
    result, _ = check(letter(real_fail, FORGED_OURS))
    assert [(v.method, v.result) for v in result.verdicts] == [
        ("dkim", "fail"),
        ("spf", "softfail"),
    ]


def test_nothing_is_believed_without_a_configured_authserv_id() -> None:
    result, _ = check(letter(REAL), trusted=())
    assert result.auth_line() is None


def test_the_authserv_id_is_matched_without_regard_to_case() -> None:
    result, _ = check(letter(REAL), trusted=("MX.Home.TEST",))
    assert result.authserv_id == OURS


@pytest.mark.parametrize(
    "value",
    [
        f"{OURS}; dkim=pass (unclosed comment",
        f"{OURS};;; = =",
        "",
        ";",
        f"{OURS}; dkim=pass header.d=\x1b]0;pwned\x07x.test",
        f"{OURS}; " + "dkim=pass; " * 2000,
    ],
)
def test_a_broken_field_is_ignored_and_never_raises(value: str) -> None:
    parsed = parse_message(letter(f"Authentication-Results: {value}\r\n"))
    result = check_sender(parsed.headers, parsed.from_, (OURS,))
    line = result.auth_line() or ""
    assert "\x1b" not in line and "\x07" not in line


def test_several_dkim_signatures_show_the_passing_one() -> None:
    top = (
        f"Authentication-Results: {OURS}; dkim=fail header.d=relay.test;"
        " dkim=pass header.d=bank.test\r\n"
    )
    result, _ = check(letter(top))
    assert result.verdicts[0].text() == "DKIM pass bank.test"


def test_a_from_whose_name_shows_another_address_is_flagged() -> None:
    result, parsed = check(letter("", sender='"support@bank.test" <collect@evil.test>'))
    assert result.spoofed_name == "support@bank.test"
    assert result.warning_line(parsed.from_) == (
        "the sender's name shows support@bank.test but the mail is from collect@evil.test"
    )


@pytest.mark.parametrize(
    "sender",
    ['"news@bank.test" <NEWS@bank.test>', "Bank <news@bank.test>", "news@bank.test"],
)
def test_a_name_showing_its_own_address_or_none_is_not_flagged(sender: str) -> None:
    result, _ = check(letter("", sender=sender))
    assert result.spoofed_name is None


def test_spoofed_name_needs_no_authentication_results() -> None:
    result = check_sender((), (Address("boss@corp.test via Mail", "x@evil.test"),), ())
    assert result.spoofed_name == "boss@corp.test"


# ---------------------------------------------------------------- tmail show


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, int, int]:
    """A config whose account 'home' trusts mx.home.test; a genuine and a forged letter."""
    monkeypatch.delenv("TMAIL_DATA_DIR", raising=False)
    data = tmp_path / "data"
    config = tmp_path / "config.toml"
    config.write_text(
        f'[general]\ndata_dir = "{data}"\n[accounts.home]\nemail = "me@home.test"\n'
        'incoming.host = "imap.home.test"\nincoming.password_env = "NONE"\n'
        f'authserv_id = "{OURS}"\n'
    )
    config.chmod(0o600)
    with Store.open(data) as s:
        genuine = s.add_message("home", "INBOX", letter(REAL), uid=1)
        forged = s.add_message(
            "home", "INBOX", letter(FORGED_OTHER, sender='"news@bank.test" <x@evil.test>'), uid=2
        )
    return config, genuine, forged


def test_show_prints_the_verdict_line_of_the_own_server(stored: tuple[Path, int, int]) -> None:
    config, genuine, forged = stored
    code, out, err = run("--config", str(config), "show", str(genuine))
    assert code == 0, err
    head = out.split("\n\n", 1)[0].splitlines()
    assert "Auth: DKIM pass bank.test, SPF pass bank.test, DMARC pass bank.test" in head[-1]
    code, out, err = run("--config", str(config), "show", str(forged))
    assert code == 0, err
    head = out.split("\n\n", 1)[0]
    assert "Auth:" not in head and "mx.evil.test" not in head
    assert (
        "Warning: the sender's name shows news@bank.test but the mail is from x@evil.test" in head
    )


def test_show_json_carries_the_sender_object(stored: tuple[Path, int, int]) -> None:
    config, genuine, forged = stored
    _, out, _ = run("--config", str(config), "show", "--json", str(genuine))
    sender = json.loads(out)["sender"]
    assert sender["authserv_id"] == OURS
    assert sender["verdicts"][0] == {"method": "dkim", "result": "pass", "domain": "bank.test"}
    assert sender["warning"] is None
    _, out, _ = run("--config", str(config), "show", "--json", str(forged))
    sender = json.loads(out)["sender"]
    assert sender["authserv_id"] is None and sender["verdicts"] == []
    assert sender["spoofed_name"] == "news@bank.test"


def test_show_of_a_file_believes_a_server_only_with_account(
    stored: tuple[Path, int, int], tmp_path: Path
) -> None:
    config, _, _ = stored
    path = tmp_path / "m.eml"
    path.write_bytes(letter(REAL))
    _, out, _ = run("--config", str(config), "show", str(path))
    assert "Auth:" not in out
    _, out, _ = run("--config", str(config), "show", "--account", "home", str(path))
    assert "Auth: DKIM pass bank.test" in out


def test_older_property_names_still_give_the_domain() -> None:
    # as Gmail wrote them for years: DKIM with header.i only, SPF with smtp.mail
    top = (
        f"Authentication-Results: {OURS}; spf=pass (best guess) smtp.mail=a@yahoo.test;"
        " dkim=pass (test mode) header.i=@yahoo.test\r\n"
    )
    result, _ = check(letter(top))
    assert (
        result.auth_line() == "DKIM pass yahoo.test, SPF pass yahoo.test (checked by mx.home.test)"
    )
