"""A member's move: a new organisation and address, proven by a one-time link or a 6-digit
code mailed to the new address, then applied under the same Slack user id (channels, roles,
cases and knowledge stay theirs), or decided by the secretariat when eligibility asks for a
person.

- Eligibility comes first: a refused address stores nothing and mails nothing.
- The link's token and the code are kept as SHA-256 hashes only; both expire after
  `CONFIRM_VALID`; the code may be mistyped until `MAX_CODE_ATTEMPTS` wrong tries lock the
  move (cancelled: the member starts again).
- A double submission of the same request returns the move already open (no second mail);
  any other new request replaces (cancels) the member's open move.
- Confirmation re-runs eligibility (the directory or the member's history may have changed).
- A move whose effective date (from 00:00 in KYOSO_TIMEZONE) is still ahead when it is
  confirmed is SCHEDULED: still the member's one open move (a new request or the member's
  cancel button replaces it) until `apply_due_moves` applies it on that day; the member is
  then told through `applied_notice` (DUE → CLAIMED → SENT), so a crash between applying and
  telling loses no DM and two runs tell once.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.db import insert_for
from bot.decided import AlreadyDecided, AuditEntry, decide_once
from bot.domain.transfers_moves import MoveSummary
from bot.i18n import Language
from bot.services import audit
from bot.services.applications.organisations import label_of
from bot.services.transfers.eligibility import AddressOutcome, AddressVerdict, evaluate_address
from bot.services.transfers.move_emails import queue_move_email
from models import (
    OPEN_CHECK_STATUSES,
    OPEN_MOVE_STATUSES,
    AffiliationCheck,
    AffiliationMove,
    CheckStatus,
    Member,
    MoveSource,
    MoveStatus,
    Organisation,
    SlackEmailState,
)
from models.transfer import MoveNotice

CONFIRM_VALID = timedelta(hours=72)
MAX_CODE_ATTEMPTS = 5
SLACK_EMAIL_GRACE = timedelta(days=14)  # then the secretariat gets a to-do
DOUBLE_SUBMIT_WINDOW = timedelta(minutes=10)
LATEST_EFFECTIVE = timedelta(days=366)  # an effective date at most a year ahead
TARGET = "affiliation_move"

Via = Literal["link", "code", "slack"]
SCHEDULER_VIA = "schedule"  # a scheduled move applied on its effective date


def effective_date_problem(effective_on: date, *, today: date) -> str | None:
    """Why the form's effective date cannot be used ("past", "too_far"), or None."""
    if effective_on < today:
        return "past"
    if effective_on > today + LATEST_EFFECTIVE:
        return "too_far"
    return None


class MoveRefused(Exception):
    """Eligibility refuses the new address: nothing was stored."""

    def __init__(self, verdict: AddressVerdict) -> None:
        super().__init__(verdict.outcome.value)
        self.verdict = verdict


class UnknownMove(LookupError):
    pass


class AddressTaken(Exception):
    """Another member's account already has the new address: one person, one account."""


@dataclass(frozen=True)
class MoveStarted:
    move: AffiliationMove
    token: str  # "" when no new mail went out (`mailed` False)
    code: str
    mailed: bool = True  # False: the same request was already open (a double submit)


@dataclass(frozen=True)
class CodeCheck:
    move: AffiliationMove
    wrong: bool = False
    remaining: int = 0  # tries left after a wrong code; 0 with `wrong`: the move is locked


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _code_hash(public_id: str, code: str) -> str:
    return _hash(f"{public_id}:{code}")


def new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


# ---- lookups ---------------------------------------------------------------------------


def get_move(session: Session, public_id: str) -> AffiliationMove:
    move = session.scalar(select(AffiliationMove).where(AffiliationMove.public_id == public_id))
    if move is None:
        raise UnknownMove(public_id)
    return move


def move_by_token(session: Session, token: str) -> AffiliationMove | None:
    if not token or len(token) > 128:
        return None
    return session.scalar(select(AffiliationMove).where(AffiliationMove.token_hash == _hash(token)))


def open_move_of(session: Session, member_id: int) -> AffiliationMove | None:
    return session.scalar(
        select(AffiliationMove).where(
            AffiliationMove.member_id == member_id,
            AffiliationMove.status.in_(OPEN_MOVE_STATUSES),
        )
    )


