"""Network protocols: TLS/STARTTLS connections, IMAP, POP3, SMTP.

imapclient, poplib and smtplib objects stay inside this package; callers see tmail types.
"""
