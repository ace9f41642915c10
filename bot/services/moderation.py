"""Moderation cases: members' reports, detector findings, and the secretariat's decisions.

One case per message (reports of the same message merge into it). A case is claimed (not a
decision), may be sent back to its author for an edit (not final either), and is decided
once: dismissed, warned, deleted or removed. Every transition is a guarded
`UPDATE … WHERE status IN (…) RETURNING`, so of two clicks exactly one wins, and lands in the
audit log.

Privacy: a case never keeps the message itself, only an excerpt with personal values masked
(and nothing at all of a message labelled 機密性3); reporters are kept in `case_reports`,
which only the secretariat can see and which nothing sends to the reported member.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case as sql_case
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.business_days import add_business_days
from bot.clock import Clock
from bot.db import insert_for
from bot.detectors import (
    PERSONAL_KINDS,
    Finding,
    FindingKind,
    Rule,
    mask,
    scan,
    scan_file_name,
)
from bot.services import audit
from bot.services.activity import slack_ts_to_datetime
from models import (
    AuditEntry,
    CaseReport,
    CaseSource,
    CaseStatus,
    Detection,
    Member,
    MemberStatus,
    ModerationCase,
)

TARGET_TYPE = "moderation_case"
SYSTEM_ACTOR = audit.SYSTEM_ACTOR

EXCERPT_LIMIT = 300  # characters of the (masked) message kept with a case
NOTE_LIMIT = 500  # characters of a reporter's (masked) note
# The author is asked to edit within this many government business days (開庁日).
EDIT_DEADLINE_BUSINESS_DAYS = 2


class ReportReason(StrEnum):
    """Why a member reports a message (the platform's rules)."""

    SLANDER = "slander"  # slander or harassment
    SPAM = "spam"  # spam, advertising, link-only posts
    PERSONAL_INFORMATION = "personal_information"
    CONFIDENTIAL = "confidential"  # 機密性2/3 information
    REPOSTING = "reposting"  # copying others' posts elsewhere without permission
    OTHER = "other"


class CaseAction(StrEnum):
    """The secretariat's actions that ask for a reason."""

    DISMISS = "dismiss"
    REQUEST_EDIT = "request_edit"
    DELETE = "delete"
    WARN = "warn"
    REMOVE = "remove"


OPEN_STATUSES = (CaseStatus.OPEN, CaseStatus.CLAIMED, CaseStatus.EDIT_REQUESTED)
FINAL_STATUSES = (
    CaseStatus.DISMISSED,
    CaseStatus.WARNED,
    CaseStatus.DELETED,
    CaseStatus.REMOVED,
)
_FINAL_OUTCOME = {
    CaseAction.DISMISS: CaseStatus.DISMISSED,
    CaseAction.WARN: CaseStatus.WARNED,
    CaseAction.DELETE: CaseStatus.DELETED,
    CaseAction.REMOVE: CaseStatus.REMOVED,
}

# The usage rules a DM to an author can cite (texts in the moderation catalogue).
RULE_KEYS = (
    "slander",
    "ad_or_link_only",
    "personal_information",
    "confidentiality",
    "reposting",
    "general",
)
_RULE_OF_REASON = {
    ReportReason.SLANDER.value: "slander",
    ReportReason.SPAM.value: "ad_or_link_only",
    ReportReason.PERSONAL_INFORMATION.value: "personal_information",
    ReportReason.CONFIDENTIAL.value: "confidentiality",
    ReportReason.REPOSTING.value: "reposting",
    ReportReason.OTHER.value: "general",
}
_RULE_OF_DETECTOR_RULE = {
    Rule.PERSONAL_INFORMATION: "personal_information",
    Rule.CONFIDENTIALITY_3: "confidentiality",
    Rule.CONFIDENTIALITY_2: "confidentiality",
    Rule.AD_OR_LINK_ONLY: "ad_or_link_only",
}
_KIND_RULE = {
    FindingKind.MY_NUMBER: Rule.PERSONAL_INFORMATION,
    FindingKind.PHONE_NUMBER: Rule.PERSONAL_INFORMATION,
    FindingKind.POSTAL_ADDRESS: Rule.PERSONAL_INFORMATION,
    FindingKind.BIRTH_DATE: Rule.PERSONAL_INFORMATION,
    FindingKind.CONFIDENTIALITY_3: Rule.CONFIDENTIALITY_3,
    FindingKind.CONFIDENTIALITY_LABEL: Rule.CONFIDENTIALITY_2,
    FindingKind.LINK_ONLY: Rule.AD_OR_LINK_ONLY,
}


def rule_of_detector(rule: Rule) -> str:
    return _RULE_OF_DETECTOR_RULE[rule]


def rule_of_reason(code: str) -> str:
    """The rule a report reason or a finding kind falls under."""
    if code in _RULE_OF_REASON:
        return _RULE_OF_REASON[code]
    try:
        return _RULE_OF_DETECTOR_RULE[_KIND_RULE[FindingKind(code)]]
    except ValueError:
        return "general"


def default_rule(reasons: Sequence[str]) -> str:
    """The rule most reasons point to (the earliest on a tie)."""
    rules = [rule_of_reason(r) for r in reasons]
    if not rules:
        return "general"
    counts = Counter(rules)
    return max(rules, key=lambda rule: (counts[rule], -rules.index(rule)))


# --------------------------------------------------------------------------------------
# Errors


class UnknownCase(LookupError):
    pass


class AlreadyDecided(Exception):
    """Someone acted first (a double click, two secretaries): nothing changed."""

    def __init__(self, case: ModerationCase) -> None:
        super().__init__(case.status.value)
        self.case = case


class CannotReport(ValueError):
    """A message that cannot be reported: the member's own, or a bot's."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# --------------------------------------------------------------------------------------
# What may be kept of a message


def withholds_text(findings: Sequence[Finding]) -> bool:
    """A 機密性3 label: the text itself is what must not be handled, so none of it is kept."""
    return any(f.kind is FindingKind.CONFIDENTIALITY_3 for f in findings)


def _masked_file_name(name: str) -> str:
    findings = scan_file_name(name)
    masked = mask(name)
    if any(f.kind in PERSONAL_KINDS for f in findings):
        # File names glue values to _ and -; hide every digit rather than risk a partial mask.
        masked = "".join("＊" if ch.isdigit() else ch for ch in masked)
    return masked


def safe_excerpt(text: str, file_names: Sequence[str] = ()) -> str:
    """What of a message may be stored and shown to the secretariat.

    Personal values are masked (mask() finds them a little more widely than scan());
    a message or file name carrying a 機密性3 label gives "" (withheld); long text is cut."""
    text = text or ""
    findings = list(scan(text))
    for name in file_names:
        findings.extend(scan_file_name(name))
    if withholds_text(findings):
        return ""
    masked = mask(text)
    if len(masked) > EXCERPT_LIMIT:
        masked = masked[: EXCERPT_LIMIT - 1] + "…"
    names = [_masked_file_name(name)[:100] for name in file_names[:5]]
    parts = [masked.strip(), *(f"📎 {n}" for n in names)]
    return "\n".join(p for p in parts if p)


def safe_note(note: str | None) -> str | None:
    note = (note or "").strip()
    if not note:
        return None
    if withholds_text(scan(note)):
        return ""
    masked = mask(note)
    return masked[:NOTE_LIMIT]


# --------------------------------------------------------------------------------------
# Reports and detections


@dataclass(frozen=True)
class ReportedMessage:
    channel_id: str
    message_ts: str
    author_id: str
    excerpt: str  # already safe: see safe_excerpt


@dataclass(frozen=True)
class Opened:
    public_id: str
    new_case: bool
    new_report: bool  # False when this reporter had already reported the message
    status: CaseStatus


def get(session: Session, public_id: str) -> ModerationCase:
    found = session.scalar(select(ModerationCase).where(ModerationCase.public_id == public_id))
    if found is None:
        raise UnknownCase(public_id)
    return found


def find_by_message(session: Session, channel_id: str, message_ts: str) -> ModerationCase | None:
    return session.scalar(
        select(ModerationCase).where(
            ModerationCase.channel_id == channel_id, ModerationCase.message_ts == message_ts
        )
    )


def _open_case(
    session: Session, *, clock: Clock, message: ReportedMessage, source: CaseSource
) -> tuple[ModerationCase, bool]:
    """The message's case, created if need be, locked for this transaction."""
    now = clock.now()
    created = session.execute(
        insert_for(session)(ModerationCase)
        .values(
            public_id=secrets.token_hex(4),
            channel_id=message.channel_id,
            message_ts=message.message_ts,
            author_id=message.author_id,
            excerpt=message.excerpt,
            source=source,
            reasons=[],
            status=CaseStatus.OPEN,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["channel_id", "message_ts"])
        .returning(ModerationCase.id)
    ).first()
    # Row lock on PostgreSQL: concurrent reports of one message merge one after another.
    locked = session.scalar(
        select(ModerationCase)
        .where(
            ModerationCase.channel_id == message.channel_id,
            ModerationCase.message_ts == message.message_ts,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert locked is not None
    return locked, created is not None


def _add_reasons(case: ModerationCase, reasons: Sequence[str], now: datetime) -> None:
    merged = list(case.reasons or [])
    for reason in reasons:
        if reason in merged:
            merged.remove(reason)
        merged.append(reason)  # most recent last
    case.reasons = merged
    case.updated_at = now


def report(
    session: Session,
    *,
    clock: Clock,
    message: ReportedMessage,
    reporter_id: str,
    reason: ReportReason,
    note: str | None,
) -> Opened:
    """Record a member's report; reports of one message merge into one case."""
    if message.author_id == reporter_id:
        raise CannotReport("own_message")
    case, new_case = _open_case(session, clock=clock, message=message, source=CaseSource.REPORT)
    now = clock.now()
    added = session.execute(
        insert_for(session)(CaseReport)
        .values(
            case_id=case.id,
            reporter_id=reporter_id,
            reason=reason.value,
            note=safe_note(note),
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["case_id", "reporter_id"])
        .returning(CaseReport.id)
    ).first()
    if added is not None:
        _add_reasons(case, [reason.value], now)
        audit.record(
            session,
            clock=clock,
            actor=reporter_id,
            action="moderation.reported",
            target_type=TARGET_TYPE,
            target_id=case.public_id,
            details={"reason": reason.value, "new_case": new_case},
        )
    session.flush()
    return Opened(case.public_id, new_case, added is not None, case.status)


def open_from_detection(
    session: Session, *, clock: Clock, message: ReportedMessage, kinds: Sequence[str]
) -> Opened:
    """A case for a CASE-severity finding (マイナンバー, 機密性3), without the value."""
    case, new_case = _open_case(session, clock=clock, message=message, source=CaseSource.DETECTOR)
    if not message.excerpt:
        case.excerpt = ""  # a 機密性3 label: whatever an earlier report kept goes
    fresh = [k for k in kinds if k not in (case.reasons or [])]
    if fresh or new_case:
        _add_reasons(case, kinds, clock.now())
        audit.record(
            session,
            clock=clock,
            actor=SYSTEM_ACTOR,
            action="moderation.detected",
            target_type=TARGET_TYPE,
            target_id=case.public_id,
            details={"kinds": list(kinds), "new_case": new_case},
        )
    session.flush()
    return Opened(case.public_id, new_case, bool(fresh), case.status)


def record_detection(
    session: Session,
    *,
    clock: Clock,
    channel_id: str,
    message_ts: str,
    user_id: str,
    kinds: Sequence[str],
    details: dict[str, Any] | None = None,
) -> bool:
    """Kinds found in a message (never values), once per message: False if already there."""
    added = session.execute(
        insert_for(session)(Detection)
        .values(
            channel_id=channel_id,
            message_ts=message_ts,
            user_id=user_id,
            kinds=list(kinds),
            details=details,
            created_at=clock.now(),
        )
        .on_conflict_do_nothing(index_elements=["channel_id", "message_ts"])
        .returning(Detection.id)
    ).first()
    return added is not None


def warning_owed(session: Session, channel_id: str, message_ts: str) -> bool:
    """A detection whose warning has not reached the poster yet."""
    warned = session.execute(
        select(Detection.warned_at).where(
            Detection.channel_id == channel_id, Detection.message_ts == message_ts
        )
    ).first()
    return warned is not None and warned[0] is None


def mark_warned(session: Session, *, clock: Clock, channel_id: str, message_ts: str) -> None:
    session.execute(
        update(Detection)
        .where(Detection.channel_id == channel_id, Detection.message_ts == message_ts)
        .values(warned_at=clock.now())
    )


def note_author_change(
    session: Session,
    *,
    clock: Clock,
    channel_id: str,
    message_ts: str,
    actor: str,
    deleted: bool,
    found_kinds: Sequence[str] = (),
) -> str | None:
    """The author edited or deleted a message with an open case: noted for the secretariat.

    For a detector's case, an edit also says whether what was found is still there."""
    found = find_by_message(session, channel_id, message_ts)
    if found is None or found.status not in OPEN_STATUSES:
        return None
    details: dict[str, Any] | None = None
    if not deleted and found.source is CaseSource.DETECTOR:
        details = {"still_flagged": bool(set(found.reasons or []) & set(found_kinds))}
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="moderation.message_deleted" if deleted else "moderation.message_edited",
        target_type=TARGET_TYPE,
        target_id=found.public_id,
        details=details,
    )
    found.updated_at = clock.now()
    return found.public_id


def mark_member_removed(session: Session, *, clock: Clock, slack_user_id: str) -> None:
    """After Slack deactivated the account: Kyoso stops writing to the member."""
    session.execute(
        update(Member)
        .where(Member.slack_user_id == slack_user_id)
        .values(status=MemberStatus.DEACTIVATED, updated_at=clock.now())
    )


# --------------------------------------------------------------------------------------
# The secretariat's transitions


def claim(session: Session, *, clock: Clock, public_id: str, actor: str) -> bool:
    """Take a case on (not a decision). False when the actor had already claimed it."""
    current = get(session, public_id)
    if current.status not in OPEN_STATUSES:
        raise AlreadyDecided(current)
    changed = session.execute(
        update(ModerationCase)
        .where(
            ModerationCase.public_id == public_id,
            ModerationCase.status.in_(OPEN_STATUSES),
            (ModerationCase.claimed_by.is_(None)) | (ModerationCase.claimed_by != actor),
        )
        .values(
            claimed_by=actor,
            status=sql_case(
                (ModerationCase.status == CaseStatus.OPEN, CaseStatus.CLAIMED),
                else_=ModerationCase.status,
            ),
            updated_at=clock.now(),
        )
        .returning(ModerationCase.id)
    ).first()
    session.refresh(current)
    if changed is None:
        if current.status not in OPEN_STATUSES:
            raise AlreadyDecided(current)
        return False
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="moderation.claimed",
        target_type=TARGET_TYPE,
        target_id=public_id,
    )
    return True


def edit_deadline(now: datetime, zone: ZoneInfo) -> datetime:
    """The same time of day, EDIT_DEADLINE_BUSINESS_DAYS business days later (JST)."""
    local = now.astimezone(zone)
    day = add_business_days(local.date(), EDIT_DEADLINE_BUSINESS_DAYS)
    return datetime.combine(day, local.time(), tzinfo=zone).astimezone(UTC)


def _guarded(
    session: Session,
    *,
    public_id: str,
    allowed_from: Sequence[CaseStatus],
    values: dict[str, Any],
) -> ModerationCase:
    changed = session.execute(
        update(ModerationCase)
        .where(ModerationCase.public_id == public_id, ModerationCase.status.in_(allowed_from))
        .values(**values)
        .returning(ModerationCase.id)
    ).first()
    current = get(session, public_id)
    session.refresh(current)
    if changed is None:
        raise AlreadyDecided(current)
    return current


def request_edit(
    session: Session,
    *,
    clock: Clock,
    public_id: str,
    actor: str,
    reason: str,
    rule: str,
    zone: ZoneInfo,
) -> ModerationCase:
    """Ask the author to edit by a deadline; a final action may follow."""
    now = clock.now()
    deadline = edit_deadline(now, zone)
    decided = _guarded(
        session,
        public_id=public_id,
        allowed_from=(CaseStatus.OPEN, CaseStatus.CLAIMED),
        values={
            "status": CaseStatus.EDIT_REQUESTED,
            "edit_deadline": deadline,
            "followed_up_at": None,
            "claimed_by": func.coalesce(ModerationCase.claimed_by, actor),
            "updated_at": now,
        },
    )
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="moderation.edit_requested",
        target_type=TARGET_TYPE,
        target_id=public_id,
        reason=reason,
        details={"rule": rule, "deadline": deadline.isoformat()},
    )
    return decided


