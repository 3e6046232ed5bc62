"""The errors tmail raises, and what a user can do about each.

Every error carries enough to print one line a person can act on: which account, which server,
what went wrong and what to do. Nothing from here ever reaches the user as a traceback: the CLI
and the UI catch :class:`TmailError` and print :meth:`TmailError.one_line`.

::

    TmailError                      anything tmail reports to the user (exit status 1)
    ├── UsageError                  bad command line (exit 2)
    ├── ConfigError                 bad config file or value (exit 2): file, account, key, allowed
    ├── SecretError                 no password: keyring unavailable, password command failed
    ├── NetworkError                could not talk to a server
    │   ├── ConnectFailed           DNS failure, refused, unreachable, timed out (worded
    │   │                           for a server that worked before, or for a first contact)
    │   ├── TLSFailure              handshake failed, STARTTLS missing/refused
    │   │   └── CertificateError    certificate not trusted / wrong host / pinned one changed
    │   ├── AuthFailed              the server refused the login
    │   └── ProtocolError           the server said NO/BAD/-ERR/5xx or spoke nonsense
    ├── MessageError                a message could not be parsed or built (bad input)
    └── StoreError                  the local store could not be read or written (disk full, ...)

A message that was not delivered is no error here: the outbox records it (queued, held, failed,
with the server's words; see :mod:`tmail.outbox.flush`).
"""

from __future__ import annotations

from tmail.core.safe import safe_line


class TmailError(Exception):
    """Base of everything tmail reports to the user."""

    exit_status = 1

    def __init__(
        self,
        message: str,
        *,
        account: str | None = None,
        server: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.account = account
        self.server = server
        self.hint = hint

    def one_line(self) -> str:
        """``account (server): message — hint`` with every part made safe for a terminal."""
        where = ""
        if self.account and self.server:
            where = f"{self.account} ({self.server}): "
        elif self.account:
            where = f"{self.account}: "
        elif self.server:
            where = f"{self.server}: "
        text = where + self.message
        if self.hint:
            text += f" — {self.hint}"
        return safe_line(text)

    def __str__(self) -> str:
        return self.one_line()


class UsageError(TmailError):
    exit_status = 2


class ConfigError(TmailError):
    exit_status = 2


class SecretError(TmailError):
    pass


class NetworkError(TmailError):
    pass


class ConnectFailed(NetworkError):
    """No connection. ``first_contact``, when set, is the ``(message, hint)`` for an account
    that has never reached this server: there a setting is the likely cause, while a server
    that worked before and refuses now is simply down (:meth:`as_first_contact` picks it)."""

    def __init__(
        self,
        message: str,
        *,
        account: str | None = None,
        server: str | None = None,
        hint: str | None = None,
        first_contact: tuple[str, str] | None = None,
    ) -> None:
        super().__init__(message, account=account, server=server, hint=hint)
        self.first_contact = first_contact

    def as_first_contact(self) -> ConnectFailed:
        """This error as said to an account that never reached the server (itself if alike)."""
        if self.first_contact is None:
            return self
        message, hint = self.first_contact
        return ConnectFailed(message, account=self.account, server=self.server, hint=hint)


class TLSFailure(NetworkError):
    pass


class CertificateError(TLSFailure):
    pass


class AuthFailed(NetworkError):
    pass


class ProtocolError(NetworkError):
    pass


class MessageError(TmailError):
    exit_status = 65  # EX_DATAERR


class StoreError(TmailError):
    exit_status = 74  # EX_IOERR
