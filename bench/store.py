"""The store's benchmarks side by side with notmuch, on one generated Maildir, in one run.

    .venv/bin/python bench/gen_maildir.py /tmp/b100k --count 100000     # once (~1.5 GB)
    .venv/bin/python bench/store.py /tmp/b100k [--runs 20] [--rounds 3] [--skip-index]

Measures, for tmail and ``notmuch`` (Debian package) on the same files:
- indexing every message from scratch: ``tmail reindex`` vs ``notmuch new``;
- search latency, process start included: a word, a ``from:`` query and a combined query
  (hyperfine medians, ``--limit 50`` for both), in alternating rounds (issue 13's goal: at most
  1.5x notmuch on 2,000 messages, faster than notmuch on 100,000); every round's ratio printed;
- ``tmail list --limit 50`` on the 100k folder (and ``notmuch search --limit=50`` for scale);
- peak RSS of each command (``/usr/bin/time -f %M``).
Prints a Markdown table for docs/benchmarks.md. The page cache is warmed first (both tools read
the same files); bytecode is compiled first, as ``pip install`` does. hyperfine is a Debian
package (``apt-get install hyperfine``, or ``scripts/setup --bench``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
# tmail as an installed package runs it: the venv's interpreter without the editable install's
# import hook (python -S: no site, no .pth processing), the source tree on sys.path.
LAUNCHER = ROOT / "bench" / "results" / "tmail-installed"


TMAIL = str(ROOT / ".venv" / "bin" / "tmail")


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in MB and stdout of one run."""
    start = time.monotonic()
    res = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *cmd], env=env, capture_output=True, text=True
    )
    wall = time.monotonic() - start
    if res.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed: {res.stderr}")
    rss_kb = int(res.stderr.strip().splitlines()[-1])
    return wall, rss_kb // 1024, res.stdout


