"""Identities and signatures: the config keys, the choice of identity, the signature text."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tmail.config import load_config
from tmail.config.identities import all_identities, choose, for_address
from tmail.config.model import Identity
from tmail.config.signature import SignatureError, signature_text
from tmail.core.errors import ConfigError
from tmail.mime.recipients import delivered_to
from tmail.mime.signature import add_signature, strip_signature, swap_signature

BASE = """
[accounts.work]
email = "alice@work.test"
name = "Alice"
default = true
incoming.host = "imap.work.test"

[[accounts.work.identities]]
address = "sales@work.test"
name = "Alice (Sales)"
reply_to = "orders@work.test"
bcc_self = true
signature = "Alice\\nSales desk"

[[accounts.work.identities]]
address = "*@catchall.test"
signature_command = "echo catch-all"
signature_placement = "above"

[accounts.home]
email = "alice@home.test"
incoming.host = "imap.home.test"

[[accounts.home.identities]]
address = "alice@home.test"
name = "Alice at home"
signature_file = "sig.txt"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    os.chmod(path, 0o600)
    return path


def test_identities_are_read_with_every_key(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, BASE), environ={})
    work = cfg.account("work").all_identities()
    assert [i.address for i in work] == ["alice@work.test", "sales@work.test", "*@catchall.test"]
    assert work[0] == Identity("alice@work.test", "Alice")  # the main address, implicit
    sales = work[1]
    assert sales.name == "Alice (Sales)" and sales.reply_to == "orders@work.test"
    assert sales.bcc_self and sales.signature == "Alice\nSales desk"
    assert work[2].wildcard and work[2].signature_placement == "above"
    home = cfg.account("home").all_identities()
    assert [i.name for i in home] == ["Alice at home"]  # configured main address, not twice
    assert home[0].signature_file == tmp_path / "sig.txt"
    pairs = [(a.name, i.address) for a, i in all_identities(cfg)]
    assert pairs[0] == ("work", "alice@work.test") and pairs[-1] == ("home", "alice@home.test")


@pytest.mark.parametrize(
    ("identity", "message"),
    [
        ('address = "not an address"', "is not an address"),
        ('address = "*.example.org"', "is not a wildcard address"),
        ('name = "x"', "address: required"),
        ('address = "a@b.test"\nsignature_placement = "middle"', "'middle' is not allowed"),
        ('address = "a@b.test"\nsignature = "x"\nsignature_command = "y"', "set only one of"),
        ('address = "a@b.test"\nbcc_self = "yes"', "expected true or false"),
        ('address = "a@b.test"\nsignatur = "x"', "unknown key"),
        ('address = "a@b.test"\nreply_to = "nobody"', "holds no address"),
    ],
)
def test_a_bad_identity_is_one_line_naming_account_and_key(
    tmp_path: Path, identity: str, message: str
) -> None:
    text = BASE + f"\n[[accounts.home.identities]]\n{identity}\n"
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text), environ={})
    line = err.value.one_line()
    assert "\n" not in line and "account 'home': identities[2]." in line and message in line


def test_the_same_address_twice_is_refused(tmp_path: Path) -> None:
    text = BASE + '\n[[accounts.home.identities]]\naddress = "Alice@Home.test"\n'
    with pytest.raises(ConfigError, match="given twice"):
        load_config(write(tmp_path, text), environ={})


def test_choice_follows_to_cc_delivered_to_and_prefers_an_exact_address(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, BASE), environ={})
    pairs = [(a.name, i) for a, i in all_identities(cfg)]
    chosen = choose(pairs, ["friend@x.test", "SALES@work.test", "alice@home.test"])
    assert chosen is not None and (chosen.account, chosen.address) == ("work", "sales@work.test")
    wild = choose(pairs, ["Info@CatchAll.test"])
    assert wild is not None and wild.address == "info@catchall.test" and wild.identity.wildcard
    assert choose(pairs, ["someone@x.test"]) is None
    assert choose(pairs, ["@catchall.test"]) is None  # nobody before the @