def decide(
    session: Session,
    *,
    clock: Clock,
    public_id: str,
    actor: str,
    action: CaseAction,
    reason: str,
    rule: str | None = None,
) -> ModerationCase:
    """A final decision, taken once however many clicks arrive."""
    if action is CaseAction.REQUEST_EDIT:
        raise ValueError("request_edit is not final: use request_edit()")
    status = _FINAL_OUTCOME[action]
    now = clock.now()
    decided = _guarded(
        session,
        public_id=public_id,
        allowed_from=OPEN_STATUSES,
        values={
            "status": status,
            "decided_by": actor,
            "decided_at": now,
            "decision_reason": reason,
            "updated_at": now,
        },
    )
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action=f"moderation.{status.value}",
        target_type=TARGET_TYPE,
        target_id=public_id,
        reason=reason,
        details={"rule": rule} if rule else None,
    )
    return decided


def record_effect(
    session: Session, *, clock: Clock, public_id: str, actor: str, details: dict[str, Any]
) -> None:
    """What Slack did (or could not do) after a decision: shown on the alert, kept in the log."""
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="moderation.effect",
        target_type=TARGET_TYPE,
        target_id=public_id,
        details=details,
    )


def record_reporters_viewed(session: Session, *, clock: Clock, public_id: str, actor: str) -> None:
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="moderation.reporters_viewed",
        target_type=TARGET_TYPE,
        target_id=public_id,
    )


