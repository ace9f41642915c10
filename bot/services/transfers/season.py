"""The 異動 season: staging the survey and the reminders, the member's answer, the banner.

Staging is one `INSERT … SELECT … ON CONFLICT DO NOTHING` per kind, never a loop over members:
every active member gets one survey contact per season (100,000 members within 2 s on SQLite
and PostgreSQL, bench/season_staging.py), and the unique (season, kind, member) makes a
repeated run stage nothing twice. The contacts are then sent by bot/slack/transfers/season.py
(bot/services/transfers/season_contacts.py records each step)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Integer,
    SQLColumnExpression,
    String,
    cast,
    exists,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.db import insert_for
from bot.domain.transfers_season import AnswerOutcome, SeasonAnswered, SeasonBanner
from bot.services import audit
from bot.services.lifecycle.policy import SLACKBOT
from bot.services.lifecycle.rounds import at, count
from bot.services.members import find
from bot.services.transfers.season_calendar import (
    SeasonCalendar,
    effective_on,
    last_day_before,
)
from bot.text import MAX_DB_INTEGER
from models import (
    AffiliationMove,
    AttemptStatus,
    Member,
    MemberStatus,
    MoveStatus,
    SeasonAnswer,
    SeasonAnswerKind,
    SeasonContact,
    SeasonContactKind,
)

KEY_PREFIX = "season"


def parse_key(key: str) -> tuple[int, int] | None:
    """(season, member id) named by a contact key, `season:<year>:<kind>:<member id>` (the
    DM's block id and its buttons' value); None if malformed."""
    parts = key.split(":")
    if len(parts) != 4 or parts[0] != KEY_PREFIX or parts[2] not in set(SeasonContactKind):
        return None
    season, member_id = parts[1], parts[3]
    if not (season.isdigit() and member_id.isdigit() and len(season) == 4):
        return None
    if int(member_id) > MAX_DB_INTEGER:
        return None
    return int(season), int(member_id)


# --- who is asked ---------------------------------------------------------------------------


def askable_member() -> ColumnElement[bool]:
    """Active people: not bots, not Slackbot, not deactivated or in an inactivity round."""
    return (
        (Member.status == MemberStatus.ACTIVE)
        & Member.is_bot.is_(False)
        & Member.guest_kind.is_(None)  # guests and Slack Connect users are no members
        & (Member.slack_user_id != SLACKBOT)
    )


def answered(season: int | SQLColumnExpression[int]) -> ColumnElement[bool]:
    return (
        exists()
        .where(SeasonAnswer.season == season, SeasonAnswer.member_id == Member.id)
        .correlate_except(SeasonAnswer)
    )


def move_confirmed_since_answer() -> ColumnElement[bool]:
    """A move of the answer's member confirmed at or after the answer."""
    return (
        exists()
        .where(
            AffiliationMove.member_id == SeasonAnswer.member_id,
            AffiliationMove.status == MoveStatus.CONFIRMED,
            AffiliationMove.confirmed_at >= SeasonAnswer.answered_at,
        )
        .correlate_except(AffiliationMove)
    )


def moving_unconfirmed(season: int | SQLColumnExpression[int]) -> ColumnElement[bool]:
    """The member's answer this season is MOVING and no move was confirmed since."""
    return (
        exists()
        .where(
            SeasonAnswer.season == season,
            SeasonAnswer.member_id == Member.id,
            SeasonAnswer.answer == SeasonAnswerKind.MOVING,
            ~move_confirmed_since_answer(),
        )
        .correlate_except(SeasonAnswer)
    )


def _key_of_member(season: int, kind: SeasonContactKind) -> ColumnElement[str]:
    prefix = f"{KEY_PREFIX}:{season}:{kind.value}:"
    return literal(prefix, String(32)).concat(cast(Member.id, String(16)))


def _stage(
    session: Session,
    *,
    now: datetime,
    season: int,
    kind: SeasonContactKind,
    where: ColumnElement[bool],
    from_answers: bool = False,
) -> int:
    rows = select(
        literal(season, Integer()),
        literal(kind, SeasonContact.kind.type),
        Member.id,
        _key_of_member(season, kind),
        literal(AttemptStatus.PLANNED, SeasonContact.status.type),
        at(now),
        at(now),
    )
    if from_answers:  # a few members: start from their answers, not from everyone
        rows = rows.select_from(SeasonAnswer).join(Member, Member.id == SeasonAnswer.member_id)
    rows = rows.where(where)
    statement = (
        insert_for(session)(SeasonContact)
        .from_select(["season", "kind", "member_id", "key", "status", "due_at", "created_at"], rows)
        .on_conflict_do_nothing()
    )
    return count(session, statement)


