"""Outgoing email through an outbox.

An email is recorded (`outbox.queue_email`) in the same transaction as the decision that
causes it, under a unique key, and delivered afterwards (`delivery.deliver_pending`) by the
`worker.MailWorker` thread and the `deliver-emails` job. A rollback therefore never sends, a
restart never skips, and the same key is never queued twice.

Delivery claims one row at a time in a short transaction (PostgreSQL: `FOR UPDATE SKIP
LOCKED`; SQLite: `BEGIN IMMEDIATE` serialises writers) and talks SMTP (`smtp.SmtpSender`)
outside any transaction, so a slow mail server never holds a database lock. A claim is a short
lease: the row stays PENDING with its attempt counted and a retry time a few minutes ahead, so
a process that dies mid-send leaves the row to be tried again later, not lost.

`next_attempt_at` holds when a PENDING row may be tried: after a temporary failure, or
while a worker's claim on it lasts.
"""
