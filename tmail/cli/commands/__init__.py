"""One module per ``tmail`` subcommand; each defines a :class:`tmail.cli.base.Command` subclass."""
