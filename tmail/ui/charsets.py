""" "View as charset" (``C`` in the pager): the choices shown as the prompt opens, and ``auto``.

A letter whose declared charset is wrong (or missing) reads right when decoded as another one;
``auto`` goes back to what the message declares (or what detection found). The choices are shown
above the prompt at once, not only after Tab (Tab still completes a started name).
"""

from __future__ import annotations

AUTO = "auto"

# Most often right for mail that decodes wrongly: Cyrillic first (the letters tmail meets most),
# then Western and East Asian ones.
CHOICES = (
    AUTO,
    "utf-8",
    "koi8-r",
    "koi8-u",
    "windows-1251",
    "cp866",
    "iso-8859-5",
    "x-mac-cyrillic",
    "iso-8859-1",
    "windows-1252",
    "iso-2022-jp",
    "shift_jis",
    "euc-jp",
    "gb18030",
    "big5",
)


def complete(text: str) -> list[str]:
    return [n for n in CHOICES if n.startswith(text.strip().lower())]


def choices_line(current: str | None) -> str:
    """The line above the prompt: every choice, the one in use marked."""
    now = (current or "").split(" ")[0].lower()
    marked = [f"[{n}]" if n == now else n for n in CHOICES]
    return "  ".join(marked)