def is_expired(move: AffiliationMove, now: datetime) -> bool:
    return move.code_expires_at is not None and now >= move.code_expires_at


def is_locked(move: AffiliationMove) -> bool:
    return move.status is MoveStatus.CANCELLED and move.code_attempts >= MAX_CODE_ATTEMPTS


def organisation_key(
    session: Session, organisation_id: int | None
) -> tuple[str | None, str | None]:
    """(code, slug) of an organisation, as eligibility takes them."""
    if organisation_id is None:
        return None, None
    found = session.get(Organisation, organisation_id)
    return (found.code, found.slug) if found is not None else (None, None)


def _picked_organisation(
    session: Session, organisation_code: str | None, agency_slug: str | None
) -> int | None:
    if organisation_code:
        return session.scalar(select(Organisation.id).where(Organisation.code == organisation_code))
    if agency_slug:
        return session.scalar(select(Organisation.id).where(Organisation.slug == agency_slug))
    return None


# ---- start -----------------------------------------------------------------------------


def start_move(
    session: Session,
    *,
    clock: Clock,
    member: Member,
    new_email: str,
    organisation_code: str | None,
    agency_slug: str | None,
    department: str | None,
    effective_on: date | None,
    source: MoveSource,
    language: Language,
    application_id: int | None = None,
    public_url: str | None = None,
    zone: ZoneInfo | None = None,
) -> MoveStarted:
    """Eligibility first (refused: `MoveRefused`, nothing stored); then an AWAITING move whose
    confirmation mail is queued in the caller's transaction: the code, and the link when
    `public_url` (KYOSO_PUBLIC_URL) is given. `zone` (KYOSO_TIMEZONE) places `effective_on`'s
    00:00 in time; it is required with an effective date."""
    if effective_on is not None and zone is None:
        raise ValueError("an effective date needs the time zone it starts in")
    verdict = evaluate_address(
        session,
        member=member,
        email=new_email,
        organisation_code=organisation_code,
        agency_slug=agency_slug,
    )
    if verdict.outcome is AddressOutcome.REFUSED:
        raise MoveRefused(verdict)
    now = clock.now()
    wanted: dict[str, Any] = {
        "new_email_normalized": verdict.verdict.normalised_email,
        "new_organisation_id": _picked_organisation(session, organisation_code, agency_slug)
        or verdict.organisation_id,
        "new_department": department or None,
        "effective_on": effective_on,
    }
    current = open_move_of(session, member.id)
    if current is not None:
        if _same_request(current, wanted, now):
            return MoveStarted(current, "", "", mailed=False)
        _close(session, clock=clock, move=current, to=MoveStatus.CANCELLED, action="replaced")
    token, code, public_id = secrets.token_urlsafe(32), new_code(), secrets.token_hex(8)
    statement = (
        insert_for(session)(AffiliationMove)
        .values(
            public_id=public_id,
            member_id=member.id,
            status=MoveStatus.AWAITING,
            source=source,
            old_organisation_id=member.organisation_id,
            old_email=member.email,
            new_email=new_email.strip(),
            token_hash=_hash(token),
            code_hash=_code_hash(public_id, code),
            code_expires_at=now + CONFIRM_VALID,
            code_attempts=0,
            outcome=verdict.verdict.outcome.value,
            reasons=verdict.reasons_json,
            application_id=application_id,
            effective_at=(
                datetime.combine(effective_on, time(0), zone)
                if effective_on is not None and zone is not None
                else None
            ),
            created_at=now,
            updated_at=now,
            **wanted,
        )
        # A concurrent twin submission: the open-move index lets one of the two in.
        .on_conflict_do_nothing(
            index_elements=["member_id"],
            index_where=text("status IN ('awaiting', 'review', 'scheduled')"),
        )
        .returning(AffiliationMove.id)
    )
    if session.execute(statement).first() is None:
        twin = open_move_of(session, member.id)
        assert twin is not None
        return MoveStarted(twin, "", "", mailed=False)
    move = get_move(session, public_id)
    audit.record(
        session,
        clock=clock,
        actor=member.slack_user_id,
        action="transfers.move_started",
        target_type=TARGET,
        target_id=public_id,
        details={
            "member": member.slack_user_id,
            "source": source.value,
            "new_organisation": move.new_organisation_id,
            "outcome": verdict.outcome.value,
        },
    )
    queue_move_email(
        session,
        clock=clock,
        move=move,
        name=member.real_name or member.display_name or "",
        organisation=label_of(session, move.new_organisation_id),
        token=token,
        code=code,
        language=language,
        public_url=public_url,
    )
    return MoveStarted(move, token, code)


