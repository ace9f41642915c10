"""Retention reaches the addresses a member's moves and affiliation checks hold: once a
deactivated member's personal data is reduced, their old and new addresses go too; an active
member's stay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.services.lifecycle.policy import Policy
from bot.services.lifecycle.retention import reduce_personal_data
from models import (
    AffiliationCheck,
    AffiliationMove,
    CheckStatus,
    Member,
    MemberStatus,
    MoveSource,
    MoveStatus,
)
from tests.test_statistics import NOW, add_member


def _move_and_check(session_factory: SessionFactory, member_id: int, tag: str) -> None:
    with session_factory.begin() as session:
        session.add(
            AffiliationMove(
                public_id=f"mv-{tag}",
                member_id=member_id,
                status=MoveStatus.CONFIRMED,
                source=MoveSource.COMMAND,
                old_email=f"{tag}@city.sapporo.lg.jp",
                new_email=f"{tag}@pref.hokkaido.lg.jp",
                new_email_normalized=f"{tag}@pref.hokkaido.lg.jp",
                new_department="総務課",
                created_at=NOW,
                updated_at=NOW,
            )
        )
        session.add(
            AffiliationCheck(
                public_id=f"ck-{tag}",
                member_id=member_id,
                status=CheckStatus.KEPT,
                old_email=f"{tag}@pref.hokkaido.lg.jp",
                new_email=f"{tag}@gmail.com",
                created_at=NOW,
                updated_at=NOW,
            )
        )


def test_reduced_members_lose_the_addresses_of_their_moves_and_checks(
    session_factory: SessionFactory,
) -> None:
    with session_factory.begin() as session:
        gone = add_member(session, "U0GONE", status=MemberStatus.DEACTIVATED)
        gone.deactivated_at = NOW - timedelta(days=400)
        staying = add_member(session, "U0STAY")
        gone_id, staying_id = gone.id, staying.id
    _move_and_check(session_factory, gone_id, "gone")
    _move_and_check(session_factory, staying_id, "stay")

    with session_factory.begin() as session:
        reduced = reduce_personal_data(session, clock=FixedClock(NOW), policy=Policy())
    assert reduced == 1

    with session_factory() as session:
        moves = {m.member_id: m for m in session.scalars(select(AffiliationMove))}
        checks = {c.member_id: c for c in session.scalars(select(AffiliationCheck))}
        assert session.get(Member, gone_id).email is None  # type: ignore[union-attr]
    gone_move, stay_move = moves[gone_id], moves[staying_id]
    assert (gone_move.old_email, gone_move.new_email, gone_move.new_email_normalized) == (
        None,
        None,
        None,
    )
    assert gone_move.new_department is None and gone_move.status is MoveStatus.CONFIRMED
    assert (checks[gone_id].old_email, checks[gone_id].new_email) == (None, None)
    assert stay_move.new_email == "stay@pref.hokkaido.lg.jp"
    assert checks[staying_id].new_email == "stay@gmail.com"
