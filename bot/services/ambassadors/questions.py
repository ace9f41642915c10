"""Questions in a prefecture's デジ_re_ channel: recorded when asked, marked answered when
someone else replies in the thread, so that ambassadors see what waits too long. Only when
and by whom: never the text.

A question is a member's own top-level message (not a bot's, not a join or an edit) in a
registered, active デジ_re_ channel with a prefecture, that reads as a question by the same
rule knowledge suggestions use (bot/knowledge/questions.py: ？, 教えて, でしょうか, …); a
report or an announcement is no question left waiting."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.db import insert_for
from models import Channel, ChannelCategory, ChannelStatus, Member, RegionalQuestion
from models.member import MemberStatus


def regional_prefecture(session: Session, channel_id: str) -> str | None:
    """The prefecture of an active, registered デジ_re_ channel; None for any other channel."""
    return session.scalar(
        select(Channel.prefecture).where(
            Channel.slack_channel_id == channel_id,
            Channel.category == ChannelCategory.RE,
            Channel.status == ChannelStatus.ACTIVE,
        )
    )


def record_question(
    session: Session,
    *,
    channel_id: str,
    message_ts: str,
    user_id: str,
    prefecture: str,
    asked_at: datetime,
) -> bool:
    """Record the question once (a retried event changes nothing); False when it was known
    already or the asker is no member of the community (a guest, an unknown account)."""
    is_member = session.scalar(
        select(Member.id).where(
            Member.slack_user_id == user_id,
            Member.is_bot.is_(False),
            Member.status.in_((MemberStatus.ACTIVE, MemberStatus.INACTIVE)),
        )
    )
    if is_member is None:
        return False
    added = session.execute(
        insert_for(session)(RegionalQuestion)
        .values(
            channel_id=channel_id,
            message_ts=message_ts,
            user_id=user_id,
            prefecture=prefecture,
            asked_at=asked_at,
        )
        .on_conflict_do_nothing(index_elements=["channel_id", "message_ts"])
        .returning(RegionalQuestion.id)
    ).first()
    return added is not None


def mark_answered(
    session: Session, *, channel_id: str, thread_ts: str, user_id: str, at: datetime
) -> bool:
    """Someone other than the asker replied in the question's thread: answered (once)."""
    answered = session.execute(
        update(RegionalQuestion)
        .where(
            RegionalQuestion.channel_id == channel_id,
            RegionalQuestion.message_ts == thread_ts,
            RegionalQuestion.user_id != user_id,
            RegionalQuestion.answered_at.is_(None),
        )
        .values(answered_at=at)
        .returning(RegionalQuestion.id)
    ).first()
    return answered is not None
