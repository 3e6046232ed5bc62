"""Parse+render speed against the bare stdlib path, and a 100 MB message's time and memory.

    .venv/bin/python bench/parse.py [--count 3000] [--big-mb 100]

1. A generated mixed corpus (seeded): plain ASCII, UTF-8 quoted-printable, KOI8-R and windows-1251
   (declared, and 8-bit with no charset), plain+HTML alternatives, HTML-only newsletters,
   attachments (RFC 2231 names, base64), bounces (multipart/report) and forwards
   (message/rfc822). Each message goes through
   * the bare stdlib path: ``email.message_from_bytes(raw, policy=default)`` then
     ``get_body(("plain", "html"))`` and ``get_content()`` of that part;
   * tmail: ``parse_message(raw)`` then ``render_text(parsed)`` (decoded headers, charset
     detection, HTML to text, attachment list, terminal-safe output);
   * tmail's ``summarize(raw)`` (what the store indexes).
   Best of 3 runs each; the ratio is tmail / stdlib (goal: <= 1.5).
2. A 100 MB message, two shapes, each in a fresh process: (a) a 100 MB text/plain body,
   (b) a short text with a 100 MB base64 attachment. Reported: parse+render seconds and the peak
   RSS growth over the process before reading (goal: < 2 s, < 3x the message size).
"""

from __future__ import annotations

import argparse
import base64
import email
import email.policy
import json
import os
import quopri
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

RU = [
    "привет",
    "отчёт",
    "квартал",
    "сервер",
    "встреча",
    "договор",
    "счёт",
    "оплата",
    "склад",
    "письмо",
    "работа",
    "проект",
    "неделя",
    "вопрос",
    "ответ",
    "срочно",
    "завтра",
    "сегодня",
    "пожалуйста",
    "спасибо",
    "коллеги",
    "директор",
]
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
    "weekly",
    "summary",
]


def words(rng: random.Random, vocab: list[str], n: int) -> str:
    return " ".join(rng.choice(vocab) for _ in range(n))


def para(rng: random.Random, vocab: list[str], lines: int) -> str:
    return "\n".join(words(rng, vocab, rng.randint(6, 12)).capitalize() + "." for _ in range(lines))


def head(rng: random.Random, i: int, subject: str, extra: str = "") -> str:
    return (
        f"From: =?utf-8?B?{base64.b64encode('Сергей Петров'.encode()).decode()}?= "
        f"<user{i % 97}@example.ru>\n"
        f"To: Team <team@example.org>, other{i % 13}@example.com\n"
        f"Subject: {subject}\n"
        f"Date: Tue, {1 + i % 28} Jan 2024 09:{i % 60:02d}:00 +0300\n"
        f"Message-ID: <m{i}@example.ru>\nMIME-Version: 1.0\n{extra}"
    )


def b64subject(text: str, charset: str) -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode()}?="


def make(rng: random.Random, i: int) -> bytes:
    kind = i % 10
    ru = para(rng, RU, rng.randint(3, 15))
    en = para(rng, EN, rng.randint(3, 15))
    subj_ru = words(rng, RU, 4)
    if kind == 0:
        return (head(rng, i, words(rng, EN, 5)) + "Content-Type: text/plain\n\n" + en).encode()
    if kind == 1:
        body = quopri.encodestring(ru.encode()).decode()
        return (
            head(rng, i, b64subject(subj_ru, "utf-8")) + "Content-Type: text/plain; charset=utf-8\n"
            "Content-Transfer-Encoding: quoted-printable\n\n" + body
        ).encode()
    if kind == 2:
        return (
            head(rng, i, b64subject(subj_ru, "koi8-r"))
            + "Content-Type: text/plain; charset=koi8-r\nContent-Transfer-Encoding: 8bit\n\n"
        ).encode() + ru.encode("koi8_r")
    if kind == 3:  # 8-bit windows-1251 with no charset: needs detection
        return (head(rng, i, words(rng, EN, 3)) + "\n").encode() + ru.encode("cp1251")
    if kind in (4, 5):
        html = "".join(f"<p>{line}</p>" for line in en.split("\n"))
        return (
            head(rng, i, words(rng, EN, 4))
            + 'Content-Type: multipart/alternative; boundary="alt"\n\n'
            "--alt\nContent-Type: text/plain; charset=utf-8\n\n" + en + "\n"
            "--alt\nContent-Type: text/html; charset=utf-8\n\n<html><body>"
            + html
            + "</body></html>\n"
            "--alt--\n"
        ).encode()
    if kind == 6:  # HTML-only newsletter
        items = "".join(
            f'<tr><td><a href="https://news.example.com/a/{i}/{k}">{words(rng, EN, 5)}</a>'
            f'<img src="https://cdn.example.com/{k}.png" alt="pic {k}"></td></tr>'
            for k in range(rng.randint(3, 10))
        )
        return (
            head(rng, i, "Newsletter " + words(rng, EN, 3))
            + "Content-Type: text/html; charset=utf-8\n\n"
            f"<html><head><style>td{{color:red}}</style></head><body><table>{items}</table>"
            "</body></html>\n"
        ).encode()
    if kind == 7:
        blob = base64.encodebytes(rng.randbytes(rng.randint(2_000, 60_000))).decode()
        name = "".join(f"%{b:02X}" for b in "отчёт.pdf".encode())
        return (
            head(rng, i, words(rng, EN, 4)) + 'Content-Type: multipart/mixed; boundary="mix"\n\n'
            "--mix\nContent-Type: text/plain; charset=utf-8\n\n" + en + "\n"
            "--mix\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n"
            f"Content-Disposition: attachment; filename*=utf-8''{name}\n\n" + blob + "--mix--\n"
        ).encode()
    if kind == 8:
        return (
            head(rng, i, "Undelivered Mail Returned to Sender")
            + 'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\n\n'
            "--r\nContent-Type: text/plain\n\nI could not deliver your message.\n"
            "--r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n"
            "Final-Recipient: rfc822; nobody@example.org\nAction: failed\nStatus: 5.1.1\n"
            "Diagnostic-Code: smtp; 550 5.1.1 user unknown\n"
            "--r\nContent-Type: message/rfc822\n\n"
            + head(rng, i + 1, words(rng, EN, 3))
            + "\n"
            + en
            + "\n--r--\n"
        ).encode()
    return (
        (
            head(rng, i, "Fwd: " + words(rng, EN, 3))
            + 'Content-Type: multipart/mixed; boundary="fw"\n\n'
            "--fw\nContent-Type: text/plain\n\nForwarded below.\n"
            "--fw\nContent-Type: message/rfc822\n\n"
            + head(rng, i + 2, b64subject(subj_ru, "windows-1251"))
            + "Content-Type: text/plain; charset=windows-1251\n\n"
        ).encode()
        + ru.encode("cp1251")
        + b"\n--fw--\n"
    )


