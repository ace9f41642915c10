"""Last activity of members and channels, coalesced: a busy channel is not a write per message."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from sqlalchemy import Update, bindparam, or_, update
from sqlalchemy.orm import InstrumentedAttribute

from bot.db import SessionFactory
from models import Channel, Member

log = logging.getLogger(__name__)

DEFAULT_FLUSH_SECONDS = 5.0


def slack_ts_to_datetime(ts: str) -> datetime:
    return datetime.fromtimestamp(float(ts), UTC)


def _latest_first(
    key_column: InstrumentedAttribute[str], at_column: InstrumentedAttribute[datetime | None]
) -> Update:
    """UPDATE … SET at = :at WHERE key = :key AND at is older: never moves time back."""
    return (
        update(key_column.class_)
        .where(key_column == bindparam("b_key"))
        .where(or_(at_column.is_(None), at_column < bindparam("b_at")))
        .values({at_column.key: bindparam("b_at")})
    )


class ActivityRecorder:
    """Keeps the latest instant per member and channel in memory; one batch write per flush.

    A crash loses at most one flush interval of "last seen" times, which the next message
    restores; nothing a member did is lost."""

    def __init__(
        self, session_factory: SessionFactory, *, flush_seconds: float = DEFAULT_FLUSH_SECONDS
    ) -> None:
        self._session_factory = session_factory
        self._flush_seconds = flush_seconds
        self._members: dict[str, datetime] = {}
        self._channels: dict[str, datetime] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def seen(self, user_id: str, at: datetime, channel_id: str | None = None) -> None:
        with self._lock:
            if at > self._members.get(user_id, at.min.replace(tzinfo=UTC)):
                self._members[user_id] = at
            if channel_id and at > self._channels.get(channel_id, at.min.replace(tzinfo=UTC)):
                self._channels[channel_id] = at

    def flush(self) -> int:
        """Write what was seen since the last flush; returns the number of rows offered."""
        with self._lock:
            members, self._members = self._members, {}
            channels, self._channels = self._channels, {}
        if not members and not channels:
            return 0
        with self._session_factory.begin() as session:
            connection = session.connection()
            if members:
                connection.execute(
                    _latest_first(Member.slack_user_id, Member.last_seen_at),
                    [{"b_key": k, "b_at": v} for k, v in members.items()],
                )
            if channels:
                connection.execute(
                    _latest_first(Channel.slack_channel_id, Channel.last_activity_at),
                    [{"b_key": k, "b_at": v} for k, v in channels.items()],
                )
        return len(members) + len(channels)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="kyoso-activity", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._flush_seconds):
            try:
                self.flush()
            except Exception:  # keep flushing after a database blip; the log tells why
                log.exception("activity flush failed; will retry")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()