# --------------------------------------------------------------------------------------
# Reading cases


@dataclass(frozen=True)
class CaseEvent:
    action: str  # the audit action without its "moderation." prefix
    actor: str
    at: datetime
    reason: str | None
    details: dict[str, Any]


@dataclass(frozen=True)
class Report:
    reporter_id: str
    reason: str
    note: str | None
    at: datetime


@dataclass(frozen=True)
class PastCase:
    public_id: str
    created_at: datetime
    status: CaseStatus
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class History:
    total: int
    by_status: dict[str, int]
    recent: tuple[PastCase, ...]


# Audit actions that the alert shows as its trail.
TRAIL_ACTIONS = (
    "moderation.claimed",
    "moderation.edit_requested",
    "moderation.edit_overdue",
    "moderation.message_edited",
    "moderation.message_deleted",
    "moderation.dismissed",
    "moderation.warned",
    "moderation.deleted",
    "moderation.removed",
    "moderation.effect",
)


def trail(session: Session, public_id: str) -> list[CaseEvent]:
    entries = session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.target_type == TARGET_TYPE,
            AuditEntry.target_id == public_id,
            AuditEntry.action.in_(TRAIL_ACTIONS),
        )
        .order_by(AuditEntry.occurred_at, AuditEntry.id)
    )
    return [
        CaseEvent(
            action=e.action.removeprefix("moderation."),
            actor=e.actor,
            at=e.occurred_at,
            reason=e.reason,
            details=dict(e.details or {}),
        )
        for e in entries
    ]


