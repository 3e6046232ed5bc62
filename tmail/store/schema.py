"""The index schema as numbered migrations; ``PRAGMA user_version`` holds the applied number.

Add a migration by appending to :data:`MIGRATIONS`; never edit one that has shipped. Each runs in
its own transaction. The index is a cache of the Maildirs, except for the tables marked *state*
(sync state, POP3 UIDLs, pending changes): ``tmail reindex`` rebuilds the rest and keeps those.
"""

from __future__ import annotations

import contextlib
import sqlite3

MIGRATIONS: tuple[str, ...] = (
    # 1: folders, messages, full-text, thread links, state tables
    """
    CREATE TABLE folders (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        name TEXT NOT NULL,
        sync_state TEXT NOT NULL DEFAULT '{}',   -- state: JSON owned by the sync engine
        stamp TEXT NOT NULL DEFAULT '',           -- maildir.dir_stamp when last in step
        UNIQUE (account, name)
    );
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,     -- never reused: ids outlive their rows
        folder_id INTEGER NOT NULL REFERENCES folders(id),
        fname TEXT NOT NULL,          -- "cur/<name>" or "new/<name>" inside the folder
        base TEXT NOT NULL,           -- unique part of the file name (before ":2,")
        flags TEXT NOT NULL DEFAULT '',
        synced_flags TEXT,            -- flags both sides agreed on at the last sync
        uid INTEGER,
        uidl TEXT,
        message_id TEXT,
        in_reply_to TEXT,
        refs TEXT NOT NULL DEFAULT '',
        date INTEGER NOT NULL,        -- unix seconds: Date header, else time stored
        tz INTEGER NOT NULL DEFAULT 0, -- the Date header's UTC offset in seconds
        from_json TEXT NOT NULL DEFAULT '[]',
        to_json TEXT NOT NULL DEFAULT '[]',
        cc_json TEXT NOT NULL DEFAULT '[]',
        sender TEXT NOT NULL DEFAULT '',  -- first From, lower case, for sorting
        subject TEXT NOT NULL DEFAULT '',
        size INTEGER NOT NULL DEFAULT 0,
        has_attachment INTEGER NOT NULL DEFAULT 0,
        charset TEXT,
        snippet TEXT NOT NULL DEFAULT '',
        thread_id INTEGER NOT NULL DEFAULT 0,
        parse_errors TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX messages_folder_date ON messages (folder_id, date);
    CREATE INDEX messages_date ON messages (date);
    CREATE INDEX messages_folder_flags ON messages (folder_id, flags);
    CREATE UNIQUE INDEX messages_folder_base ON messages (folder_id, base);
    CREATE INDEX messages_uid ON messages (folder_id, uid) WHERE uid IS NOT NULL;
    CREATE INDEX messages_uidl ON messages (uidl) WHERE uidl IS NOT NULL;
    CREATE INDEX messages_msgid ON messages (message_id);
    CREATE INDEX messages_thread ON messages (thread_id, date);
    -- Every Message-ID a message points at (In-Reply-To and References), to find the thread of
    -- a reply that arrives before its parent, and the children of a parent that arrives late.
    CREATE TABLE refs (
        message INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        ref TEXT NOT NULL
    );
    CREATE INDEX refs_ref ON refs (ref);
    CREATE INDEX refs_message ON refs (message);
    CREATE TABLE threads (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        subject TEXT NOT NULL DEFAULT ''  -- base subject (no Re:/Fwd:), lower case
    );
    CREATE INDEX threads_subject ON threads (subject);
    CREATE VIRTUAL TABLE fts USING fts5 (
        subject, sender, tos, ccs, body,
        tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TABLE pending (
        id INTEGER PRIMARY KEY,                   -- state
        account TEXT NOT NULL,
        folder TEXT NOT NULL,
        kind TEXT NOT NULL,
        message INTEGER,
        uid INTEGER,
        data TEXT NOT NULL DEFAULT '{}',
        created REAL NOT NULL
    );
    CREATE INDEX pending_message ON pending (message);
    CREATE TABLE account_state (
        account TEXT PRIMARY KEY,                 -- state: JSON owned by the sync engine
        state TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE pop3_uidls (
        account TEXT NOT NULL,                    -- state: UIDLs safely stored, and when
        uidl TEXT NOT NULL,
        stored REAL NOT NULL,
        PRIMARY KEY (account, uidl)
    );
    """,
    # 2: folders found where other tools put them (mbsync "SubFolders Verbatim" nests
    # Work/Projects as directories; Maildir++ uses .Work.Projects): their directory relative to
    # the mail dir. NULL means the default place, mail/<account>/<encoded folder>.
    """
    ALTER TABLE folders ADD COLUMN dir TEXT;
    """,
    # 3: counting a folder's threads reads this index alone (100k messages: ~500 -> ~30 ms).
    """
    CREATE INDEX messages_folder_thread ON messages (folder_id, thread_id);
    """,
    # 4: a page of a folder sorted by from, subject or size reads these indexes in order and
    # stops at the page's end, instead of sorting the whole folder (100k messages: first page
    # ~200 -> ~8 ms). Each column as the ORDER BY in store._SORT_SQL has it (subject with
    # NOCASE); date after it, so the descending order (the reader's default) is read backwards
    # with no sort at all; the ascending one (newest first within a sender) sorts only the rows
    # of one sender or subject at a time. The rowid (the message id) ends every index.
    """
    CREATE INDEX messages_folder_sender ON messages (folder_id, sender, date);
    CREATE INDEX messages_folder_subject ON messages (folder_id, subject COLLATE NOCASE, date);
    CREATE INDEX messages_folder_size ON messages (folder_id, size);
    """,
    # 5: the address book harvested from mail (tmail.store.contacts): one row per address;
    # the messages already counted; the messages indexed before this, harvested at the first
    # query (one row while that is still to do); and the addresses imported from vCard files
    # (state: not in the Maildirs, kept by reindex), by the file or vdir they came from.
    """
    CREATE TABLE IF NOT EXISTS contacts (
        addr TEXT PRIMARY KEY,                -- lower case
        name TEXT NOT NULL DEFAULT '',        -- from the most recent message that gave one
        name_date INTEGER NOT NULL DEFAULT 0, -- that message's date
        received INTEGER NOT NULL DEFAULT 0,  -- messages from them or with them on it
        sent INTEGER NOT NULL DEFAULT 0,      -- messages in Sent addressed to them
        last INTEGER NOT NULL DEFAULT 0       -- the newest message's date (unix seconds)
    );
    CREATE TABLE IF NOT EXISTS contacts_harvested (message INTEGER PRIMARY KEY);
    CREATE TABLE IF NOT EXISTS contacts_backfill (upto INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS contacts_imported (
        source TEXT NOT NULL,                 -- the file or vdir imported (absolute path)
        addr TEXT NOT NULL,                   -- lower case
        name TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (source, addr)
    );
    CREATE TABLE IF NOT EXISTS contacts_groups (
        source TEXT NOT NULL,                 -- state: a group card of an imported source
        name TEXT NOT NULL,
        members TEXT NOT NULL                 -- the members' addresses, one per line
    );
    CREATE TABLE IF NOT EXISTS contacts_sources (
        source TEXT PRIMARY KEY,              -- state: a file or vdir imported
        stamp TEXT NOT NULL DEFAULT ''        -- its files' names, sizes and mtimes when read
    );
    INSERT INTO contacts_backfill (upto) SELECT id FROM messages ORDER BY id DESC LIMIT 1;
    """,
)


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the migrations the database has not seen yet; return the resulting version."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    for number, script in enumerate(MIGRATIONS, start=1):
        if number <= version:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while we waited for the write lock.
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if number <= version:
                conn.execute("COMMIT")
                continue
            # executescript would COMMIT first; run the statements one by one inside our tx.
            for statement in _statements(script):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
            conn.execute("COMMIT")
        except BaseException:
            # A failed COMMIT (disk full, file size limit) has already rolled back: a ROLLBACK
            # then fails too ("no transaction is active") and would hide the real error.
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            raise
        version = number
    return version


def _statements(script: str) -> list[str]:
    out: list[str] = []
    current: list[str] = []
    for line in script.splitlines():
        current.append(line)
        if sqlite3.complete_statement("\n".join(current)):
            text = "\n".join(current).strip()
            if text.strip(";").strip():
                out.append(text)
            current = []
    return out
