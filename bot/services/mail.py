"""Outgoing email through an outbox.

An email is recorded (`queue_email`) in the same transaction as the decision that causes it,
under a unique key, and delivered afterwards (`deliver_pending`) by the `MailWorker` thread
and the `deliver-emails` job. A rollback therefore never sends, a restart never skips, and
the same key is never queued twice.

Delivery claims one row at a time in a short transaction (PostgreSQL: `FOR UPDATE SKIP
LOCKED`; SQLite: `BEGIN IMMEDIATE` serialises writers) and talks SMTP outside any
transaction, so a slow mail server never holds a database lock. A claim is a short lease:
the row stays PENDING with its attempt counted and a retry time a few minutes ahead, so a
process that dies mid-send leaves the row to be tried again later, not lost.

`next_attempt_at` holds when a PENDING row may be tried: after a temporary failure, or
while a worker's claim on it lasts.
"""

from __future__ import annotations

import hashlib
import logging
import re
import smtplib
import ssl
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any, Protocol

from sqlalchemy import ColumnElement, delete, event, or_, select, update
from sqlalchemy.orm import Session

from bot.clock import Clock, SystemClock
from bot.db import SessionFactory, insert_for
from bot.settings import Settings
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
SMTP_TIMEOUT_SECONDS = 20.0
WORKER_INTERVAL_SECONDS = 60.0
DEFAULT_BATCH = 50

_MAX_ERROR_CHARS = 500
_QUEUED_FLAG = "kyoso.mail_queued"
_ADDRESS = re.compile(r"[^\s<>\"',;:()\[\]]+@([A-Za-z0-9.-]+)")


@dataclass(frozen=True)
class Email:
    key: str
    to: str
    subject: str
    body: str

    @property
    def recipient_domain(self) -> str:
        """What logs may say about the recipient (never the address or the body)."""
        return self.to.rpartition("@")[2] or "?"


class MailError(Exception):
    """A message could not be sent; the text is safe to store and log (no body)."""


class PermanentMailError(MailError):
    """This message will never go through (5xx for this recipient or content)."""


class TemporaryMailError(MailError):
    """This message may go through later (4xx)."""


class MailServerUnavailable(TemporaryMailError):
    """No message can go through now (connection, TLS, login, 421): stop this run."""


class MailConnection(Protocol):
    def send(self, email: Email) -> None:
        """Send one message; raises a `MailError` subclass when it was not accepted."""
        ...


class MailSender(Protocol):
    @property
    def enabled(self) -> bool:
        """False when no mail server is configured: emails then wait in the outbox."""
        ...

    def connect(self) -> AbstractContextManager[MailConnection]:
        """One session with the server for a batch; raises `MailServerUnavailable`."""
        ...


# --- Queueing ---------------------------------------------------------------------------


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
        session.info[_QUEUED_FLAG] = True  # MailWorker delivers right after the commit
    return queued


def _check_header_value(name: str, value: str) -> None:
    if not value or "\r" in value or "\n" in value:
        raise ValueError(f"{name} must be one non-empty line")


# --- Delivery ---------------------------------------------------------------------------


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
                log.warning("email %s to @%s given up", row.key, _domain(row.to_address))
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


def _domain(address: str) -> str:
    return address.rpartition("@")[2] or "?"


# --- SMTP -------------------------------------------------------------------------------


def build_message(
    email: Email, *, mail_from: str, reply_to: str | None, at: datetime
) -> EmailMessage:
    """A UTF-8 text/plain message; the default policy encodes Japanese headers (RFC 2047)."""
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = email.to
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = email.subject
    message["Date"] = format_datetime(at.astimezone(UTC))
    message["Message-ID"] = message_id(email.key, mail_from)
    # base64, not 8bit: old relays without 8BITMIME pass it unchanged (shorter than QP for Japanese).
    message.set_content(email.body, charset="utf-8", cte="base64")
    return message


