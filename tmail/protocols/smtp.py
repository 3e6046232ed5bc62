"""SMTP submission of queued messages over one connection (smtplib stays inside this module).

The connection itself (TCP, TLS mode, EHLO, AUTH) comes from :func:`tmail.protocols.connect.
open_smtp`; this module runs mail transactions on it:

* ``SIZE=`` declared when offered (RFC 1870), so a too-large message is refused before DATA;
* ``BODY=8BITMIME`` only for 8-bit bytes, ``SMTPUTF8`` only for non-ASCII addresses (RFC 6152,
  RFC 6531), and only when offered;
* MAIL FROM and every RCPT TO in one write when PIPELINING is offered (RFC 2920): one round trip
  instead of 1 + recipients;
* DSN ``NOTIFY=``, ``RET=HDRS`` and ``ENVID`` when asked for and offered (RFC 3461);
* per-recipient results: refused recipients are reported with their codes and the message goes
  to the accepted ones (``smtplib.sendmail`` would hide a partial refusal in a return value).

Nothing here retries or touches the queue: outcomes come back as :class:`Delivery` or as
:class:`SmtpFailure` (temporary or permanent), and the outbox decides.
"""

from __future__ import annotations

import re
import smtplib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

_LEADING_DOT = re.compile(rb"(?m)^\.")
_ENHANCED = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})\b")


@dataclass(frozen=True)
class Reply:
    """One SMTP reply: code and text (enhanced status, when any, at the start of the text)."""

    code: int
    text: str

    @property
    def enhanced(self) -> str | None:
        m = _ENHANCED.match(self.text)
        return m.group(0) if m else None

    @property
    def permanent(self) -> bool:
        return self.code >= 500

    def __str__(self) -> str:
        return f"{self.code} {self.text}"


@dataclass(frozen=True)
class Refusal:
    """A recipient the server refused at RCPT TO."""

    recipient: str
    reply: Reply

    @property
    def permanent(self) -> bool:
        return self.reply.permanent


@dataclass(frozen=True)
class Dsn:
    """What delivery status notifications to ask for (RFC 3461)."""

    notify: tuple[str, ...] = ()  # of "success", "failure", "delay"; or ("never",)
    ret: str = "HDRS"
    envid: str | None = None


@dataclass(frozen=True)
class Delivery:
    """The outcome of one transaction the server did not refuse as a whole."""

    accepted: tuple[str, ...]
    refused: tuple[Refusal, ...]
    final: Reply | None  # the reply after DATA's final dot; None when no recipient was accepted
    notes: tuple[str, ...] = field(default=())


class SmtpFailure(Exception):
    """The whole message was not accepted. ``reply`` is None for network trouble.

    ``uncertain``: the connection was lost (or the reply never came) after the message's final
    dot, so the server may have taken it: sending it again may deliver it twice.
    """

    def __init__(
        self,
        what: str,
        reply: Reply | None,
        *,
        connection_lost: bool = False,
        uncertain: bool = False,
    ) -> None:
        super().__init__(what if reply is None else f"{what}: {reply}")
        self.what = what
        self.reply = reply
        self.connection_lost = connection_lost
        self.uncertain = uncertain

    @property
    def permanent(self) -> bool:
        return self.reply is not None and self.reply.permanent


def _text(msg: bytes | str) -> str:
    if isinstance(msg, bytes):
        msg = msg.decode("utf-8", "replace")
    return " ".join(msg.split())


def to_wire(data: bytes) -> bytes:
    """Every line end as CRLF (the queue keeps LF); dot-stuffing is smtplib.data's job."""
    return re.sub(rb"\r?\n", b"\r\n", data)


def _xtext(value: str) -> str:
    """RFC 3461 xtext: printable ASCII except '+' and '=', the rest as +HH."""
    return "".join(
        c if 33 <= ord(c) <= 126 and c not in "+=" else f"+{ord(c):02X}"
        for c in value.encode("utf-8").decode("latin-1")
    )


