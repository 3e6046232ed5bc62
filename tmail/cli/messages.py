"""Finding the raw bytes of the message a command names: an .eml path, ``-`` for stdin, or an ID.

Shared by ``tmail show`` and ``tmail attachments``. A name that is an existing file wins over a
message id, so ``tmail show 12`` in a directory holding a file ``12`` shows the file.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tmail.cli.base import Context
from tmail.core.errors import MessageError, TmailError, UsageError

MAX_MESSAGE_BYTES = 2 << 30  # what we agree to read into memory from a file or stdin


@dataclass(frozen=True)
class RawMessage:
    """A message's bytes, where they came from, and the charset hint to read it with."""

    raw: bytes
    source: str
    assumed_charsets: tuple[str, ...] = ()
    account: str | None = None  # the account it is stored under (None: a file or stdin)


def load_message(ctx: Context, ref: str, assumed: Sequence[str] = ()) -> RawMessage:
    """Read the message ``ref`` names: ``-`` (stdin), a file path, or a message id in the store.

    ``assumed`` (from ``--assume-charset``) comes first; for a stored message the account's
    ``assumed_charsets`` follow.
    """
    hint = tuple(assumed)
    if ref == "-":
        data = sys.stdin.buffer.read(MAX_MESSAGE_BYTES + 1)
        if len(data) > MAX_MESSAGE_BYTES:
            raise MessageError("the message on stdin is larger than 2 GiB", hint="save it first")
        return RawMessage(data, "stdin", hint)
    path = Path(ref)
    if path.is_file():
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise MessageError(
                f"cannot read {ref}: {exc.strerror or exc}", hint="check the file's permissions"
            ) from exc
        return RawMessage(data, str(path), hint)
    if path.exists():
        raise UsageError(f"{ref} is not a regular file", hint="give a .eml file or '-' for stdin")
    if ref.isdigit():
        return _from_store(ctx, int(ref), hint)
    raise UsageError(
        f"no such file: {ref}",
        hint="give an .eml file, '-' for stdin, or the id of a message in the local store",
    )


def _from_store(ctx: Context, message: int, hint: tuple[str, ...]) -> RawMessage:
    from tmail.cli.commands._store import open_store

    with open_store(ctx, check=False) as store:
        row = store.get(message)
        if row is None:
            raise UsageError(
                f"no message with id {message}",
                hint="ids are the numbers 'tmail list' and 'tmail search' print",
            )
        raw = store.read_raw(message)
    return RawMessage(
        raw,
        f"{row.account}/{row.folder}",
        hint + _account_charsets(ctx, row.account),
        row.account,
    )


def _account_charsets(ctx: Context, account: str) -> tuple[str, ...]:
    """The account's ``assumed_charsets`` from the config file; () when there is no such account.

    A store can be read without any config (``TMAIL_DATA_DIR``), so a missing or unreadable config
    only loses the hint; it is not an error for ``show``.
    """
    from tmail.config import load_config

    try:
        config = load_config(ctx.config_path)
    except (TmailError, OSError):
        return ()
    acct = config.accounts.get(account)
    return tuple(acct.assumed_charsets) if acct is not None else ()


def account_authserv_ids(ctx: Context, account: str | None) -> tuple[str, ...]:
    """The account's ``authserv_id`` values (whose Authentication-Results are believed);
    () without an account or a readable config: then no verdict is shown."""
    if account is None:
        return ()
    from tmail.config import load_config

    try:
        config = load_config(ctx.config_path)
    except (TmailError, OSError):
        return ()
    return config.authserv_ids(account)
