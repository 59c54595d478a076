"""Notifications through an outbox: rows written with the event, sent later over SMTP."""
