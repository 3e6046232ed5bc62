"""Sending OpenPGP: tmail's PGP/MIME verifies with ``gpg --verify`` and decrypts with
``gpg --decrypt`` after taking the MIME apart; a recipient without a key stops the message; and
two users exchange signed+encrypted mail through the real Postfix and read it back from the
real Dovecot (``tmail send --sign --encrypt``, ``tmail sync``, ``tmail show --json``).
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import MailUser
from tests.integration.test_send_cli import write_config
from tests.support.gnupg import GpgUser
from tmail.core.errors import MessageError
from tmail.mime import parse_message
from tmail.mime.compose import Draft, compose
from tmail.mime.gpg import GnupgBackend
from tmail.mime.pgp import open_protected
from tmail.mime.pgpsend import missing_keys, protect

TMAIL = [sys.executable, "-m", "tmail"]
SECRET = "Meet at the old mill at nine. Ünïcödé too."


@pytest.fixture(scope="module")
def people() -> Iterator[dict[str, GpgUser]]:
    users = {
        "alice": GpgUser.make("Alice Example", "alice@example.test"),
        "bob": GpgUser.make("Bob Example", "bob@example.test"),
    }
    try:
        users["alice"].learn(users["bob"])
        users["bob"].learn(users["alice"], certify=True)
        yield users
    finally:
        for user in users.values():
            user.close()


def composed(to: str = "Bob Example <bob@example.test>", body: str = SECRET) -> bytes:
    draft = Draft(
        from_="Alice Example <alice@example.test>",  # type: ignore[arg-type]
        to=(to,),
        subject="Secret plans",
        body=body,
    )
    return compose(draft).data


def boundary_parts(raw: bytes) -> tuple[bytes, list[bytes]]:
    """The top Content-Type's boundary and the raw bytes of each part (taken apart by hand,
    as RFC 3156 says: the CRLF before a delimiter belongs to the delimiter)."""
    raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    m = re.search(rb'boundary="([^"]+)"', raw)
    assert m is not None
    delim = b"\r\n--" + m.group(1)
    pieces = raw.split(delim)
    parts = [p[2:] for p in pieces[1:-1]]  # each starts after the delimiter line's CRLF
    return m.group(1), parts


def test_signed_message_verifies_with_gpg_verify_and_micalg_is_the_hash_used(
    people, tmp_path: Path
) -> None:
    alice = people["alice"]
    # a user's digest preference decides the hash: micalg must follow it, not assume SHA-256
    Path(alice.home, "gpg.conf").write_text("personal-digest-preferences SHA512\n")
    try:
        out = protect(
            composed(),
            sign=True,
            encrypt=False,
            sender="alice@example.test",
            recipients=["bob@example.test"],
            backend=GnupgBackend(alice.home),
        )
    finally:
        Path(alice.home, "gpg.conf").unlink()
    msg = email.message_from_bytes(out, policy=email.policy.default)
    assert msg.get_content_type() == "multipart/signed"
    assert msg.get_param("micalg") == "pgp-sha512"
    assert msg["Subject"] == "Secret plans"
    _, (signed, signature) = boundary_parts(out)
    (tmp_path / "data").write_bytes(signed)
    (tmp_path / "sig.asc").write_bytes(signature.split(b"\r\n\r\n", 1)[1])
    bob = people["bob"]
    res = subprocess.run(
        ["gpg", "--homedir", bob.home, "--batch", "--status-fd", "1", "--verify",
         str(tmp_path / "sig.asc"), str(tmp_path / "data")],
        capture_output=True, check=False, timeout=60,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr.decode()
    assert b"[GNUPG:] GOODSIG" in res.stdout and b" 10 00 " in res.stdout  # hash algo 10: SHA512
    # and tmail reads its own output back
    opened = open_protected(out, lambda: GnupgBackend(bob.home))
    assert opened.crypto is not None and opened.crypto.signature is not None
    assert opened.crypto.signature.status == "good" and not opened.crypto.notes
    assert SECRET in parse_message(opened.raw).text


def test_signed_8bit_message_from_send_t_is_made_7bit_and_verifies(people) -> None:
    alice, bob = people["alice"], people["bob"]
    raw = (
        "From: alice@example.test\nTo: bob@example.test\nSubject: 8bit\n"
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
        f"{SECRET}\ntrailing space \n"
    ).encode()
    out = protect(
        raw,
        sign=True,
        encrypt=False,
        sender="alice@example.test",
        recipients=["bob@example.test"],
        backend=GnupgBackend(alice.home),
    )
    _, (signed, _sig) = boundary_parts(out)
    assert signed.isascii() and b"quoted-printable" in signed
    opened = open_protected(out, lambda: GnupgBackend(bob.home))
    assert opened.crypto is not None and opened.crypto.signature is not None
    assert opened.crypto.signature.status == "good"
    assert f"{SECRET}\ntrailing space" in parse_message(opened.raw).text


def test_signed_and_encrypted_decrypts_with_gpg_and_for_the_sender_too(
    people, tmp_path: Path
) -> None:
    alice, bob = people["alice"], people["bob"]
    out = protect(
        composed(),
        sign=True,
        encrypt=True,
        sender="alice@example.test",
        recipients=["bob@example.test"],
        backend=GnupgBackend(alice.home),
    )
    assert SECRET.encode() not in out and b"Secret plans" not in out
    msg = email.message_from_bytes(out, policy=email.policy.default)
    assert msg.get_content_type() == "multipart/encrypted"
    assert msg["Subject"] == "..."  # RFC 9788: the subject travels inside
    _, (version, armored) = boundary_parts(out)
    assert b"Version: 1" in version
    res = subprocess.run(
        ["gpg", "--homedir", bob.home, "--batch", "--status-fd", "2", "--decrypt"],
        input=armored.split(b"\r\n\r\n", 1)[1], capture_output=True, check=False, timeout=60,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr.decode()
    assert b"[GNUPG:] GOODSIG" in res.stderr
    inner = email.message_from_bytes(res.stdout, policy=email.policy.default)
    assert inner["Subject"] == "Secret plans"
    assert SECRET in inner.get_content()
    for reader in (bob, alice):  # Alice: her Sent copy
        opened = open_protected(out, lambda r=reader: GnupgBackend(r.home))
        assert opened.crypto is not None and opened.crypto.decrypted, reader.name
        parsed = parse_message(opened.raw)
        assert SECRET in parsed.text and parsed.subject == "Secret plans"


def test_a_recipient_without_a_key_stops_encryption(people) -> None:
    alice = people["alice"]
    backend = GnupgBackend(alice.home)
    assert missing_keys(backend, ["bob@example.test", "carol@example.test"]) == [
        "carol@example.test"
    ]
    with pytest.raises(MessageError) as err:
        protect(
            composed(to="carol@example.test"),
            sign=False,
            encrypt=True,
            sender="alice@example.test",
            recipients=["bob@example.test", "carol@example.test"],
            backend=backend,
        )
    assert "no OpenPGP key for carol@example.test" in err.value.one_line()


@pytest.mark.stack
def test_two_users_exchange_signed_encrypted_mail_over_postfix_and_dovecot(
    people, make_mail_user: Callable[..., MailUser], tmp_path: Path
) -> None:
    sender, rcpt, nokey = make_mail_user("s"), make_mail_user("r"), make_mail_user("n")
    # keys for the stack's addresses: the sender's and the recipient's, each knowing the other
    a = GpgUser.make("Sender", sender.address)
    b = GpgUser.make("Receiver", rcpt.address)
    try:
        a.learn(b)
        b.learn(a, certify=True)
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        cfg_a = write_config(tmp_path / "a", sender)
        # the receiver's account signs always and encrypts when every recipient has a key
        cfg_b = write_config(
            tmp_path / "b", rcpt, extra='pgp_sign = "always"\npgp_encrypt = "opportunistic"'
        )

        def tmail(cfg: Path, user: MailUser, home: str, *args: str, stdin: bytes = b""):
            env = {**os.environ, "TMAIL_TEST_PW": user.password, "TMAIL_CONFIG": str(cfg)}
            env["GNUPGHOME"] = home
            return subprocess.run(
                [*TMAIL, *args], input=stdin, capture_output=True, env=env, timeout=120,
                check=False,
            )  # fmt: skip

        def read_all(cfg: Path, user: MailUser, home: str) -> dict[str, dict]:
            synced = tmail(cfg, user, home, "sync")
            assert synced.returncode == 0, synced.stderr.decode()
            rows = json.loads(tmail(cfg, user, home, "list", "--json").stdout)
            shown = {}
            for row in rows:
                res = tmail(cfg, user, home, "show", "--json", str(row["id"]))
                assert res.returncode == 0, res.stderr.decode()
                data = json.loads(res.stdout)
                text = tmail(cfg, user, home, "show", str(row["id"])).stdout.decode()
                data["status_line"] = next(
                    (line for line in text.splitlines() if line.startswith("PGP: ")), None
                )
                shown[data["subject"]] = data
            return shown

        # a recipient without a key: refused, nothing queued, nothing delivered
        refused = tmail(
            cfg_a, sender, a.home, "send", "--sign", "--encrypt", "--to", rcpt.address,
            "--to", nokey.address, "--subject", "x", stdin=b"not in clear\n",
        )  # fmt: skip
        assert refused.returncode == 65, refused.stderr.decode()
        assert f"no OpenPGP key for {nokey.address}" in refused.stderr.decode()
        assert "the outbox is empty" in tmail(cfg_a, sender, a.home, "queue").stdout.decode()

        sent = tmail(
            cfg_a, sender, a.home, "send", "--sign", "--encrypt", "--to", rcpt.address,
            "--subject", "Secret plans", stdin=SECRET.encode() + b"\n",
        )  # fmt: skip
        assert sent.returncode == 0, sent.stderr.decode()
        stack = sender.stack
        assert stack.wait_for(rcpt.name, 1) == 1
        on_server = stack.stored_messages(rcpt.name)[0]
        assert SECRET.encode() not in on_server and b"Secret plans" not in on_server

        got = read_all(cfg_b, rcpt, b.home)
        data = got["Secret plans"]
        assert SECRET in data["text"]
        crypto = data["crypto"]
        assert (crypto["encrypted"], crypto["decrypted"], crypto["signed"]) == (True, True, True)
        assert crypto["signature"]["status"] == "good"
        assert crypto["signature"]["fingerprint"] == a.fingerprint
        assert crypto["signature"]["trusted"] is True
        assert crypto["signature"]["matches_from"] is True
        assert data["status_line"].startswith("PGP: decrypted; good signature from Sender")
        assert "; encrypted to " in data["status_line"]
        assert f"good signature from Sender <{sender.address}>" in data["status_line"]
        # the index holds the headers only: the decrypted text is in no file of the reader's
        for dirpath, _dirs, files in os.walk(tmp_path / "b"):
            for name in files:
                assert SECRET.encode() not in (Path(dirpath) / name).read_bytes(), name

        # the answers, by the receiver's account settings: signed and encrypted to the sender
        # (who has a key), signed only with --no-encrypt, signed in clear to a keyless address
        for subject, extra in (("Re: plans", []), ("Signed only", ["--no-encrypt"])):
            res = tmail(
                cfg_b, rcpt, b.home, "send", *extra, "--to", sender.address, "--subject",
                subject, stdin=b"Agreed.\n",
            )  # fmt: skip
            assert res.returncode == 0, res.stderr.decode()
        res = tmail(
            cfg_b, rcpt, b.home, "send", "--to", nokey.address, "--subject", "hello",
            stdin=b"Agreed in clear.\n",
        )  # fmt: skip
        assert res.returncode == 0, res.stderr.decode()
        assert stack.wait_for(sender.name, 2) == 2 and stack.wait_for(nokey.name, 1) == 1
        clear = stack.stored_messages(nokey.name)[0]
        assert b"Agreed in clear." in clear and b"multipart/signed" in clear

        mine = read_all(cfg_a, sender, a.home)
        reply, signed = mine["Re: plans"], mine["Signed only"]
        assert reply["crypto"]["decrypted"] is True and "Agreed." in reply["text"]
        assert reply["crypto"]["signature"]["status"] == "good"
        assert reply["crypto"]["signature"]["trusted"] is False  # never certified by the sender
        assert "key not trusted" in reply["status_line"]
        assert signed["crypto"]["encrypted"] is False
        assert signed["status_line"].startswith(
            f"PGP: good signature from Receiver <{rcpt.address}>"
        )
    finally:
        a.close()
        b.close()


@pytest.mark.stack
def test_the_readers_send_path_follows_the_accounts_pgp_encrypt(
    make_mail_user: Callable[..., MailUser], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tmail.config import load_config
    from tmail.core.models import Address
    from tmail.runtime.backend import MailBackend
    from tmail.runtime.session import MailSession, MessageSent, SendDraft
    from tmail.store.store import Store

    sender, rcpt, nokey = make_mail_user("s"), make_mail_user("r"), make_mail_user("n")
    a = GpgUser.make("Sender", sender.address)
    b = GpgUser.make("Receiver", rcpt.address)
    try:
        a.learn(b)
        monkeypatch.setenv("GNUPGHOME", a.home)
        monkeypatch.setenv("TMAIL_TEST_PW", sender.password)
        cfg = write_config(tmp_path, sender, extra='pgp_encrypt = "always"')
        config = load_config(cfg)
        with Store.open(config.data_dir) as store:
            session = MailSession(MailBackend(config, store), poll=False)

            def send(to: str, subject: str) -> MessageSent:
                draft = Draft(
                    from_=Address("Sender", sender.address), to=(to,), subject=subject,
                    body=SECRET,
                )  # fmt: skip
                session.submit(SendDraft(account="test", draft=draft))
                (event,) = [e for e in session.run_pending() if isinstance(e, MessageSent)]
                return event

            refused = send(nokey.address, "to nobody's key")
            assert refused.status == "refused"
            assert f"no OpenPGP key for {nokey.address}" in refused.detail
            sent = send(rcpt.address, "to Receiver")
            assert sent.status == "delivered", sent.detail
        stack = sender.stack
        assert stack.wait_for(rcpt.name, 1) == 1
        got = stack.stored_messages(rcpt.name)[0]
        assert b"multipart/encrypted" in got and SECRET.encode() not in got
        assert stack.message_count(nokey.name) == 0
        for path in config.data_dir.rglob("*"):  # no clear text in the outbox or Sent copy
            if path.is_file():
                assert SECRET.encode() not in path.read_bytes(), path
    finally:
        a.close()
        b.close()
