"""``tmail contacts [QUERY]``: the address book harvested from mail, best match first;
``tmail contacts import PATH`` adds a vCard file or a vdir; ``tmail contacts export`` writes
vCard 4.0.

Every word of the query must be in the name or the address (case- and accent-insensitive).
``--json`` gives name, addresses, source, last contact and the counts; ``--mutt`` prints mutt's
``query_command`` format (a status line, then ``address<TAB>name<TAB>info``), so that tmail can
be mutt's address book. Names from mail are made terminal-safe in every format.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from tmail.cli.base import Command, Context
from tmail.cli.commands._store import open_store
from tmail.core.safe import safe_line

if TYPE_CHECKING:
    from tmail.config.model import Config
    from tmail.store.contacts import ContactRow


class ContactsCommand(Command):
    name = "contacts"
    help = "search the address book harvested from mail (name or address, any case or accent)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "query",
            nargs="*",
            help="words of a name or an address; or: import PATH (a .vcf file or a vdir), export",
        )
        parser.add_argument("--limit", "-n", type=int, default=20, metavar="N", help="default 20")
        parser.add_argument("--json", action="store_true", help="JSON for scripts")
        parser.add_argument(
            "--mutt", action="store_true", help="mutt's query_command format (address TAB name)"
        )

    def run(self, ctx: Context) -> int:
        a = ctx.args
        if a.query and a.query[0] == "import":
            return _import(ctx, a.query[1:])
        if a.query and a.query[0] == "export":
            return _export(ctx, a.query[1:])
        if a.query == ["sync"]:
            return _sync(ctx)
        query = " ".join(a.query)
        limit = a.limit if a.limit and a.limit > 0 else None
        config = _config(ctx)
        own = _own_addresses(config)
        with open_store(ctx) as store:
            store.refresh_vcards()  # imported files edited since (khard, vdirsyncer)
            rows = store.contacts(query, limit=limit, exclude=own)
            groups = store.contact_groups(query)
        if config is not None and config.query_command and query.strip():
            rows = _with_outside(ctx, config.query_command, query, rows, own, limit)
        if a.json:
            found = [_group_json(name, members) for name, members in groups]
            found += [_json(r) for r in rows]
            ctx.stdout.write(json.dumps(found, ensure_ascii=False, indent=1))
            ctx.stdout.write("\n")
        elif a.mutt:
            ctx.stdout.write(f"tmail: {len(rows)} contacts\n")
            for r in rows:
                ctx.stdout.write(f"{r.addr}\t{safe_line(r.name)}\t{_info(r)}\n")
        else:
            for name, members in groups:
                ctx.stdout.write(f"{safe_line(name)}: {', '.join(members)}  (group)\n")
            for r in rows:
                who = safe_line(r.formatted())
                ctx.stdout.write(f"{who:<50}  {_info(r)}\n")
        if not rows and not groups and not a.json:
            ctx.stderr.write("no contacts match\n")
        return 0 if rows or groups else 1


MAX_PROBLEMS = 10  # lines of an import's problems shown; the rest are counted


def _import(ctx: Context, args: list[str]) -> int:
    from pathlib import Path

    from tmail.core.errors import UsageError

    if len(args) != 1:
        raise UsageError(
            "contacts import takes one PATH", hint="a .vcf file or a folder of them (a vdir)"
        )
    path = Path(args[0]).expanduser().resolve()
    if not path.exists():
        raise UsageError(f"contacts import: {safe_line(str(path))} does not exist")
    with open_store(ctx) as store:
        n, result = store.import_vcards(path)
    for problem in result.problems[:MAX_PROBLEMS]:
        ctx.stderr.write(f"tmail: {safe_line(problem)}\n")
    if len(result.problems) > MAX_PROBLEMS:
        ctx.stderr.write(f"tmail: ... and {len(result.problems) - MAX_PROBLEMS} more problems\n")
    files = f"{result.files} file" + ("s" if result.files != 1 else "")
    ctx.stdout.write(
        f"imported {n} addresses of {len(result.cards)} cards from {files} "
        f"({safe_line(str(path))})\n"
    )
    return 0 if n else 1


def _sync(ctx: Context) -> int:
    from tmail.config import load_config
    from tmail.core.errors import ConfigError, TmailError
    from tmail.sync.carddav import addresses, sync_carddav

    config = load_config(ctx.config_path)
    if config.carddav is None:
        raise ConfigError(
            "no CardDAV address book configured",
            hint="set carddav_url and carddav_username in [contacts]",
        )
    with open_store(ctx) as store:
        try:
            done = sync_carddav(config.carddav, store)
        except TmailError as exc:
            kept = len(store.contacts_of_source(f"carddav:{config.carddav.url}"))
            ctx.stderr.write(f"tmail: contacts: {exc.one_line()}\n")
            ctx.stderr.write(f"tmail: contacts: the last synced copy is kept ({addresses(kept)})\n")
            return 1
    for problem in done.problems[:MAX_PROBLEMS]:
        ctx.stderr.write(f"tmail: {safe_line(problem)}\n")
    what = "synced" if done.changed else "unchanged"
    ctx.stdout.write(f"contacts: CardDAV address book {what}, {addresses(done.addresses)}\n")
    return 0


def _export(ctx: Context, args: list[str]) -> int:
    from tmail.core.errors import UsageError
    from tmail.mime.vcard import Card, vcard4

    if args:
        raise UsageError("contacts export takes no arguments", hint="redirect it: > contacts.vcf")
    with open_store(ctx) as store:
        store.refresh_vcards()
        rows = store.contacts(limit=None, exclude=_own_addresses(_config(ctx)))
    ctx.stdout.write(vcard4(Card(r.name, (r.addr,)) for r in rows))
    return 0


def _info(r: ContactRow) -> str:
    last = r.last.astimezone().strftime("%Y-%m-%d") if r.last else "-"
    return f"sent {r.sent}, received {r.received}, last {last}"


def _group_json(name: str, members: tuple[str, ...]) -> dict[str, Any]:
    return {"name": safe_line(name), "addresses": list(members), "source": "group"}


def _json(r: ContactRow) -> dict[str, Any]:
    return {
        "name": safe_line(r.name),
        "addresses": [r.addr],
        "source": r.source,
        "last_contact": r.last.isoformat() if r.last else None,
        "sent": r.sent,
        "received": r.received,
    }


def _config(ctx: Context) -> Config | None:
    from tmail.config import load_config
    from tmail.core.errors import TmailError

    try:
        return load_config(ctx.config_path)
    except (TmailError, OSError):
        return None  # the store alone (TMAIL_DATA_DIR) still answers


def _own_addresses(config: Config | None) -> list[str]:
    """The user's own addresses (accounts and identities): no contacts of their own."""
    if config is None:
        return []
    return [
        i.address
        for acc in config.accounts.values()
        for i in acc.all_identities()
        if not i.wildcard
    ]


def _with_outside(
    ctx: Context,
    command: str,
    query: str,
    rows: list[ContactRow],
    own: list[str],
    limit: int | None,
) -> list[ContactRow]:
    """The local rows, then what the query_command adds (mutt's format)."""
    from tmail.config.querycommand import query as run_query
    from tmail.core.errors import TmailError
    from tmail.store.contacts import ContactRow

    try:
        found = run_query(command, query)
    except TmailError as exc:
        ctx.stderr.write(f"tmail: {exc.one_line()}\n")
        return rows
    seen = {r.addr for r in rows} | {o.lower() for o in own}
    out = list(rows)
    for f in found:
        if f.addr.lower() not in seen:
            seen.add(f.addr.lower())
            out.append(ContactRow(f.addr.lower(), f.name, 0, 0, None, "query_command"))
    return out if limit is None else out[:limit]
