"""``tmail --demo``: a mailbox to try tmail on, with no network and no configuration.

:func:`demo_messages` writes a few hundred messages by hand, byte by byte, the way real mail
arrives (this module builds no ``email`` objects): threads on a mailing list, KOI8-R and
windows-1251 letters (one of them mislabelled as us-ascii, as old mailers did), HTML-only
newsletters, attachments, a bounce. :func:`create_demo` puts them into a fresh store in a
temporary directory and returns the demo account, whose sending delivers locally into its own
Inbox (see :class:`tmail.runtime.backend.DemoBackend`).
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from tmail.config.model import Account, Config, ServerSettings
from tmail.core.models import Flag

DEMO_ACCOUNT = "demo"
DEMO_EMAIL = "you@demo.tmail.test"
DEMO_NAME = "You (demo)"
DOMAIN = "demo.tmail.test"


@dataclass(frozen=True)
class DemoMessage:
    folder: str
    raw: bytes
    flags: frozenset[Flag]


PEOPLE = [
    ("Anna Petrova", "anna@petrova.example"),
    ("Boris Ivanov", "boris@ivanov.example"),
    ("Carol Jensen", "carol@jensen.example"),
    ("Dmitri Sokolov", "dmitri@sokolov.example"),
    ("Eve Martin", "eve@martin.example"),
    ("Farid Haddad", "farid@haddad.example"),
    ("Grace Okafor", "grace@okafor.example"),
    ("Hiro Tanaka", "hiro@tanaka.example"),
]

TOPICS = [
    "Quarterly report",
    "Lunch on Friday?",
    "Release 2.4 planning",
    "Server migration this weekend",
    "Your invoice #4412",
    "Photos from the trip",
    "Minutes of the Tuesday meeting",
    "Question about the API",
    "Holiday schedule",
    "Code review: threading fix",
]

_WORDS = (
    "the a we it to of and for in on with that this is be will can from about as at by our plan "
    "team release mail server client message folder thread reply draft index search week monday "
    "friday report numbers budget meeting notes review patch test build deploy"
)
WORDS = _WORDS.split()


def _b64_word(text: str, charset: str = "utf-8") -> str:
    encoded = base64.b64encode(text.encode(charset)).decode("ascii")
    return f"=?{charset}?B?{encoded}?="


def _addr(name: str, addr: str) -> str:
    if name.isascii():
        return f'"{name}" <{addr}>'
    return f"{_b64_word(name)} <{addr}>"


def _sentence(rng: random.Random, n: int = 12) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def _paragraphs(rng: random.Random, count: int) -> str:
    paras = []
    for _ in range(count):
        paras.append(" ".join(_sentence(rng, rng.randint(6, 16)) for _ in range(rng.randint(2, 5))))
    return "\n\n".join(_wrap(p) for p in paras)


def _wrap(text: str, width: int = 72) -> str:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return "\n".join(lines)


def _headers(
    *,
    from_: str,
    to: str,
    subject: str,
    date: datetime,
    msgid: str,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    extra: list[str] | None = None,
) -> list[str]:
    h = [
        f"From: {from_}",
        f"To: {to}",
        f"Subject: {subject}",
        f"Date: {format_datetime(date)}",
        f"Message-ID: <{msgid}>",
    ]
    if in_reply_to:
        h.append(f"In-Reply-To: <{in_reply_to}>")
    if references:
        h.append("References: " + " ".join(f"<{r}>" for r in references))
    h.extend(extra or [])
    h.append("MIME-Version: 1.0")
    return h


def _plain(
    headers: list[str], body: str, charset: str = "utf-8", declared: str | None = None
) -> bytes:
    declared = declared or charset
    cte = "7bit" if body.isascii() else "8bit"
    head = [
        *headers,
        f"Content-Type: text/plain; charset={declared}",
        f"Content-Transfer-Encoding: {cte}",
    ]
    return ("\n".join(head) + "\n\n").encode("ascii") + body.encode(charset) + b"\n"


def _html(headers: list[str], html: str) -> bytes:
    head = [*headers, "Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: base64"]
    encoded = base64.encodebytes(html.encode("utf-8")).decode("ascii")
    return ("\n".join(head) + "\n\n" + encoded).encode("ascii")


def _with_attachment(headers: list[str], body: str, files: list[tuple[str, str, bytes]]) -> bytes:
    boundary = "=-demo-" + headers[4].split("<")[1].split("@")[0]
    parts = [
        f"--{boundary}\nContent-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n\n" + body + "\n"
    ]
    for name, ctype, data in files:
        if name.isascii():
            disp = f'attachment; filename="{name}"'
        else:
            from urllib.parse import quote

            disp = f"attachment; filename*=utf-8''{quote(name)}"
        parts.append(
            f"--{boundary}\nContent-Type: {ctype}\nContent-Disposition: {disp}\n"
            "Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(data).decode("ascii")
        )
    head = [*headers, f'Content-Type: multipart/mixed; boundary="{boundary}"']
    text = "\n".join(head) + "\n\nThis is a multi-part message in MIME format.\n\n"
    text += "\n".join(parts) + f"\n--{boundary}--\n"
    return text.encode("utf-8")


# A tiny valid PNG (1x1 pixel) and a minimal PDF, so "open" has something real to show.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
PDF = (
    b"%PDF-1.1\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 144]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)

KOI8_LETTER = (
    "Здравствуйте!\n\n"
    "Пересылаю отчёт за третий квартал. Цифры по продажам выросли на 12%,\n"
    "но расходы на связь тоже выросли. Подробности во вложении не поместились,\n"
    "поэтому пишу прямо в письме.\n\n"
    "> Когда будет готов отчёт?\n"
    "> Нам нужно до пятницы.\n\n"
    "Готов, как обещал.\n\n"
    "С уважением,\nАнна Петрова\n"
)

CP1251_LETTER = (
    "Привет!\n\n"
    "Это письмо написано в Windows, в кодировке windows-1251, а почтовая программа\n"
    "забыла это указать и написала us-ascii. tmail угадывает кодировку по тексту;\n"
    "если угадает неверно, нажмите C и выберите кодировку вручную.\n\n"
    "Встречаемся в субботу в десять у метро.\n\nБорис\n"
)

NEWSLETTER = """<html><head><style>body {{ font-family: sans-serif }}</style></head><body>
<h1>The Weekly Terminal &mdash; issue {n}</h1>
<p>Welcome back! This week: <b>terminal mail clients</b> that do not get in your way.</p>
<ul>
<li><a href="https://example.org/articles/{n}/keys">Why mutt's keys stuck around</a></li>
<li><a href="https://example.org/articles/{n}/charsets">KOI8-R in 2026: a field guide</a></li>
<li><a href="https://example.org/articles/{n}/maildir">Maildir, thirty years on</a></li>
</ul>
<p><img src="https://example.org/pixel.gif" alt="tracking pixel (never loaded)"></p>
<p style="color:gray">You receive this because you subscribed.
<a href="https://example.org/unsubscribe">Unsubscribe</a>.</p>
</body></html>
"""

BOUNCE_REPORT = """Reporting-MTA: dns; mx.{domain}
Arrival-Date: {date}