def reports_of(session: Session, case_id: int) -> list[Report]:
    rows = session.scalars(
        select(CaseReport)
        .where(CaseReport.case_id == case_id)
        .order_by(CaseReport.created_at, CaseReport.id)
    )
    return [Report(r.reporter_id, r.reason, r.note, r.created_at) for r in rows]


def reason_counts(session: Session, found: ModerationCase) -> list[tuple[str, int]]:
    """Each reason with how many reported it (detector kinds count once)."""
    counts = Counter(r.reason for r in reports_of(session, found.id))
    return [(reason, counts.get(reason, 1)) for reason in (found.reasons or [])]


def history_of(
    session: Session, author_id: str, *, excluding: int | None = None, recent: int = 3
) -> History:
    """The author's other cases, so that repeat behaviour is visible."""
    query = select(ModerationCase).where(ModerationCase.author_id == author_id)
    if excluding is not None:
        query = query.where(ModerationCase.id != excluding)
    cases = list(session.scalars(query.order_by(ModerationCase.created_at.desc())))
    by_status = Counter(c.status.value for c in cases)
    return History(
        total=len(cases),
        by_status=dict(by_status),
        recent=tuple(
            PastCase(c.public_id, c.created_at, c.status, tuple(c.reasons or []))
            for c in cases[:recent]
        ),
    )


