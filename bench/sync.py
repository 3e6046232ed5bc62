"""Benchmark: tmail sync against mbsync (IMAPS) and getmail6 / fetchmail (POP3S), one run.

Starts its own Dovecot (tests.support.mailstack; needs root), fills an INBOX with N messages of
realistic sizes (log-normal around 4 kB, a few with 100 kB-1 MB attachments), then measures:

1. initial IMAPS download of the INBOX: tmail vs mbsync (wall time, peak RSS);
2. no-change resync of a 10-folder account: tmail vs mbsync (median of --resyncs runs each);
3. POP3S download of the same INBOX: tmail vs getmail6 vs fetchmail.

Usage: .venv/bin/python bench/sync.py [--messages 10000]
"""

from __future__ import annotations

import argparse
import os
import poplib
import random
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.mailstack import MailStack  # noqa: E402
from tests.support.sessions import message, write_config  # noqa: E402

TMAIL = [str(ROOT / ".venv/bin/tmail")]


def corpus(n: int, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        size = int(min(rng.lognormvariate(8.3, 0.9), 60_000))  # median ~4 kB
        if rng.random() < 0.03:
            size = rng.randint(100_000, 1_000_000)  # an attachment
        out.append(message(f"bench {i}", size=size))
    return out


def tmail_env(config: Path) -> dict[str, str]:
    """tmail's environment: its config, and byte-code caching on as in any installed Python
    program (this machine's agents set PYTHONDONTWRITEBYTECODE, which made every start compile
    tmail's modules again: 0.15 s of the resync). tmail's modules are compiled once up front."""
    env = dict(os.environ, TMAIL_CONFIG=str(config))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "tmail")], check=True)
    return env


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (kB) of one command, via /usr/bin/time; (nan, 0) on failure."""
    t0 = time.perf_counter()
    res = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *cmd],
        env=env,
        capture_output=True,
        check=False,
    )
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        sys.stderr.write(res.stdout.decode(errors="replace")[-2000:])
        sys.stderr.write(res.stderr.decode(errors="replace")[-2000:])
        print(f"  FAILED: {cmd[0]} (exit {res.returncode})", flush=True)
        return float("nan"), 0
    rss = int(res.stderr.decode().strip().splitlines()[-1])
    return wall, rss


def mbsync_config(stack: MailStack, user: str, pw: str, local: Path, path: Path) -> None:
    path.write_text(f"""\
IMAPAccount bench
Host localhost
Port {stack.ports.imaps}
User {user}
Pass {pw}
SSLType IMAPS
CertificateFile {stack.ca_file}
PipelineDepth 50

IMAPStore bench-remote
Account bench

MaildirStore bench-local
Path {local}/
Inbox {local}/INBOX
SubFolders Verbatim

Channel bench
Far :bench-remote:
Near :bench-local:
Patterns *
Create Near
Sync Pull
SyncState *
""")


def getmail_config(stack: MailStack, user: str, pw: str, local: Path, path: Path) -> None:
    for sub in ("cur", "new", "tmp"):
        (local / sub).mkdir(parents=True, exist_ok=True)
    # getmail refuses to deliver as root: its Maildir destination switches to vmail.
    subprocess.run(["chown", "-R", "vmail", str(local)], check=True)
    path.write_text(f"""\
[retriever]
type = SimplePOP3SSLRetriever
server = {stack.host}
port = {stack.ports.pop3s}
username = {user}
password = {pw}
ca_certs = {stack.ca_file}

[destination]
type = Maildir
path = {local}/
user = vmail