Final-Recipient: rfc822; nobody@nowhere.example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <nobody@nowhere.example>: Recipient address rejected: User unknown
"""


def demo_messages(now: datetime | None = None, seed: int = 1998) -> list[DemoMessage]:
    """Every message of the demo mailbox, oldest first (a few hundred)."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    me = _addr(DEMO_NAME, DEMO_EMAIL)
    out: list[DemoMessage] = []
    counter = 0

    def msgid() -> str:
        nonlocal counter
        counter += 1
        return f"demo.{counter}@{DOMAIN}"

    def when(days_ago: float) -> datetime:
        return (now - timedelta(days=days_ago)).replace(microsecond=0)

    def seen_if(days_ago: float) -> frozenset[Flag]:
        return frozenset({Flag.SEEN}) if days_ago > 2 or rng.random() < 0.5 else frozenset()

    # Threads in the inbox: a question and a few answers, some from you (those go to Sent).
    for t in range(24):
        topic = TOPICS[t % len(TOPICS)] + ("" if t < len(TOPICS) else f" ({t // len(TOPICS) + 1})")
        start = 60 - t * 2.4 + rng.random()
        root = msgid()
        refs = [root]
        people = rng.sample(PEOPLE, 3)
        name, addr = people[0]
        body = _paragraphs(rng, 2) + f"\n\n-- \n{name}\n"
        h = _headers(from_=_addr(name, addr), to=me, subject=topic, date=when(start), msgid=root)
        out.append(DemoMessage("INBOX", _plain(h, body), seen_if(start)))
        prev_body = body
        for k in range(rng.randint(1, 5)):
            day = start - (k + 1) * rng.uniform(0.05, 0.4)
            mid = msgid()
            quoted = "\n".join("> " + line for line in prev_body.split("\n")[:6])
            if rng.random() < 0.3:
                folder, from_, to = "Sent", me, _addr(name, addr)
                flags = frozenset({Flag.SEEN})
            else:
                rn, ra = people[1 + k % 2]
                folder, from_, to = "INBOX", _addr(rn, ra), me
                flags = seen_if(day)
            said = f"On an earlier day, {name} wrote:"
            reply = f"{_sentence(rng)}\n\n{said}\n{quoted}\n\n{_paragraphs(rng, 1)}"
            h = _headers(
                from_=from_,
                to=to,
                subject="Re: " + topic,
                date=when(day),
                msgid=mid,
                in_reply_to=refs[-1],
                references=list(refs),
            )
            out.append(DemoMessage(folder, _plain(h, reply), flags))
            refs.append(mid)
            prev_body = reply

    # Single letters, some with attachments.
    for i in range(90):
        day = 90 - i + rng.random()
        name, addr = rng.choice(PEOPLE)
        subject = rng.choice(TOPICS)
        h = _headers(from_=_addr(name, addr), to=me, subject=subject, date=when(day), msgid=msgid())
        body = _paragraphs(rng, rng.randint(1, 4))
        marks = set(seen_if(day))
        if rng.random() < 0.1:
            marks.add(Flag.FLAGGED)
        if i % 9 == 0:
            files = [("report-q3.pdf", "application/pdf", PDF), ("chart.png", "image/png", PNG)]
            body += "\n\nThe report and a chart are attached."
            raw = _with_attachment(h, body, files)
        elif i % 13 == 0:
            files = [("Отчёт за квартал.txt", "text/plain; charset=utf-8", "Итого: 42\n".encode())]
            raw = _with_attachment(h, body + "\n\nВо вложении — итоги квартала.", files)
        else:
            raw = _plain(h, body)
        folder = "Archive" if day > 45 else "INBOX"
        if folder == "Archive":
            marks.add(Flag.SEEN)
        out.append(DemoMessage(folder, raw, frozenset(marks)))

    # KOI8-R letters, declared as such (a mail from an old Unix box).
    for i in range(4):
        day = 20 - i * 4.5
        h = _headers(
            from_=f"{_b64_word('Анна Петрова', 'koi8-r')} <anna@petrova.example>",
            to=me,
            subject=_b64_word(f"Отчёт за квартал, часть {i + 1}", "koi8-r"),
            date=when(day),
            msgid=msgid(),
            extra=["X-Mailer: The Bat! (v1.32) Personal"],
        )
        out.append(DemoMessage("INBOX", _plain(h, KOI8_LETTER, "koi8-r"), seen_if(day)))
    # windows-1251: one declared right, one claiming us-ascii.
    for i, declared in enumerate(("windows-1251", "us-ascii")):
        day = 11 - i * 5
        h = _headers(
            from_=f"{_b64_word('Борис Иванов', 'windows-1251')} <boris@ivanov.example>",
            to=me,
            subject=_b64_word("Встреча в субботу", "windows-1251") + ("" if i == 0 else " (2)"),
            date=when(day),
            msgid=msgid(),
            extra=["X-Mailer: Microsoft Outlook Express 6.00.2900.2180"],
        )
        out.append(DemoMessage("INBOX", _plain(h, CP1251_LETTER, "cp1251", declared), frozenset()))

    # HTML-only newsletters.
    for n in range(1, 13):
        day = 84 - n * 7 + 0.3
        h = _headers(
            from_='"The Weekly Terminal" <news@weekly-terminal.example>',
            to=me,
            subject=f"The Weekly Terminal #{n}: keys, charsets and Maildir",
            date=when(day),
            msgid=msgid(),
            extra=["List-Unsubscribe: <https://example.org/unsubscribe>"],
        )
        out.append(DemoMessage("INBOX", _html(h, NEWSLETTER.format(n=n)), seen_if(day)))

    # A mailing list folder with its own threads.
    for t in range(12):
        root = msgid()
        refs = [root]
        subject = (
            f"[tmail-dev] {rng.choice(['RFC', 'PATCH', 'Question'])}: {rng.choice(TOPICS).lower()}"
        )
        start = 40 - t * 3
        name, addr = rng.choice(PEOPLE)
        h = _headers(
            from_=_addr(name, addr),
            to="tmail-dev@lists.example",
            subject=subject,
            date=when(start),
            msgid=root,
            extra=["List-Id: <tmail-dev.lists.example>"],
        )
        out.append(
            DemoMessage("Lists/tmail-dev", _plain(h, _paragraphs(rng, 3)), frozenset({Flag.SEEN}))
        )
        for k in range(rng.randint(2, 7)):
            name, addr = rng.choice(PEOPLE)
            mid = msgid()
            parent = rng.choice(refs)
            chain = refs[: refs.index(parent) + 1]
            h = _headers(
                from_=_addr(name, addr),
                to="tmail-dev@lists.example",
                subject="Re: " + subject,
                date=when(start - (k + 1) * 0.2),
                msgid=mid,
                in_reply_to=parent,
                references=chain,
                extra=["List-Id: <tmail-dev.lists.example>"],
            )
            flags = frozenset({Flag.SEEN}) if rng.random() < 0.7 else frozenset()
            out.append(DemoMessage("Lists/tmail-dev", _plain(h, _paragraphs(rng, 1)), flags))
            refs.append(mid)

    # Sent mail of yours, a draft, something in the trash.
    for i in range(15):
        day = 70 - i * 4.2
        name, addr = rng.choice(PEOPLE)
        h = _headers(
            from_=me,
            to=_addr(name, addr),
            subject=rng.choice(TOPICS),
            date=when(day),
            msgid=msgid(),
        )
        out.append(DemoMessage("Sent", _plain(h, _paragraphs(rng, 1)), frozenset({Flag.SEEN})))
    h = _headers(
        from_=me, to=_addr(*PEOPLE[2]), subject="Unfinished thoughts", date=when(1), msgid=msgid()
    )
    out.append(
        DemoMessage(
            "Drafts",
            _plain(h, "Dear Carol,\n\nI have been thinking about"),
            frozenset({Flag.SEEN, Flag.DRAFT}),
        )
    )
    for i in range(5):
        h = _headers(
            from_='"Prize Department" <winner@lottery.example>',
            to=me,
            subject=f"You have won! ({i + 1})",
            date=when(30 - i),
            msgid=msgid(),
        )
        out.append(
            DemoMessage("Trash", _plain(h, "Send us your bank details."), frozenset({Flag.SEEN}))
        )

    # A bounce: one of your messages could not be delivered.
    boundary = "=-bounce-1"
    date = when(0.5)
    bounce = (
        "\n".join(
            _headers(
                from_='"Mail Delivery System" <MAILER-DAEMON@mx.demo.tmail.test>',
                to=me,
                subject="Undelivered Mail Returned to Sender",
                date=date,
                msgid=msgid(),
            )
        )
        + "\nContent-Type: multipart/report; report-type=delivery-status;"
        + f' boundary="{boundary}"\n\n'
        f"--{boundary}\nContent-Type: text/plain; charset=us-ascii\n\n"
        "This is the mail system at host mx.demo.tmail.test.\n\n"
        "I'm sorry to have to inform you that your message could not\n"
        "be delivered to one or more recipients.\n\n"
        "<nobody@nowhere.example>: host mx.nowhere.example said: 550 5.1.1\n"
        "    Recipient address rejected: User unknown\n\n"
        f"--{boundary}\nContent-Type: message/delivery-status\n\n"
        + BOUNCE_REPORT.format(domain=DOMAIN, date=format_datetime(date))
        + f"\n--{boundary}\nContent-Type: message/rfc822\n\n"
        + "\n".join(
            _headers(
                from_=me,
                to="nobody@nowhere.example",
                subject="Hello?",
                date=when(0.6),
                msgid=msgid(),
            )
        )
        + "\nContent-Type: text/plain; charset=us-ascii\n\nIs anybody there?\n"
        + f"\n--{boundary}--\n"
    )
    out.append(DemoMessage("INBOX", bounce.encode("ascii"), frozenset()))

    # A welcome letter on top, the first thing a newcomer reads.
    h = _headers(
        from_='"tmail" <welcome@demo.tmail.test>',
        to=me,
        subject="Welcome to the tmail demo: start here",
        date=now.replace(microsecond=0),
        msgid=msgid(),
    )
    out.append(DemoMessage("INBOX", _plain(h, WELCOME), frozenset({Flag.FLAGGED})))
    return out


