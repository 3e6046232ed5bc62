"""Finding text inside the message on screen (``/``, ``n``, ``N`` in the pager).

Every occurrence is a match, several on one line too; ``n`` goes to the next, ``N`` to the
previous, both wrapping round at the ends (as less and mutt's pager do, saying so). Only the
current match is highlighted, laid over the line's own colours so that quotes and links keep
theirs around it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from urwid.util import decompose_tagmarkup

Markup = object  # urwid text markup: a string, (attr, markup) or a list of them


@dataclass(frozen=True)
class Match:
    line: int  # index of the line in the pager
    start: int  # character offsets in the line's plain text
    end: int


@dataclass(frozen=True)
class Found:
    match: Match
    number: int  # 1-based, of total
    total: int
    wrapped: bool  # went round the end (or the start, going back)


def find_all(lines: Sequence[str], query: str) -> list[Match]:
    """Every occurrence of ``query`` in ``lines``, case-insensitively, in reading order."""
    if not query:
        return []
    pattern = re.compile(re.escape(query), re.IGNORECASE)
    return [
        Match(i, m.start(), m.end())
        for i, line in enumerate(lines)
        for m in pattern.finditer(line)
        if m.end() > m.start()
    ]


def highlight(markup: Markup, start: int, end: int, attr: str = "match") -> Markup:
    """``markup`` with characters ``start:end`` shown in ``attr`` and the rest as they were."""
    text, runs = decompose_tagmarkup(markup)  # type: ignore[arg-type]
    covered = sum(length for _a, length in runs)
    if covered < len(text):
        runs = [*runs, (None, len(text) - covered)]
    out: list[object] = []
    at = 0
    for run_attr, length in runs:
        run_end = at + length
        # the parts of this run before, inside and after the match
        for a, b, shown in (
            (at, min(run_end, start), run_attr),
            (max(at, start), min(run_end, end), attr),
            (max(at, end), run_end, run_attr),
        ):
            if a < b:
                piece = text[a:b]
                out.append((shown, piece) if shown is not None else piece)
        at = run_end
    return out


class TextSearch:
    """The matches of one query in one text, and which of them is current."""

    def __init__(self, query: str, lines: Sequence[str]) -> None:
        self.query = query
        self.matches = find_all(lines, query)
        self.current: int | None = None

    def step(self, forward: bool, from_line: int) -> Found | None:
        """The next (previous) match: after (before) the current one, or, when there is none
        yet, the first at or after (last at or before) ``from_line``."""
        n = len(self.matches)
        if not n:
            return None
        if self.current is not None:
            i = self.current + (1 if forward else -1)
        elif forward:
            i = next((k for k, m in enumerate(self.matches) if m.line >= from_line), n)
        else:
            i = next((k for k in range(n - 1, -1, -1) if self.matches[k].line <= from_line), -1)
        wrapped = not 0 <= i < n
        self.current = i % n
        return Found(self.matches[self.current], self.current + 1, n, wrapped)
