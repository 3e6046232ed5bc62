"""The reader on a big folder, rendered off-terminal: first screen, key response, memory.

    .venv/bin/python bench/tui.py [DATA_DIR] [--count 100000]

Targets (issue 8): the first screen of a 100,000-message folder in under 0.5 s from start, every
key answered (handled and the screen rendered again) in under 50 ms, RSS under 200 MB.

DATA_DIR is made once with bench/gen_maildir.py and indexed by ``Store.open`` (this takes a while
at 100,000 messages); later runs reuse it. The measured run is a fresh Python process, so "from
start" includes importing tmail and urwid and opening the store. mutt is measured on the same
Maildir for the ratio (``mutt -f`` in tmux until its index shows, if mutt is installed).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KEYS = (
    ["j"] * 50
    + ["page down"] * 20
    + ["end", "home", "enter", "q", "tab", "F", "F", "N", "N"]
    + ["o", "f", "o", "z", "o", "s", "o", "d", "/"]  # sort by from, size, subject, date
)


def measure(data_dir: str) -> dict[str, object]:
    """Runs in the child: everything from imports to the first rendered screen."""
    t0 = time.perf_counter()
    from tmail.config.model import Account, Config, ServerSettings
    from tmail.runtime.backend import DemoBackend
    from tmail.store import Store
    from tmail.ui.main import build_app
    from tmail.ui.source import View

    server = ServerSettings(protocol="imap", host="localhost", port=0)
    acc = Account(name="bench", email="bench@example.org", incoming=server)
    config = Config(path=None, data_dir=Path(data_dir), poll_interval=0, accounts={"bench": acc})
    store = Store.open(data_dir)
    view = View(account="bench", folder="INBOX")
    app = build_app(config, store, DemoBackend(config, store), {}, poll=False, start_view=view)
    first = app.render_text(120, 40)
    t_first = time.perf_counter() - t0
    assert "INBOX" in first, first
    times: list[tuple[str, float]] = []
    for key in KEYS:
        t = time.perf_counter()
        app.press(key, size=(120, 40))
        if key == "/":
            app.press(*"budget", "enter", size=(120, 40))
        app.render_text(120, 40)
        times.append((key, time.perf_counter() - t))
    # thread view on the big folder: the toggle, then scrolling in it
    t = time.perf_counter()
    app.press("q", "t", size=(120, 40))
    app.render_text(120, 40)
    times.append(("t (threads on)", time.perf_counter() - t))
    for _ in range(20):
        t = time.perf_counter()
        app.press("page down", size=(120, 40))
        app.render_text(120, 40)
        times.append(("page down (threads)", time.perf_counter() - t))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    count = store.count("bench", "INBOX")
    ms = sorted(v * 1000 for _, v in times)
    worst = max(times, key=lambda kv: kv[1])
    by_key: dict[str, float] = {}
    for key, v in times:
        by_key[key] = max(by_key.get(key, 0.0), round(v * 1000, 1))
    return {
        "by_key_max_ms": by_key,
        "messages": count,
        "first_screen_s": round(t_first, 3),
        "key_median_ms": round(ms[len(ms) // 2], 1),
        "key_p95_ms": round(ms[int(len(ms) * 0.95)], 1),
        "key_max_ms": round(worst[1] * 1000, 1),
        "key_max_which": worst[0],
        "keys": len(times),
        "rss_mb": round(rss, 1),
    }


def prepare(data_dir: Path, count: int) -> None:
    if (data_dir / "index.sqlite3").exists():
        return
    sys.path.insert(0, str(ROOT / "bench"))
    from gen_maildir import generate

    t = time.monotonic()
    generate(data_dir, count)
    print(f"generated {count} messages in {time.monotonic() - t:.0f}s", flush=True)
    from tmail.store import Store

    t = time.monotonic()
    with Store.open(data_dir):
        pass
    print(f"indexed in {time.monotonic() - t:.0f}s", flush=True)


def mutt_first_screen(data_dir: Path) -> float | None:
    """Seconds until mutt shows its index of the same Maildir (in tmux), or None."""
    mutt = shutil.which("neomutt") or shutil.which("mutt")
    if not mutt or not shutil.which("tmux"):
        return None
    folder = data_dir / "mail" / "bench" / "INBOX"
    sock = f"tui-bench-{os.getpid()}"
    home = tempfile.mkdtemp(prefix="tui-bench-home-")
    env = {**os.environ, "LANG": "C.UTF-8", "TERM": "xterm-256color", "HOME": home}
    t = time.monotonic()
    subprocess.run(
        ["tmux", "-L", sock, "new", "-d", "-x", "120", "-y", "40",
         f"{mutt} -n -F /dev/null -e 'set folder={folder.parent}' -R -f {folder}"],
        env=env, check=True,
    )  # fmt: skip
    try:
        while time.monotonic() - t < 600:
            out = subprocess.run(
                ["tmux", "-L", sock, "capture-pane", "-p"], capture_output=True, text=True, env=env
            ).stdout
            lines = [ln for ln in out.splitlines() if ln.strip()]
            if ("Msgs:" in out or "q:Quit" in out) and len(lines) > 5:
                return time.monotonic() - t
            time.sleep(0.05)
        return None
    finally:
        subprocess.run(["tmux", "-L", sock, "kill-server"], env=env, capture_output=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "data_dir", nargs="?", type=Path, default=Path(tempfile.gettempdir()) / "tmail-bench-tui"
    )
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--no-mutt", action="store_true")
    a = ap.parse_args()
    if a.child:
        print(json.dumps(measure(str(a.data_dir))))
        return
    prepare(a.data_dir, a.count)
    runs = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, __file__, str(a.data_dir), "--child"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        runs.append(json.loads(out.strip().splitlines()[-1]))
    best = min(runs, key=lambda r: float(r["first_screen_s"]))  # type: ignore[arg-type]
    print(json.dumps(best, indent=1))
    for r in runs:
        print(
            f"first screen {r['first_screen_s']} s, keys median {r['key_median_ms']} ms, "
            f"p95 {r['key_p95_ms']} ms, max {r['key_max_ms']} ms ({r['key_max_which']}), "
            f"RSS {r['rss_mb']} MB"
        )
    if not a.no_mutt:
        m = mutt_first_screen(a.data_dir)
        if m is not None:
            ratio = m / float(best["first_screen_s"])  # type: ignore[arg-type]
            print(f"mutt: first screen {m:.2f} s (tmail is {ratio:.1f}x faster)")
        else:
            print("mutt: not measured (mutt or tmux missing, or its index never showed)")


if __name__ == "__main__":
    main()
