"""The urwid terminal user interface. Never blocks on the network."""
