"""Members' last activity, recorded from message events and written in coalesced batches."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.services import members
from bot.services.activity import ActivityRecorder
from models import Member
from tests.support.kyoso_server import RunningKyoso, wait_for
from tests.support.slack_sender import SlackSender


def _message(user: str, ts: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "message",
        "channel": "C0TALK",
        "user": user,
        "text": "意見です",
        "ts": ts,
        "channel_type": "channel",
        **extra,
    }


def _last_seen(session_factory: SessionFactory, user_id: str) -> datetime | None:
    with session_factory() as session:
        return session.scalar(select(Member.last_seen_at).where(Member.slack_user_id == user_id))


def test_messages_update_last_seen_to_the_latest_post(
    slack: SlackSender, kyoso: RunningKyoso, session_factory: SessionFactory, clock: FixedClock
) -> None:
    with session_factory.begin() as session:
        members.ensure_member(session, clock=clock, slack_user_id="U0TALK")
    for ts in ("1767225600.000100", "1767229200.000200", "1767225700.000300"):  # out of order
        assert slack.event(_message("U0TALK", ts)).status == 200
    slack.event(_message("U0TALK", "1767300000.000100", subtype="message_changed"))  # an edit
    latest = datetime.fromtimestamp(1767229200.0002, UTC)

    def flushed() -> bool:
        kyoso.kyoso.deps.activity.flush()
        return _last_seen(session_factory, "U0TALK") == latest

    wait_for(flushed)


def test_a_batch_never_moves_last_seen_backwards(
    session_factory: SessionFactory, clock: FixedClock
) -> None:
    with session_factory.begin() as session:
        members.ensure_member(session, clock=clock, slack_user_id="U0A")
        members.ensure_member(session, clock=clock, slack_user_id="U0B")
    recorder = ActivityRecorder(session_factory)
    newer, older = datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
    recorder.seen("U0A", newer)
    assert recorder.flush() == 1
    for n in range(500):  # a busy channel: many signals, one row each per flush
        recorder.seen("U0B", datetime(2026, 11, 2, tzinfo=UTC).replace(second=n % 60))
    recorder.seen("U0A", older)
    recorder.seen("U0UNKNOWN", newer)  # not a member yet: nothing to update, nothing fails
    assert recorder.flush() == 3
    assert _last_seen(session_factory, "U0A") == newer
    assert _last_seen(session_factory, "U0B") == datetime(2026, 11, 2, 0, 0, 59, tzinfo=UTC)
    assert recorder.flush() == 0