def _same_request(move: AffiliationMove, wanted: dict[str, Any], now: datetime) -> bool:
    return (
        move.status is MoveStatus.AWAITING
        and now - move.created_at < DOUBLE_SUBMIT_WINDOW
        and all(getattr(move, name) == value for name, value in wanted.items())
    )


def _close(
    session: Session,
    *,
    clock: Clock,
    move: AffiliationMove,
    to: MoveStatus,
    action: str,
    actor: str = audit.SYSTEM_ACTOR,
    allowed_from: tuple[MoveStatus, ...] = OPEN_MOVE_STATUSES,
    **values: Any,
) -> AffiliationMove:
    now = clock.now()
    return decide_once(
        session,
        row=move,
        status=AffiliationMove.status,
        allowed_from=allowed_from,
        values={"status": to, "updated_at": now, "closed_at": now, **values},
        audit_entry=AuditEntry(actor, f"transfers.move_{action}", TARGET, move.public_id),
        clock=clock,
    )


# ---- confirm ---------------------------------------------------------------------------


def confirm_move(
    session: Session, *, clock: Clock, move: AffiliationMove, via: str
) -> AffiliationMove:
    """The address is proven (`via` the link, the code, or Slack showing it): eligibility
    again decides. Eligible → applied (CONFIRMED), or SCHEDULED when its effective date is
    still ahead; review → REVIEW for the secretariat; refused → REFUSED. A move no longer
    awaiting is returned as it is (idempotent)."""
    if move.status is not MoveStatus.AWAITING:
        return move
    now = clock.now()
    if is_expired(move, now) and via != "slack":
        try:
            return _close(
                session,
                clock=clock,
                move=move,
                to=MoveStatus.EXPIRED,
                action="expired",
                allowed_from=(MoveStatus.AWAITING,),
            )
        except AlreadyDecided:
            return move
    member = session.get(Member, move.member_id)
    assert member is not None  # the move cascades with its member
    code, slug = organisation_key(session, move.new_organisation_id)
    verdict = evaluate_address(
        session, member=member, email=move.new_email or "", organisation_code=code, agency_slug=slug
    )
    found: dict[str, Any] = {
        "outcome": verdict.verdict.outcome.value,
        "reasons": verdict.reasons_json,
    }
    try:
        if verdict.outcome is AddressOutcome.REFUSED:
            return _close(
                session, clock=clock, move=move, to=MoveStatus.REFUSED, action="refused", **found
            )
        if verdict.outcome is AddressOutcome.REVIEW or _address_taken(session, move):
            return decide_once(
                session,
                row=move,
                status=AffiliationMove.status,
                allowed_from=(MoveStatus.AWAITING,),
                values={"status": MoveStatus.REVIEW, "updated_at": now, **found},
                audit_entry=AuditEntry(
                    member.slack_user_id,
                    "transfers.move_review",
                    TARGET,
                    move.public_id,
                    details={"via": via},
                ),
                clock=clock,
            )
    except AlreadyDecided:
        return move
    move.outcome, move.reasons = found["outcome"], found["reasons"]
    if move.new_organisation_id is None:
        move.new_organisation_id = verdict.organisation_id
    with contextlib.suppress(AlreadyDecided):
        if is_ahead(move, now):
            _schedule(session, clock=clock, move=move, actor=member.slack_user_id, via=via)
        else:
            apply_move(session, clock=clock, move=move, actor=member.slack_user_id, via=via)
    return move


def is_ahead(move: AffiliationMove, now: datetime) -> bool:
    """The move's effective date has not begun yet."""
    return move.effective_at is not None and now < move.effective_at


