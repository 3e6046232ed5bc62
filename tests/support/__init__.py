"""Test support shared by tests/ and bench/: the real mail stack, message generators."""
