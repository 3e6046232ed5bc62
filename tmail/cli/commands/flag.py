"""``tmail flag ID... +S -S +F``: set or clear flags; the next sync pushes the change."""

from __future__ import annotations

import argparse

from tmail.cli.base import Command, Context
from tmail.cli.commands._store import open_store, parse_ids
from tmail.core.counts import plural
from tmail.core.errors import UsageError
from tmail.core.models import Flag

NAMES = {
    "seen": Flag.SEEN,
    "read": Flag.SEEN,
    "flagged": Flag.FLAGGED,
    "replied": Flag.REPLIED,
    "answered": Flag.REPLIED,
    "draft": Flag.DRAFT,
    "trashed": Flag.TRASHED,
    "deleted": Flag.TRASHED,
    "forwarded": Flag.PASSED,
    "passed": Flag.PASSED,
}


def parse_changes(items: list[str]) -> tuple[list[str], frozenset[Flag], frozenset[Flag]]:
    """Split ``12 13 +S -F +flagged`` into ids, flags to add, flags to remove."""
    ids: list[str] = []
    add: set[Flag] = set()
    remove: set[Flag] = set()
    for item in items:
        if item[:1] in "+-" and len(item) > 1 and not item[1:].isdigit():
            sign, name = item[0], item[1:]
            flags = _flags(name)
            (add if sign == "+" else remove).update(flags)
        else:
            ids.append(item)
    both = add & remove
    if both:
        letters = "".join(sorted(f.value for f in both))
        raise UsageError(f"flag {letters} is both added and removed")
    return ids, frozenset(add), frozenset(remove)


def _flags(name: str) -> set[Flag]:
    if name.lower() in NAMES:
        return {NAMES[name.lower()]}
    letters = {c for c in name}
    known = {f.value: f for f in Flag}
    if letters <= set(known):
        return {known[c] for c in letters}
    raise UsageError(
        f"unknown flag {name!r}",
        hint="use S (seen), F (flagged), R (replied), D (draft), T (trashed), P (forwarded)",
    )


class FlagCommand(Command):
    name = "flag"
    help = "set (+S) or clear (-S) flags: S seen, F flagged, R replied, D draft, T trashed"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "items",
            nargs=argparse.REMAINDER,
            metavar="ID... [+FLAG|-FLAG]...",
            help="message ids, then changes like +S -F +flagged",
        )

    def run(self, ctx: Context) -> int:
        raw_ids, add, remove = parse_changes(list(ctx.args.items))
        ids = parse_ids(raw_ids)
        if not ids or not (add or remove):
            raise UsageError(
                "give message ids and flag changes", hint="for example: tmail flag 12 13 +S -F"
            )
        with open_store(ctx, check=False) as store:
            changed = store.change_flags(ids, add, remove)
        ctx.stdout.write(f"{plural(len(changed), 'message')} changed\n")
        return 0
