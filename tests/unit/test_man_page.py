"""man/tmail.1 as groff reads it: sections that hold what they should."""

from __future__ import annotations

from pathlib import Path

MAN = Path(__file__).resolve().parents[2] / "man" / "tmail.1"


def section(name: str) -> list[str]:
    lines = MAN.read_text().splitlines()
    start = lines.index(f".SH {name}") + 1
    end = next(i for i in range(start, len(lines)) if lines[i].startswith(".SH "))
    return lines[start:end]


def test_each_file_in_files_is_an_entry_of_its_own() -> None:
    # A path line not opened by .TP runs into the description of the entry before it.
    lines = section("FILES")
    paths = [i for i, line in enumerate(lines) if line.startswith(".I $XDG")]
    assert len(paths) >= 5
    for i in paths:
        assert lines[i - 1] == ".TP", lines[i]
