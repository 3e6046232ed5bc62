"""A small CardDAV client (RFC 6352) over ``http.client``, TLS verified with the config's CA.

What tmail needs of a CardDAV server: find the address book (the URL given, or by discovery:
``current-user-principal`` -> ``addressbook-home-set`` -> the first collection that is an
address book), learn whether it changed (``sync-collection``, RFC 6578: its token), and read all
its cards (``addressbook-multiget`` of every member) when it did. Every failure is one line:
server down (ConnectFailed), certificate (CertificateError), password refused (AuthFailed), or
an answer that makes no sense (ProtocolError).
"""

from __future__ import annotations

import base64
import http.client
import socket
import ssl
import xml.etree.ElementTree as ET  # expat >= 2.4 limits entity expansion (billion laughs)
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from tmail.core.errors import AuthFailed, CertificateError, ConnectFailed, ProtocolError

DAV = "DAV:"
CARD = "urn:ietf:params:xml:ns:carddav"
MAX_BODY = 50 * 1024 * 1024  # bytes of one answer


@dataclass(frozen=True)
class BookState:
    """What one look at the address book found: its URL, its sync token (None: the server
    has no sync-collection), and its cards (None: unchanged since ``token`` given)."""

    url: str
    token: str | None
    cards: list[str] | None