def _schedule(
    session: Session, *, clock: Clock, move: AffiliationMove, actor: str, via: str
) -> None:
    """Confirmed, to apply on its effective date. Slack already showing the address is kept
    (`slack_email_state` SEEN), so the application asks nothing of the member."""
    now = clock.now()
    decide_once(
        session,
        row=move,
        status=AffiliationMove.status,
        allowed_from=(MoveStatus.AWAITING, MoveStatus.REVIEW),
        values={
            "status": MoveStatus.SCHEDULED,
            "new_organisation_id": move.new_organisation_id,
            "outcome": move.outcome,
            "reasons": move.reasons,
            "slack_email_state": SlackEmailState.SEEN if via == "slack" else None,
            "decided_by": actor,
            "updated_at": now,
        },
        audit_entry=AuditEntry(
            actor,
            "transfers.move_scheduled",
            TARGET,
            move.public_id,
            details={"via": via, "effective_on": str(move.effective_on)},
        ),
        clock=clock,
    )


def confirm_by_code(
    session: Session, *, clock: Clock, move: AffiliationMove, code: str
) -> CodeCheck:
    """The code typed in Slack: right → `confirm_move`; wrong → one try fewer (kept in the
    caller's transaction, so commit it); the last wrong try locks the move."""
    if move.status is not MoveStatus.AWAITING or is_expired(move, clock.now()):
        return CodeCheck(confirm_move(session, clock=clock, move=move, via="code"))
    if hmac.compare_digest(_code_hash(move.public_id, code), move.code_hash or ""):
        return CodeCheck(confirm_move(session, clock=clock, move=move, via="code"))
    attempts = session.execute(
        update(AffiliationMove)
        .where(AffiliationMove.id == move.id, AffiliationMove.status == MoveStatus.AWAITING)
        .values(code_attempts=AffiliationMove.code_attempts + 1, updated_at=clock.now())
        .returning(AffiliationMove.code_attempts)
    ).scalar()
    session.refresh(move)
    if attempts is None:  # decided meanwhile
        return CodeCheck(move)
    if attempts >= MAX_CODE_ATTEMPTS:
        with contextlib.suppress(AlreadyDecided):
            _close(session, clock=clock, move=move, to=MoveStatus.CANCELLED, action="locked")
        return CodeCheck(move, wrong=True, remaining=0)
    return CodeCheck(move, wrong=True, remaining=MAX_CODE_ATTEMPTS - attempts)


# ---- apply -----------------------------------------------------------------------------


def _address_taken(session: Session, move: AffiliationMove) -> bool:
    return (
        session.scalar(
            select(Member.id).where(
                Member.email_normalized == move.new_email_normalized, Member.id != move.member_id
            )
        )
        is not None
    )


def apply_move(
    session: Session,
    *,
    clock: Clock,
    move: AffiliationMove,
    actor: str,
    via: str | None = None,
    notice: MoveNotice | None = None,
) -> None:
    """The member's organisation, address and department change under the same Slack user
    id; an open affiliation check of theirs is resolved. Raises AlreadyDecided when the move
    is no longer open, AddressTaken when another member has the address."""
    if _address_taken(session, move):
        raise AddressTaken(move.public_id)
    now = clock.now()
    member = session.get(Member, move.member_id)
    assert member is not None
    changes_email = move.new_email_normalized != member.email_normalized
    if not changes_email:
        state, due = SlackEmailState.UNCHANGED, None
    elif via == "slack":  # Slack itself showed the new address
        state, due = SlackEmailState.SEEN, None
    else:  # until the adapter changes it through SCIM, the member is asked to
        state, due = SlackEmailState.INSTRUCTED, now + SLACK_EMAIL_GRACE
    old_organisation = member.organisation_id
    decide_once(
        session,
        row=move,
        status=AffiliationMove.status,
        allowed_from=OPEN_MOVE_STATUSES,
        values={
            "status": MoveStatus.CONFIRMED,
            "old_organisation_id": old_organisation,
            "old_email": member.email,
            "new_organisation_id": move.new_organisation_id,
            "outcome": move.outcome,
            "reasons": move.reasons,
            "slack_email_state": state,
            "slack_email_due_at": due,
            "applied_notice": notice,
            "decided_by": actor,
            "confirmed_at": now,
            "closed_at": now,
            "updated_at": now,
        },
        audit_entry=AuditEntry(
            actor,
            "transfers.move_applied",
            TARGET,
            move.public_id,
            details={
                "member": member.slack_user_id,
                "via": via,
                "old_organisation": old_organisation,
                "new_organisation": move.new_organisation_id,
                "email_changed": changes_email,
            },
        ),
        clock=clock,
    )
    member.organisation_id = move.new_organisation_id
    member.email = move.new_email
    member.email_normalized = move.new_email_normalized
    member.department = move.new_department
    member.updated_at = now
    resolve_open_checks(session, clock=clock, member=member, actor=actor, by="move")


