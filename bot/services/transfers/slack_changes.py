"""An address Slack shows for a known member (a `user_change` event, the nightly users.list
sync): what it means for the member's organisation.

Slack is the truth about the address, never about the organisation. The same domain is the
same organisation: the address is copied. A new domain is a move: a pending move to this very
address is confirmed (Slack confirmed the address); otherwise eligibility decides on the
domain alone: eligible → the organisation follows (recorded as a move seen in Slack),
anything else → an open affiliation check tells the secretariat the organisation is
unverified. The old organisation is never kept silently with a new address."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.services import audit
from bot.services.transfers.eligibility import AddressOutcome, AddressVerdict, evaluate_address
from bot.services.transfers.moves import confirm_move, resolve_open_checks
from bot.services.transfers.slack_email import mark_seen
from bot.text import normalise_email
from models import (
    OPEN_CHECK_STATUSES,
    OPEN_MOVE_STATUSES,
    AffiliationCheck,
    AffiliationMove,
    CheckStatus,
    Member,
    MemberStatus,
    MoveSource,
    MoveStatus,
    SlackEmailState,
)

_GONE = (MemberStatus.DEACTIVATED, MemberStatus.DELETED)


class ChangeKind(StrEnum):
    NONE = "none"  # the same address, or a member Kyoso no longer follows
    COPIED = "copied"  # the same domain (or organisation): the address copied
    MOVE_CONFIRMED = "move_confirmed"  # a pending move's address: confirmed by Slack
    MOVE_SEEN = "move_seen"  # a confirmed move's address now shows in Slack
    MOVE_IN_REVIEW = "move_in_review"  # the secretariat already reviews a move to it
    ORGANISATION_UPDATED = "organisation_updated"  # eligible: the organisation follows
    CHECK_OPENED = "check_opened"  # 所属確認が必要: a case for the secretariat
    CHECK_UPDATED = "check_updated"  # the member's open case now shows this address


@dataclass(frozen=True)
class AddressChange:
    kind: ChangeKind
    slack_user_id: str
    organisation_id: int | None = None  # the new one (ORGANISATION_UPDATED)
    check_id: str | None = None  # the case's public id (CHECK_OPENED, CHECK_UPDATED)
    move_id: str | None = None  # the move's public id (MOVE_*, ORGANISATION_UPDATED)

    @property
    def needs_card(self) -> bool:
        return self.kind in (ChangeKind.CHECK_OPENED, ChangeKind.CHECK_UPDATED)


def domain_of(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    return email.rpartition("@")[2] or None


def address_seen(session: Session, *, clock: Clock, member: Member, email: str) -> AddressChange:
    """What the address Slack shows for `member` changes. Idempotent: the same address seen
    again (a retried or duplicated event, the next sync) changes nothing."""
    normalised = normalise_email(email.strip())
    user = member.slack_user_id
    if member.status in _GONE or domain_of(normalised) is None:
        return AddressChange(ChangeKind.NONE, user)
    seen = _instructed_move_seen(session, clock=clock, member=member, normalised=normalised)
    if seen is not None:
        return AddressChange(ChangeKind.MOVE_SEEN, user, move_id=seen.public_id)
    if normalised == member.email_normalized:
        return AddressChange(ChangeKind.NONE, user)
    held_by_another = _held_by_another(session, member, normalised)
    old = member.email_normalized
    if not held_by_another and (old is None or domain_of(old) == domain_of(normalised)):
        _copy(session, clock=clock, member=member, email=email, normalised=normalised)
        return AddressChange(ChangeKind.COPIED, user)
    move = _open_move_to(session, member, normalised)
    if move is not None and move.status is MoveStatus.AWAITING:
        confirmed = confirm_move(session, clock=clock, move=move, via="slack")
        return AddressChange(ChangeKind.MOVE_CONFIRMED, user, move_id=confirmed.public_id)
    if move is not None and move.status is MoveStatus.SCHEDULED:
        # Switched in Slack ahead of the date: applied then, asking nothing of the member.
        move.slack_email_state = SlackEmailState.SEEN
        return AddressChange(ChangeKind.NONE, user, move_id=move.public_id)
    if move is not None:  # in review: that review is the secretariat's case
        if not held_by_another:
            _copy(session, clock=clock, member=member, email=email, normalised=normalised)
        return AddressChange(ChangeKind.MOVE_IN_REVIEW, user, move_id=move.public_id)
    verdict = evaluate_address(session, member=member, email=email)
    if verdict.outcome is AddressOutcome.ELIGIBLE and not held_by_another:
        return _follow_organisation(
            session, clock=clock, member=member, email=email, normalised=normalised, verdict=verdict
        )
    if not held_by_another:  # Slack is the truth about the address; the case says the rest
        _copy(session, clock=clock, member=member, email=email, normalised=normalised)
    return _open_check(session, clock=clock, member=member, old=old, new=email, verdict=verdict)


def awaited_in_slack(session: Session, member_ids: Sequence[int]) -> set[tuple[int, str]]:
    """(member id, address) of confirmed moves whose address Kyoso waits to see in Slack:
    the sync sends these through `address_seen` even when the stored address is the same."""
    if not member_ids:
        return set()
    rows = session.execute(
        select(AffiliationMove.member_id, AffiliationMove.new_email_normalized).where(
            AffiliationMove.member_id.in_(member_ids),
            AffiliationMove.status == MoveStatus.CONFIRMED,
            AffiliationMove.slack_email_state == SlackEmailState.INSTRUCTED,
        )
    )
    return {(member_id, email) for member_id, email in rows if email}


def _instructed_move_seen(
    session: Session, *, clock: Clock, member: Member, normalised: str
) -> AffiliationMove | None:
    """A confirmed move whose member was told to change their Slack address: now seen."""
    move = session.scalar(
        select(AffiliationMove)
        .where(
            AffiliationMove.member_id == member.id,
            AffiliationMove.status == MoveStatus.CONFIRMED,
            AffiliationMove.slack_email_state == SlackEmailState.INSTRUCTED,
            AffiliationMove.new_email_normalized == normalised,
        )
        .order_by(AffiliationMove.id.desc())
        .limit(1)
    )
    if move is None or not mark_seen(session, clock=clock, public_id=move.public_id):
        return None
    return move


def _held_by_another(session: Session, member: Member, normalised: str) -> bool:
    """One account per address: another member row's address is never copied."""
    return (
        session.scalar(
            select(Member.id).where(Member.email_normalized == normalised, Member.id != member.id)
        )
        is not None
    )


