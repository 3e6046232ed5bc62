"""Sending benchmark (issue 7): N queued messages flushed to the real Postfix.

Side by side in one run, all over STARTTLS + AUTH to the same Postfix submission port:

* tmail: N messages composed and queued (not timed), then ``flush`` (timed): one connection,
  PIPELINING, SIZE, each message read from the outbox and its entry removed after delivery;
* msmtp: one process per message (``msmtp -t < message``), as mutt or git would call it;
* a bare smtplib loop: one connection, ``sendmail()`` per message, nothing written to disk.

Timed is the client side until the server accepted every message (Postfix delivers to Dovecot
afterwards, equally for all three). Run as root from the repository root:

    .venv/bin/python bench/send.py [N]
"""

from __future__ import annotations

import os
import shutil
import smtplib
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.mailstack import MailStack
from tmail.config.model import Account, ServerSettings
from tmail.core.models import Address
from tmail.mime.compose import Draft, compose
from tmail.outbox.service import flush_account, queue_message


def message(i: int, tag: str) -> Draft:
    return Draft(
        from_=Address("Алиса", "alice@example.test"),
        to=("bob@example.test",),
        subject=f"{tag} письмо номер {i}",
        body=("Привет, Боб! Это тестовое письмо.\n" * 20) + f"#{i}\n",
    )


def run_tmail(stack: MailStack, data_dir: Path, n: int) -> float:
    os.environ["TMAIL_BENCH_PW"] = "secret"
    out = ServerSettings(
        "smtp",
        stack.host,
        stack.ports.smtp,
        security="starttls",
        username="alice",
        password_env="TMAIL_BENCH_PW",
        ca_file=stack.ca_file,
    )
    inc = ServerSettings("imap", stack.host, stack.ports.imaps, ca_file=stack.ca_file)
    acc = Account("bench", "alice@example.test", inc, out, save_sent=False)
    for i in range(n):
        queue_message(data_dir, acc, compose(message(i, "tmail")))
    t0 = time.perf_counter()
    report = flush_account(data_dir, acc)
    elapsed = time.perf_counter() - t0
    bad = [o for o in report.outcomes if o.status != "delivered"]
    if bad or len(report.outcomes) != n:
        raise SystemExit(f"tmail: {len(bad)} not delivered: {bad[:1]}")
    return elapsed


def run_msmtp(stack: MailStack, work: Path, n: int) -> float:
    rc = work / "msmtprc"
    rc.write_text(
        "defaults\nauth on\ntls on\ntls_starttls on\n"
        f"tls_trust_file {stack.ca_file}\n"
        f"account bench\nhost {stack.host}\nport {stack.ports.smtp}\n"
        "from alice@example.test\nuser alice\npassword secret\naccount default : bench\n"
    )
    rc.chmod(0o600)
    msgs = [compose(message(i, "msmtp")).data for i in range(n)]
    t0 = time.perf_counter()
    for data in msgs:
        subprocess.run(["msmtp", "-C", str(rc), "-t"], input=data, check=True)
    return time.perf_counter() - t0


def run_smtplib(stack: MailStack, n: int) -> float:
    msgs = [compose(message(i, "smtplib")).data.replace(b"\n", b"\r\n") for i in range(n)]
    ctx = ssl.create_default_context(cafile=str(stack.ca_file))
    t0 = time.perf_counter()
    with smtplib.SMTP(stack.host, stack.ports.smtp, timeout=30) as s:
        s.starttls(context=ctx)
        s.login("alice", "secret")
        for data in msgs:
            s.sendmail("alice@example.test", ["bob@example.test"], data)
    return time.perf_counter() - t0


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    if not shutil.which("msmtp"):
        raise SystemExit("msmtp is not installed: run scripts/setup --bench")
    times: dict[str, list[float]] = {}
    root = Path(tempfile.mkdtemp(prefix="tmail-bench-send-"))
    os.chmod(root, 0o755)
    stack = MailStack.start(root / "stack")
    try:
        work = root / "work"
        work.mkdir()
        # Each run starts on a quiet server: Postfix has handed every earlier message to Dovecot
        # (otherwise the later runs compete with that delivery for the 2 cores).
        # tmail and the smtplib loop run twice, alternating (order effects show); the best of
        # each counts. msmtp, 40x slower, runs once.
        times = {"smtplib loop": [], "tmail flush": [], "msmtp": []}
        runs = (
            ("smtplib loop", lambda: run_smtplib(stack, n)),
            ("tmail flush", lambda: run_tmail(stack, work / "data", n)),
            ("tmail flush", lambda: run_tmail(stack, work / "data", n)),
            ("smtplib loop", lambda: run_smtplib(stack, n)),
            ("msmtp", lambda: run_msmtp(stack, work, n)),
        )
        for i, (name, fn) in enumerate(runs, 1):
            times[name].append(fn())
            if stack.wait_for("bob", i * n, timeout=600) < i * n:
                raise SystemExit(f"{name}: not every message reached the mailbox")
        results = {name: min(ts) for name, ts in times.items()}
    finally:
        stack.stop()
        shutil.rmtree(root, ignore_errors=True)
    print(f"{n} messages to the real Postfix (STARTTLS + AUTH), client time until accepted")
    for name, secs in results.items():
        each = ", ".join(f"{t:.2f}" for t in times[name])
        print(f"  {name:<14} {secs:7.2f} s  {n / secs:7.1f} msg/s   (runs: {each} s)")
    tm = results["tmail flush"]
    print(f"  msmtp / tmail        = {results['msmtp'] / tm:.2f}x (tmail faster when > 1)")
    print(f"  tmail / smtplib loop = {tm / results['smtplib loop']:.2f}x (goal <= 1.3)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
