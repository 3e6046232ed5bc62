"""HTML bodies to readable text with html2text.

Links become numbered references (``[text][1]`` in the text, the URLs listed at the end and
returned separately), images become ``[image: alt]``, script and style content is dropped, and
nothing is ever fetched: html2text only reads the string it is given.
"""

from __future__ import annotations

import re
from typing import Any

import html2text

MAX_HTML = 1 << 20  # characters of HTML converted (html2text does ~0.5 MB/s); the rest is cut

# html2text's reference list ("   [3]: https://...") and its automatic links ("<https://...>").
_REFERENCE = re.compile(r"^ {3}\[(\d+)\]: (\S+)$", re.MULTILINE)
_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto):[^>\s]+)>")


def html_to_text(html: str, width: int = 78) -> tuple[str, tuple[str, ...]]:
    """Text and the list of link URLs: link N is the one the text shows as ``[N]``
    (html2text's numbers), then the automatic links (``<https://...>``) in order."""
    cut = len(html) > MAX_HTML
    if cut:
        html = html[:MAX_HTML]

    def on_tag(conv: Any, tag: str, attrs: dict[str, str | None], start: bool) -> bool | None:
        if tag == "img":
            if start:
                if conv.maybe_automatic_link is not None:  # an image inside a link: open it
                    conv.o("[")
                    conv.maybe_automatic_link = None
                    conv.empty_link = False
                last = conv.outtextlist[-1][-1:] if conv.outtextlist else ""
                alt = " ".join((attrs.get("alt") or "").split())
                space = " " if last and not last.isspace() and last not in "[(" else ""
                conv.o(f"{space}[image: {alt}]" if alt else f"{space}[image]")
            return True
        return None

    conv: Any = html2text.HTML2Text(bodywidth=width)
    conv.inline_links = False
    conv.links_each_paragraph = False
    conv.protect_links = False
    conv.wrap_links = False
    conv.ignore_images = False
    conv.ignore_emphasis = False
    conv.unicode_snob = True
    conv.tag_callback = on_tag
    try:
        text = conv.handle(html)
    except Exception:  # html2text on malformed input: fall back to the tags stripped
        import re

        text = re.sub(r"<[^>]*>", " ", html)
    if cut:
        text += "\n[HTML cut at 1 MiB: save the part to read the rest]\n"
    numbered = {int(n): url for n, url in _REFERENCE.findall(text)}
    links = [numbered[n] for n in sorted(numbered)]
    for url in _AUTOLINK.findall(text):
        if url not in links:
            links.append(url)
    return text.strip("\n") + "\n", tuple(links)
