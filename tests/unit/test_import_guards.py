"""The libraries that belong to one floor are banned on the others (ruff's banned-api, TID251).

pyproject.toml bans them all; each floor that may use one has a ``.ruff.toml`` repeating the
table without it (ruff takes the nearest config's table whole). These tests hold the copies in
step and ask the real ruff whether a stray import in the wrong place fails ``ruff check``.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

THREADS = {"threading", "threading.Thread", "threading.Timer"}
THREADS |= {"concurrent.futures.ThreadPoolExecutor"}
# each floor's own libraries: what its .ruff.toml leaves out of the root table
FLOORS: dict[str, set[str]] = {
    "tmail/runtime": THREADS,
    "tmail/store": {"sqlite3", "threading"},  # per-thread connections and a lock, no thread
    "tmail/protocols": {"smtplib", "poplib", "imapclient"},
    "tmail/ui": {"urwid"},
    "tests": THREADS | {"sqlite3", "smtplib", "poplib", "imapclient", "urwid"},
    "bench": THREADS | {"sqlite3", "smtplib", "poplib", "imapclient", "urwid"},
}


def banned(config: Path, table: str) -> dict[str, object]:
    data = tomllib.loads(config.read_text())
    for key in table.split("."):
        data = data[key]
    return data


def root_bans() -> dict[str, object]:
    return banned(ROOT / "pyproject.toml", "tool.ruff.lint.flake8-tidy-imports.banned-api")


@pytest.mark.parametrize("floor", sorted(FLOORS))
def test_each_floor_repeats_the_root_bans_but_its_own(floor: str) -> None:
    config = ROOT / floor / ".ruff.toml"
    data = tomllib.loads(config.read_text())
    assert (config.parent / data["extend"]).resolve() == ROOT / "pyproject.toml"
    assert FLOORS[floor] <= set(root_bans())
    expected = {k: v for k, v in root_bans().items() if k not in FLOORS[floor]}
    assert banned(config, "lint.flake8-tidy-imports.banned-api") == expected


def ruff_findings(source: str, path: str) -> str:
    """What ``ruff check`` says about ``source`` as if it were the file ``path``."""
    args = ["check", "--no-cache", "--select", "TID251", "--output-format", "concise"]
    done = subprocess.run(
        [sys.executable, "-m", "ruff", *args, "--stdin-filename", path, "-"],
        input=source,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    return done.stdout if done.returncode else ""


CASES = [
    # (source, banned name, where it is refused, where it is allowed)
    ("import threading\n", "threading", ["tmail/sync", "tmail/ui", "tmail/cli/commands"],
     ["tmail/runtime", "tmail/store", "tests/support"]),
    ("from threading import Thread\n", "threading.Thread", ["tmail/store", "tmail/protocols"],
     ["tmail/runtime"]),
    ("import concurrent.futures\nconcurrent.futures.ThreadPoolExecutor()\n",
     "concurrent.futures.ThreadPoolExecutor", ["tmail/sync", "tmail/store"], ["tmail/runtime"]),
    ("import sqlite3\n", "sqlite3", ["tmail/sync", "tmail/runtime", "tmail/ui"],
     ["tmail/store", "tests/unit"]),
    ("import smtplib\n", "smtplib", ["tmail/outbox", "tmail/runtime"], ["tmail/protocols"]),
    ("import poplib\n", "poplib", ["tmail/sync", "tmail/store"], ["tmail/protocols"]),
    ("import imapclient\n", "imapclient", ["tmail/sync", "tmail/runtime"], ["tmail/protocols"]),
    ("from imapclient.exceptions import IMAPClientError\n", "imapclient", ["tmail/sync"],
     ["tmail/protocols", "tests/integration"]),
    ("import urwid\n", "urwid", ["tmail/runtime", "tmail/cli", "tmail/core"],
     ["tmail/ui", "tests/tui"]),
    ("import ssl\nssl._create_unverified_context()\n", "ssl._create_unverified_context",
     ["tmail/protocols", "tmail/sync", "tests/integration", "bench"], []),
]  # fmt: skip


@pytest.mark.parametrize(("source", "name", "refused", "allowed"), CASES)
def test_a_library_is_refused_off_its_floor(
    source: str, name: str, refused: list[str], allowed: list[str]
) -> None:
    for folder in refused:
        said = ruff_findings(source, f"{folder}/stray.py")
        assert f"TID251 `{name}` is banned" in said, folder
    for folder in allowed:
        assert ruff_findings(source, f"{folder}/stray.py") == "", folder