def test_delivered_to_and_x_original_to_come_after_to_and_cc() -> None:
    raw = (
        b"From: Bob <bob@x.test>\nTo: list@lists.test\nCc: Carol <carol@x.test>\n"
        b"Delivered-To: alice@home.test\nX-Original-To: info@catchall.test\n\nhi\n"
    )
    assert delivered_to(raw) == [
        "list@lists.test",
        "carol@x.test",
        "alice@home.test",
        "info@catchall.test",
    ]


def test_send_from_refuses_an_address_no_identity_covers(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, BASE), environ={})
    assert for_address(cfg, "x@catchall.test").account == "work"
    with pytest.raises(ConfigError) as err:
        for_address(cfg, "bob@elsewhere.test")
    line = err.value.one_line()
    assert "no identity covers 'bob@elsewhere.test'" in line
    assert "work: alice@work.test, sales@work.test, *@catchall.test" in line
    assert "home: alice@home.test" in line
    with pytest.raises(ConfigError):
        for_address(cfg, "sales@work.test", account="home")  # not an identity of that account


def test_signature_from_text_file_and_command(tmp_path: Path) -> None:
    assert signature_text(Identity("a@x.test", signature="-- \nA\n\n"), "acct") == "A"
    sig = tmp_path / "sig"
    sig.write_text("From a file\n")
    assert signature_text(Identity("a@x.test", signature_file=sig), "acct") == "From a file"
    cmd = Identity("a@x.test", signature_command="printf 'Line 1\\nLine 2\\n'")
    assert signature_text(cmd, "acct") == "Line 1\nLine 2"
    assert signature_text(Identity("a@x.test"), "acct") == ""


@pytest.mark.parametrize(
    ("identity", "message"),
    [
        (Identity("a@x.test", signature_command="echo broken >&2; exit 3"), "exit status 3"),
        (Identity("a@x.test", signature_command="sleep 30; echo late"), "did not finish in 0.5s"),
        (Identity("a@x.test", signature_command="printf '\\377'"), "not UTF-8"),
        (Identity("a@x.test", signature_file=Path("/nonexistent/sig")), "No such file"),
    ],
)
def test_a_failing_or_hanging_signature_is_one_line_and_no_signature(
    identity: Identity, message: str
) -> None:
    with pytest.raises(SignatureError) as err:
        signature_text(identity, "acct", timeout=0.5)
    line = err.value.one_line()
    assert message in line and "no signature added" in line and "a@x.test" in line


def test_signature_goes_below_the_text_or_above_the_quote() -> None:
    assert add_signature("", "Alice", top=False) == "\n\n-- \nAlice\n"
    quoted = "\n\nBob wrote:\n> hi\n"
    assert add_signature(quoted, "Alice", top=False) == "\n\nBob wrote:\n> hi\n\n-- \nAlice\n"
    assert add_signature(quoted, "Alice", top=True) == "\n\n-- \nAlice\n\nBob wrote:\n> hi\n"
    assert add_signature(quoted, "", top=True) == quoted


def test_another_identity_swaps_the_signature_once() -> None:
    body = "Hello\n\n-- \nAlice\n"
    assert swap_signature(body, "Alice", "Sales", top=False) == "Hello\n\n-- \nSales\n"
    assert swap_signature(body, "Alice", "", top=False) == "Hello\n"
    assert swap_signature("Hello\n", "", "Sales", top=False) == "Hello\n\n-- \nSales\n"
    edited = "Hello\n\n-- \nAlice, edited\n"
    assert swap_signature(edited, "Alice", "Sales", top=False) == edited


def test_the_quoted_signature_is_dropped() -> None:
    text = "Hi,\nsee below.\n-- \nBob\nBob's company\n"
    assert strip_signature(text) == "Hi,\nsee below.\n"
    assert strip_signature("a\n--\nnot a separator\n") == "a\n--\nnot a separator\n"
