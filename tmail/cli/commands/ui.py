"""``tmail ui`` (and ``tmail`` alone, and ``tmail --demo``): open the mail reader."""

from __future__ import annotations

import argparse

from tmail.cli.base import Command, Context


class Ui(Command):
    name = "ui"
    help = "open the mail reader (what 'tmail' alone does)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--demo",
            dest="ui_demo",
            action="store_true",
            help="open the built-in demo mailbox (no network, no config)",
        )
        parser.add_argument(
            "--mailto",
            metavar="URL",
            help="open the composer on a mailto: URL (what 'tmail mailto:...' does)",
        )

    def run(self, ctx: Context) -> int:
        # The one import from the CLI into its sibling, declared in pyproject.toml's layers
        # contract; here, not at the top, so that other commands never load urwid.
        from tmail.ui import main

        demo = bool(getattr(ctx.args, "demo", False) or getattr(ctx.args, "ui_demo", False))
        mailto = None
        if getattr(ctx.args, "mailto", None):
            from tmail.mime.mailto import parse_mailto

            mailto = parse_mailto(ctx.args.mailto)  # a bad URL: one line, before the screen
        status: int = main.run(ctx.config_path, demo, mailto=mailto)
        return status
