"""tmail — a terminal mail client.

The package is built in layers; each imports only the layers below it, and siblings on one floor
do not import each other (``lint-imports`` checks this, see ``pyproject.toml``)::

      ui (urwid)   |   cli (argparse)          what people touch
              runtime                          the only place that starts threads
       sync   |   outbox                       workflows joining store and protocols
      store   |   protocols                    disk (Maildir + SQLite) | network (IMAP, POP3, SMTP)
       mime   |   config                       bytes <-> readable text | TOML, presets, secrets
              core                             models, errors, events, safe text (stdlib only)

ARCHITECTURE.md at the top of the repository tells the rest.
"""

__version__ = "0.1.0"
