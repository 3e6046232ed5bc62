"""Reading a Thunderbird autoconfig file (``config-v1.1.xml``) into a discovery candidate.

The format is Thunderbird's (https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat):
``clientConfig/emailProvider`` with ``incomingServer`` (type imap or pop3) and ``outgoingServer``
(type smtp) elements, each with hostname, port, socketType (SSL, STARTTLS, plain), username
(with %EMAILADDRESS%, %EMAILLOCALPART%, %EMAILDOMAIN%) and authentication elements. Other server
types (Exchange, EWS, JMAP) are skipped. A server offered only with ``socketType`` plain is kept
apart and never used.

The file comes from the network: it is parsed with the standard library's expat (2.4.1 and
later refuse entity expansion bombs; ElementTree never fetches external entities), its size is
capped by the fetcher, and every text taken from it is checked (host names, ports) before use.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from tmail.config.discovery import Candidate, Endpoint
from tmail.config.model import Security

MAX_AUTOCONFIG_BYTES = 256 * 1024

_SOCKET_TYPES: dict[str, Security] = {"ssl": "tls", "tls": "tls", "starttls": "starttls",
                                      "plain": "none"}  # fmt: skip
_HOST = re.compile(r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_NOTE_MAX = 200


class AutoconfigError(ValueError):
    """The file is not a usable autoconfig file; the message says why in a few words."""


def _text(elem: ET.Element, tag: str) -> str:
    child = elem.find(tag)
    return (child.text or "").strip() if child is not None else ""


def _fill(template: str, address: str) -> str:
    local, _, domain = address.rpartition("@")
    return (
        template.replace("%EMAILADDRESS%", address)
        .replace("%EMAILLOCALPART%", local)
        .replace("%EMAILDOMAIN%", domain)
    )


def parse_autoconfig(data: bytes, address: str, source: str, origin: str) -> Candidate:
    """The candidate an autoconfig file describes for ``address``.

    Raises :class:`AutoconfigError` for a file that is not XML, not in this format, or names
    no IMAP, POP3 or SMTP server.
    """
    if len(data) > MAX_AUTOCONFIG_BYTES:
        raise AutoconfigError(f"the file is larger than {MAX_AUTOCONFIG_BYTES // 1024} KB")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise AutoconfigError(f"not XML ({exc})") from None
    if root.tag != "clientConfig":
        raise AutoconfigError(f"not an autoconfig file (root element {root.tag[:40]!r})")
    provider = root.find("emailProvider")
    if provider is None:
        raise AutoconfigError("no emailProvider element")
    incoming: list[Endpoint] = []
    outgoing: list[Endpoint] = []
    plaintext: list[Endpoint] = []
    usernames: list[str] = []
    methods: set[str] = set()
    servers = [(e, "incoming") for e in provider.findall("incomingServer")]
    servers += [(e, "outgoing") for e in provider.findall("outgoingServer")]
    for elem, role in servers:
        protocol = (elem.get("type") or "").lower()
        if protocol not in (("imap", "pop3") if role == "incoming" else ("smtp",)):
            continue
        host = _fill(_text(elem, "hostname"), address).lower()
        port_text = _text(elem, "port")
        security = _SOCKET_TYPES.get(_text(elem, "socketType").lower())
        if not _HOST.fullmatch(host) or not port_text.isdigit() or security is None:
            continue  # a server we could not use safely as written: skip it, not the file
        port = int(port_text)
        if not 0 < port < 65536:
            continue
        ep = Endpoint(protocol, host, port, security)
        if security == "none":
            plaintext.append(ep)
            continue
        (incoming if role == "incoming" else outgoing).append(ep)
        if role == "incoming" and (name := _text(elem, "username")):
            usernames.append(_fill(name, address))
        methods.update(
            (a.text or "").strip().lower() for a in elem.findall("authentication") if a.text
        )
    if not incoming and not outgoing and not plaintext:
        raise AutoconfigError("it names no IMAP, POP3 or SMTP server")
    # OAuth2 only when it is the only way offered: a password method works without set-up.
    oauth_only = bool(methods) and methods <= {"oauth2"}
    notes = []
    for doc in provider.findall("documentation"):
        descr = _text(doc, "descr")
        url = (doc.get("url") or "").strip()
        if descr or url:
            text = " ".join(f"{descr} {url}".split())
            notes.append(text[:_NOTE_MAX])
    return Candidate(
        source=source,
        incoming=tuple(dict.fromkeys(incoming)),
        outgoing=tuple(dict.fromkeys(outgoing)),
        username=usernames[0] if usernames else "",
        auth="oauth2" if oauth_only else "password",
        notes=tuple(notes[:3]),
        origin=origin,
        plaintext=tuple(dict.fromkeys(plaintext)),
    )
