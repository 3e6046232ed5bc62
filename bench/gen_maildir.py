"""Generate a realistic Maildir for the store benchmarks (deterministic: seed 5).

    .venv/bin/python bench/gen_maildir.py DATA_DIR [--count 100000] [--account bench]

Writes ``DATA_DIR/mail/<account>/INBOX/{cur,new,tmp}`` directly (no tmail code involved): mixed
sizes (1 KB notes to 300 KB attachments), charsets (UTF-8 plain/QP/base64, KOI8-R, windows-1251,
ISO-8859-1), RFC 2047 subjects, HTML alternatives, threads with In-Reply-To/References, about
2,000 senders over five years, 30% unread and 5% flagged.
"""

from __future__ import annotations

import argparse
import base64
import email.utils
import os
import quopri
import random
import time
from pathlib import Path

EN = [
    "meeting",
    "report",
    "budget",
    "quarterly",
    "project",
    "release",
    "deadline",
    "review",
    "server",
    "backup",
    "invoice",
    "schedule",
    "customer",
    "contract",
    "update",
    "network",
    "security",
    "patch",
    "holiday",
    "travel",
    "lunch",
    "team",
    "design",
    "feedback",
    "proposal",
    "draft",
    "summary",
    "agenda",
    "minutes",
    "question",
    "answer",
    "problem",
    "issue",
    "database",
    "performance",
    "migration",
    "deploy",
    "kernel",
    "compiler",
    "library",
    "python",
    "terminal",
    "mail",
]
RU = [
    "отчёт",
    "встреча",
    "бюджет",
    "проект",
    "сервер",
    "резервная",
    "копия",
    "счёт",
    "договор",
    "клиент",
    "обновление",
    "сеть",
    "безопасность",
    "отпуск",
    "командировка",
    "обед",
    "команда",
    "предложение",
    "черновик",
    "вопрос",
    "ответ",
    "проблема",
    "база",
    "данных",
    "производительность",
    "перенос",
    "ядро",
    "библиотека",
    "почта",
    "привет",
    "спасибо",
]
FIRST = [
    "Alice",
    "Bob",
    "Carol",
    "Dave",
    "Erin",
    "Frank",
    "Grace",
    "Heidi",
    "Ivan",
    "Judy",
    "Mallory",
    "Oscar",
    "Peggy",
    "Trent",
    "Walter",
]
LAST = [
    "Smith",
    "Jones",
    "Brown",
    "Taylor",
    "Wilson",
    "Davies",
    "Evans",
    "Thomas",
    "Johnson",
    "Roberts",
    "Иванов",
    "Петров",
]
DOMAINS = ["example.com", "example.org", "example.net", "mail.ru", "yandex.ru", "corp.example"]


def words(rng: random.Random, n: int, ru: bool) -> str:
    pool = RU if ru else EN
    return " ".join(rng.choice(pool) for _ in range(n))


def paragraph(rng: random.Random, ru: bool) -> str:
    lines = []
    for _ in range(rng.randint(2, 8)):
        lines.append(words(rng, rng.randint(6, 14), ru).capitalize() + ".")
    return " ".join(lines)


def encode_header(text: str, charset: str) -> str:
    try:
        text.encode("ascii")
        return text
    except UnicodeEncodeError:
        return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode()}?="


