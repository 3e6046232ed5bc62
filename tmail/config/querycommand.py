"""An outside address book through mutt's ``query_command`` (abook, khard, ldap scripts, ...).

The command gets the query in place of ``%s`` (quoted for the shell; appended when there is no
``%s``) and prints mutt's format: a status line, then ``address<TAB>name<TAB>info`` lines. A
command that fails or does not finish in time is a :class:`QueryCommandError` (one line); what
the local address book found is shown all the same.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from tmail.config import usercommand
from tmail.core.errors import ConfigError
from tmail.core.safe import safe_line

QUERY_TIMEOUT = 5.0  # seconds


class QueryCommandError(ConfigError):
    """The query_command could not answer."""


@dataclass(frozen=True)
class Found:
    addr: str
    name: str
    info: str = ""


def command_line(command: str, query: str) -> str:
    quoted = shlex.quote(query)
    return command.replace("%s", quoted) if "%s" in command else f"{command} {quoted}"


def parse(output: str) -> list[Found]:
    """mutt's query format: the first line is a status message; then one address a line."""
    found: list[Found] = []
    for line in output.replace("\r\n", "\n").split("\n")[1:]:
        parts = line.split("\t")
        addr = parts[0].strip()
        if "@" not in addr or any(c.isspace() for c in addr):
            continue
        name = parts[1].strip() if len(parts) > 1 else ""
        info = parts[2].strip() if len(parts) > 2 else ""
        found.append(Found(addr, name, info))
    return found


def query(command: str, text: str, timeout: float | None = None) -> list[Found]:
    limit = timeout or QUERY_TIMEOUT
    try:
        done = usercommand.run(command_line(command, text), limit)
    except TimeoutError:
        raise QueryCommandError(
            f"query_command did not finish in {limit:g}s", hint="run it by hand to see why"
        ) from None
    except OSError as exc:
        raise QueryCommandError(
            f"query_command could not be started: {exc.strerror or exc}"
        ) from None
    found = parse(done.out.decode("utf-8", "replace"))
    detail = done.last_error_line()
    if done.status != 0 and not found and detail:
        raise QueryCommandError(
            f"query_command failed (exit status {done.status}): {safe_line(detail)[:200]}",
            hint="run it by hand to see why",
        )
    return found  # no match is often a non-zero status with nothing on stderr (abook, khard)
