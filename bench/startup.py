"""Start-up (issue 13, item 1): each command's whole process against a bare interpreter.

    .venv/bin/python bench/gen_maildir.py /tmp/b2k --count 2000      # once
    .venv/bin/python bench/startup.py /tmp/b2k [--runs 20] [--rounds 3]

Times, with hyperfine (Debian package: ``apt-get install hyperfine`` or ``scripts/setup
--bench``), ``python -S -c pass`` (the bare interpreter), ``tmail --version``, ``tmail list
--limit 50``, ``tmail search --limit 50 budget`` and ``tmail show FILE`` on a message of the
Maildir, each as a fresh process on an index in step (``tmail reindex`` first when there is none).
tmail runs as an installed program would: the venv's interpreter without site (no editable-install
hook), the source tree on sys.path, byte code compiled. Prints each command's median, its time
over the bare interpreter (goal: at most about 25 ms for a command that touches no network) and
every round (the order of the commands is reversed every other round: the machine is shared).
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
LAUNCHER = ROOT / "bench" / "results" / "tmail-installed"
GOAL_MS = 25.0


def hyperfine(cmds: dict[str, str], env: dict[str, str], runs: int) -> dict[str, float]:
    """Median wall seconds of each command (no shell, 3 warm-ups)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        args = ["hyperfine", "-N", "--warmup", "3", "--runs", str(runs), "-i"]
        args += ["--export-json", out.name]
        for name, cmd in cmds.items():
            args += ["-n", name, cmd]
        subprocess.run(args, env=env, check=True, capture_output=True)
        data = json.loads(Path(out.name).read_text())
    return {r["command"]: float(r["median"]) for r in data["results"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir", type=Path, help="made by bench/gen_maildir.py")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    if not shutil.which("hyperfine"):
        raise SystemExit("hyperfine is not installed: apt-get install hyperfine")
    data: Path = a.data_dir.resolve()
    LAUNCHER.parent.mkdir(parents=True, exist_ok=True)
    LAUNCHER.write_text(
        f"#!{PYTHON} -S\nimport sys\nsys.path.insert(0, {str(ROOT)!r})\n"
        "from tmail.cli import main\nsys.exit(main())\n"
    )
    LAUNCHER.chmod(0o755)
    env = dict(os.environ, TMAIL_DATA_DIR=str(data))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(ROOT / "tmail")], check=True)
    if not (data / "index.sqlite3").exists():
        subprocess.run(
            [str(ROOT / ".venv" / "bin" / "tmail"), "reindex", "-q"], env=env, check=True
        )
    one = next((data / "mail" / "bench" / "INBOX" / "cur").iterdir())
    t = str(LAUNCHER)
    cmds = {
        "bare: python -S -c pass": f"{PYTHON} -S -c pass",
        "tmail --version": f"{t} --version",
        "tmail list --limit 50": f"{t} list --limit 50",
        "tmail search --limit 50 budget": f"{t} search --limit 50 budget",
        "tmail show FILE": f"{t} show {one}",
    }
    rounds = []
    for r in range(a.rounds):
        order = dict(reversed(list(cmds.items()))) if r % 2 else cmds
        rounds.append(hyperfine(order, env, a.runs))
    bare = statistics.median(m["bare: python -S -c pass"] for m in rounds)
    print(f"\n| command | median | over the bare interpreter (goal <= {GOAL_MS:.0f} ms) | rounds |")
    print("| --- | --- | --- | --- |")
    for name in cmds:
        med = statistics.median(m[name] for m in rounds)
        each = ", ".join(f"{m[name] * 1000:.1f}" for m in rounds)
        over = "" if name.startswith("bare") else f"{(med - bare) * 1000:+.1f} ms"
        print(f"| `{name}` | {med * 1000:.1f} ms | {over} | {each} ms |")
    print(
        f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; python {sys.version.split()[0]}; "
        f"load {os.getloadavg()[0]:.2f} at the end"
    )


if __name__ == "__main__":
    main()
