"""``tmail version``: the version and where tmail looks for its files."""

from __future__ import annotations

import os

from tmail import __version__
from tmail.cli.base import Command, Context


class Version(Command):
    name = "version"
    help = "print the version of tmail and of the libraries it uses"

    def run(self, ctx: Context) -> int:
        import importlib.metadata as md
        import sys

        ctx.stdout.write(f"tmail {__version__}\n")
        ctx.stdout.write(f"python {sys.version.split()[0]}\n")
        for dist in ("urwid", "imapclient", "keyring", "html2text", "charset-normalizer"):
            try:
                ctx.stdout.write(f"{dist} {md.version(dist)}\n")
            except md.PackageNotFoundError:
                ctx.stdout.write(f"{dist} (not installed)\n")
        if os.environ.get("TMAIL_CONFIG"):
            ctx.stdout.write(f"TMAIL_CONFIG={os.environ['TMAIL_CONFIG']}\n")
        return 0