def message_id(key: str, mail_from: str) -> str:
    """Stable per outbox key: if a crash makes us send twice, receivers can tell it's one mail.

    The key itself (which holds an application's id) is hashed, not shown."""
    domain = _domain(parseaddr(mail_from)[1]) if "@" in mail_from else "localhost"
    digest = hashlib.sha256(f"{key}\0{mail_from}".encode()).hexdigest()[:32]
    return f"<kyoso.{digest}@{domain}>"


def _error_text(code: int, response: bytes | str) -> str:
    text = response.decode("utf-8", "replace") if isinstance(response, bytes) else response
    return f"{code} {' '.join(text.split())}"


def _by_code(code: int, response: bytes | str) -> MailError:
    text = _error_text(code, response)
    if code == 421:  # the server is closing the session: not this message's fault
        return MailServerUnavailable(text)
    if 500 <= code < 600:
        return PermanentMailError(text)
    return TemporaryMailError(text)


class _SmtpConnection:
    def __init__(self, smtp: smtplib.SMTP, sender: SmtpSender) -> None:
        self._smtp = smtp
        self._sender = sender

    def send(self, email: Email) -> None:
        try:
            message = self._sender.build(email)
        except (ValueError, UnicodeError) as exc:  # e.g. a malformed address
            raise PermanentMailError(f"message cannot be built: {exc}") from exc
        try:
            self._smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            # One recipient per message: its code decides (550 permanent, 451 temporary).
            code, response = next(iter(exc.recipients.values()))
            raise _by_code(code, response) from exc
        except smtplib.SMTPSenderRefused as exc:
            # Our From address is refused: a configuration problem, not this message's.
            raise MailServerUnavailable(
                f"sender refused: {_error_text(exc.smtp_code, exc.smtp_error)}"
            ) from exc
        except smtplib.SMTPResponseException as exc:  # DATA refused, 421, …
            raise _by_code(exc.smtp_code, exc.smtp_error) from exc
        except smtplib.SMTPNotSupportedError as exc:  # e.g. a non-ASCII address, no SMTPUTF8
            raise PermanentMailError(f"not supported by the server: {exc}") from exc
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise MailServerUnavailable(f"connection lost: {exc}") from exc
        except smtplib.SMTPException as exc:
            raise TemporaryMailError(str(exc)) from exc


