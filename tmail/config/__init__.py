"""Configuration: the TOML file, provider presets, secrets (keyring, password commands).

Imports only ``tmail.core``.
"""
