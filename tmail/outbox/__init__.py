"""Sending: the outbox queue, retries, rate limits and delivery through SMTP."""
