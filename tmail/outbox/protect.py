"""OpenPGP on the way out: a composed message signed and/or encrypted as its account says
(``pgp_key``, ``pgp_sign``, ``pgp_encrypt``) or as the sender asked (``tmail send --sign
--encrypt``), before it goes into the outbox, so the queue never holds its clear text.

The one place both send paths call (``tmail send`` and the reader's backend). A message that
must be encrypted but cannot be (a recipient without a key) raises MessageError: it is refused,
never sent in clear. The PGP/MIME itself is :func:`tmail.mime.pgpsend.protect`'s.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from tmail.config.model import Account
from tmail.mime.autocrypt import header_field
from tmail.mime.compose import Composed
from tmail.mime.pgpsend import PgpSender, missing_keys, protect


def _default_backend() -> PgpSender:
    from tmail.mime.gpg import default_backend

    return default_backend()


def _with_autocrypt(composed: Composed, account: Account, gpg: PgpSender) -> Composed:
    """The Autocrypt header with one's own key, added to the message's header (outside any
    encryption); left out when there is no key of one's own."""
    key = account.pgp_key or gpg.find_key(composed.sender, secret=True)
    keydata = gpg.export_minimal(key) if key else b""
    if not keydata:
        return composed
    field = header_field(
        composed.sender, keydata, mutual=account.pgp_encrypt in ("always", "opportunistic")
    )
    head, sep, body = composed.data.partition(b"\n\n")
    return dataclasses.replace(composed, data=head + b"\n" + field + sep + body)


def protect_draft(
    composed: Composed,
    account: Account,
    *,
    encrypt: bool | None = None,
    backend: Callable[[], PgpSender] = _default_backend,
) -> Composed:
    """A postponed message for the Drafts folder: encrypted to oneself alone when the message
    is to be encrypted (``encrypt``, else the account's pgp_encrypt is not never), so that a
    server's Drafts folder never holds in clear what will go out encrypted."""
    wanted = encrypt if encrypt is not None else account.pgp_encrypt != "never"
    if not wanted:
        return composed
    data = protect(
        composed.data,
        sign=False,
        encrypt=True,
        sender=composed.sender,
        recipients=(),
        backend=backend(),
        key=account.pgp_key,
    )
    return dataclasses.replace(composed, data=data)


def own_key(account_key: str | None, sender: str) -> str | None:
    """The key one signs and encrypts to oneself with, or None when there is none."""
    return account_key or _default_backend().find_key(sender, secret=True)


def protect_composed(
    composed: Composed,
    account: Account,
    *,
    sign: bool | None = None,
    encrypt: bool | None = None,
    key: str | None = None,
    backend: Callable[[], PgpSender] = _default_backend,
) -> Composed:
    """``composed`` signed/encrypted: ``sign``/``encrypt`` when given, else the account's
    ``pgp_sign`` ("always") and ``pgp_encrypt`` ("always", or "opportunistic": when every
    recipient has a key)."""
    do_sign = sign if sign is not None else account.pgp_sign == "always"
    mode: bool | str = encrypt if encrypt is not None else account.pgp_encrypt
    if not do_sign and mode in (False, "never") and not account.autocrypt:
        return composed
    gpg = backend()
    if account.autocrypt:
        composed = _with_autocrypt(composed, account, gpg)
    if not do_sign and mode in (False, "never"):
        return composed
    if mode == "opportunistic":
        mode = not missing_keys(gpg, composed.recipients)
    data = protect(
        composed.data,
        sign=do_sign,
        encrypt=mode in (True, "always"),
        sender=composed.sender,
        recipients=composed.recipients,
        backend=gpg,
        key=key or account.pgp_key,
    )
    return dataclasses.replace(composed, data=data)
