"""The local store: one Maildir per folder plus a SQLite index (WAL, FTS5).

Maildir files are the truth; the index is a cache that can be rebuilt from them.
"""