def hyperfine(cmds: dict[str, list[str]], env: dict[str, str], runs: int) -> dict[str, float]:
    """Median wall seconds of each command (hyperfine, no shell, 3 warm-ups)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        args = ["hyperfine", "-N", "--warmup", "3", "--runs", str(runs), "-i"]
        args += ["--export-json", out.name]
        for name, cmd in cmds.items():
            args += ["-n", name, " ".join(_quote(c) for c in cmd)]
        subprocess.run(args, env=env, check=True, capture_output=True)
        data = json.loads(Path(out.name).read_text())
    return {r["command"]: float(r["median"]) for r in data["results"]}


def _quote(arg: str) -> str:
    return "'" + arg.replace("'", "'\\''") + "'" if any(c in arg for c in " ()'\"") else arg


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--skip-index", action="store_true", help="reuse both existing indexes")
    ap.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="hyperfine rounds, the order of the commands reversed every other round (default 3)",
    )
    a = ap.parse_args()
    for tool in ("hyperfine", "notmuch"):
        if not shutil.which(tool):
            raise SystemExit(
                f"{tool} is not installed: apt-get install {tool} (scripts/setup --bench)"
            )
    data: Path = a.data_dir.resolve()
    mail = data / "mail"
    folder = mail / "bench" / "INBOX"
    count = len(os.listdir(folder / "cur")) + len(os.listdir(folder / "new"))
    nm_config = data / "notmuch-config"
    nm_config.write_text(
        f"[database]\npath={mail}\n[user]\nname=Bench\nprimary_email=bench@example.com\n"
        "[new]\ntags=unread;inbox;\n[search]\nexclude_tags=\n[maildir]\nsynchronize_flags=true\n"
    )
    LAUNCHER.parent.mkdir(parents=True, exist_ok=True)
    LAUNCHER.write_text(
        f"#!{PYTHON} -S\nimport sys\nsys.path.insert(0, {str(ROOT)!r})\n"
        "from tmail.cli import main\nsys.exit(main())\n"
    )
    LAUNCHER.chmod(0o755)
    global TMAIL
    TMAIL = str(LAUNCHER)
    env = dict(os.environ, TMAIL_DATA_DIR=str(data), NOTMUCH_CONFIG=str(nm_config))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(ROOT / "tmail")], check=True)
    print(f"# {count} messages in {folder}", flush=True)
    print("warming the page cache ...", flush=True)
    subprocess.run(
        [
            "sh",
            "-c",
            f"cat {folder}/cur/* {folder}/new/* > /dev/null 2>&1 || "
            f"find {folder} -type f -exec cat {{}} + > /dev/null",
        ],
        check=False,
    )
    rows: list[tuple[str, str, str, str]] = []
    if not a.skip_index:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{data}/index.sqlite3{suffix}").unlink(missing_ok=True)
        shutil.rmtree(mail / ".notmuch", ignore_errors=True)
        print("tmail reindex ...", flush=True)
        # The parser needs the venv's packages (html2text, charset-normalizer): the venv's tmail.
        t_wall, t_rss, _ = timed([str(ROOT / ".venv" / "bin" / "tmail"), "reindex", "-q"], env)
        print(f"  {t_wall:.1f}s, {t_rss} MB", flush=True)
        print("notmuch new ...", flush=True)
        n_wall, n_rss, _ = timed(["notmuch", "new", "--quiet"], env)
        print(f"  {n_wall:.1f}s, {n_rss} MB", flush=True)
        rows.append(
            (
                f"index {count} messages (tmail reindex / notmuch new)",
                f"{t_wall:.1f} s, {t_rss} MB",
                f"{n_wall:.1f} s, {n_rss} MB",
                f"{t_wall / n_wall:.2f}",
            )
        )
    # A sender with many messages, for from: queries.
    out = subprocess.run(
        [TMAIL, "search", "--json", "--limit", "200", "budget"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    senders: dict[str, int] = {}
    for r in json.loads(out):
        for f in r["from"]:
            senders[f["addr"]] = senders.get(f["addr"], 0) + 1
    sender = max(senders, key=lambda k: senders[k])
    queries = {
        "word": (["budget"], ["budget"]),
        "from:": ([f"from:{sender}"], [f"from:{sender}"]),
        "combined": (
            ["(budget OR invoice) from:smith is:unread"],
            ["(budget or invoice) and from:smith and tag:unread"],
        ),
        "cyrillic": (["отчет"], ["отчёт"]),
    }
    cmds: dict[str, list[str]] = {"python -c pass": [PYTHON, "-S", "-c", "pass"]}
    for name, (tq, nq) in queries.items():
        cmds[f"tmail {name}"] = [TMAIL, "search", "--limit", "50", *tq]
        cmds[f"notmuch {name}"] = ["notmuch", "search", "--limit=50", *nq]
    cmds["tmail list"] = [TMAIL, "list", "--limit", "50", "--account", "bench"]
    cmds["notmuch list"] = ["notmuch", "search", "--limit=50", "--sort=newest-first", "tag:inbox"]
    print("search and list latency (hyperfine) ...", flush=True)
    # Alternating rounds: on a shared machine the load drifts; each round's ratio is printed.
    per_round: list[dict[str, float]] = []
    for r in range(a.rounds):
        order = dict(reversed(list(cmds.items()))) if r % 2 else cmds
        per_round.append(hyperfine(order, env, a.runs))
    med = {name: statistics.median(m[name] for m in per_round) for name in cmds}
    for name, (tq, nq) in queries.items():
        t_hits = subprocess.run(
            [TMAIL, "search", "--count", *tq], env=env, capture_output=True, text=True
        ).stdout.strip()
        n_hits = subprocess.run(
            ["notmuch", "count", *nq], env=env, capture_output=True, text=True
        ).stdout.strip()
        _, t_rss, _ = timed(cmds[f"tmail {name}"], env)
        _, n_rss, _ = timed(cmds[f"notmuch {name}"], env)
        t, n = med[f"tmail {name}"], med[f"notmuch {name}"]
        rounds = ", ".join(
            f"{m[f'tmail {name}'] * 1000:.0f}/{m[f'notmuch {name}'] * 1000:.0f} ms = "
            f"{m[f'tmail {name}'] / m[f'notmuch {name}']:.2f}"
            for m in per_round
        )
        rows.append(
            (
                f"search {name} `{' '.join(tq)}` ({t_hits} / {n_hits} hits)",
                f"{t * 1000:.0f} ms, {t_rss} MB",
                f"{n * 1000:.0f} ms, {n_rss} MB",
                f"{t / n:.2f} (rounds: {rounds})",
            )
        )
    _, t_rss, _ = timed(cmds["tmail list"], env)
    _, n_rss, _ = timed(cmds["notmuch list"], env)
    t, n = med["tmail list"], med["notmuch list"]
    rows.append(
        (
            "`tmail list --limit 50` (notmuch: newest 50 of tag:inbox)",
            f"{t * 1000:.0f} ms, {t_rss} MB",
            f"{n * 1000:.0f} ms, {n_rss} MB",
            f"{t / n:.2f}",
        )
    )
    rows.append(
        (
            "baseline: `python -c pass` (this machine's load)",
            f"{med['python -c pass'] * 1000:.0f} ms",
            "",
            "",
        )
    )
    print()
    print("| measure | tmail | notmuch | ratio tmail/notmuch |")
    print("| --- | --- | --- | --- |")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print(
        f"\nsender used for from: {sender}; python {sys.version.split()[0]}; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )


if __name__ == "__main__":
    main()
