"""The account wizard's answer checks and its choice of the answer to change after a failed test
(tmail/cli/commands/_wizard.py), case by case."""

from __future__ import annotations

from pathlib import Path

import pytest

from tmail.cli.commands._wizard import (
    ca_file_problem,
    email_problem,
    menu_entry,
    name_problem,
    port_problem,
    suggest_change,
)
from tmail.core.errors import (
    AuthFailed,
    CertificateError,
    ConnectFailed,
    SecretError,
    TLSFailure,
    TmailError,
)


def test_answers_are_checked() -> None:
    assert email_problem("ann@example.org") is None
    assert email_problem("ann at example.org") and email_problem("@example.org")
    assert name_problem({"home"})("work") is None
    assert "exists already" in (name_problem({"home"})("home") or "")
    assert "letters, digits" in (name_problem(set())("my work") or "")
    assert port_problem("993") is None
    assert port_problem("0") and port_problem("65536") and port_problem("imap")


def test_ca_file_must_exist_and_hold_pem(tmp_path: Path) -> None:
    assert ca_file_problem("") is None  # no CA file
    assert "does not exist" in (ca_file_problem(str(tmp_path / "none.pem")) or "")
    junk = tmp_path / "junk.pem"
    junk.write_text("hello\n")
    assert "no PEM certificate" in (ca_file_problem(str(junk)) or "")


@pytest.mark.parametrize(
    ("error", "suggested"),
    [
        (AuthFailed("login refused"), "password"),
        (SecretError("the password command failed"), "password"),
        (CertificateError("certificate not trusted (self-signed)"), "outgoing ca"),
        (CertificateError("certificate does not match host 'x'"), "outgoing host"),
        (TLSFailure("port 993 expects TLS from the first byte"), "outgoing security"),
        (ConnectFailed("cannot resolve host name 'x'"), "outgoing host"),
        (ConnectFailed("connection refused on port 1: nothing listens there"), "outgoing port"),
    ],
)
def test_the_answer_to_change_follows_the_failure(error: TmailError, suggested: str) -> None:
    assert suggest_change(("outgoing", error)) == suggested


def test_a_short_answer_names_the_failing_server() -> None:
    fields = ["user", "password", "incoming port", "outgoing port"]
    assert menu_entry("port", "outgoing", fields) == "outgoing port"
    assert menu_entry("Incoming  Port", "outgoing", fields) == "incoming port"
    assert menu_entry("save", "incoming", fields) == "save"
    assert menu_entry("colour", "incoming", fields) is None
