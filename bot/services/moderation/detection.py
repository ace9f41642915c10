"""The detectors on members' posts: what is scanned, how serious a finding is, whether the
poster is warned (once, until Slack has taken the warning) and whether a case opens.

Most messages cost no database work: `inspect` is pure, and only a finding, or an edit or
deletion of a message that has a case, goes further. Nothing here logs or stores the text."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.db import insert_or_skip
from bot.detectors import Finding, Severity, scan, scan_file_name
from bot.domain.moderation import OPEN_STATUSES, DetectorWarning
from bot.services import audit
from bot.services.events import claim_event
from bot.services.moderation import cases, rules
from bot.services.moderation.cases import SYSTEM_ACTOR, TARGET_TYPE, Opened, ReportedMessage
from bot.services.moderation.privacy import safe_excerpt
from bot.services.moderation.reports import file_names
from models import CaseSource, Detection

_DETECTIONS: Table = Detection.__table__  # type: ignore[assignment]
# Built once: executed with parameters on every warning.
_MARK_WARNED = (
    update(_DETECTIONS)
    .where(
        _DETECTIONS.c.channel_id == bindparam("channel"),
        _DETECTIONS.c.message_ts == bindparam("ts"),
    )
    .values(warned_at=bindparam("at"))
)

log = logging.getLogger(__name__)

# Subtypes of a member's new post (edits and deletions are handled on their own).
_NEW_POST_SUBTYPES = {None, "thread_broadcast", "file_share", "me_message"}


class Change(StrEnum):
    POSTED = "posted"
    EDITED = "edited"
    DELETED = "deleted"


@dataclass(frozen=True)
class Seen:
    """A post in a public channel the detectors looked at. `text` stays in memory."""

    change: Change
    channel_id: str
    ts: str
    user: str  # the author (for a deletion: who the message was by, if Slack says)
    thread_ts: str | None = None
    text: str = field(default="", repr=False)
    names: tuple[str, ...] = field(default=(), repr=False)
    findings: tuple[Finding, ...] = ()
    in_file_name: bool = False  # found only in a file's name

    @property
    def kinds(self) -> list[str]:
        return list(dict.fromkeys(f.kind.value for f in self.findings))

    @property
    def serious(self) -> bool:
        """A finding the platform cannot hold (マイナンバー, 機密性3): a case opens."""
        return self.severity is Severity.CASE

    @property
    def severity(self) -> Severity:
        """The strongest reaction the findings call for (a nudge, a warning, a case)."""
        found = {f.severity for f in self.findings}
        return next(
            (level for level in (Severity.CASE, Severity.WARN) if level in found), Severity.NUDGE
        )


def _watched(event: dict[str, Any], review_channel: str | None) -> str | None:
    """The channel of a message event the detectors watch: public, not the review channel."""
    channel = event.get("channel")
    if not channel or channel == review_channel:
        return None
    if event.get("channel_type", "channel") != "channel":
        return None
    return str(channel)


def has_durable_effects(event: dict[str, Any], *, review_channel: str | None) -> bool:
    """Whether a message event may do more than mark its author active: a detector finding,
    or an edit or deletion (which may concern a case). Only those go through the event
    inbox; the rest (most messages) cost no write before Slack's acknowledgement."""
    if _watched(event, review_channel) is None:
        return False
    subtype = event.get("subtype")
    if subtype in ("message_changed", "message_deleted"):
        return True
    if subtype not in _NEW_POST_SUBTYPES or event.get("bot_id"):
        return False
    if scan(str(event.get("text") or "")):
        return True
    return any(scan_file_name(name) for name in file_names(event))


def inspect(event: dict[str, Any], *, review_channel: str | None) -> Seen | None:
    """What the detectors make of a message event, without the database; None when it
    concerns nothing they watch (a bot, a private channel, a clean new post)."""
    channel = _watched(event, review_channel)
    if channel is None:
        return None
    subtype = event.get("subtype")
    if subtype == "message_deleted":
        ts = event.get("deleted_ts")
        previous = event.get("previous_message") or {}
        if not ts:
            return None
        return Seen(Change.DELETED, channel, str(ts), str(previous.get("user") or "member"))
    edited = subtype == "message_changed"
    message = event.get("message") if edited else event
    if not isinstance(message, dict) or (not edited and subtype not in _NEW_POST_SUBTYPES):
        return None
    user, ts = message.get("user"), message.get("ts")
    if not user or not ts or message.get("bot_id") or message.get("subtype") == "bot_message":
        return None
    text = str(message.get("text") or "")
    names = file_names(message)
    if edited:
        previous = event.get("previous_message") or {}
        if previous.get("text") == message.get("text") and file_names(previous) == names:
            return None  # a link preview or other decoration, not the author's edit
    text_findings = scan(text)
    name_findings = [f for name in names for f in scan_file_name(name)]
    if not (text_findings or name_findings or edited):
        return None
    return Seen(
        change=Change.EDITED if edited else Change.POSTED,
        channel_id=channel,
        ts=str(ts),
        user=str(user),
        thread_ts=message.get("thread_ts"),
        text=text,
        names=tuple(names),
        findings=(*text_findings, *name_findings),
        in_file_name=bool(name_findings) and not text_findings,
    )


