"""mutt's query_command as an outside address book: the CLI and the reader's completion."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tests.tui.conftest import Harness
from tmail.cli import main
from tmail.config import load_config
from tmail.config.querycommand import Found, QueryCommandError, command_line, parse, query
from tmail.store import Store
from tmail.ui.main import _outside_book
from tmail.ui.storesource import StoreSource

BOOK = "printf 'khard: 2 matches\\nkhard@x.test\\tKhard Person\\twork\\nbad line\\nq@x.test\\n'"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        code = main(list(argv), stdout=out, stderr=err)
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_mutt_format_and_the_query_in_place_of_percent_s() -> None:
    assert parse("status\na@x.test\tA\tinfo\nnot an address\tX\nb@x.test\n") == [
        Found("a@x.test", "A", "info"),
        Found("b@x.test", ""),
    ]
    assert (
        command_line("abook --mutt-query %s", "o'neil x") == "abook --mutt-query 'o'\"'\"'neil x'"
    )
    assert command_line("lbdbq", "anna") == "lbdbq anna"
    assert query("printf 'one\\n%s\\tEcho\\n' ", "e@x.test") == [Found("e@x.test", "Echo")]
    assert query("exit 1", "nobody") == []  # no match: a status, nothing said


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("echo 'no such book' >&2; exit 2", "failed (exit status 2): no such book"),
        ("sleep 30; true", "did not finish in 0.3s"),
    ],
)
def test_a_failing_or_hanging_query_command_is_one_line(command: str, message: str) -> None:
    with pytest.raises(QueryCommandError) as err:
        query(command, "x", timeout=0.3)
    assert message in err.value.one_line()


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[contacts]\nquery_command = "{BOOK.replace(chr(92), chr(92) * 2)}"\n')
    monkeypatch.setenv("TMAIL_CONFIG", str(cfg))
    monkeypatch.setenv("TMAIL_DATA_DIR", str(tmp_path / "data"))
    with Store.open(tmp_path / "data") as s:
        s.add_message(
            "a",
            "INBOX",
            b"From: Local One <local@x.test>\nTo: q@x.test\nSubject: s\n"
            b"Date: Mon, 02 Nov 2026 10:00:00 +0000\n\nhi\n",
        )
    return cfg


def test_contacts_adds_what_the_query_command_finds(setup: Path) -> None:
    code, out, _ = run("contacts", "x.test", "--json")
    assert code == 0
    got = [(c["addresses"][0], c["source"]) for c in json.loads(out)]
    assert got == [
        ("local@x.test", "mail"),
        ("q@x.test", "mail"),
        ("khard@x.test", "query_command"),
    ]
    assert run("contacts", "--json")[1].count("query_command") == 0  # no query: local only


def test_a_broken_query_command_says_so_and_local_contacts_still_come(
    setup: Path, tmp_path: Path
) -> None:
    setup.write_text('[contacts]\nquery_command = "echo broken >&2; exit 3"\n')
    code, out, err = run("contacts", "local")
    assert code == 0 and out.startswith("Local One <local@x.test>")
    assert "query_command failed (exit status 3): broken" in err


def test_the_reader_completes_from_the_query_command_too(setup: Path, tmp_path: Path) -> None:
    config = load_config(setup)
    with Store.open(tmp_path / "data") as store:
        h = Harness()
        source = StoreSource(store, [], ["me@x.test"], _outside_book(config))
        h.app.source.contacts = source.contacts  # type: ignore[method-assign]
        h.press("m")
        h.type("khard")
        h.press("tab")
        assert "To:      Khard Person <khard@x.test>" in h.screen()


def test_a_failing_query_command_in_the_reader_says_so_on_the_status_line(
    setup: Path, tmp_path: Path
) -> None:
    from tmail.runtime.backend import MailBackend
    from tmail.ui.main import build_app

    setup.write_text(
        '[contacts]\nquery_command = "echo no book here >&2; exit 4"\n'
        '[accounts.a]\nemail = "me@x.test"\nincoming.host = "imap.x.test"\n'
    )
    config = load_config(setup)
    with Store.open(tmp_path / "data") as store:
        app = build_app(config, store, MailBackend(config, store), {}, poll=False)
        app.press("m")
        app.press(*"zzz", "tab")
        screen = app.render_text(120, 20)
        assert "query_command failed (exit status 4): no book here" in screen
        assert "To:      zzz" in screen  # what was typed stays
