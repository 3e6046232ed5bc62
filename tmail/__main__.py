"""``python -m tmail`` is the same as the ``tmail`` command."""

from tmail.cli import main

raise SystemExit(main())