def make(
    n: int, rng: random.Random, people: list[tuple[str, str]], start: float
) -> tuple[bytes, str]:
    ru = rng.random() < 0.35
    charset = (
        rng.choice(["koi8-r", "windows-1251", "utf-8", "utf-8"])
        if ru
        else rng.choice(["utf-8", "iso-8859-1", "us-ascii", "utf-8"])
    )
    name, addr = rng.choice(people)
    to_name, to_addr = rng.choice(people)
    when = start + n * (5 * 365 * 86400 / 100_000) + rng.randint(0, 3600)
    subject = words(rng, rng.randint(2, 7), ru).capitalize()
    thread_parent = n - rng.randint(1, 50) if n > 50 and rng.random() < 0.3 else None
    headers = [
        f"Return-Path: <{addr}>",
        f"Received: from mx{rng.randint(1, 9)}.example.net by mail.example.com; "
        + email.utils.formatdate(when),
        f"From: {encode_header(name, 'utf-8')} <{addr}>",
        f"To: {encode_header(to_name, 'utf-8')} <{to_addr}>",
    ]
    if rng.random() < 0.2:
        cc_name, cc_addr = rng.choice(people)
        headers.append(f"Cc: {encode_header(cc_name, 'utf-8')} <{cc_addr}>")
    if thread_parent is not None:
        subject = "Re: " + subject
        headers.append(f"In-Reply-To: <bench{thread_parent}@example.com>")
        headers.append(f"References: <bench{thread_parent}@example.com>")
    enc_cs = "utf-8" if charset == "us-ascii" else charset
    try:
        headers.append("Subject: " + encode_header(subject, enc_cs))
    except UnicodeEncodeError:
        headers.append("Subject: " + encode_header(subject, "utf-8"))
    headers += [
        f"Date: {email.utils.formatdate(when, localtime=False)}",
        f"Message-ID: <bench{n}@example.com>",
        "MIME-Version: 1.0",
    ]
    body = "\n\n".join(paragraph(rng, ru) for _ in range(rng.choice([1, 1, 2, 3, 5, 10, 20])))
    if charset == "us-ascii":
        body = body.encode("ascii", "replace").decode()
    kind = rng.random()
    raw_body = body.encode(charset, "replace")
    if kind < 0.55:
        headers.append(f"Content-Type: text/plain; charset={charset}")
        headers.append("Content-Transfer-Encoding: 8bit")
        text = "\r\n".join(headers).encode() + b"\r\n\r\n" + raw_body.replace(b"\n", b"\r\n")
    elif kind < 0.75:
        headers.append(f"Content-Type: text/plain; charset={charset}")
        headers.append("Content-Transfer-Encoding: quoted-printable")
        text = "\r\n".join(headers).encode() + b"\r\n\r\n" + quopri.encodestring(raw_body)
    elif kind < 0.9:
        b = f"b{n}x"
        headers.append(f'Content-Type: multipart/alternative; boundary="{b}"')
        html = f"<html><body><p>{body}</p></body></html>".encode(charset, "replace")
        text = (
            "\r\n".join(headers).encode()
            + f"\r\n\r\n--{b}\r\nContent-Type: text/plain; charset={charset}\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n".encode()
            + base64.encodebytes(raw_body)
            + f"\r\n--{b}\r\nContent-Type: text/html; charset={charset}\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n".encode()
            + base64.encodebytes(html)
            + f"\r\n--{b}--\r\n".encode()
        )
    else:
        b = f"m{n}x"
        headers.append(f'Content-Type: multipart/mixed; boundary="{b}"')
        size = rng.choice([2_000, 20_000, 60_000, 200_000])
        blob = base64.encodebytes(rng.randbytes(size))
        text = (
            "\r\n".join(headers).encode()
            + f"\r\n\r\n--{b}\r\nContent-Type: text/plain; charset={charset}\r\n\r\n".encode()
            + raw_body
            + f'\r\n--{b}\r\nContent-Type: application/pdf; name="doc{n}.pdf"\r\n'
            f'Content-Disposition: attachment; filename="doc{n}.pdf"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n".encode()
            + blob
            + f"\r\n--{b}--\r\n".encode()
        )
    flags = ""
    if rng.random() < 0.7:
        flags += "S"
    if rng.random() < 0.05:
        flags = "F" + flags
    return text, flags


def generate(data: Path, count: int, account: str = "bench") -> Path:
    rng = random.Random(5)
    people = []
    for i in range(2000):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        people.append((f"{first} {last}", f"{first.lower()}{i}@{rng.choice(DOMAINS)}"))
    folder = data / "mail" / account / "INBOX"
    for sub in ("cur", "new", "tmp"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    start = time.mktime((2020, 1, 1, 0, 0, 0, 0, 0, 0))
    for n in range(count):
        raw, flags = make(n, rng, people, start)
        name = f"{1577836800 + n}.M{n}P1R{n:x}.bench:2,{flags}"
        (folder / "cur" / name).write_bytes(raw)
    return folder


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--account", default="bench")
    a = ap.parse_args()
    t = time.monotonic()
    folder = generate(a.data_dir, a.count, a.account)
    total = sum(os.path.getsize(folder / "cur" / f) for f in os.listdir(folder / "cur"))
    print(f"{a.count} messages, {total / 1e6:.0f} MB in {folder} ({time.monotonic() - t:.0f}s)")


if __name__ == "__main__":
    main()
