"""An identity's signature text: written in the config, read from a file, or printed by a command.

A command that fails, prints no UTF-8 or does not finish in time is a :class:`SignatureError`
(one line naming the account and identity); the caller writes the message without a signature.
The command runs in its own process group so that a hanging pipeline is killed whole.
"""

from __future__ import annotations

import os
import signal
import subprocess

from tmail.config.model import Identity
from tmail.core.errors import ConfigError
from tmail.core.safe import safe_line

SIGNATURE_TIMEOUT = 5.0  # seconds a signature_command may take
MAX_SIGNATURE = 64 * 1024  # characters: a signature, not a document


class SignatureError(ConfigError):
    """The signature could not be read; the message goes on without one."""


def signature_text(identity: Identity, account: str, timeout: float | None = None) -> str:
    """The identity's signature without the ``-- `` line ('' when it has none)."""
    who = f"identity {identity.address}"
    if identity.signature is not None:
        text = identity.signature
    elif identity.signature_file is not None:
        try:
            text = identity.signature_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise SignatureError(
                f"{who}: signature_file {identity.signature_file}: {why or exc}; "
                "no signature added",
                account=account,
                hint="fix the file or the signature_file setting",
            ) from None
    elif identity.signature_command is not None:
        text = _run(identity.signature_command, who, account, timeout or SIGNATURE_TIMEOUT)
    else:
        return ""
    return _clean(text)


def _clean(text: str) -> str:
    lines = text.replace("\r\n", "\n").rstrip().split("\n")
    if lines and lines[0].rstrip() == "--":  # the user wrote the separator: not twice
        lines = lines[1:]
    while lines and not lines[0].strip():
        lines = lines[1:]
    return "\n".join(line.rstrip() for line in lines)[:MAX_SIGNATURE]


def _run(command: str, who: str, account: str, timeout: float) -> str:
    # The user's own command from their own config file, run by their shell (as mutt's
    # signature = "cmd|").
    try:
        proc = subprocess.Popen(
            ["/bin/sh", "-c", command],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise SignatureError(
            f"{who}: signature_command could not be started: {exc.strerror or exc}; "
            "no signature added",
            account=account,
        ) from None
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise SignatureError(
            f"{who}: signature_command did not finish in {timeout:g}s; no signature added",
            account=account,
            hint="run it by hand to see what it waits for",
        ) from None
    if proc.returncode != 0:
        detail = err.decode("utf-8", "replace").strip().splitlines()
        why = f": {safe_line(detail[-1])[:200]}" if detail else ""
        raise SignatureError(
            f"{who}: signature_command failed (exit status {proc.returncode}){why}; "
            "no signature added",
            account=account,
            hint="run it by hand to see why",
        )
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise SignatureError(
            f"{who}: signature_command printed something that is not UTF-8; no signature added",
            account=account,
        ) from None


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        proc.kill()
    # The pipes may still be held by nothing now: collect the process, do not wait on them.
    proc.wait()
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()
