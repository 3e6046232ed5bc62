"""Sending benchmark (issue 7): N queued messages flushed to the real Postfix.

Side by side in one run, all over STARTTLS + AUTH to the same Postfix submission port:

* tmail: N messages composed and queued (not timed), then ``flush`` (timed): one connection,
  PIPELINING, SIZE, each message read from the outbox and its entry removed after delivery;
* msmtp: one process per message (``msmtp -t < message``), as mutt or git would call it;
* a bare smtplib loop: one connection, ``sendmail()`` per message, nothing written to disk.

Timed is the client side until the server accepted every message (Postfix delivers to Dovecot
afterwards, equally for all three). Run as root from the repository root:

    .venv/bin/python bench/send.py [N ...] [--runs 3] [--msmtp]     (default: 200 and 500)
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import smtplib
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
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
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("counts", nargs="*", type=int, default=[200, 500], help="messages per run")
    ap.add_argument("--runs", type=int, default=3, help="alternating runs of each (default 3)")
    ap.add_argument("--msmtp", action="store_true", help="also msmtp, once (slow: 0.2 s a message)")
    a = ap.parse_args()
    if a.msmtp and not shutil.which("msmtp"):
        raise SystemExit("msmtp is not installed: run scripts/setup --bench")
    root = Path(tempfile.mkdtemp(prefix="tmail-bench-send-"))
    os.chmod(root, 0o755)
    stack = MailStack.start(root / "stack")
    report: list[str] = []
    try:
        work = root / "work"
        work.mkdir()
        delivered = 0
        for n in a.counts:
            # Each run starts on a quiet server: Postfix has handed every earlier message to
            # Dovecot (otherwise the later runs compete with that delivery for the 2 cores).
            # tmail and the smtplib loop alternate, the loop first in odd rounds and second in
            # even ones (order effects show); every run is printed, the ratio of each round too.
            times: dict[str, list[float]] = {"smtplib loop": [], "tmail flush": []}
            rounds: list[tuple[str, Callable[[], float]]] = []
            for r in range(a.runs):
                pair: list[tuple[str, Callable[[], float]]] = [
                    ("smtplib loop", functools.partial(run_smtplib, stack, n)),
                    ("tmail flush", functools.partial(run_tmail, stack, work / "data", n)),
                ]
                rounds += pair if r % 2 == 0 else pair[::-1]
            if a.msmtp:
                times["msmtp"] = []
                rounds.append(("msmtp", functools.partial(run_msmtp, stack, work, n)))
            for name, fn in rounds:
                times[name].append(fn())
                delivered += n
                if stack.wait_for("bob", delivered, timeout=600) < delivered:
                    raise SystemExit(f"{name}: not every message reached the mailbox")
            loop, tm = times["smtplib loop"], times["tmail flush"]
            report.append(
                f"{n} messages to the real Postfix (STARTTLS + AUTH), client time until accepted"
            )
            for name, ts in times.items():
                each = ", ".join(f"{t:.2f}" for t in ts)
                best = min(ts)
                report.append(
                    f"  {name:<14} best {best:6.2f} s  median {statistics.median(ts):6.2f} s  "
                    f"{n / best:6.1f} msg/s   (runs: {each} s)"
                )
            pairs = ", ".join(f"{t / s:.2f}" for t, s in zip(tm, loop, strict=True))
            report.append(
                f"  tmail / smtplib loop: best {min(tm) / min(loop):.2f}x, "
                f"median {statistics.median(tm) / statistics.median(loop):.2f}x, "
                f"each round {pairs} (goal <= 1.1)"
            )
            if a.msmtp:
                report.append(f"  msmtp / tmail = {times['msmtp'][0] / min(tm):.2f}x (goal > 1)")
    finally:
        stack.stop()
        shutil.rmtree(root, ignore_errors=True)
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
