"""Sending through SMTP: one connection per batch, each server answer read as permanent,
temporary, or "the server is unavailable" (stop this run)."""

from __future__ import annotations

import hashlib
import logging
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from bot.clock import Clock, SystemClock
from bot.services.mail.port import (
    Email,
    MailConnection,
    MailError,
    MailServerUnavailable,
    PermanentMailError,
    TemporaryMailError,
    domain_of,
)
from bot.settings import Settings

log = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 20.0


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
    domain = domain_of(parseaddr(mail_from)[1]) if "@" in mail_from else "localhost"
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