def resolve_open_checks(
    session: Session, *, clock: Clock, member: Member, actor: str, by: str
) -> None:
    """The member's open affiliation check is settled: their organisation now follows their
    address (`by`: a move, or what Slack showed)."""
    now = clock.now()
    resolved = session.scalars(
        update(AffiliationCheck)
        .where(
            AffiliationCheck.member_id == member.id,
            AffiliationCheck.status.in_(OPEN_CHECK_STATUSES),
        )
        .values(status=CheckStatus.RESOLVED, decided_by=actor, decided_at=now, updated_at=now)
        .returning(AffiliationCheck.public_id)
    ).all()
    for public_id in resolved:
        audit.record(
            session,
            clock=clock,
            actor=actor,
            action="transfers.check_resolved",
            target_type="affiliation_check",
            target_id=public_id,
            details={"member": member.slack_user_id, "by": by},
        )


# ---- the secretariat -------------------------------------------------------------------


def approve_move(session: Session, *, clock: Clock, public_id: str, actor: str) -> AffiliationMove:
    """A move in review, applied by a secretary, or SCHEDULED when its effective date is
    still ahead. Raises AlreadyDecided, AddressTaken."""
    move = get_move(session, public_id)
    if move.status is not MoveStatus.REVIEW:
        raise AlreadyDecided(move.status.value, move)
    if _address_taken(session, move):
        raise AddressTaken(move.public_id)
    if is_ahead(move, clock.now()):
        _schedule(session, clock=clock, move=move, actor=actor, via="secretariat")
    else:
        apply_move(session, clock=clock, move=move, actor=actor)
    return move


def cancel_scheduled(
    session: Session, *, clock: Clock, public_id: str, slack_user_id: str
) -> AffiliationMove:
    """The member cancels their scheduled move before it applies. Raises UnknownMove (not
    theirs), AlreadyDecided (applied or closed meanwhile)."""
    move = get_move(session, public_id)
    owner = session.scalar(select(Member.slack_user_id).where(Member.id == move.member_id))
    if owner != slack_user_id:
        raise UnknownMove(public_id)
    return _close(
        session,
        clock=clock,
        move=move,
        to=MoveStatus.CANCELLED,
        action="cancelled",
        actor=slack_user_id,
        allowed_from=(MoveStatus.SCHEDULED,),
    )


def refuse_move(session: Session, *, clock: Clock, public_id: str, actor: str) -> AffiliationMove:
    """A move in review, not made: nothing of the member changes. Raises AlreadyDecided."""
    move = get_move(session, public_id)
    return _close(
        session,
        clock=clock,
        move=move,
        to=MoveStatus.REFUSED,
        action="refused_by_secretariat",
        actor=actor,
        allowed_from=(MoveStatus.REVIEW,),
        decided_by=actor,
    )


# ---- after: expiry and the Slack profile's address -------------------------------------


def expire_moves(session: Session, *, clock: Clock) -> int:
    """Awaiting moves whose link and code expired: EXPIRED (the open slot frees up)."""
    now = clock.now()
    expired = session.scalars(
        update(AffiliationMove)
        .where(
            AffiliationMove.status == MoveStatus.AWAITING,
            AffiliationMove.code_expires_at <= now,
        )
        .values(status=MoveStatus.EXPIRED, updated_at=now, closed_at=now)
        .returning(AffiliationMove.public_id)
    ).all()
    for public_id in expired:
        audit.record(
            session,
            clock=clock,
            actor=audit.SYSTEM_ACTOR,
            action="transfers.move_expired",
            target_type=TARGET,
            target_id=public_id,
        )
    return len(expired)


