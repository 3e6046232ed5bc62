"""The :class:`~tmail.ui.source.MailSource` the app uses: :class:`tmail.store.Store` underneath.

Each call is one or two indexed SQLite queries for one page. The thread view orders the folder's
threads by the view's sort key (:mod:`tmail.store.threadsort`), then expands them a page at a
time, each thread's messages in reply-tree order, keeping only the messages of the folder shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from tmail.core.errors import TmailError
from tmail.core.roles import Role, is_outgoing, role_of
from tmail.store import Store
from tmail.store.models import MessageRow
from tmail.store.threadsort import iter_thread_ids
from tmail.ui.source import Contact, Row, SidebarFolder, View


@dataclass
class _ThreadScan:
    order: Iterator[int]  # thread ids in view order, not yet in ``rows``
    rows: list[Row] = field(default_factory=list)
    done: bool = False


def _outgoing(m: MessageRow, own: frozenset[str]) -> bool:
    # Folders of mail one sends: their index shows the recipient (as Thunderbird's Sent folder).
    if is_outgoing(m.folder):
        return True
    return bool(own) and any(a.addr.lower() in own for a in m.from_[:1])


def _row(m: MessageRow, depth: int = 0, own: frozenset[str] = frozenset()) -> Row:
    sender = ""
    if m.from_:
        sender = m.from_[0].name or m.from_[0].addr
    recipient = ", ".join(a.name or a.addr for a in m.to[:1])
    if len(m.to) > 1:
        recipient += f" +{len(m.to) - 1}"
    return Row(
        id=m.id,
        account=m.account,
        folder=m.folder,
        date=m.date,
        sender=sender,
        subject=m.subject,
        flags=m.flags,
        size=m.size,
        has_attachment=m.has_attachment,
        depth=depth,
        thread_id=m.thread_id,
        outgoing=_outgoing(m, own),
        recipient=recipient,
    )


class StoreSource:
    def __init__(
        self,
        store: Store,
        accounts: Sequence[str] = (),
        own_addresses: Sequence[str] = (),
        outside: Callable[[str], Sequence[Contact]] | None = None,
    ) -> None:
        self.store = store
        self._outside = outside  # the config's query_command, when there is one
        self._accounts = list(accounts)
        self._own = frozenset(a.lower() for a in own_addresses)  # mail from these is outgoing
        # thread view: how far each view's walk through its folder has got
        self._threaded: dict[View, _ThreadScan] = {}

    def accounts(self) -> Sequence[str]:
        names = list(self._accounts)
        for a in self.store.accounts():
            if a not in names:
                names.append(a)
        return names

    def folders(self) -> Sequence[SidebarFolder]:
        out = [
            SidebarFolder(f.account, f.name, f.total, f.unread, role_of(f.name))
            for f in self.store.folders()
        ]
        # Every configured account has an Inbox to open, also before its first mail (a POP3
        # account with none showed its name alone, or nothing but Sent).
        have = {f.account for f in out if f.name.upper() == "INBOX"}
        for account in self._accounts:
            if account not in have:
                out.append(SidebarFolder(account, "INBOX", 0, 0, Role.INBOX))
        return out

    @staticmethod
    def _scope(view: View) -> tuple[str | None, str | None]:
        if view.unified:
            # A search from "All inboxes" looks through every folder of every account.
            return None, (None if view.query is not None else "INBOX")
        return view.account, view.folder

    def count(self, view: View) -> int:
        account, folder = self._scope(view)
        self._threaded.pop(view, None)
        if view.query is not None:
            return self.store.count_search(view.query, account=account, folder=folder)
        return self.store.count(account, folder)

    def rows(self, view: View, offset: int, limit: int) -> Sequence[Row]:
        account, folder = self._scope(view)
        if view.query is not None:
            ids = self.store.search(
                view.query,
                account=account,
                folder=folder,
                limit=limit,
                offset=offset,
                sort=view.sort,
                reverse=view.reverse,
            )
            return [_row(m, own=self._own) for m in self.store.get_many(ids)]
        if view.threads:
            return self._thread_rows(view, account, folder, offset, limit)
        return [
            _row(m, own=self._own)
            for m in self.store.list_messages(
                account, folder, sort=view.sort, reverse=view.reverse, offset=offset, limit=limit
            )
        ]

    def _thread_rows(
        self, view: View, account: str | None, folder: str | None, offset: int, limit: int
    ) -> list[Row]:
        """Threads in the view's order (by its sort key, O reverses), each in reply-tree order.

        The threads' order comes from :func:`~tmail.store.threadsort.iter_thread_ids` (lazily in
        the default order); a thread's messages are read when the list reaches it.
        """
        state = self._threaded.get(view)
        if state is None:
            order = iter_thread_ids(self.store, account, folder, view.sort, view.reverse)
            state = self._threaded[view] = _ThreadScan(order)
        while len(state.rows) < offset + limit and not state.done:
            tid = next(state.order, None)
            if tid is None:
                state.done = True
                break
            for e in self.store.thread(tid):
                t = e.message
                if (account is None or t.account == account) and t.folder == folder:
                    state.rows.append(_row(t, e.depth, self._own))
        return state.rows[offset : offset + limit]

    def row(self, message_id: int) -> Row | None:
        m = self.store.get(message_id)
        return _row(m, own=self._own) if m else None

    def raw(self, message_id: int) -> bytes:
        return self.store.read_raw(message_id)

    def contacts(self, prefix: str, limit: int = 10) -> Sequence[Contact]:
        """The address book's best matches for what was typed: words of a name or an address,
        any case or accent (:meth:`tmail.store.Store.contacts`), never one's own addresses."""
        if not prefix.strip():
            return []
        try:
            self.store.refresh_vcards()  # imported vCard files edited since (a few stats)
            rows = self.store.contacts(prefix, limit=limit, exclude=self._own)
        except TmailError:  # the index unreadable just now: no completion, no crash
            return []
        found = [
            Contact(name, "", tuple(Contact("", m) for m in members))
            for name, members in self.store.contact_groups(prefix)
        ]
        found += [Contact(r.name, r.addr) for r in rows]
        if self._outside is not None and len(found) < limit:
            seen = {c.addr for c in found} | self._own
            found += [c for c in self._outside(prefix) if c.addr.lower() not in seen]
        return found[:limit]
