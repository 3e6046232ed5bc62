"""Runtime: the only layer that starts threads; the MailSession facade used by cli and ui."""
