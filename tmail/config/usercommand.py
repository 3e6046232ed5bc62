"""Running a command from the user's config (signature_command, query_command) with a time limit.

The user's own command from their own config file, run by their shell (pipes and ``~`` work, as
in mutt). It runs in its own process group, so that at the time limit a whole pipeline is
killed and nothing is left holding the output pipes open.
"""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass


@dataclass(frozen=True)
class Finished:
    status: int
    out: bytes
    err: bytes

    def last_error_line(self) -> str:
        lines = self.err.decode("utf-8", "replace").strip().splitlines()
        return lines[-1] if lines else ""


def run(command: str, timeout: float) -> Finished:
    """Run ``command`` by ``/bin/sh``; raise TimeoutError past ``timeout``, OSError when it
    cannot be started (catch TimeoutError first: it is an OSError too)."""
    proc = subprocess.Popen(
        ["/bin/sh", "-c", command],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            proc.kill()
        proc.wait()
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        raise TimeoutError(command) from None
    return Finished(proc.returncode, out, err)