def _copy(session: Session, *, clock: Clock, member: Member, email: str, normalised: str) -> None:
    member.email = email.strip()
    member.email_normalized = normalised
    member.updated_at = clock.now()
    audit.record(
        session,
        clock=clock,
        actor=audit.SYSTEM_ACTOR,
        action="transfers.address_copied",
        target_type="member",
        target_id=member.slack_user_id,
        details={"domain": domain_of(normalised)},
    )


def _open_move_to(session: Session, member: Member, normalised: str) -> AffiliationMove | None:
    return session.scalar(
        select(AffiliationMove).where(
            AffiliationMove.member_id == member.id,
            AffiliationMove.status.in_(OPEN_MOVE_STATUSES),
            AffiliationMove.new_email_normalized == normalised,
        )
    )


def open_check_of(session: Session, member_id: int) -> AffiliationCheck | None:
    return session.scalar(
        select(AffiliationCheck).where(
            AffiliationCheck.member_id == member_id,
            AffiliationCheck.status.in_(OPEN_CHECK_STATUSES),
        )
    )


def _follow_organisation(
    session: Session,
    *,
    clock: Clock,
    member: Member,
    email: str,
    normalised: str,
    verdict: AddressVerdict,
) -> AddressChange:
    """Eligible: the member's organisation follows the address, recorded as a move that
    Slack both asked for and confirmed; an open case of the member is resolved."""
    now = clock.now()
    old_organisation, old_email = member.organisation_id, member.email
    resolve_open_checks(session, clock=clock, member=member, actor=audit.SYSTEM_ACTOR, by="slack")
    if verdict.organisation_id == old_organisation:  # another domain of the same organisation
        _copy(session, clock=clock, member=member, email=email, normalised=normalised)
        return AddressChange(ChangeKind.COPIED, member.slack_user_id)
    move = AffiliationMove(
        public_id=secrets.token_hex(8),
        member_id=member.id,
        status=MoveStatus.CONFIRMED,
        source=MoveSource.SLACK,
        old_organisation_id=old_organisation,
        old_email=old_email,
        new_organisation_id=verdict.organisation_id,
        new_email=email.strip(),
        new_email_normalized=normalised,
        outcome=verdict.verdict.outcome.value,
        reasons=verdict.reasons_json,
        slack_email_state=SlackEmailState.SEEN,
        decided_by=audit.SYSTEM_ACTOR,
        created_at=now,
        updated_at=now,
        confirmed_at=now,
        closed_at=now,
    )
    session.add(move)
    member.organisation_id = verdict.organisation_id
    member.email = email.strip()
    member.email_normalized = normalised
    member.updated_at = now
    audit.record(
        session,
        clock=clock,
        actor=audit.SYSTEM_ACTOR,
        action="transfers.organisation_followed_address",
        target_type="member",
        target_id=member.slack_user_id,
        details={
            "move": move.public_id,
            "old_organisation": old_organisation,
            "new_organisation": verdict.organisation_id,
            "old_domain": domain_of(normalise_email(old_email or "")),
            "new_domain": domain_of(normalised),
        },
    )
    return AddressChange(
        ChangeKind.ORGANISATION_UPDATED,
        member.slack_user_id,
        organisation_id=verdict.organisation_id,
        move_id=move.public_id,
    )