def stdlib(raw: bytes) -> None:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    part = msg.get_body(preferencelist=("plain", "html"))  # type: ignore[attr-defined]
    if part is not None:
        part.get_content()


def best_of(fn: Callable[[bytes], object], corpus: list[bytes], runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        for raw in corpus:
            fn(raw)
        best = min(best, time.perf_counter() - start)
    return best


def corpus_bench(count: int) -> dict[str, float]:
    from tmail.mime import parse_message, render_text, summarize

    rng = random.Random(4)
    corpus = [make(rng, i) for i in range(count)]
    size = sum(len(r) for r in corpus)

    def ours(raw: bytes) -> None:
        render_text(parse_message(raw))

    t_std = best_of(stdlib, corpus)
    t_ours = best_of(ours, corpus)
    t_sum = best_of(summarize, corpus)
    print(f"corpus: {count} messages, {size / 1e6:.1f} MB (10 kinds, seeded)")
    print(f"  stdlib message_from_bytes+get_body+get_content: {count / t_std:8.0f} msg/s")
    print(f"  tmail parse_message+render_text:                {count / t_ours:8.0f} msg/s")
    print(f"  tmail summarize:                                {count / t_sum:8.0f} msg/s")
    print(f"  ratio parse+render / stdlib: {t_ours / t_std:.2f}x  (goal <= 1.5x)")
    print(f"  ratio summarize / stdlib:    {t_sum / t_std:.2f}x")
    per_kind = {}
    for kind in range(10):
        sub = [r for i, r in enumerate(corpus) if i % 10 == kind]
        per_kind[kind] = best_of(ours, sub, 1) / best_of(stdlib, sub, 1)
    print("  ratio by kind: " + ", ".join(f"{k}:{v:.2f}" for k, v in per_kind.items()))
    return {"ratio": t_ours / t_std}


BIG_CHILD = r"""
import json, os, sys, time
from pathlib import Path
from tmail.mime import parse_message, render_text
from tmail.mime.render import render_chunks

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
    return 0

with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak RSS (VmHWM) to the current RSS
base = status("VmRSS:")
start = time.perf_counter()
raw = Path(sys.argv[1]).read_bytes()
t_read = time.perf_counter()
parsed = parse_message(raw)
if sys.argv[2] == "stream":  # what tmail show does: write the pieces
    with open(os.devnull, "w", encoding="utf-8") as sink:
        for chunk in render_chunks(parsed):
            sink.write(chunk)
else:
    out = render_text(parsed)
t_done = time.perf_counter()
print(json.dumps({"read": t_read - start, "parse_render": t_done - t_read,
                  "peak": status("VmHWM:") - base, "size": len(raw)}))
"""


def big_message(kind: str, mb: int, path: Path) -> None:
    line = "Строка текста для проверки большого письма, номер {:08d}.\n"
    with path.open("wb") as f:
        if kind == "text":
            f.write(
                b"From: a@example.org\nSubject: big text\n"
                b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
            )
            n = 0
            while f.tell() < mb * 1_000_000:
                f.write("".join(line.format(n + k) for k in range(1000)).encode())
                n += 1000
        else:
            f.write(
                b"From: a@example.org\nSubject: big attachment\n"
                b'Content-Type: multipart/mixed; boundary="b"\n\n--b\n'
                b"Content-Type: text/plain\n\nsee attached\n--b\n"
                b"Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n"
                b'Content-Disposition: attachment; filename="big.bin"\n\n'
            )
            chunk = base64.encodebytes(random.Random(1).randbytes(3 * 1024 * 1024))
            while f.tell() < mb * 1_000_000:
                f.write(chunk)
            f.write(b"--b--\n")


def big_bench(mb: int) -> None:
    for kind in ("text", "attachment"):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "big.eml"
            big_message(kind, mb, path)
            for mode in ("stream", "render_text"):
                big_run(kind, mode, path, mb)


def big_run(kind: str, mode: str, path: Path, mb: int) -> None:
    done = subprocess.run(
        [sys.executable, "-c", BIG_CHILD, str(path), mode],
        capture_output=True,
        check=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    r = json.loads(done.stdout)
    print(
        f"{mb} MB message ({kind}, {mode}): read {r['read']:.2f} s, "
        f"parse+render {r['parse_render']:.2f} s, peak RSS growth {r['peak'] / 1e6:.0f} MB "
        f"= {r['peak'] / r['size']:.2f}x the message (raw bytes included)"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=3000)
    ap.add_argument("--big-mb", type=int, default=100)
    args = ap.parse_args()
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    corpus_bench(args.count)
    if args.big_mb:
        big_bench(args.big_mb)


if __name__ == "__main__":
    main()
