"""Which detector reads short legacy Cyrillic (and Latin) mail right? Prints accuracy and time.

Compares, on the same short texts (one line to a short letter) encoded in KOI8-R, windows-1251,
CP866, MacCyrillic and ISO-8859-5, plus Western texts in windows-1252:

* chardet (if installed: ``.venv/bin/pip install chardet``; not a tmail dependency),
* charset-normalizer unrestricted (``from_bytes(data).best()``),
* charset-normalizer restricted to the charsets mail uses (``cp_isolation``),
* tmail's ``detect`` (restricted charset-normalizer + a Russian letter-frequency ranking).

A guess is right when decoding with it gives the original text back.
Run: ``.venv/bin/python bench/charsets.py``
"""

from __future__ import annotations

import time
from collections.abc import Callable

from tmail.mime.charsets import DETECT_CANDIDATES, detect, normalize_charset

RUSSIAN = [
    "Привет!",
    "Добрый день, коллеги.",
    "Спасибо, получил.",
    "Встреча переносится на четверг.",
    "Посылаю отчёт за прошлый месяц, посмотрите пожалуйста.",
    "Сервер опять не отвечает, перезагрузи его, когда будет время.",
    "Уважаемый Иван Петрович! Напоминаем, что срок оплаты счёта истекает в пятницу.",
    "Мама, я доехал нормально, завтра позвоню. Погода хорошая, все здоровы.",
    "ВНИМАНИЕ! Плановые работы на сервере в субботу с 10 до 12 часов.",
    "Цена: 1500 руб. Доставка бесплатно.",
    "Пишу тебе из Новосибирска. Здесь уже выпал первый снег, а у вас, наверное, ещё тепло. "
    "Работа идёт хорошо, проект сдаём в конце месяца. Передавай привет всем нашим.",
    "Здравствуйте! В приложении договор и акт выполненных работ. Подпишите, пожалуйста, "
    "и отправьте сканы обратно. Оригиналы пришлём почтой.",
    "Съешь же ещё этих мягких французских булок да выпей чаю.",
    "Ключ от подъезда оставил у соседки.",
    "Ок",
    "Да, всё в силе.",
]
WESTERN = [
    "Grüße aus München!",
    "Ça va très bien, merci. À bientôt.",
    "El niño comió una piña en el año nuevo.",
    "Straße gesperrt wegen Bauarbeiten – Umleitung über die Brücke.",
    "Prière de répondre avant vendredi. Cordialement, Hélène",
    "Hola, ¿qué tal? Nos vemos mañana en la estación.",
    "Die Bestellung über 50 € wurde versandt.",
    "Smörgåsbord och kaffe på eftermiddagen.",
]
CYRILLIC_CODECS = ["koi8_r", "cp1251", "cp866", "mac_cyrillic", "iso8859_5"]


def cases() -> list[tuple[str, str, bytes]]:
    out = []
    for text in RUSSIAN:
        for codec in CYRILLIC_CODECS:
            out.append((codec, text, text.encode(codec)))
    for text in WESTERN:
        out.append(("cp1252", text, text.encode("cp1252")))
    return out


def chardet_guess(data: bytes) -> str | None:
    import chardet

    result = chardet.detect(data)
    return result.get("encoding") if result else None


def cn_guess(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    return best.encoding if best else None


def cn_restricted_guess(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=list(DETECT_CANDIDATES)).best()
    return best.encoding if best else None


def tmail_guess(data: bytes) -> str | None:
    return detect(data)[0]


def right(text: str, data: bytes, guess: str | None) -> bool:
    codec = normalize_charset(guess) if guess else None
    if codec is None:
        return False
    try:
        return data.decode(codec) == text
    except (UnicodeDecodeError, LookupError):
        return False


def main() -> None:
    detectors: dict[str, Callable[[bytes], str | None]] = {
        "charset-normalizer (unrestricted)": cn_guess,
        "charset-normalizer (cp_isolation)": cn_restricted_guess,
        "tmail detect (restricted + ranking)": tmail_guess,
    }
    try:
        import chardet

        detectors = {f"chardet {chardet.__version__}": chardet_guess, **detectors}
    except ImportError:
        print("chardet not installed: skipped")
    all_cases = cases()
    print(
        f"{len(all_cases)} texts, {len(RUSSIAN)} Russian x {len(CYRILLIC_CODECS)} codecs "
        f"+ {len(WESTERN)} Western (cp1252); lengths {min(len(t) for _, t, _ in all_cases)}"
        f"-{max(len(t) for _, t, _ in all_cases)} characters"
    )
    header = f"{'detector':<38}" + "".join(f"{c:>13}" for c in [*CYRILLIC_CODECS, "cp1252"])
    print(header + f"{'total':>9}{'ms/text':>9}")
    for name, fn in detectors.items():
        per: dict[str, list[int]] = {}
        wrong: list[str] = []
        start = time.perf_counter()
        for codec, text, data in all_cases:
            guess = fn(data)
            ok = right(text, data, guess)
            per.setdefault(codec, [0, 0])
            per[codec][0] += ok
            per[codec][1] += 1
            if not ok and len(wrong) < 4:
                wrong.append(f"{codec} {text[:20]!r} -> {guess}")
        elapsed = (time.perf_counter() - start) * 1000 / len(all_cases)
        total = sum(v[0] for v in per.values())
        row = f"{name:<38}" + "".join(
            f"{per[c][0]:>6}/{per[c][1]:<6}" for c in [*CYRILLIC_CODECS, "cp1252"]
        )
        print(row + f"{total:>5}/{len(all_cases):<4}{elapsed:>8.2f}")
        for w in wrong:
            print(f"    e.g. {w}")


if __name__ == "__main__":
    main()
