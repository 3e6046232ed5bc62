"""Core: tmail's own types, errors and small pure helpers. Standard library only."""