[options]
read_all = false
delete = false
verbose = 0
""")


def warm_up(stack: MailStack, user: str, pw: str) -> None:
    """Read every message file once and let Dovecot compute POP3 sizes and UIDLs, so that no
    tool pays for a cold page cache or a cold server cache just for being timed first."""
    for f in stack.maildir(user).rglob("*"):
        if f.is_file() and f.parent.name in ("cur", "new"):
            f.read_bytes()
    ctx = ssl.create_default_context(cafile=str(stack.ca_file))
    pop = poplib.POP3_SSL(stack.host, stack.ports.pop3s, context=ctx, timeout=300)
    pop.user(user)
    pop.pass_(pw)
    pop.stat()
    pop.uidl()
    pop.quit()


def bench_imap(args: argparse.Namespace, stack: MailStack, user: str, pw: str, work: Path) -> None:
    """IMAPS initial download and no-change resync: tmail vs mbsync."""
    tcfg = write_config(work / "tmail-imap", stack, user, pw, protocol="imap")
    env = tmail_env(tcfg)
    t_init = t_re = float("nan")
    t_rss = 0
    t_res: list[float] = [float("nan")]
    if not args.skip_tmail:
        t_init, t_rss = timed([*TMAIL, "sync", "--quiet"], env)
        t_res = [timed([*TMAIL, "sync", "--quiet"], env)[0] for _ in range(args.resyncs)]
    mcfg = work / "mbsyncrc"
    (work / "mb").mkdir()
    mbsync_config(stack, user, pw, work / "mb", mcfg)
    m_init, m_rss = timed(["mbsync", "-q", "-c", str(mcfg), "-a"])
    m_res = [timed(["mbsync", "-q", "-c", str(mcfg), "-a"])[0] for _ in range(args.resyncs)]
    t_re, m_re = statistics.median(t_res), statistics.median(m_res)
    print(f"\nIMAPS, all {args.folders} folders (INBOX + {args.folders - 1} x 50 messages)")
    print(f"  initial  tmail  {t_init:6.2f} s  {t_rss / 1024:5.0f} MB RSS")
    print(f"           mbsync {m_init:6.2f} s  {m_rss / 1024:5.0f} MB RSS")
    print(f"           ratio tmail/mbsync {t_init / m_init:.2f}")
    print(f"  resync   tmail {t_re:.3f} s  mbsync {m_re:6.3f} s   ratio {t_re / m_re:.2f} (median)")
    print("           tmail runs  " + " ".join(f"{t:.3f}" for t in t_res))
    print("           mbsync runs " + " ".join(f"{t:.3f}" for t in m_res))
    sys.stdout.flush()


def bench_pop3(args: argparse.Namespace, stack: MailStack, user: str, pw: str, work: Path) -> None:
    """POP3S download of the INBOX: tmail vs getmail6 vs fetchmail (all leave the mail there)."""
    pcfg = write_config(work / "tmail-pop", stack, user, pw, protocol="pop3")
    env = tmail_env(pcfg)
    p_t, p_rss = (float("nan"), 0) if args.skip_tmail else timed([*TMAIL, "sync", "--quiet"], env)
    print("\nPOP3S download of the INBOX")
    print(f"  tmail     {p_t:6.2f} s  {p_rss / 1024:5.0f} MB RSS", flush=True)
    fm = work / "fetchmail.bsmtp"
    pwfile = work / "fetchmailrc"
    pwfile.write_text(f'poll localhost password "{pw}"\n')
    os.chmod(pwfile, 0o600)
    fm_cmd = [
        "fetchmail", "--fetchmailrc", str(pwfile), "-p", "POP3", "-P", str(stack.ports.pop3s),
        "--ssl", "--sslcertck", "--sslcertfile", str(stack.ca_file), "-u", user, "--all",
        "--keep", "--bsmtp", str(fm), "--idfile", str(work / "fm.ids"), "localhost",
    ]  # fmt: skip
    f_t, f_rss = timed(fm_cmd, dict(os.environ, FETCHMAILHOME=str(work)))
    print(
        f"  fetchmail {f_t:6.2f} s  {f_rss / 1024:5.0f} MB RSS   ratio {p_t / f_t:.2f}", flush=True
    )
    gcfg = work / "getmailrc"
    getmail_config(stack, user, pw, work / "gm", gcfg)
    getmail = ["/usr/bin/python3", str(ROOT / "bench/getmail_norace.py")]  # see that file
    g_t, g_rss = timed([*getmail, "--rcfile", str(gcfg), "--getmaildir", str(work), "-q"])
    print(
        f"  getmail6  {g_t:6.2f} s  {g_rss / 1024:5.0f} MB RSS   ratio {p_t / g_t:.2f}", flush=True
    )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--folders", type=int, default=10)
    ap.add_argument("--resyncs", type=int, default=5, help="no-change resyncs (median shown)")
    ap.add_argument("--skip-tmail", action="store_true", help="only the other tools (debugging)")
    ap.add_argument("--only", choices=["imap", "pop3"], help="run one half only")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tmail-bench-"))
    os.chmod(work, 0o755)
    stack = MailStack.start(work / "stack")
    try:
        user, pw = "bench", "bench-pw"
        stack.add_user(user, pw)
        msgs = corpus(args.messages)
        total_bytes = sum(map(len, msgs))
        stack.bulk_save(user, msgs)
        # A 10-folder account for the resync: INBOX + 9 small folders.
        for i in range(1, args.folders):
            stack.bulk_save(user, corpus(50, seed=i), mailbox=f"Folder{i}")
        stack.message_count(user)  # let Dovecot index the INBOX before anyone times it
        warm_up(stack, user, pw)
        print(
            f"{args.messages} messages, {total_bytes / 1e6:.1f} MB in INBOX; "
            f"{args.folders} folders; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
            flush=True,
        )

        if args.only != "pop3":
            bench_imap(args, stack, user, pw, work)
        if args.only != "imap":
            bench_pop3(args, stack, user, pw, work)
    finally:
        stack.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