class SmtpSession:
    """Mail transactions on one open connection; reuse it for every queued message."""

    def __init__(self, conn: smtplib.SMTP, *, server: str = "", account: str = "") -> None:
        self._conn = conn
        self.server = server
        self.account = account
        self.broken = False
        self._dirty = False  # a transaction was started and not finished: RSET first

    @property
    def size_limit(self) -> int | None:
        """The server's SIZE (bytes) when it announces one; 0 or absent means none."""
        value = self._conn.esmtp_features.get("size", "").strip()
        return int(value) if value.isdigit() and int(value) > 0 else None

    def offers(self, extension: str) -> bool:
        return self._conn.has_extn(extension)

    # -------------------------------------------------------------- low level
    def _reply(self) -> Reply:
        code, msg = self._conn.getreply()
        return Reply(code, _text(msg))

    def _command(self, line: str) -> Reply:
        self._conn.putcmd(line)
        return self._reply()

    def _lost(self, what: str, exc: BaseException) -> SmtpFailure:
        self.broken = True
        detail = _text(str(exc)) or type(exc).__name__
        return SmtpFailure(f"connection lost {what} ({detail})", None, connection_lost=True)

    def _reset(self) -> None:
        if self._dirty and not self.broken:
            try:
                reply = self._command("RSET")
                if reply.code != 250:
                    self.broken = True
            except (smtplib.SMTPException, OSError):
                self.broken = True
        self._dirty = False

    # ------------------------------------------------------------------ send
    def send(
        self, data: bytes, sender: str, recipients: Sequence[str], dsn: Dsn | None = None
    ) -> Delivery:
        """Run one transaction. Raises SmtpFailure when the message as a whole was not taken."""
        if self.broken:
            raise SmtpFailure("the connection is no longer usable", None, connection_lost=True)
        for addr in (sender, *recipients):
            if any(c in addr for c in "\r\n<> ") or not addr.isprintable():
                raise SmtpFailure(f"{addr!r} cannot be used as an SMTP address", Reply(501, ""))
        self._reset()
        wire = to_wire(data)
        notes: list[str] = []
        mail_opts: list[str] = []
        if self.offers("size"):
            mail_opts.append(f"SIZE={len(wire)}")
        if not wire.isascii():
            if self.offers("8bitmime"):
                mail_opts.append("BODY=8BITMIME")
            else:
                notes.append("the server does not announce 8BITMIME; 8-bit text sent as is")
        if not all(a.isascii() for a in (sender, *recipients)):
            if not self.offers("smtputf8"):
                raise SmtpFailure(
                    "the server does not accept non-ASCII addresses (no SMTPUTF8)",
                    Reply(553, "5.6.7 SMTPUTF8 not offered"),
                )
            mail_opts.append("SMTPUTF8")
            self._conn.command_encoding = "utf-8"
        rcpt_opts: list[str] = []
        if dsn is not None and (dsn.notify or dsn.envid):
            if self.offers("dsn"):
                mail_opts.append(f"RET={dsn.ret}")
                if dsn.envid:
                    mail_opts.append(f"ENVID={_xtext(dsn.envid)}")
                if dsn.notify:
                    rcpt_opts.append("NOTIFY=" + ",".join(n.upper() for n in dsn.notify))
            else:
                notes.append("the server does not offer DSN; sent without delivery notifications")

        mail_line = " ".join([f"MAIL FROM:<{sender}>", *mail_opts])
        rcpt_lines = [" ".join([f"RCPT TO:<{r}>", *rcpt_opts]) for r in recipients]
        self._dirty = True
        data_reply: Reply | None = None
        try:
            if self.offers("pipelining"):
                # RFC 2920: MAIL, every RCPT and DATA in one write, then the replies in order.
                # DATA is the last command of the group: the server answers 354 only when it
                # accepted a recipient, so nothing is sent that it did not ask for.
                lines = [mail_line, *rcpt_lines, "DATA"]
                self._conn.send("".join(f"{line}\r\n" for line in lines))
                mail_reply = self._reply()
                rcpt_replies = [self._reply() for _ in rcpt_lines]
                data_reply = self._reply()
            else:
                mail_reply = self._command(mail_line)
                rcpt_replies = []
                if mail_reply.code == 250:
                    rcpt_replies = [self._command(line) for line in rcpt_lines]
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise self._lost("during MAIL/RCPT", exc) from exc
        if mail_reply.code == 421 or (data_reply is not None and data_reply.code == 421):
            self.broken = True
        accepted = tuple(
            r for r, rep in zip(recipients, rcpt_replies, strict=False) if rep.code // 100 == 2
        )
        refused = tuple(
            Refusal(r, rep)
            for r, rep in zip(recipients, rcpt_replies, strict=False)
            if rep.code // 100 != 2
        )
        if any(f.reply.code == 421 for f in refused):
            self.broken = True
        if mail_reply.code != 250 or not accepted:
            if data_reply is not None and data_reply.code == 354:
                self._end_data(b"")  # a server that said 354 anyway gets an empty message
            self._reset()
            if mail_reply.code != 250:
                raise SmtpFailure("the server refused the sender", mail_reply)
            return Delivery((), refused, None, tuple(notes))
        try:
            if data_reply is None:
                data_reply = self._command("DATA")
            if data_reply.code != 354:
                self._reset()
                if data_reply.code == 421:
                    self.broken = True
                raise SmtpFailure("the server refused DATA", data_reply)
            self._send_body(wire)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise self._lost("during DATA, before the message's final dot", exc) from exc
        try:
            final = self._reply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            # Every byte and the final dot went out; the reply did not come back. The server
            # may have taken the message (RFC 5321 4.1.1.4 and 6.1: it is responsible once it
            # has sent 250, and the 250 may be what was lost), so this is neither sent nor not.
            self.broken = True
            detail = _text(str(exc)) or type(exc).__name__
            raise SmtpFailure(
                f"connection lost after the message's final dot, before the server's reply "
                f"({detail})",
                None,
                connection_lost=True,
                uncertain=True,
            ) from exc
        self._dirty = False
        if final.code == 421:
            self.broken = True
        if final.code != 250:
            raise SmtpFailure("the server did not accept the message", final)
        return Delivery(accepted, refused, final, tuple(notes))

    def _send_body(self, wire: bytes) -> None:
        """Send the message after 354: dot-stuffed (RFC 5321 4.5.2), then CRLF.CRLF."""
        body = _LEADING_DOT.sub(b"..", wire)
        if body and not body.endswith(b"\r\n"):
            body += b"\r\n"
        self._conn.send(body + b".\r\n")

    def _end_data(self, wire: bytes) -> Reply:
        """The message after 354, then the server's reply."""
        self._send_body(wire)
        return self._reply()

    def close(self) -> None:
        """QUIT politely; a connection that is already gone is fine."""
        try:
            if not self.broken:
                self._conn.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            self._conn.close()


def open_session(
    connect: Callable[[], smtplib.SMTP], *, server: str = "", account: str = ""
) -> SmtpSession:
    """A session on the connection ``connect`` opens; smtplib's own errors become SmtpFailure
    (tmail's errors from the connect layer pass through)."""
    try:
        conn = connect()
    except smtplib.SMTPResponseException as exc:
        reply = Reply(exc.smtp_code, _text(exc.smtp_error))
        raise SmtpFailure("the server refused the connection", reply, connection_lost=True) from exc
    except (smtplib.SMTPException, OSError) as exc:
        detail = _text(str(exc)) or type(exc).__name__
        raise SmtpFailure(f"cannot connect ({detail})", None, connection_lost=True) from exc
    return SmtpSession(conn, server=server, account=account)
