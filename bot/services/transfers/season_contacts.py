"""Each season contact from its record to its result: what is due, claiming it before it is
posted, settling it, postponing it.

A contact is claimed in a committed transaction before its DM is posted: a PLANNED contact
with `sent_at` set is in flight since then. A claim older than `CLAIM_LEASE` belongs to a
sender that died; the next run looks in the member's IM for the DM's block id (the key)
before sending again, so a crash neither repeats nor skips anyone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, exists, or_, select, update
from sqlalchemy.orm import Session

from bot.services.lifecycle.policy import CLAIM_LEASE, MAX_ERROR_CHARS
from bot.services.lifecycle.rounds import at, count
from bot.services.transfers.season import answered, askable_member, moving_unconfirmed
from models import AttemptStatus, Member, SeasonContact, SeasonContactKind


@dataclass(frozen=True)
class SeasonDM:
    contact_id: int
    key: str
    kind: SeasonContactKind
    season: int
    slack_user_id: str
    locale: str | None
    claimed_at: datetime | None = None


def _still_wanted() -> ColumnElement[bool]:
    """The member is still active, and the survey still unanswered or the move still
    unconfirmed (a member may have answered from a reminder, or confirmed, meanwhile)."""
    return askable_member() & or_(
        (SeasonContact.kind == SeasonContactKind.SURVEY) & ~answered(SeasonContact.season),
        (SeasonContact.kind == SeasonContactKind.REMINDER)
        & moving_unconfirmed(SeasonContact.season),
    )


def _wanted_contact() -> ColumnElement[bool]:
    """`_still_wanted` for a statement on the contacts alone (a claim, a clean-up)."""
    return exists(select(Member.id).where(Member.id == SeasonContact.member_id, _still_wanted()))


def _dms(session: Session, where: list[ColumnElement[bool]], limit: int) -> list[SeasonDM]:
    rows = session.execute(
        select(
            SeasonContact.id,
            SeasonContact.key,
            SeasonContact.kind,
            SeasonContact.season,
            SeasonContact.sent_at,
            Member.slack_user_id,
            Member.locale,
        )
        .join(Member, Member.id == SeasonContact.member_id)
        .where(*where)
        .order_by(SeasonContact.due_at, SeasonContact.id)
        .limit(limit)
    ).all()
    return [
        SeasonDM(
            contact_id=row.id,
            key=row.key,
            kind=row.kind,
            season=row.season,
            slack_user_id=row.slack_user_id,
            locale=row.locale,
            claimed_at=row.sent_at,
        )
        for row in rows
    ]


def _unsent(season: int) -> list[ColumnElement[bool]]:
    return [SeasonContact.season == season, SeasonContact.status == AttemptStatus.PLANNED]


def drop_unwanted(session: Session, *, season: int) -> int:
    """Contacts nobody needs any more and that never left (no claim): one statement."""
    return count(
        session,
        delete(SeasonContact).where(
            *_unsent(season), SeasonContact.sent_at.is_(None), ~_wanted_contact()
        ),
    )


def due(session: Session, *, season: int, now: datetime, limit: int) -> list[SeasonDM]:
    return _dms(
        session,
        [
            *_unsent(season),
            SeasonContact.sent_at.is_(None),
            SeasonContact.due_at <= at(now),
            _still_wanted(),
        ],
        limit,
    )


def stale_claims(session: Session, *, season: int, now: datetime, limit: int) -> list[SeasonDM]:
    """DMs claimed by a sender that never reported back (it died mid-send)."""
    return _dms(
        session,
        [
            *_unsent(season),
            SeasonContact.sent_at.is_not(None),
            SeasonContact.sent_at <= at(now - CLAIM_LEASE),
        ],
        limit,
    )


def claim(session: Session, *, contact_id: int, now: datetime) -> bool:
    """Mark a DM in flight (committed before posting); False if it is taken or unwanted."""
    claimed = session.execute(
        update(SeasonContact)
        .where(
            SeasonContact.id == contact_id,
            SeasonContact.status == AttemptStatus.PLANNED,
            SeasonContact.sent_at.is_(None),
            _wanted_contact(),
        )
        .values(sent_at=now)
        .returning(SeasonContact.id)
        .execution_options(synchronize_session=False)
    ).first()
    return claimed is not None


def release(session: Session, *, contact_id: int) -> None:
    """Give a claim back: Slack certainly did not take the DM."""
    session.execute(
        update(SeasonContact)
        .where(SeasonContact.id == contact_id, SeasonContact.status == AttemptStatus.PLANNED)
        .values(sent_at=None)
        .execution_options(synchronize_session=False)
    )


def defer(session: Session, *, contact_id: int, until: datetime) -> None:
    """Try later: the member is in do-not-disturb."""
    session.execute(
        update(SeasonContact)
        .where(
            SeasonContact.id == contact_id,
            SeasonContact.status == AttemptStatus.PLANNED,
            SeasonContact.sent_at.is_(None),
        )
        .values(due_at=until)
        .execution_options(synchronize_session=False)
    )


def settle(session: Session, *, contact_id: int, at_: datetime, error: str | None = None) -> bool:
    """The DM's result: sent (at `at_`), or failed for good with `error`."""
    settled = session.execute(
        update(SeasonContact)
        .where(SeasonContact.id == contact_id, SeasonContact.status == AttemptStatus.PLANNED)
        .values(
            status=AttemptStatus.FAILED if error else AttemptStatus.SENT,
            sent_at=None if error else at_,
            error=error[:MAX_ERROR_CHARS] if error else None,
        )
        .returning(SeasonContact.id)
        .execution_options(synchronize_session=False)
    ).first()
    return settled is not None
