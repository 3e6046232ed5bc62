"""Sorting a big folder: the first page by date, from, subject and size, both directions.

    .venv/bin/python bench/sort.py DATA_DIR [--runs 5]

DATA_DIR holds a store made with bench/gen_maildir.py and indexed (bench/tui.py makes one). Prints
the time of ``Store.open`` (which applies pending migrations, so the first run after an upgrade
shows what building the sort indexes costs), then for each order the best of ``--runs`` reads of
the first page (100 rows, what the reader asks for) and one read of a page 5,000 rows down.
Target (issue 8): the reader's sort key answers in under 50 ms, so a page must take well under it.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--account", default="bench")
    ap.add_argument("--folder", default="INBOX")
    a = ap.parse_args()
    from tmail.store import Store

    print(f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, load {os.getloadavg()}")
    t = time.perf_counter()
    store = Store.open(a.data_dir)
    print(f"Store.open (migrations included): {(time.perf_counter() - t) * 1000:.0f} ms")
    version = store.db.execute("PRAGMA user_version").fetchone()[0]
    print(f"schema version {version}, {store.count(a.account, a.folder)} messages in the folder")
    print("| order | first page (100 rows), best of runs | page at row 5,000 |")
    print("| --- | --- | --- |")
    for key in ("date", "from", "subject", "size"):
        for reverse in (True, False):
            best = float("inf")
            for _ in range(a.runs):
                t = time.perf_counter()
                store.list_messages(a.account, a.folder, sort=key, reverse=reverse, limit=100)  # type: ignore[arg-type]
                best = min(best, time.perf_counter() - t)
            t = time.perf_counter()
            store.list_messages(
                a.account,
                a.folder,
                sort=key,
                reverse=reverse,
                offset=5000,
                limit=100,  # type: ignore[arg-type]
            )
            deep = time.perf_counter() - t
            way = "descending" if reverse else "ascending"
            print(f"| {key} {way} | {best * 1000:.1f} ms | {deep * 1000:.1f} ms |")
    store.close()


if __name__ == "__main__":
    main()