def open_cases(
    session: Session, *, offset: int = 0, limit: int = 10
) -> tuple[list[ModerationCase], int]:
    """Undecided cases, oldest first, one page of them, and how many there are."""
    total = session.scalar(
        select(func.count())
        .select_from(ModerationCase)
        .where(ModerationCase.status.in_(OPEN_STATUSES))
    )
    page = session.scalars(
        select(ModerationCase)
        .where(ModerationCase.status.in_(OPEN_STATUSES))
        .order_by(ModerationCase.created_at, ModerationCase.id)
        .offset(offset)
        .limit(limit)
    )
    return list(page), int(total or 0)


def cases_of(
    session: Session, author_id: str, *, limit: int = 10
) -> tuple[list[ModerationCase], int]:
    total = session.scalar(
        select(func.count())
        .select_from(ModerationCase)
        .where(ModerationCase.author_id == author_id)
    )
    page = session.scalars(
        select(ModerationCase)
        .where(ModerationCase.author_id == author_id)
        .order_by(ModerationCase.created_at.desc(), ModerationCase.id.desc())
        .limit(limit)
    )
    return list(page), int(total or 0)


def posted_at(found: ModerationCase) -> datetime | None:
    try:
        return slack_ts_to_datetime(found.message_ts)
    except (ValueError, OverflowError):
        return None


