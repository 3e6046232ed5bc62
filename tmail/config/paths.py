"""Where tmail keeps things under its data dir that more than one floor looks at.

The outbox's place is here, below the outbox package, so that ``tmail sync`` can see whether an
account has anything waiting without importing the outbox and the message composer (start-up
time: a sync with an empty outbox loads neither).
"""

from __future__ import annotations

import os
from pathlib import Path


def outbox_dir(data_dir: Path, account: str) -> Path:
    """The account's outbox folder (:class:`tmail.outbox.queue.Queue` lives there)."""
    safe = account.replace(os.sep, "_").replace("\0", "_") or "_"
    return data_dir / "outbox" / safe


def outbox_waiting(data_dir: Path, account: str) -> bool:
    """Whether anything waits in the account's outbox (a directory listing; no lock taken)."""
    new = outbox_dir(data_dir, account) / "new"
    return new.is_dir() and any(new.iterdir())