class CardDavClient:
    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        *,
        ca_file: Path | None = None,
        timeout: float = 30.0,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise ProtocolError(f"{url}: not an https:// URL")
        self.url = url
        self.host = parts.hostname
        self.port = parts.port or 443
        self.server = f"{self.host}:{self.port}"
        self._auth = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self._context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        self._timeout = timeout

    # ------------------------------------------------------------------ requests
    def _request(
        self, method: str, url: str, body: str = "", depth: str | None = None
    ) -> tuple[int, bytes]:
        conn = http.client.HTTPSConnection(
            self.host, self.port, context=self._context, timeout=self._timeout
        )
        headers = {"Authorization": self._auth, "Content-Type": "application/xml; charset=utf-8"}
        if depth is not None:
            headers["Depth"] = depth
        path = urlsplit(url).path or "/"
        try:
            conn.request(method, path, body.encode("utf-8"), headers)
            resp = conn.getresponse()
            data = resp.read(MAX_BODY + 1)
        except ssl.SSLCertVerificationError as exc:
            raise CertificateError(
                f"the CardDAV server's certificate is not trusted ({exc.verify_message})",
                server=self.server,
                hint="set contacts.carddav_ca_file to the CA that signed it",
            ) from None
        except (OSError, http.client.HTTPException) as exc:
            why = "timed out" if isinstance(exc, socket.timeout) else str(exc) or type(exc).__name__
            raise ConnectFailed(
                f"cannot reach the CardDAV server: {why}",
                server=self.server,
                hint="the last synced contacts are kept; try again later",
            ) from None
        finally:
            conn.close()
        if resp.status == 401:
            raise AuthFailed(
                "the CardDAV server refused the login",
                server=self.server,
                hint="check contacts.carddav_username and the password (the last synced "
                "contacts are kept)",
            )
        return resp.status, data

    def _multistatus(self, method: str, url: str, body: str, depth: str) -> ET.Element:
        status, data = self._request(method, url, body, depth)
        if status != 207:
            raise ProtocolError(f"{method} {urlsplit(url).path}: HTTP {status}", server=self.server)
        try:
            return ET.fromstring(data)
        except ET.ParseError as exc:
            raise ProtocolError(f"{method}: not XML ({exc})", server=self.server) from None

    def _props(self, url: str, props: str, depth: str = "0") -> list[tuple[str, ET.Element]]:
        body = (
            f'<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="{DAV}" '
            f'xmlns:c="{CARD}"><d:prop>{props}</d:prop></d:propfind>'
        )
        root = self._multistatus("PROPFIND", url, body, depth)
        out = []
        for resp in root.iter(f"{{{DAV}}}response"):
            href = resp.findtext(f"{{{DAV}}}href") or ""
            for ps in resp.iter(f"{{{DAV}}}propstat"):
                if "200" in (ps.findtext(f"{{{DAV}}}status") or ""):
                    prop = ps.find(f"{{{DAV}}}prop")
                    if prop is not None:
                        out.append((urljoin(url, href), prop))
        return out

    # ------------------------------------------------------------------ discovery
    def _is_book(self, prop: ET.Element) -> bool:
        rt = prop.find(f"{{{DAV}}}resourcetype")
        return rt is not None and rt.find(f"{{{CARD}}}addressbook") is not None

    def find_book(self) -> str:
        """The address book's URL: the one configured when it is one, else discovered."""
        for href, prop in self._props(self.url, "<d:resourcetype/>"):
            if self._is_book(prop) and href.rstrip("/") == self.url.rstrip("/"):
                return self.url
        home = self.url
        for _, prop in self._props(self.url, "<d:current-user-principal/>"):
            principal = prop.findtext(f"{{{DAV}}}current-user-principal/{{{DAV}}}href")
            if principal:
                home = urljoin(self.url, principal)
        for _, prop in self._props(home, "<c:addressbook-home-set/>"):
            found = prop.findtext(f"{{{CARD}}}addressbook-home-set/{{{DAV}}}href")
            if found:
                home = urljoin(self.url, found)
        for href, prop in self._props(home, "<d:resourcetype/>", depth="1"):
            if self._is_book(prop):
                return href
        raise ProtocolError(
            f"no address book found at {self.url}",
            server=self.server,
            hint="set contacts.carddav_url to the address book's own URL",
        )

    # ------------------------------------------------------------------ sync
    def _sync_collection(self, book: str, token: str) -> tuple[str | None, list[str]]:
        """(new token, member hrefs) from a full sync-collection; (None, []) when the server
        has none."""
        body = (
            f'<?xml version="1.0" encoding="utf-8"?><d:sync-collection xmlns:d="{DAV}">'
            f"<d:sync-token>{_xml_text(token)}</d:sync-token><d:sync-level>1</d:sync-level>"
            "<d:prop><d:getetag/></d:prop></d:sync-collection>"
        )
        status, data = self._request("REPORT", book, body, "0")
        if status in (400, 403, 404, 405, 501) or status != 207:
            return None, []
        try:
            root = ET.fromstring(data)
        except ET.ParseError:
            return None, []
        new = root.findtext(f"{{{DAV}}}sync-token")
        hrefs = []
        for resp in root.iter(f"{{{DAV}}}response"):
            href = resp.findtext(f"{{{DAV}}}href") or ""
            status_line = resp.findtext(f"{{{DAV}}}status") or ""
            if "404" in status_line:  # deleted (also on a first sync, RFC 6578 3.5.2)
                continue
            if href and urljoin(book, href).rstrip("/") != book.rstrip("/"):
                hrefs.append(href)
        return new, hrefs

    def state(self, known_token: str | None = None) -> BookState:
        """The book's token, and its cards when it changed since ``known_token``."""
        book = self.find_book()
        if known_token:
            token, _ = self._sync_collection(book, known_token)
            if token is not None and token == known_token:
                return BookState(book, token, None)  # nothing changed
        token, hrefs = self._sync_collection(book, "")
        if token is None:  # no sync-collection: list the members with PROPFIND
            hrefs = [
                href
                for href, _ in self._props(book, "<d:getetag/>", depth="1")
                if href.rstrip("/") != book.rstrip("/")
            ]
        return BookState(book, token, self._multiget(book, hrefs))

    def _multiget(self, book: str, hrefs: list[str]) -> list[str]:
        if not hrefs:
            return []
        refs = "".join(f"<d:href>{_xml_text(urlsplit(h).path or h)}</d:href>" for h in hrefs)
        body = (
            f'<?xml version="1.0" encoding="utf-8"?><c:addressbook-multiget xmlns:d="{DAV}" '
            f'xmlns:c="{CARD}"><d:prop><d:getetag/><c:address-data/></d:prop>{refs}'
            "</c:addressbook-multiget>"
        )
        root = self._multistatus("REPORT", book, body, "1")
        return [el.text for el in root.iter(f"{{{CARD}}}address-data") if el.text]


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
