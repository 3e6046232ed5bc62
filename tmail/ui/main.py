"""Starting the reader: the store, the session, the screen; and the demo.

``tmail`` (no command), ``tmail ui`` and ``tmail --demo`` end here through
:func:`run`. The UI's own settings live in the config file beside the accounts::

    [ui]
    hints = true          # the line of key hints at the bottom
    mouse = true
    sidebar_width = 24
    sidebar = "auto"      # the folder list: true, false, or "auto" (shown from 100 columns)

    [keys]                # see config/keys.toml
    reply = "r"

    [theme]               # see config/theme.toml
    index_unread = "bold,dark blue"
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tmail.config.model import Config
from tmail.core.errors import ConfigError, TmailError, UsageError
from tmail.core.models import Address
from tmail.mime.mailto import Mailto
from tmail.runtime.backend import DemoBackend, LocalBackend, MailBackend
from tmail.runtime.session import MailSession
from tmail.store import Store
from tmail.ui.app import App, Options
from tmail.ui.compose import Identity
from tmail.ui.keys import KeyMap
from tmail.ui.source import Contact, View
from tmail.ui.storesource import StoreSource
from tmail.ui.theme import palette


def log_to_file() -> Path | None:
    """Send log records (tracebacks of bugs, worker errors) to a file, never to the screen."""
    import logging

    import platformdirs

    try:
        folder = Path(platformdirs.user_log_dir("tmail"))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "tmail.log"
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        path, handler = None, logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger("tmail")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    root.propagate = False
    return path


def ui_settings(path: Path | None) -> dict[str, Any]:
    """The ``[ui]``, ``[keys]`` and ``[theme]`` tables of the config file (empty when absent)."""
    if path is None or not path.exists():
        return {}
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}", hint="fix the file or run with --config") from exc
    return {k: data[k] for k in ("ui", "keys", "theme") if isinstance(data.get(k), dict)}


def identities(config: Config) -> list[Identity]:
    """Every identity of every account (the default account's first), main addresses first."""
    from tmail.config.identities import all_identities

    return [
        Identity(
            acc.name,
            Address(ident.name or acc.display_name, ident.address),
            send_charset=acc.send_charset,
            spec=ident,
            pgp_sign=acc.pgp_sign,
            pgp_encrypt=acc.pgp_encrypt,
            autocrypt=acc.autocrypt,
            pgp_key=acc.pgp_key,
        )
        for acc, ident in all_identities(config)
    ]


def build_app(
    config: Config,
    store: Store,
    backend: LocalBackend,
    settings: Mapping[str, Any],
    *,
    poll: bool = True,
    start_view: View | None = None,
) -> App:
    ui = settings.get("ui", {})
    options = Options(
        hints=bool(ui.get("hints", True)),
        mouse=bool(ui.get("mouse", True)),
        sidebar_width=int(ui.get("sidebar_width", 24)),
        sidebar=_sidebar_setting(ui.get("sidebar", "auto")),
    )
    session = MailSession(backend, poll=poll)  # type: ignore[arg-type]
    idents = identities(config)
    told: list[Callable[[str, bool], None]] = []  # the app's notice, once there is an app
    source = StoreSource(
        store, list(config.accounts), [i.address.addr for i in idents], _outside_book(config, told)
    )
    app = App(
        source,
        session,
        identities=idents,
        keymap=KeyMap(settings.get("keys")),
        options=options,
        start_view=start_view,
        assumed_charsets=config.assumed_charsets,
        authserv_ids=config.authserv_ids,
    )
    told.append(app.notice)
    return app


def _outside_book(
    config: Config, told: list[Callable[[str, bool], None]] | None = None
) -> Callable[[str], list[Contact]] | None:
    """The config's query_command as a completion source; its failure is one status line
    (through ``told``, the app's notice) and in the log file."""
    command = config.query_command
    if not command:
        return None

    def lookup(text: str) -> list[Contact]:
        from tmail.config.querycommand import query

        try:
            return [Contact(f.name, f.addr) for f in query(command, text)]
        except TmailError as exc:
            import logging

            logging.getLogger("tmail.ui").warning("%s", exc.one_line())
            for notice in told or ():
                notice(exc.one_line(), True)
            return []

    return lookup


def _sidebar_setting(value: object) -> bool | None:
    if value == "auto":
        return None
    if isinstance(value, bool):
        return value
    raise ConfigError(
        f'[ui] sidebar = {value!r}: expected true, false or "auto"',
        hint='"auto" shows the folder list from 100 columns up; B turns it on and off',
    )


def _exit_cleanly_on_hangup() -> None:
    """A closed terminal window (SIGHUP) or ``kill`` (SIGTERM) ends the reader through its
    ``finally`` blocks, as quitting does: the store closed, the demo's temporary mailbox removed
    (Python's default would die on the spot and leave it behind in /tmp)."""

    def leave(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    for sig in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, leave)


def run(config_path: str | None, demo: bool, *, mailto: Mailto | None = None) -> int:
    """Open the reader (on the composer, filled from ``mailto``); returns the exit status."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(
            "the reader needs a terminal", hint="run tmail in a terminal, or use 'tmail list'"
        )
    if demo:
        from tmail.runtime.demo import create_demo

        print("tmail: preparing the demo mailbox…", file=sys.stderr, flush=True)
        config = create_demo()
        settings: dict[str, Any] = {}
        store = Store.open(config.data_dir, assumed_charsets=config.assumed_charsets)
        backend: LocalBackend = DemoBackend(config, store)
    else:
        from tmail.config import load_config

        config = load_config(config_path)
        if not config.accounts:
            # The reader shows the configured accounts' mail: with none it would open empty
            # and silent. Say what to do instead, as 'tmail sync' does.
            where = f" in {config.path}" if config.path else ""
            raise ConfigError(
                f"no accounts configured{where}",
                hint="run 'tmail account add' to set one up, or 'tmail --demo' to try the reader",
            )
        settings = ui_settings(config.path)
        store = Store.open(config.data_dir, assumed_charsets=config.assumed_charsets)
        backend = MailBackend(config, store)
    _exit_cleanly_on_hangup()
    try:
        app = build_app(config, store, backend, settings, poll=not demo)
        app.log_path = log_to_file()
        if mailto is not None:
            from tmail.ui.composeflow import compose_mailto

            compose_mailto(app, mailto)
        if not demo:
            # fetch at start, as every mail client does; the screen opens at once
            app.sync(send_now=False)
        try:
            app.run(palette(settings.get("theme")), monochrome=bool(os.environ.get("NO_COLOR")))
        except Exception as exc:
            # A bug that got past the key and event guards (drawing a row, say): urwid has put
            # the terminal back; one line here, the traceback in the log file.
            import logging

            logging.getLogger("tmail.ui").exception("the reader stopped")
            where = f" (details in {app.log_path})" if app.log_path else ""
            raise TmailError(f"internal error: {exc!r}{where}") from exc
    finally:
        store.close()
        if demo:
            shutil.rmtree(config.data_dir, ignore_errors=True)
    return 0
