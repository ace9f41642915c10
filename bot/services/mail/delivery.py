"""Delivering the outbox: claim one due row at a time, send it outside any transaction, and
record what the server said (sent, retry later, or given up)."""

from __future__ import annotations

import logging
import re
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update

from bot.clock import Clock
from bot.db import SessionFactory
from bot.services.mail.port import (
    Email,
    MailConnection,
    MailError,
    MailSender,
    MailServerUnavailable,
    PermanentMailError,
    TemporaryMailError,
    domain_of,
)
from models import EmailStatus, OutboundEmail

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# Wait after the n-th failed attempt (n = 1 … 7): about 16 hours from first try to giving up,
# enough to ride out a mail server's night-time maintenance.
RETRY_DELAYS = (
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=4),
    timedelta(hours=8),
)
# A claimed row whose send never reported back (the process died) is tried again after this.
CLAIM_LEASE = timedelta(minutes=10)
DEFAULT_BATCH = 50

_MAX_ERROR_CHARS = 500
_ADDRESS = re.compile(r"[^\s<>\"',;:()\[\]]+@([A-Za-z0-9.-]+)")


@dataclass(frozen=True)
class _Claim:
    id: int
    attempts: int  # including this one
    email: Email


def _due(now: datetime) -> ColumnElement[bool]:
    """PENDING rows never tried, or whose retry time has come."""
    return or_(OutboundEmail.next_attempt_at.is_(None), OutboundEmail.next_attempt_at <= now)


def retry_at(row: OutboundEmail) -> datetime | None:
    """When a PENDING row will be tried next (None: as soon as a worker runs)."""
    return row.next_attempt_at if row.status is EmailStatus.PENDING else None


def _claim_next(session_factory: SessionFactory, clock: Clock) -> _Claim | None:
    while True:
        with session_factory.begin() as session:
            now = clock.now()
            row = session.execute(
                select(OutboundEmail)
                .where(OutboundEmail.status == EmailStatus.PENDING, _due(now))
                .order_by(OutboundEmail.id)
                .limit(1)
                .with_for_update(skip_locked=True)  # ignored by SQLite (one writer at a time)
            ).scalar_one_or_none()
            if row is None:
                return None
            if row.attempts >= MAX_ATTEMPTS:
                # Its last claim never reported back (the process died each time).
                row.status = EmailStatus.FAILED
                row.last_error = f"gave up after {row.attempts} attempts: no result recorded"
                log.warning("email %s to @%s given up", row.key, domain_of(row.to_address))
                continue
            row.attempts += 1
            row.next_attempt_at = now + CLAIM_LEASE
            return _Claim(
                id=row.id,
                attempts=row.attempts,
                email=Email(key=row.key, to=row.to_address, subject=row.subject, body=row.body),
            )


def _settle(
    session_factory: SessionFactory, claim: _Claim, values: dict[str, Any], *, outcome: str
) -> None:
    with session_factory.begin() as session:
        settled = session.execute(
            update(OutboundEmail)
            # Guarded: if our lease ran out and another worker re-claimed the row, theirs wins.
            .where(
                OutboundEmail.id == claim.id,
                OutboundEmail.status == EmailStatus.PENDING,
                OutboundEmail.attempts == claim.attempts,
            )
            .values(**values)
            .returning(OutboundEmail.id)
        ).first()
    level = logging.INFO if outcome == "sent" else logging.WARNING
    log.log(
        level,
        "email %s to @%s %s",
        claim.email.key,
        claim.email.recipient_domain,
        _ADDRESS.sub(r"…@\1", outcome),  # servers echo the address; logs keep the domain only
    )
    if settled is None:
        log.warning("email %s: claim expired before its result was recorded", claim.email.key)


def _settle_temporary(
    session_factory: SessionFactory, claim: _Claim, error: MailError, now: datetime
) -> str:
    if claim.attempts >= MAX_ATTEMPTS:
        message = f"gave up after {claim.attempts} attempts: {error}"[:_MAX_ERROR_CHARS]
        _settle(
            session_factory,
            claim,
            {"status": EmailStatus.FAILED, "last_error": message},
            outcome="failed (gave up)",
        )
        return "failed"
    delay = RETRY_DELAYS[min(claim.attempts, len(RETRY_DELAYS)) - 1]
    _settle(
        session_factory,
        claim,
        {"next_attempt_at": now + delay, "last_error": str(error)[:_MAX_ERROR_CHARS]},
        outcome=f"deferred ({error})",
    )
    return "retrying"


def deliver_pending(
    session_factory: SessionFactory,
    sender: MailSender,
    *,
    clock: Clock,
    limit: int = DEFAULT_BATCH,
) -> dict[str, int]:
    """Send up to `limit` due emails; returns counts of sent, failed and retrying.

    Safe to run in several threads and processes at once: each row is claimed by one."""
    counts = {"sent": 0, "failed": 0, "retrying": 0}
    if not sender.enabled:
        return counts  # SmtpSender said so in the log when it was built
    with ExitStack() as stack:
        connection: MailConnection | None = None
        for _ in range(limit):
            claim = _claim_next(session_factory, clock)
            if claim is None:
                break
            try:
                if connection is None:  # connect only when there is something to send
                    connection = stack.enter_context(sender.connect())
                connection.send(claim.email)
            except PermanentMailError as exc:
                _settle(
                    session_factory,
                    claim,
                    {"status": EmailStatus.FAILED, "last_error": str(exc)[:_MAX_ERROR_CHARS]},
                    outcome=f"failed ({exc})",
                )
                counts["failed"] += 1
            except MailServerUnavailable as exc:
                counts[_settle_temporary(session_factory, claim, exc, clock.now())] += 1
                break  # the rest would fail the same way; they keep their place in line
            except TemporaryMailError as exc:
                counts[_settle_temporary(session_factory, claim, exc, clock.now())] += 1
            except Exception as exc:
                # A bug or an unforeseen error: back off this row (so it cannot loop forever)
                # instead of leaving it claimed, then let the caller log the traceback.
                error = TemporaryMailError(f"unexpected {type(exc).__name__}")
                _settle_temporary(session_factory, claim, error, clock.now())
                raise
            else:
                _settle(
                    session_factory,
                    claim,
                    {
                        "status": EmailStatus.SENT,
                        "sent_at": clock.now(),
                        "last_error": None,
                        "next_attempt_at": None,
                    },
                    outcome="sent",
                )
                counts["sent"] += 1
    return counts