def set_alert(session: Session, *, public_id: str, channel_id: str, ts: str) -> bool:
    changed = session.execute(
        update(ModerationCase)
        .where(ModerationCase.public_id == public_id, ModerationCase.alert_ts.is_(None))
        .values(alert_channel_id=channel_id, alert_ts=ts)
        .returning(ModerationCase.id)
    ).first()
    return changed is not None


def unposted(session: Session) -> list[str]:
    """Undecided cases whose alert never reached the review channel (Slack was down, say)."""
    return list(
        session.scalars(
            select(ModerationCase.public_id)
            .where(ModerationCase.status.in_(OPEN_STATUSES), ModerationCase.alert_ts.is_(None))
            .order_by(ModerationCase.created_at)
        )
    )


def take_overdue_edit_requests(session: Session, *, clock: Clock) -> list[str]:
    """Edit requests past their deadline, each taken once (marked before anyone is told)."""
    now = clock.now()
    taken = list(
        session.scalars(
            update(ModerationCase)
            .where(
                ModerationCase.status == CaseStatus.EDIT_REQUESTED,
                ModerationCase.edit_deadline <= now,
                ModerationCase.followed_up_at.is_(None),
            )
            .values(followed_up_at=now, updated_at=now)
            .returning(ModerationCase.public_id)
        )
    )
    for public_id in taken:
        audit.record(
            session,
            clock=clock,
            actor=SYSTEM_ACTOR,
            action="moderation.edit_overdue",
            target_type=TARGET_TYPE,
            target_id=public_id,
        )
    return sorted(taken)


def author_changes_since_edit_request(session: Session, public_id: str) -> list[str]:
    """ "edited" / "deleted": what the author did to the message since the last edit request."""
    requested_at = session.scalar(
        select(func.max(AuditEntry.occurred_at)).where(
            AuditEntry.target_type == TARGET_TYPE,
            AuditEntry.target_id == public_id,
            AuditEntry.action == "moderation.edit_requested",
        )
    )
    if requested_at is None:
        return []
    actions = session.scalars(
        select(AuditEntry.action)
        .where(
            AuditEntry.target_type == TARGET_TYPE,
            AuditEntry.target_id == public_id,
            AuditEntry.action.in_(("moderation.message_edited", "moderation.message_deleted")),
            AuditEntry.occurred_at >= requested_at,
        )
        .order_by(AuditEntry.occurred_at, AuditEntry.id)
    )
    return [a.removeprefix("moderation.message_") for a in actions]
