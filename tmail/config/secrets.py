"""Where passwords and OAuth2 tokens come from, and nothing else: they are never logged.

Order for a password (first that is set wins): ``password_command`` (its first line of output),
``password_env`` (an environment variable's name), a literal ``password`` (warned about when the
config is loaded), else the system keyring: service ``tmail``, key ``ACCOUNT/incoming`` or
``ACCOUNT/outgoing`` (the outgoing server falls back to the incoming key, the same mailbox at
most providers). With ``auth = "xoauth2"`` the secret is a fresh access token printed by
``oauth2_token_command``, or, for an account with an ``oauth2`` table, one from tmail's own
sign-in (tmail.config.oauth2 keeps it, tmail.protocols.oauth2_flow renews it).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping

from tmail.config.model import Account, Role, ServerSettings
from tmail.core.errors import SecretError
from tmail.core.safe import safe_line

KEYRING_SERVICE = "tmail"
COMMAND_TIMEOUT = 120.0  # a password command may wait for a pinentry dialog


def keyring_key(account: str, role: Role) -> str:
    return f"{account}/{role}"


def server_settings(account: Account, role: Role) -> ServerSettings:
    settings = account.incoming if role == "incoming" else account.outgoing
    if settings is None:
        raise SecretError(
            f"no {role} server configured", account=account.name, hint="add outgoing.host"
        )
    return settings


def password_source(account: Account, role: Role) -> str:
    """Where the secret comes from, in words (for ``tmail accounts``); never the secret itself."""
    s = server_settings(account, role)
    if s.auth == "xoauth2" and not s.oauth2_token_command and account.oauth2 is not None:
        from tmail.config.oauth2 import describe

        return describe(account)
    if s.auth == "xoauth2":
        return f"oauth2 token command ({_program(s.oauth2_token_command)})"
    if s.password_command:
        return f"command ({_program(s.password_command)})"
    if s.password_env:
        return f"environment ${s.password_env}"
    if s.password is not None:
        return "config file (literal password: not recommended)"
    return f"keyring ({KEYRING_SERVICE} {keyring_key(account.name, role)})"


def _program(command: str | None) -> str:
    # Only the program's name: output is pasted into bug reports, and a careless command line
    # ("echo hunter2") may hold the password itself.
    words = (command or "").split()
    if not words:
        return "?"
    return words[0] + (" ..." if len(words) > 1 else "")


def get_secret(account: Account, role: Role, environ: Mapping[str, str] | None = None) -> str:
    """The password (or, with ``auth = "xoauth2"``, the access token) for one server."""
    s = server_settings(account, role)
    where = {"account": account.name, "server": s.label}
    if s.auth == "xoauth2":
        if not s.oauth2_token_command:
            raise SecretError(
                "auth = xoauth2 needs oauth2_token_command",
                hint=f"set {role}.oauth2_token_command to a command that prints an access token",
                **where,
            )
        return _run(s.oauth2_token_command, f"{role}.oauth2_token_command", **where)
    if s.password_command:
        return _run(s.password_command, f"{role}.password_command", **where)
    if s.password_env:
        env = os.environ if environ is None else environ
        value = env.get(s.password_env)
        if not value:
            raise SecretError(
                f"environment variable {s.password_env} (from {role}.password_env) is not set",
                hint=f"export {s.password_env}=... or use {role}.password_command",
                **where,
            )
        return value
    if s.password is not None:
        return s.password
    return _from_keyring(account.name, role, where)


def _run(command: str, key: str, *, account: str, server: str) -> str:
    # The user's own command from their own config file, run by their shell as mutt's and
    # msmtp's passwordeval do (pipes and ~ work). Its output is the secret: never shown.
    try:
        proc = subprocess.run(
            ["/bin/sh", "-c", command],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SecretError(
            f"{key} did not finish in {COMMAND_TIMEOUT:.0f}s",
            account=account,
            server=server,
            hint="run it by hand to see what it waits for",
        ) from None
    except OSError as exc:
        raise SecretError(
            f"{key} could not be started: {exc.strerror or exc}", account=account, server=server
        ) from None
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        why = f": {safe_line(detail[-1])[:200]}" if detail else ""
        raise SecretError(
            f"{key} failed (exit status {proc.returncode}){why}",
            account=account,
            server=server,
            hint="run it by hand to see why",
        )
    lines = proc.stdout.decode("utf-8", "replace").splitlines()
    secret = lines[0].rstrip("\r\n") if lines else ""
    if not secret:
        raise SecretError(
            f"{key} printed nothing",
            account=account,
            server=server,
            hint="its first line of output must be the secret",
        )
    return secret


def _keyring_unavailable(account: str, role: Role, server: str, why: str) -> SecretError:
    return SecretError(
        f"the system keyring is not available ({why})",
        account=account,
        server=server,
        hint=f'set {role}.password_command (e.g. "pass show mail/{account}") '
        f"or {role}.password_env in the config file",
    )


def _from_keyring(account: str, role: Role, where: dict[str, str]) -> str:
    try:
        import keyring
        import keyring.errors
    except ImportError:  # pragma: no cover - keyring is a dependency
        raise _keyring_unavailable(account, role, where["server"], "not installed") from None
    keys = [keyring_key(account, role)]
    if role == "outgoing":
        keys.append(keyring_key(account, "incoming"))
    try:
        for key in keys:
            value = keyring.get_password(KEYRING_SERVICE, key)
            if value:
                return str(value)
    except keyring.errors.NoKeyringError as exc:
        raise _keyring_unavailable(account, role, where["server"], _short(exc)) from None
    except keyring.errors.KeyringError as exc:
        raise _keyring_unavailable(account, role, where["server"], _short(exc)) from None
    except Exception as exc:  # D-Bus/Secret Service failures surface as assorted errors
        raise _keyring_unavailable(account, role, where["server"], _short(exc)) from None
    raise SecretError(
        f"no password in the keyring (service {KEYRING_SERVICE}, key {keys[0]})",
        hint=f"run 'tmail account add' or 'keyring set {KEYRING_SERVICE} {keys[0]}', "
        f"or set {role}.password_command",
        **where,
    )


def store_password(account: str, role: Role, password: str) -> None:
    """Put a password in the system keyring; SecretError when there is none."""
    try:
        import keyring

        keyring.set_password(KEYRING_SERVICE, keyring_key(account, role), password)
    except Exception as exc:
        raise _keyring_unavailable(account, role, "", _short(exc)) from None


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return safe_line(text[0])[:160] if text else type(exc).__name__
