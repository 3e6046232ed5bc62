"""How a message offers to unsubscribe: ``List-Unsubscribe`` (RFC 2369) and
``List-Unsubscribe-Post`` (RFC 8058).

:func:`unsubscribe_offer` decides what tmail may do, without any network:

- ``one-click``: an HTTPS URL and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``: one POST
  (:mod:`tmail.protocols.oneclick`), after the person confirmed the host;
- ``mailto``: a prepared message to the list's address, for review before it goes;
- ``web``: only a web page is offered; tmail never follows such a link by itself, it shows it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from tmail.core.errors import TmailError
from tmail.core.safe import safe_line
from tmail.mime.mailto import Mailto, is_mailto, parse_mailto

_URI = re.compile(r"<([^<>]{1,2048})>")
MAX_FIELD = 8192


@dataclass(frozen=True)
class UnsubscribeOffer:
    method: Literal["one-click", "mailto", "web"]
    url: str  # terminal-safe
    host: str = ""  # for one-click and web: the host the person confirms
    mailto: Mailto | None = None


def _uris(value: str) -> list[str]:
    return ["".join(m.group(1).split()) for m in _URI.finditer(value[:MAX_FIELD])]


def unsubscribe_offer(headers: Iterable[tuple[str, str]]) -> UnsubscribeOffer | None:
    """The best way the message offers to unsubscribe; None when it offers none."""
    fields = [(n.lower(), v) for n, v in headers]
    listed = next((v for n, v in fields if n == "list-unsubscribe"), None)
    if listed is None:
        return None
    post = next((v for n, v in fields if n == "list-unsubscribe-post"), "")
    one_click = "".join(post.split()).lower() == "list-unsubscribe=one-click"
    uris = _uris(listed)
    web = [u for u in uris if urlsplit(u).scheme.lower() in ("http", "https")]
    https = [u for u in web if urlsplit(u).scheme.lower() == "https"]
    if one_click and https:
        return _web("one-click", https[0])
    for uri in uris:
        if is_mailto(uri):
            try:
                mailto = parse_mailto(uri)
            except TmailError:  # a broken mailto: offers nothing; another URI may
                continue
            if mailto.to:
                return UnsubscribeOffer("mailto", safe_line(uri), mailto=mailto)
    if one_click and web:  # a one-click offer over plain HTTP: refused when tried, saying why
        return _web("one-click", web[0])
    return _web("web", web[0]) if web else None


def _web(method: Literal["one-click", "web"], uri: str) -> UnsubscribeOffer:
    url = safe_line(uri)
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        host = ""
    return UnsubscribeOffer(method, url, host=safe_line(host))
