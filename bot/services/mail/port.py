"""What delivery needs from a mail server, and how a send can fail."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol


def domain_of(address: str) -> str:
    """What logs may say about an address (never the address itself)."""
    return address.rpartition("@")[2] or "?"


@dataclass(frozen=True)
class Email:
    key: str
    to: str
    subject: str
    body: str

    @property
    def recipient_domain(self) -> str:
        """What logs may say about the recipient (never the address or the body)."""
        return domain_of(self.to)


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
