"""What the store commands share: finding the data directory, opening the store, printing rows.

Heavy imports stay inside functions: ``tmail list`` must start fast.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tmail.cli.base import Context
from tmail.core.errors import UsageError
from tmail.core.models import Flag
from tmail.core.safe import safe_line
from tmail.core.sizes import human_size

if TYPE_CHECKING:
    from tmail.store import MessageRow, Store


def data_dir(ctx: Context) -> Path:
    """The data directory, as :func:`tmail.config.load_config` resolves it.

    ``$TMAIL_DATA_DIR`` wins there too; checked first here so that ``tmail list`` need not
    load the config machinery at all.
    """
    env = os.environ.get("TMAIL_DATA_DIR")
    if env:
        return Path(env).expanduser()
    from tmail.config import load_config

    return load_config(ctx.config_path).data_dir


def open_store(ctx: Context, *, check: bool = True) -> Store:
    from tmail.store import Store

    return Store.open(data_dir(ctx), check=check, assumed_charsets=config_charsets(ctx))


def config_charsets(ctx: Context) -> Callable[[str], tuple[str, ...]]:
    """Each account's ``assumed_charsets`` for the store to index with.

    The config file is read only when the store indexes a message (``tmail list`` on an index
    in step never does: it stays fast). A store can be used without any config
    (``TMAIL_DATA_DIR``): a missing or broken config then only loses the hint.
    """
    charsets: dict[str, tuple[str, ...]] | None = None

    def lookup(account: str) -> tuple[str, ...]:
        nonlocal charsets
        if charsets is None:
            from tmail.config import load_config
            from tmail.core.errors import TmailError

            try:
                config = load_config(ctx.config_path)
            except (TmailError, OSError):
                charsets = {}
            else:
                charsets = {n: a.assumed_charsets for n, a in config.accounts.items()}
        return charsets.get(account, ())

    return lookup


def parse_ids(values: Sequence[str]) -> list[int]:
    """Message ids from the command line (``12``, ``12,13``, ``12-15``)."""
    ids: list[int] = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            try:
                if "-" in part[1:]:
                    lo, hi = part.split("-", 1)
                    if int(hi) - int(lo) > 100_000:
                        raise UsageError(f"the range {part} is too large")
                    ids.extend(range(int(lo), int(hi) + 1))
                else:
                    ids.append(int(part))
            except ValueError:
                raise UsageError(
                    f"{part!r} is not a message id",
                    hint="ids are the numbers 'tmail list' and 'tmail search' print",
                ) from None
    return ids


def flag_letters(flags: frozenset[Flag]) -> str:
    """mutt-like status: ``N`` unread, ``F`` flagged, ``R`` replied, ``D`` draft, ``T`` trashed."""
    out = "N" if Flag.SEEN not in flags else "-"
    out += "F" if Flag.FLAGGED in flags else "-"
    out += "R" if Flag.REPLIED in flags else ("P" if Flag.PASSED in flags else "-")
    out += "D" if Flag.DRAFT in flags else ("T" if Flag.TRASHED in flags else "-")
    return out


def row_json(row: MessageRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "account": row.account,
        "folder": row.folder,
        "date": row.date.isoformat(),
        "from": [{"name": a.name, "addr": a.addr} for a in row.from_],
        "to": [{"name": a.name, "addr": a.addr} for a in row.to],
        "subject": row.subject,
        "flags": "".join(sorted(f.value for f in row.flags)),
        "size": row.size,
        "message_id": row.message_id,
        "thread": row.thread_id,
        "has_attachment": row.has_attachment,
        "path": str(row.path),
    }


def _fit(text: str, width: int) -> str:
    text = safe_line(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def row_line(row: MessageRow, *, indent: int = 0, show_folder: bool = False) -> str:
    """``id date from subject flags size`` on one terminal-safe line."""
    when = row.date.astimezone().strftime("%Y-%m-%d %H:%M")
    sender = _fit(row.sender or "(no sender)", 24)
    subject = ("  " * indent) + (row.subject or "(no subject)")
    if show_folder:
        subject = f"[{row.account}/{row.folder}] {subject}"
    att = "@" if row.has_attachment else " "
    return (
        f"{row.id:>7}  {when}  {sender:<24}  {_fit(subject, 60):<60}  "
        f"{flag_letters(row.flags)}{att} {human_size(row.size):>6}"
    )


def write_rows(
    ctx: Context, rows: Iterable[MessageRow], *, as_json: bool, show_folder: bool
) -> int:
    """Print rows as they come (a JSON array, or one line each); returns how many."""
    n = 0
    if as_json:
        ctx.stdout.write("[")
        for row in rows:
            ctx.stdout.write(
                ("," if n else "") + "\n " + json.dumps(row_json(row), ensure_ascii=False)
            )
            n += 1
        ctx.stdout.write("\n]\n" if n else "]\n")
        return n
    for row in rows:
        ctx.stdout.write(row_line(row, show_folder=show_folder) + "\n")
        n += 1
    return n
