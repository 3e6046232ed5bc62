"""An identity's signature text: written in the config, read from a file, or printed by a command.

A command that fails, prints no UTF-8 or does not finish in time is a :class:`SignatureError`
(one line naming the account and identity); the caller writes the message without a signature.
The command runs as :mod:`tmail.config.usercommand` runs it (a hanging pipeline killed whole).
"""

from __future__ import annotations

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
    from tmail.config import usercommand

    try:
        done = usercommand.run(command, timeout)
    except TimeoutError:
        raise SignatureError(
            f"{who}: signature_command did not finish in {timeout:g}s; no signature added",
            account=account,
            hint="run it by hand to see what it waits for",
        ) from None
    except OSError as exc:  # after TimeoutError, one of its kind
        raise SignatureError(
            f"{who}: signature_command could not be started: {exc.strerror or exc}; "
            "no signature added",
            account=account,
        ) from None
    if done.status != 0:
        detail = done.last_error_line()
        why = f": {safe_line(detail)[:200]}" if detail else ""
        raise SignatureError(
            f"{who}: signature_command failed (exit status {done.status}){why}; no signature added",
            account=account,
            hint="run it by hand to see why",
        )
    try:
        return done.out.decode("utf-8")
    except UnicodeDecodeError:
        raise SignatureError(
            f"{who}: signature_command printed something that is not UTF-8; no signature added",
            account=account,
        ) from None