def stage_surveys(session: Session, *, now: datetime, season: int) -> int:
    """One survey contact, due now, for every active member not yet asked nor answered."""
    return _stage(
        session,
        now=now,
        season=season,
        kind=SeasonContactKind.SURVEY,
        # NOT IN, not NOT EXISTS: a hashed subplan whatever the statistics say (right after
        # a bulk load PostgreSQL would otherwise pick a nested loop: 16 s for 100,000).
        where=askable_member()
        & Member.id.not_in(select(SeasonAnswer.member_id).where(SeasonAnswer.season == season)),
    )


def stage_reminders(session: Session, *, now: datetime, season: int) -> int:
    """One reminder, due now, for every active member who said MOVING and has not confirmed."""
    return _stage(
        session,
        now=now,
        season=season,
        kind=SeasonContactKind.REMINDER,
        where=askable_member()
        & (SeasonAnswer.season == season)
        & (SeasonAnswer.answer == SeasonAnswerKind.MOVING)
        & ~move_confirmed_since_answer(),
        from_answers=True,
    )


def stage(
    session: Session, *, now: datetime, zone: ZoneInfo, calendar: SeasonCalendar
) -> dict[str, int | None]:
    """What the season's job stages now: the survey from its day, reminders from theirs."""
    today = now.astimezone(zone).date()
    season = calendar.season_on(today)
    if season is None:
        return {"season": None, "surveys": 0, "reminders": 0}
    surveys = (
        stage_surveys(session, now=now, season=season) if today >= calendar.survey_on(season) else 0
    )
    reminders = (
        stage_reminders(session, now=now, season=season)
        if today >= calendar.reminders_from(season)
        else 0
    )
    return {"season": season, "surveys": surveys, "reminders": reminders}


# --- the member's answer -------------------------------------------------------------------


def answer_date(season: int, answer: SeasonAnswerKind) -> date | None:
    if answer is SeasonAnswerKind.MOVING:
        return effective_on(season)
    if answer is SeasonAnswerKind.LEAVING:
        return last_day_before(season)
    return None


def record_answer(
    session: Session,
    *,
    clock: Clock,
    value: str,
    slack_user_id: str,
    answer: SeasonAnswerKind,
    current_season: int | None,
) -> SeasonAnswered:
    """A survey button as pressed: its value is the contact's key. The latest answer counts;
    the same answer again changes nothing; another member's button is refused."""
    named = parse_key(value)
    if named is None or named[0] != current_season:
        return SeasonAnswered(AnswerOutcome.CLOSED)
    season, member_id = named
    member = find(session, slack_user_id)
    if member is None or member.id != member_id:
        return SeasonAnswered(AnswerOutcome.NOT_YOURS)
    now = clock.now()
    values = {"answer": answer, "effective_on": answer_date(season, answer), "answered_at": now}
    inserted = count(
        session,
        insert_for(session)(SeasonAnswer)
        .values(season=season, member_id=member_id, **values)
        .on_conflict_do_nothing(),
    )
    changed = inserted or count(
        session,
        update(SeasonAnswer)
        .where(
            SeasonAnswer.season == season,
            SeasonAnswer.member_id == member_id,
            SeasonAnswer.answer != answer,
        )
        .values(**values),
    )
    if not changed:
        return SeasonAnswered(AnswerOutcome.UNCHANGED, season, answer)
    audit.record(
        session,
        clock=clock,
        actor=slack_user_id,
        action="transfers.season.answered",
        target_type="member",
        target_id=slack_user_id,
        details={"season": season, "answer": answer.value},
    )
    return SeasonAnswered(AnswerOutcome.RECORDED, season, answer)


def owner_check(session: Session, *, value: str, slack_user_id: str) -> SeasonAnswered:
    """Whether a season button (the reminder's) is the presser's own, for a known contact."""
    named = parse_key(value)
    if named is None:
        return SeasonAnswered(AnswerOutcome.CLOSED)
    member = find(session, slack_user_id)
    if member is None or member.id != named[1]:
        return SeasonAnswered(AnswerOutcome.NOT_YOURS)
    return SeasonAnswered(AnswerOutcome.UNCHANGED, named[0])


# --- App Home ------------------------------------------------------------------------------


def season_banner(
    session: Session,
    *,
    now: datetime,
    zone: ZoneInfo,
    member_id: int,
    calendar: SeasonCalendar | None = None,
) -> SeasonBanner | None:
    """During the season's window: the question and the member's answer, if any."""
    calendar = calendar or SeasonCalendar()
    season = calendar.season_at(now, zone)
    if season is None:
        return None
    row = session.execute(
        select(SeasonAnswer.answer, move_confirmed_since_answer().label("confirmed")).where(
            SeasonAnswer.season == season, SeasonAnswer.member_id == member_id
        )
    ).first()
    return SeasonBanner(
        season=season,
        effective_on=effective_on(season),
        window_ends=calendar.window(season)[1],
        answer=row.answer if row is not None else None,
        move_confirmed=bool(row is not None and row.confirmed),
    )
