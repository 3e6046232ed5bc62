"""Invitations as Google, Outlook and Thunderbird send them, through the real Postfix into the
real Dovecot, then read back by ``tmail show --json`` (issue 18 item 1, display part)."""

from __future__ import annotations

import json
import os
import smtplib
import ssl
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import MailUser
from tests.support import invitations as inv

pytestmark = pytest.mark.stack


def test_invitations_survive_postfix_and_read_back(
    make_mail_user: Callable[..., MailUser], tmp_path: Path
) -> None:
    sender, me = make_mail_user("s"), make_mail_user("r")
    stack = sender.stack
    ev = inv.vevent(start=inv.START, end=inv.END, rrule={"FREQ": "DAILY", "COUNT": 5})
    ics = inv.calendar(ev, zone="Europe/Berlin")
    letters = [inv.google(ics), inv.outlook(ics), inv.thunderbird(ics)]
    with smtplib.SMTP(stack.host, stack.ports.smtp, timeout=30) as smtp:
        smtp.starttls(context=ssl.create_default_context(cafile=str(stack.ca_file)))
        smtp.login(sender.name, sender.password)
        for raw in letters:
            smtp.sendmail(sender.address, [me.address], raw)
    assert stack.wait_for(me.name, 3) == 3
    for i, raw in enumerate(stack.stored_messages(me.name)):
        path = tmp_path / f"{i}.eml"
        path.write_bytes(raw)
        done = subprocess.run(
            [sys.executable, "-m", "tmail", "show", "--json", str(path)],
            capture_output=True, text=True, timeout=60, check=True,
            env={**os.environ, "TZ": "Europe/Berlin"},
        )  # fmt: skip
        cal = json.loads(done.stdout)["calendar"]
        assert cal is not None, raw[:300]
        assert cal["kind"] == "Invitation" and cal["summary"] == "Quarterly review"
        assert cal["when"] == "Thu 10 Dec 2026 10:00–11:00 (Europe/Berlin)"
        assert cal["recurrence"] == "every day, 5 times"
        assert [a["answer"] for a in cal["attendees"]] == ["accepted", "declined"]
