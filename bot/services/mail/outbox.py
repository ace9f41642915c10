"""Queueing an email in the caller's transaction: sent only once that transaction commits."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.db import insert_for
from models import EmailStatus, OutboundEmail

# Set on a session that queued mail: the MailWorker delivers right after its commit.
QUEUED_FLAG = "kyoso.mail_queued"


def queue_email(
    session: Session, *, clock: Clock, key: str, to: str, subject: str, body: str
) -> bool:
    """Record an email to send once the caller's transaction commits.

    Returns False when `key` was already queued (sent or not): the same email is never
    queued twice, so a double click or a retried job is harmless."""
    to = to.strip()
    _check_header_value("to", to)
    _check_header_value("subject", subject)
    if to.count("@") != 1 or " " in to:
        raise ValueError("to must be one email address")
    statement = (
        insert_for(session)(OutboundEmail)
        .values(
            key=key,
            to_address=to,
            subject=subject,
            body=body,
            status=EmailStatus.PENDING,
            attempts=0,
            created_at=clock.now(),
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(OutboundEmail.id)
    )
    # RETURNING, not rowcount: psycopg reports -1 for ON CONFLICT DO NOTHING.
    queued = session.execute(statement).first() is not None
    if queued:
        session.info[QUEUED_FLAG] = True
    return queued


def _check_header_value(name: str, value: str) -> None:
    if not value or "\r" in value or "\n" in value:
        raise ValueError(f"{name} must be one non-empty line")
