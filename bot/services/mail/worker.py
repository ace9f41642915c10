"""The background thread that delivers the outbox: at once after a commit that queued mail,
and every minute for retries."""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.db import SessionFactory
from bot.services.mail.delivery import DEFAULT_BATCH, deliver_pending
from bot.services.mail.outbox import QUEUED_FLAG
from bot.services.mail.port import MailSender
from bot.services.mail.smtp import SMTP_TIMEOUT_SECONDS

log = logging.getLogger(__name__)

WORKER_INTERVAL_SECONDS = 60.0


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
        if (root is None or not root.is_active) and session.info.pop(QUEUED_FLAG, False):
            self.kick()

    def _after_transaction_end(self, session: Session, transaction: Any) -> None:
        if transaction.parent is None:  # rolled back (or already handled): forget the flag
            session.info.pop(QUEUED_FLAG, None)
