"""Run Debian's getmail6 with its fork/SIGCHLD race fixed, for bench/sync.py only.

getmail6 (6.18) delivers each message in a forked child and learns that the child exited from a
SIGCHLD handler it installs *after* ``fork()``; when the child is quicker than that (or the handler
fires before the parent starts waiting) the notification is lost and the parent gives up after 60 s
with ``operation error (waiting child pid ... timed out)``. On this machine that stopped every
10,000-message run after a few minutes. Here the parent simply ``waitpid``s its child: the same
fork per message and the same delivery code, without the race. Usage: as ``getmail``.
"""

from __future__ import annotations

import os
import runpy
import sys
from typing import Any

from getmailcore import baseclasses  # type: ignore[import-not-found]
from getmailcore.exceptions import getmailOperationError  # type: ignore[import-not-found]


def _prepare_child(self: Any) -> None:
    pass


def _wait_for_child(self: Any, childpid: int) -> int:
    _pid, status = os.waitpid(childpid, 0)
    if not os.WIFEXITED(status):
        raise getmailOperationError(f"child pid {childpid} did not exit normally ({status})")
    return os.WEXITSTATUS(status)


baseclasses.ForkingBase._prepare_child = _prepare_child
baseclasses.ForkingBase._wait_for_child = _wait_for_child
sys.argv[0] = "getmail"
runpy.run_path("/usr/bin/getmail", run_name="__main__")