def worth_recording(session: Session, seen: Seen) -> bool:
    """A finding, or an edit or deletion of a message that has a case (one read)."""
    return (
        bool(seen.findings) or cases.find_by_message(session, seen.channel_id, seen.ts) is not None
    )


@dataclass(frozen=True)
class Recorded:
    """What one delivery of the event did, in the transaction that claimed it."""

    warn: bool  # a first detection on the message: the poster is warned
    opened: Opened | None  # the case a serious finding opened or added to
    changed_case: str | None  # a case whose message its author edited or deleted

    def alerts_to_post(self) -> list[str]:
        return [self.opened.public_id] if self.opened and self.opened.new_case else []

    def alerts_to_refresh(self) -> list[str]:
        refresh = []
        opened = self.opened
        if opened is not None and not opened.new_case and opened.new_report:
            refresh.append(opened.public_id)
        changed = self.changed_case
        if changed and (opened is None or changed != opened.public_id or not opened.new_report):
            refresh.append(changed)
        return refresh


def record(
    session: Session, *, clock: Clock, seen: Seen, event_id: str | None, event_type: str
) -> Recorded | None:
    """Everything the event changes, claimed with its event id: None for a duplicate."""
    if event_id and not claim_event(session, event_id=event_id, event_type=event_type, clock=clock):
        log.info("event %s (%s) already processed; skipped", event_id, event_type)
        return None
    changed_case = None
    if seen.change is not Change.POSTED:
        changed_case = note_author_change(
            session,
            clock=clock,
            channel_id=seen.channel_id,
            message_ts=seen.ts,
            actor=seen.user,
            deleted=seen.change is Change.DELETED,
            found_kinds=seen.kinds,
        )
    if not seen.findings:
        return Recorded(warn=False, opened=None, changed_case=changed_case)
    warn = record_detection(
        session,
        clock=clock,
        channel_id=seen.channel_id,
        message_ts=seen.ts,
        user_id=seen.user,
        kinds=seen.kinds,
        details={
            "severity": seen.severity.value,
            "in_file_name": seen.in_file_name,
            "edited": seen.change is Change.EDITED,
        },
    )
    opened = None
    if seen.serious:
        message = ReportedMessage(
            channel_id=seen.channel_id,
            message_ts=seen.ts,
            author_id=seen.user,
            excerpt=safe_excerpt(seen.text, seen.names),
        )
        opened = open_from_detection(session, clock=clock, message=message, kinds=seen.kinds)
        log.info(
            "detector case %s on %s/%s: %s", opened.public_id, seen.channel_id, seen.ts, seen.kinds
        )
    return Recorded(warn=warn, opened=opened, changed_case=changed_case)


def owed_warning(
    session: Session, *, seen: Seen, recorded: Recorded | None
) -> DetectorWarning | None:
    """The warning the poster is owed: on the first detection, or on a case opened now; on
    a repeated delivery (the inbox's retry after a failure) while Slack has not taken it."""
    if recorded is not None:
        owed = recorded.warn or (recorded.opened is not None and recorded.opened.new_case)
    else:
        owed = bool(seen.findings) and warning_owed(session, seen.channel_id, seen.ts)
    if not owed:
        return None
    return DetectorWarning(
        kinds=tuple(seen.kinds),
        rules=tuple(dict.fromkeys(rules.rule_of_detector(f.rule) for f in seen.findings)),
        case_opened=seen.serious,
        in_file_name=seen.in_file_name,
    )


# --------------------------------------------------------------------------------------
# The tables


def open_from_detection(
    session: Session, *, clock: Clock, message: ReportedMessage, kinds: Sequence[str]
) -> Opened:
    """A case for a CASE-severity finding (マイナンバー, 機密性3), without the value."""
    case, new_case = cases.open_case(
        session, clock=clock, message=message, source=CaseSource.DETECTOR
    )
    if not message.excerpt:
        case.excerpt = ""  # a 機密性3 label: whatever an earlier report kept goes
    fresh = [k for k in kinds if k not in (case.reasons or [])]
    if fresh or new_case:
        cases.add_reasons(case, kinds, clock.now())
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
    statement = insert_or_skip(
        session, _DETECTIONS, unique=["channel_id", "message_ts"], returning="id"
    )
    values = {
        "channel_id": channel_id,
        "message_ts": message_ts,
        "user_id": user_id,
        "kinds": list(kinds),
        "details": details,
        "created_at": clock.now(),
    }
    return session.connection().execute(statement, values).first() is not None


def warning_owed(session: Session, channel_id: str, message_ts: str) -> bool:
    """A detection whose warning has not reached the poster yet."""
    warned = session.execute(
        select(Detection.warned_at).where(
            Detection.channel_id == channel_id, Detection.message_ts == message_ts
        )
    ).first()
    return warned is not None and warned[0] is None


def mark_warned(session: Session, *, clock: Clock, channel_id: str, message_ts: str) -> None:
    session.connection().execute(
        _MARK_WARNED, {"channel": channel_id, "ts": message_ts, "at": clock.now()}
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
    found = cases.find_by_message(session, channel_id, message_ts)
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