def apply_due_moves(session: Session, *, clock: Clock) -> tuple[list[str], list[str]]:
    """Scheduled moves whose effective date has begun, applied one by one (each in its own
    savepoint: one whose address another member took meanwhile goes to the secretariat's
    review and the rest still apply). Returns the public ids (applied, sent to review)."""
    now = clock.now()
    due = session.scalars(
        select(AffiliationMove)
        .where(AffiliationMove.status == MoveStatus.SCHEDULED, AffiliationMove.effective_at <= now)
        .order_by(AffiliationMove.effective_at, AffiliationMove.id)
    ).all()
    applied: list[str] = []
    to_review: list[str] = []
    for move in due:
        seen = move.slack_email_state is SlackEmailState.SEEN
        try:
            with session.begin_nested():
                apply_move(
                    session,
                    clock=clock,
                    move=move,
                    actor=audit.SYSTEM_ACTOR,
                    via="slack" if seen else SCHEDULER_VIA,
                    notice=MoveNotice.DUE,
                )
        except AlreadyDecided:  # another run applied or the member cancelled it
            continue
        except AddressTaken:
            _to_review(session, clock=clock, move=move)
            to_review.append(move.public_id)
            continue
        applied.append(move.public_id)
    return applied, to_review


def _to_review(session: Session, *, clock: Clock, move: AffiliationMove) -> None:
    with contextlib.suppress(AlreadyDecided):
        decide_once(
            session,
            row=move,
            status=AffiliationMove.status,
            allowed_from=(MoveStatus.SCHEDULED,),
            values={"status": MoveStatus.REVIEW, "effective_at": None, "updated_at": clock.now()},
            audit_entry=AuditEntry(
                audit.SYSTEM_ACTOR, "transfers.move_review", TARGET, move.public_id
            ),
            clock=clock,
        )


def _notice_step(
    session: Session, *, clock: Clock, public_id: str, from_: MoveNotice, to: MoveNotice
) -> bool:
    return (
        session.execute(
            update(AffiliationMove)
            .where(AffiliationMove.public_id == public_id, AffiliationMove.applied_notice == from_)
            .values(applied_notice=to, updated_at=clock.now())
            .returning(AffiliationMove.id)
        ).first()
        is not None
    )


def untold_applied(session: Session) -> list[str]:
    """Moves the scheduler applied whose member is not told yet (a crash or a Slack failure
    after applying leaves them here for the next run)."""
    return list(
        session.scalars(
            select(AffiliationMove.public_id)
            .where(
                AffiliationMove.status == MoveStatus.CONFIRMED,
                AffiliationMove.applied_notice == MoveNotice.DUE,
            )
            .order_by(AffiliationMove.id)
        )
    )


def claim_notice(session: Session, *, clock: Clock, public_id: str) -> bool:
    """Claimed before the DM: a second run finds nothing to send."""
    return _notice_step(
        session, clock=clock, public_id=public_id, from_=MoveNotice.DUE, to=MoveNotice.CLAIMED
    )


def notice_sent(session: Session, *, clock: Clock, public_id: str) -> bool:
    return _notice_step(
        session, clock=clock, public_id=public_id, from_=MoveNotice.CLAIMED, to=MoveNotice.SENT
    )


def release_notice(session: Session, *, clock: Clock, public_id: str) -> bool:
    """The DM could not be sent: the next run tries again."""
    return _notice_step(
        session, clock=clock, public_id=public_id, from_=MoveNotice.CLAIMED, to=MoveNotice.DUE
    )


def move_summary(session: Session, public_id: str) -> MoveSummary:
    move = get_move(session, public_id)
    slack_user_id = session.scalar(select(Member.slack_user_id).where(Member.id == move.member_id))
    return MoveSummary(
        public_id=move.public_id,
        slack_user_id=slack_user_id or "",
        status=move.status,
        old_organisation=label_of(session, move.old_organisation_id),
        new_organisation=label_of(session, move.new_organisation_id),
        new_email=move.new_email or "",
        department=move.new_department,
        effective_on=move.effective_on,
        reasons=list(move.reasons or []),
        slack_email_state=move.slack_email_state,
        decided_by=move.decided_by,
    )
