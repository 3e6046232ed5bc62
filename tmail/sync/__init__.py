"""Receiving: IMAP synchronisation and POP3 fetching into the local store."""