class SmtpSender:
    """Sends through SMTP_HOST. STARTTLS when SMTP_STARTTLS (implicit TLS on port 465), login
    when SMTP_USERNAME is set. Without SMTP_HOST it is disabled and says so once."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = SMTP_TIMEOUT_SECONDS,
    ) -> None:
        self._host = settings.smtp_host or None
        self._port = settings.smtp_port
        self._starttls = settings.smtp_starttls
        self._username = settings.smtp_username or None
        self._password = settings.smtp_password
        self._from = settings.mail_from
        self._reply_to = settings.mail_reply_to
        self._clock = clock or SystemClock()
        self._ssl_context = ssl_context
        self._timeout = timeout
        if self._host is None:
            log.warning(
                "SMTP_HOST is not set: emails are kept in the outbox and sent once it is set"
            )

    @property
    def enabled(self) -> bool:
        return self._host is not None

    def build(self, email: Email) -> EmailMessage:
        return build_message(
            email, mail_from=self._from, reply_to=self._reply_to, at=self._clock.now()
        )

    @contextmanager
    def connect(self) -> Iterator[MailConnection]:
        smtp = self._open()
        try:
            yield _SmtpConnection(smtp, self)
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()  # the server already went away; nothing to tidy up

    def _open(self) -> smtplib.SMTP:
        if self._host is None:
            raise MailServerUnavailable("SMTP_HOST is not set")
        where = f"{self._host}:{self._port}"
        context = self._ssl_context or ssl.create_default_context()
        smtp: smtplib.SMTP | None = None
        try:
            if self._port == 465:  # submissions: TLS from the first byte (RFC 8314)
                smtp = smtplib.SMTP_SSL(
                    self._host, self._port, timeout=self._timeout, context=context
                )
            else:
                smtp = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
                if self._starttls:
                    smtp.starttls(context=context)
            if self._username is not None:
                password = self._password.get_secret_value() if self._password else ""
                smtp.login(self._username, password)
            return smtp
        except smtplib.SMTPNotSupportedError as exc:
            self._close_quietly(smtp)
            raise MailServerUnavailable(
                f"{where} does not offer STARTTLS or AUTH ({exc}); check SMTP_STARTTLS"
            ) from exc
        except smtplib.SMTPAuthenticationError as exc:
            self._close_quietly(smtp)
            raise MailServerUnavailable(
                f"{where} refused the login "
                f"({_error_text(exc.smtp_code, exc.smtp_error)}); check SMTP_USERNAME/PASSWORD"
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:  # refused, timeout, TLS, 421 greeting
            self._close_quietly(smtp)
            raise MailServerUnavailable(f"cannot reach {where}: {exc}") from exc

    @staticmethod
    def _close_quietly(smtp: smtplib.SMTP | None) -> None:
        if smtp is not None:
            smtp.close()


# --- Worker -----------------------------------------------------------------------------


class MailWorker:
    """Delivers the outbox in a background thread: right after a transaction that queued
    mail commits (or `kick()`), and every minute for retries. Never dies of an error."""

    def __init__(
        self,
        session_factory: SessionFactory,
        sender: MailSender,
        *,
        clock: Clock,
        interval: float = WORKER_INTERVAL_SECONDS,
        batch: int = DEFAULT_BATCH,
    ) -> None:
        self.sender = sender
        self._session_factory = session_factory
        self._clock = clock
        self._interval = interval
        self._batch = batch
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def kick(self) -> None:
        """Deliver now (cheap, any thread): call after committing a queued email."""
        self._wake.set()

    def run_once(self) -> dict[str, int]:
        return deliver_pending(self._session_factory, self.sender, clock=self._clock)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        event.listen(self._session_factory, "after_commit", self._after_commit)
        event.listen(self._session_factory, "after_transaction_end", self._after_transaction_end)
        self._thread = threading.Thread(target=self._loop, name="kyoso-mail", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current batch; what is left waits in the outbox for the next run."""
        if self._thread is None:
            return
        event.remove(self._session_factory, "after_commit", self._after_commit)
        event.remove(self._session_factory, "after_transaction_end", self._after_transaction_end)
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=SMTP_TIMEOUT_SECONDS + 10)
        self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            if self._stop.is_set() or not self.sender.enabled:
                continue
            try:
                counts = self.run_once()
            except Exception:  # a database or mail blip must not end delivery for good
                log.exception("email delivery failed; will retry")
                continue
            if sum(counts.values()) >= self._batch:
                self._wake.set()  # a full batch: more may be waiting

    def _after_commit(self, session: Session) -> None:
        root = session.get_transaction()
        # Also fired for a savepoint; wait for the outermost commit, which makes rows visible.
        if (root is None or not root.is_active) and session.info.pop(_QUEUED_FLAG, False):
            self.kick()

    def _after_transaction_end(self, session: Session, transaction: Any) -> None:
        if transaction.parent is None:  # rolled back (or already handled): forget the flag
            session.info.pop(_QUEUED_FLAG, None)


# Sent and failed emails hold names and reasons; the audit log keeps the decisions.
OUTBOX_RETENTION = timedelta(days=30)


def prune_outbox(session: Session, *, clock: Clock) -> int:
    """Delete delivered (or given-up) emails older than the retention period."""
    cutoff = clock.now() - OUTBOX_RETENTION
    deleted = session.execute(
        delete(OutboundEmail)
        .where(
            OutboundEmail.status.in_((EmailStatus.SENT, EmailStatus.FAILED)),
            OutboundEmail.created_at < cutoff,
        )
        .returning(OutboundEmail.id)
    )
    return len(deleted.all())
