"""Members report messages; the secretariat may see who reported (and that is audited)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.db import insert_for
from bot.domain.moderation import Report, ReportReason
from bot.services import audit
from bot.services.moderation import cases
from bot.services.moderation.cases import TARGET_TYPE, Opened, ReportedMessage
from bot.services.moderation.privacy import safe_excerpt, safe_note
from models import CaseReport, CaseSource


class CannotReport(ValueError):
    """A message that cannot be reported: the member's own ("own_message"), or a bot's
    ("not_member_message"). The code names the catalogue text under moderation.report."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def file_names(message: dict[str, Any]) -> list[str]:
    files = message.get("files") or []
    return [str(f.get("name") or "") for f in files if isinstance(f, dict) and f.get("name")]


def reportable(
    *, reporter_id: str, channel_id: str, message_ts: str, message: dict[str, Any]
) -> ReportedMessage:
    """The message a member's shortcut points at, masked before anything keeps it."""
    author = message.get("user")
    if not author or message.get("bot_id") or message.get("subtype") == "bot_message":
        raise CannotReport("not_member_message")
    if author == reporter_id:
        raise CannotReport("own_message")
    return ReportedMessage(
        channel_id=channel_id,
        message_ts=message_ts or str(message.get("ts") or ""),
        author_id=str(author),
        excerpt=safe_excerpt(str(message.get("text") or ""), file_names(message)),
    )


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
    case, new_case = cases.open_case(
        session, clock=clock, message=message, source=CaseSource.REPORT
    )
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
        cases.add_reasons(case, [reason.value], now)
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


def reports_of(session: Session, case_id: int) -> list[Report]:
    rows = session.scalars(
        select(CaseReport)
        .where(CaseReport.case_id == case_id)
        .order_by(CaseReport.created_at, CaseReport.id)
    )
    return [Report(r.reporter_id, r.reason, r.note, r.created_at) for r in rows]


def reporters(session: Session, *, clock: Clock, public_id: str, actor: str) -> Sequence[Report]:
    """Who reported a case, for the secretariat; each look is in the audit log."""
    found = cases.get(session, public_id)
    shown = reports_of(session, found.id)
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="moderation.reporters_viewed",
        target_type=TARGET_TYPE,
        target_id=public_id,
    )
    return shown