def _open_check(
    session: Session,
    *,
    clock: Clock,
    member: Member,
    old: str | None,
    new: str,
    verdict: AddressVerdict,
) -> AddressChange:
    """所属確認が必要: at most one open case per member (a partial unique index); a newer
    address updates the open one."""
    now = clock.now()
    user = member.slack_user_id
    check = open_check_of(session, member.id)
    if check is None:
        check = AffiliationCheck(
            public_id=secrets.token_hex(8),
            member_id=member.id,
            status=CheckStatus.OPEN,
            organisation_id=member.organisation_id,
            old_email=old,
            created_at=now,
        )
        try:
            with session.begin_nested():  # a concurrent twin event hits the unique index
                _fill(check, new=new, verdict=verdict, now=now)
                session.add(check)
        except IntegrityError:
            check = open_check_of(session, member.id)
            assert check is not None
            return AddressChange(ChangeKind.CHECK_UPDATED, user, check_id=check.public_id)
        action, kind = "transfers.check_opened", ChangeKind.CHECK_OPENED
    else:
        _fill(check, new=new, verdict=verdict, now=now)
        action, kind = "transfers.check_updated", ChangeKind.CHECK_UPDATED
    audit.record(
        session,
        clock=clock,
        actor=audit.SYSTEM_ACTOR,
        action=action,
        target_type="affiliation_check",
        target_id=check.public_id,
        details={
            "member": user,
            "outcome": verdict.outcome.value,
            "old_domain": domain_of(old),
            "new_domain": domain_of(normalise_email(new)),
        },
    )
    return AddressChange(kind, user, check_id=check.public_id)


def _fill(check: AffiliationCheck, *, new: str, verdict: AddressVerdict, now: datetime) -> None:
    check.new_email = new.strip()
    check.outcome = verdict.outcome.value
    check.reasons = verdict.reasons_json
    check.updated_at = now