WELCOME = """This is a demo mailbox: nothing here touches the network.

Move with j and k (or the arrows), open a message with Enter, go back with q.
The line at the bottom shows the keys that work where you are; ? shows them all.

Things to try:

  /      search, e.g.  from:anna   subject:report   is:unread   has:attachment
  r      reply to a message (your editor opens: $VISUAL or $EDITOR)
  m      write a new message; y on the review screen sends it
  $      sync now (in the demo, what you send arrives in this Inbox at once)
  t      thread view on and off
  c      choose another folder (Lists/tmail-dev has long threads)
  C      in a message: view it in another charset (try the windows-1251 letter
         that claims to be us-ascii)
  h      in a message: the raw source

Some letters are in KOI8-R and windows-1251, some newsletters are HTML only,
some have attachments (v), and one is a bounce.

Quit with q (from the message list: it asks first) or Q.
"""


def create_demo(root: Path | None = None, now: datetime | None = None) -> Config:
    """Fill a fresh store under ``root`` (a new temporary directory by default) with the demo
    mailbox; return a configuration with the one demo account."""
    import tempfile

    from tmail.store import Store

    data_dir = root or Path(tempfile.mkdtemp(prefix="tmail-demo-"))
    config = demo_config(data_dir)
    with Store.open(data_dir, check=False, assumed_charsets=config.assumed_charsets) as store:
        for folder in ("INBOX", "Sent", "Drafts", "Trash", "Archive", "Lists/tmail-dev"):
            store.ensure_folder(DEMO_ACCOUNT, folder)
        for m in demo_messages(now):
            store.add_message(DEMO_ACCOUNT, m.folder, m.raw, m.flags)
    return config


def demo_config(data_dir: Path) -> Config:
    server = ServerSettings(protocol="imap", host="localhost", port=0, security="none")
    account = Account(
        name=DEMO_ACCOUNT,
        email=DEMO_EMAIL,
        incoming=server,
        display_name=DEMO_NAME,
        default=True,
        poll_interval=0.0,
        assumed_charsets=("koi8-r", "windows-1251"),
    )
    return Config(path=None, data_dir=data_dir, poll_interval=0.0, accounts={DEMO_ACCOUNT: account})
