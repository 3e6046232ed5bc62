"""The address book harvested from mail synced from the real Dovecot, and from mail sent
through the real Postfix (its Sent copy): ``tmail contacts`` finds both."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import pytest

from tests.conftest import MailUser
from tests.support.sessions import write_config
from tmail.cli import main

pytestmark = pytest.mark.stack


def tmail(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_contacts_from_synced_and_sent_mail(
    mail_user: MailUser, make_mail_user: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = mail_user.stack
    bob: MailUser = make_mail_user("bob")  # type: ignore[operator]
    for n, sender in enumerate(
        ("Фёдор Иванов <fedor@example.test>", "noreply@shop.test", "Fedya <fedor@example.test>")
    ):
        stack.save(
            mail_user.name,
            (
                f"From: {sender}\nTo: {mail_user.address}\nCc: Zoë <zoe@example.test>\n"
                f"Subject: hello {n}\nMessage-ID: <{uuid.uuid4().hex}@example.test>\n"
                f"Date: Mon, {2 + n:02d} Nov 2026 10:00:00 +0000\n\nhi\n"
            ).encode(),
        )
    extra = f"""\
outgoing.host = "{stack.host}"
outgoing.port = {stack.ports.smtp}
outgoing.security = "starttls"
outgoing.ca_file = "{stack.ca_file}"
"""
    cfg = write_config(tmp_path, stack, mail_user.name, mail_user.password, extra=extra)
    monkeypatch.setenv("TMAIL_CONFIG", str(cfg))
    monkeypatch.delenv("TMAIL_DATA_DIR", raising=False)
    monkeypatch.setattr("tmail.cli.commands.send._stdin", lambda: io.BytesIO(b"hello\n"))
    code, _, err = tmail("send", "--to", f"Bob <{bob.address}>", "--subject", "hi bob")
    assert code == 0, err
    code, _, err = tmail("sync")
    assert code == 0, err
    code, out, _ = tmail("contacts", "--json", "--limit", "0")
    got = {c["addresses"][0]: c for c in json.loads(out)}
    assert set(got) == {bob.address, "fedor@example.test", "zoe@example.test"}
    assert (got[bob.address]["sent"], got[bob.address]["received"]) == (1, 0)
    assert got["fedor@example.test"]["name"] == "Fedya"  # the newest message's name
    assert got["zoe@example.test"]["received"] == 3
    code, out, _ = tmail("contacts", "ФЁДОР")
    assert code == 1 and out == ""  # the newest name is Fedya: Фёдор is gone with it
    code, out, _ = tmail("contacts", "FEDYA")
    assert code == 0 and out.startswith("Fedya <fedor@example.test>")
    code, out, _ = tmail("contacts")
    assert out.splitlines()[0].startswith(f"Bob <{bob.address}>")  # sent-to first
