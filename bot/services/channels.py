"""Channels in the database: requests and their review, the registry, facilitators,
dormancy rounds and summaries.

No Slack here (see bot/services/channel_slack.py for the calls): functions take a session
and plain values, never commit, and record every decision in the audit log. State changes
are guarded updates (`UPDATE … WHERE status IN (…) RETURNING`), so of two clicks exactly
one decides.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from bot.channel_names import (
    BLOCKING,
    PREFIXES,
    Likeness,
    NameCheck,
    compose,
    find_similar,
    fold,
    kind_of,
)
from bot.clock import Clock
from bot.db import insert_for
from bot.services import audit, members
from models import (
    AuditEntry,
    Channel,
    ChannelCategory,
    ChannelFacilitator,
    ChannelRequest,
    ChannelRequestStatus,
    ChannelStatus,
    ChannelSummary,
    DormancyOutcome,
    DormancyReview,
    Member,
    MemberRole,
    MemberStatus,
    Organisation,
    OrganisationKind,
    Role,
)

PURPOSE_MAX = 250  # Slack's limit for a channel's purpose and topic
REASON_MAX = 2000
MAX_FACILITATORS = 10
# Requests whose name is reserved while they are open.
OPEN_REQUEST_STATUSES = (
    ChannelRequestStatus.PENDING,
    ChannelRequestStatus.RETURNED,
    ChannelRequestStatus.APPROVED,
)
GONE_MEMBER_STATUSES = (MemberStatus.DEACTIVATED, MemberStatus.DELETED)
KIND_ORDER = (ChannelCategory.ALL, ChannelCategory.PJ, ChannelCategory.RE, ChannelCategory.OTHER)


class UnknownRequest(LookupError):
    pass


class UnknownChannel(LookupError):
    pass


class AlreadyDecided(Exception):
    """Someone decided first (a double click, two secretaries): nothing changed."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


class NotYours(Exception):
    """A member acting on someone else's request or a channel they do not facilitate."""


# --- requests: the form and its checks -----------------------------------------------------------


class FormField(StrEnum):
    KIND = "kind"
    NAME = "name"
    PURPOSE = "purpose"
    ORGANISATION = "organisation"
    FACILITATORS = "facilitators"
    PREFECTURE = "prefecture"
    REASON = "reason"
    END_DATE = "end_date"


@dataclass(frozen=True)
class RequestForm:
    """What the member typed in the request modal (unchecked)."""

    category: ChannelCategory | None
    suffix: str
    purpose: str
    reason: str
    prefecture: str | None = None
    organisation_id: int | None = None
    facilitator_ids: tuple[str, ...] = ()
    end_date: date | None = None
    # "I have seen the similar channels; this one is different."
    confirmed_distinct: bool = False


@dataclass(frozen=True)
class Similar:
    """An existing channel (or an open request) resembling the requested name."""

    name: str
    likeness: Likeness
    slack_channel_id: str | None = None  # None: another member's open request
    archived: bool = False


@dataclass(frozen=True)
class FormProblem:
    target: FormField
    code: str  # the catalogue key after "channels.form.error."
    params: Mapping[str, str] = field(default_factory=dict)
    similar: tuple[Similar, ...] = ()


class RequestInvalid(Exception):
    def __init__(self, problems: Sequence[FormProblem]) -> None:
        super().__init__(", ".join(f"{p.target}:{p.code}" for p in problems))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class CheckedForm:
    form: RequestForm
    name: NameCheck | None
    problems: tuple[FormProblem, ...]
    similar: tuple[Similar, ...] = ()  # all resemblances, blocking or not


def prefecture_names(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(Organisation.name)
            .where(Organisation.kind == OrganisationKind.PREFECTURE, Organisation.code.is_not(None))
            .order_by(Organisation.code)
        )
    )


def organisation_options(session: Session) -> list[tuple[int, str, str | None]]:
    """(id, name, English name) of the national agencies that may facilitate a channel."""
    rows = session.execute(
        select(Organisation.id, Organisation.name, Organisation.name_en)
        .where(Organisation.kind == OrganisationKind.AGENCY)
        .order_by(Organisation.id)
    )
    return [(row[0], row[1], row[2]) for row in rows]


def check_request(
    session: Session,
    form: RequestForm,
    *,
    today: date,
    exclude_request: str | None = None,
) -> CheckedForm:
    """Every problem of the form at once, keyed by field, for the modal's inline errors."""
    problems: list[FormProblem] = []
    name: NameCheck | None = None
    similar: tuple[Similar, ...] = ()
    if form.category is None or form.category not in PREFIXES:
        problems.append(FormProblem(FormField.KIND, "kind_required"))
    else:
        name = compose(form.category, form.suffix)
        if name.problem is not None:
            params = {"detail": name.detail, "max": str(80 - len(PREFIXES[form.category]))}
            if name.suggestion:
                params["suggestion"] = name.suggestion
            key = f"name.{name.problem.value}" + ("_suggest" if name.suggestion else "")
            problems.append(FormProblem(FormField.NAME, key, params))
        else:
            similar = tuple(similar_to(session, name.name, exclude_request=exclude_request))
            problem = _similarity_problem(similar, confirmed=form.confirmed_distinct)
            if problem is not None:
                problems.append(problem)
    purpose = form.purpose.strip()
    if not purpose:
        problems.append(FormProblem(FormField.PURPOSE, "purpose_required"))
    elif len(purpose) > PURPOSE_MAX:
        problems.append(FormProblem(FormField.PURPOSE, "purpose_too_long", {"max": "250"}))
    if not form.reason.strip():
        problems.append(FormProblem(FormField.REASON, "reason_required"))
    if form.category is ChannelCategory.PJ:
        if not form.facilitator_ids:
            problems.append(FormProblem(FormField.FACILITATORS, "facilitators_required"))
        if form.organisation_id is None:
            problems.append(FormProblem(FormField.ORGANISATION, "organisation_required"))
    if len(form.facilitator_ids) > MAX_FACILITATORS:
        problems.append(FormProblem(FormField.FACILITATORS, "facilitators_too_many", {"max": "10"}))
    if form.organisation_id is not None and session.get(Organisation, form.organisation_id) is None:
        problems.append(FormProblem(FormField.ORGANISATION, "organisation_unknown"))
    if form.category is ChannelCategory.RE:
        if not form.prefecture:
            problems.append(FormProblem(FormField.PREFECTURE, "prefecture_required"))
        elif form.prefecture not in prefecture_names(session):
            problems.append(FormProblem(FormField.PREFECTURE, "prefecture_unknown"))
    if form.end_date is not None and form.end_date <= today:
        problems.append(FormProblem(FormField.END_DATE, "end_date_past"))
    return CheckedForm(form=form, name=name, problems=tuple(problems), similar=similar)


def similar_to(session: Session, wanted: str, *, exclude_request: str | None) -> list[Similar]:
    """Registry channels (archived ones too: they keep their name) and open requests that
    resemble `wanted`, strongest first."""
    channels = {c.slack_channel_id: c for c in session.scalars(select(Channel))}
    excluded_channel = None
    if exclude_request is not None:
        excluded_channel = session.scalar(
            select(ChannelRequest.slack_channel_id).where(
                ChannelRequest.public_id == exclude_request
            )
        )
    requests = session.scalars(
        select(ChannelRequest).where(
            ChannelRequest.status.in_(OPEN_REQUEST_STATUSES),
            ChannelRequest.slack_channel_id.is_(None),
        )
    )
    pairs = [(f"C:{cid}", c.name) for cid, c in channels.items() if cid != excluded_channel]
    pairs += [(f"R:{r.public_id}", r.name) for r in requests if r.public_id != exclude_request]
    found = []
    for match in find_similar(wanted, pairs, limit=5):
        kind, _, key = match.key.partition(":")
        if kind == "C":
            channel = channels[key]
            found.append(
                Similar(
                    name=channel.name,
                    likeness=match.likeness,
                    slack_channel_id=key,
                    archived=channel.status is ChannelStatus.ARCHIVED,
                )
            )
        else:
            found.append(Similar(name=match.name, likeness=match.likeness))
    return found


def _similarity_problem(similar: tuple[Similar, ...], *, confirmed: bool) -> FormProblem | None:
    if not similar:
        return None
    first = similar[0]
    names = "、".join(f"#{s.name}" for s in similar)
    if first.likeness in BLOCKING:
        if first.slack_channel_id is None:
            code = "name_requested"
        elif first.archived:
            code = "name_taken_archived"
        else:
            code = "name_taken" if first.likeness is Likeness.SAME else "name_variant"
        return FormProblem(FormField.NAME, code, {"channels": names}, similar)
    if confirmed:
        return None
    return FormProblem(FormField.NAME, "name_similar", {"channels": names}, similar)


# --- requests: submit, resubmit and decide ------------------------------------------------------


def get_request(session: Session, public_id: str) -> ChannelRequest:
    request = session.scalar(select(ChannelRequest).where(ChannelRequest.public_id == public_id))
    if request is None:
        raise UnknownRequest(public_id)
    return request


def _request_values(checked: CheckedForm) -> dict[str, Any]:
    form, name = checked.form, checked.name
    assert form.category is not None and name is not None
    return {
        "category": form.category,
        "name": name.name,
        "purpose": form.purpose.strip(),
        "reason": form.reason.strip()[:REASON_MAX],
        "prefecture": form.prefecture if form.category is ChannelCategory.RE else None,
        "facilitating_organisation_id": form.organisation_id,
        "facilitator_ids": list(dict.fromkeys(form.facilitator_ids)),
        "end_date": form.end_date,
    }


def submit_request(
    session: Session, *, clock: Clock, requester: str, form: RequestForm, today: date
) -> ChannelRequest:
    checked = check_request(session, form, today=today)
    if checked.problems:
        raise RequestInvalid(checked.problems)
    now = clock.now()
    request = ChannelRequest(
        public_id=secrets.token_hex(8),
        requester_id=requester,
        status=ChannelRequestStatus.PENDING,
        created_at=now,
        updated_at=now,
        **_request_values(checked),
    )
    session.add(request)
    session.flush()
    audit.record(
        session,
        clock=clock,
        actor=requester,
        action="channel_request.submitted",
        target_type="channel_request",
        target_id=request.public_id,
        details={"name": request.name, "category": request.category.value},
    )
    return request


def resubmit_request(
    session: Session,
    *,
    clock: Clock,
    public_id: str,
    requester: str,
    form: RequestForm,
    today: date,
) -> ChannelRequest:
    """A returned request, edited by its requester, goes back to the secretariat."""
    request = get_request(session, public_id)
    if request.requester_id != requester:
        raise NotYours(public_id)
    checked = check_request(session, form, today=today, exclude_request=public_id)
    if checked.problems:
        raise RequestInvalid(checked.problems)
    changed = session.execute(
        update(ChannelRequest)
        .where(
            ChannelRequest.public_id == public_id,
            ChannelRequest.requester_id == requester,
            ChannelRequest.status == ChannelRequestStatus.RETURNED,
        )
        .values(
            status=ChannelRequestStatus.PENDING, updated_at=clock.now(), **_request_values(checked)
        )
        .returning(ChannelRequest.id)
    ).first()
    session.refresh(request)
    if changed is None:
        raise AlreadyDecided(request.status.value)
    audit.record(
        session,
        clock=clock,
        actor=requester,
        action="channel_request.resubmitted",
        target_type="channel_request",
        target_id=public_id,
        details={"name": request.name, "category": request.category.value},
    )
    return request


def _transition(
    session: Session,
    *,
    clock: Clock,
    public_id: str,
    actor: str,
    to: ChannelRequestStatus,
    allowed_from: Sequence[ChannelRequestStatus],
    reason: str | None,
    action: str,
) -> ChannelRequest:
    now = clock.now()
    changed = session.execute(
        update(ChannelRequest)
        .where(ChannelRequest.public_id == public_id, ChannelRequest.status.in_(allowed_from))
        .values(status=to, decided_by=actor, decided_at=now, decision_reason=reason, updated_at=now)
        .returning(ChannelRequest.id)
    ).first()
    request = get_request(session, public_id)
    if changed is None:
        raise AlreadyDecided(request.status.value)
    session.refresh(request)
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action=action,
        target_type="channel_request",
        target_id=public_id,
        reason=reason,
        details={"name": request.name},
    )
    return request


def approve(session: Session, *, clock: Clock, public_id: str, actor: str) -> ChannelRequest:
    return _transition(
        session,
        clock=clock,
        public_id=public_id,
        actor=actor,
        to=ChannelRequestStatus.APPROVED,
        allowed_from=(ChannelRequestStatus.PENDING,),
        reason=None,
        action="channel_request.approved",
    )


def return_for_changes(
    session: Session, *, clock: Clock, public_id: str, actor: str, comment: str
) -> ChannelRequest:
    return _transition(
        session,
        clock=clock,
        public_id=public_id,
        actor=actor,
        to=ChannelRequestStatus.RETURNED,
        allowed_from=(ChannelRequestStatus.PENDING,),
        reason=comment,
        action="channel_request.returned",
    )


def reject(
    session: Session, *, clock: Clock, public_id: str, actor: str, reason: str
) -> ChannelRequest:
    return _transition(
        session,
        clock=clock,
        public_id=public_id,
        actor=actor,
        to=ChannelRequestStatus.REJECTED,
        allowed_from=(ChannelRequestStatus.PENDING, ChannelRequestStatus.RETURNED),
        reason=reason,
        action="channel_request.rejected",
    )


# What the review message shows of the history, from the audit log.
DECISION_ACTIONS = {
    "channel_request.resubmitted": "resubmitted",
    "channel_request.approved": "approved",
    "channel_request.returned": "returned",
    "channel_request.rejected": "rejected",
    "channel_request.provisioned": "provisioned",
}


@dataclass(frozen=True)
class RequestEvent:
    kind: str  # a DECISION_ACTIONS value
    actor: str
    at: datetime
    reason: str | None


def history_of(session: Session, public_id: str) -> tuple[RequestEvent, ...]:
    entries = session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.target_type == "channel_request",
            AuditEntry.target_id == public_id,
            AuditEntry.action.in_(DECISION_ACTIONS),
        )
        .order_by(AuditEntry.occurred_at, AuditEntry.id)
    )
    return tuple(
        RequestEvent(DECISION_ACTIONS[e.action], e.actor, e.occurred_at, e.reason) for e in entries
    )


def unposted_requests(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(ChannelRequest.public_id)
            .where(
                ChannelRequest.status == ChannelRequestStatus.PENDING,
                ChannelRequest.review_message_ts.is_(None),
            )
            .order_by(ChannelRequest.created_at)
        )
    )


def set_review_message(session: Session, *, public_id: str, channel: str, ts: str) -> bool:
    changed = session.execute(
        update(ChannelRequest)
        .where(ChannelRequest.public_id == public_id, ChannelRequest.review_message_ts.is_(None))
        .values(review_channel_id=channel, review_message_ts=ts)
        .returning(ChannelRequest.id)
    ).first()
    return changed is not None


# --- provisioning marks --------------------------------------------------------------------------


class Step(StrEnum):
    CREATE = "create"
    PURPOSE = "purpose"
    INVITE = "invite"
    WELCOME = "welcome"
    ANNOUNCE = "announce"


_STEP_COLUMNS = {
    Step.PURPOSE: ChannelRequest.purpose_set_at,
    Step.INVITE: ChannelRequest.invited_at,
    Step.WELCOME: ChannelRequest.welcomed_at,
    Step.ANNOUNCE: ChannelRequest.announced_at,
}


def mark_created(
    session: Session, *, clock: Clock, request: ChannelRequest, slack_channel: SlackChannel
) -> Channel:
    """The channel exists: remember it on the request and enter it in the registry."""
    now = clock.now()
    session.execute(
        update(ChannelRequest)
        .where(ChannelRequest.id == request.id, ChannelRequest.slack_channel_id.is_(None))
        .values(slack_channel_id=slack_channel.id, updated_at=now)
    )
    channel = upsert_channel(session, clock=clock, slack_channel=slack_channel)
    channel.category = request.category
    channel.prefecture = request.prefecture
    channel.facilitating_organisation_id = request.facilitating_organisation_id
    channel.end_date = request.end_date
    channel.purpose = request.purpose
    channel.updated_at = now
    _replace_facilitators(
        session, clock=clock, channel=channel, slack_user_ids=request.facilitator_ids
    )
    audit.record(
        session,
        clock=clock,
        actor=audit.SYSTEM_ACTOR,
        action="channel_request.channel_created",
        target_type="channel_request",
        target_id=request.public_id,
        details={"channel": slack_channel.id, "name": slack_channel.name},
    )
    session.refresh(request)
    return channel


def mark_step(
    session: Session,
    *,
    clock: Clock,
    public_id: str,
    step: Step,
    details: dict[str, Any] | None = None,
) -> None:
    column = _STEP_COLUMNS[step]
    now = clock.now()
    session.execute(
        update(ChannelRequest)
        .where(ChannelRequest.public_id == public_id, column.is_(None))
        .values({column.key: now, "updated_at": now})
    )
    audit.record(
        session,
        clock=clock,
        actor=audit.SYSTEM_ACTOR,
        action=f"channel_request.{step.value}_done",
        target_type="channel_request",
        target_id=public_id,
        details=details,
    )


def mark_failed(session: Session, *, clock: Clock, public_id: str, step: Step, error: str) -> None:
    session.execute(
        update(ChannelRequest)
        .where(ChannelRequest.public_id == public_id)
        .values(last_error=f"{step.value}:{error}", updated_at=clock.now())
    )
    audit.record(
        session,
        clock=clock,
        actor=audit.SYSTEM_ACTOR,
        action="channel_request.provisioning_failed",
        target_type="channel_request",
        target_id=public_id,
        reason=error,
        details={"step": step.value},
    )


def mark_provisioned(session: Session, *, clock: Clock, public_id: str) -> bool:
    """APPROVED → PROVISIONED once every step is done; False if someone else finished."""
    now = clock.now()
    changed = session.execute(
        update(ChannelRequest)
        .where(
            ChannelRequest.public_id == public_id,
            ChannelRequest.status == ChannelRequestStatus.APPROVED,
            ChannelRequest.slack_channel_id.is_not(None),
        )
        .values(status=ChannelRequestStatus.PROVISIONED, last_error=None, updated_at=now)
        .returning(ChannelRequest.slack_channel_id)
    ).first()
    if changed is None:
        return False
    audit.record(
        session,
        clock=clock,
        actor=audit.SYSTEM_ACTOR,
        action="channel_request.provisioned",
        target_type="channel_request",
        target_id=public_id,
        details={"channel": changed[0]},
    )
    return True


def failed_step(request: ChannelRequest) -> tuple[str, str] | None:
    """(step, Slack error) of the last failure, if the request is not complete."""
    if not request.last_error or request.status is not ChannelRequestStatus.APPROVED:
        return None
    step, _, error = request.last_error.partition(":")
    return step, error


def approved_unfinished(session: Session) -> list[ChannelRequest]:
    return list(
        session.scalars(
            select(ChannelRequest)
            .where(ChannelRequest.status == ChannelRequestStatus.APPROVED)
            .order_by(ChannelRequest.decided_at, ChannelRequest.id)
        )
    )


# --- the registry --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlackChannel:
    """The parts of a Slack conversation object the registry keeps."""

    id: str
    name: str
    created: datetime | None = None
    is_archived: bool = False
    is_general: bool = False
    is_private: bool = False
    purpose: str | None = None  # None: not in the payload (leave the stored one)
    creator: str | None = None

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> SlackChannel:
        created = data.get("created")
        purpose = data.get("purpose")
        return cls(
            id=str(data["id"]),
            name=str(data.get("name") or data.get("name_normalized") or ""),
            created=datetime.fromtimestamp(int(created), UTC) if created else None,
            is_archived=bool(data.get("is_archived")),
            is_general=bool(data.get("is_general")),
            is_private=bool(data.get("is_private")),
            purpose=str(purpose.get("value") or "") if isinstance(purpose, dict) else None,
            creator=str(data["creator"]) if data.get("creator") else None,
        )


def find_channel(session: Session, slack_channel_id: str) -> Channel | None:
    return session.scalar(select(Channel).where(Channel.slack_channel_id == slack_channel_id))


def get_channel(session: Session, slack_channel_id: str) -> Channel:
    channel = find_channel(session, slack_channel_id)
    if channel is None:
        raise UnknownChannel(slack_channel_id)
    return channel


class Change(StrEnum):
    NEW = "new"
    RENAMED = "renamed"
    ARCHIVED = "archived"
    UNARCHIVED = "unarchived"
    PURPOSE = "purpose"


def upsert_channel(session: Session, *, clock: Clock, slack_channel: SlackChannel) -> Channel:
    """Insert or refresh a registry row; concurrent event and sync both land safely."""
    now = clock.now()
    session.execute(
        insert_for(session)(Channel)
        .values(
            slack_channel_id=slack_channel.id,
            name=slack_channel.name[:80],
            category=kind_of(slack_channel.name),
            purpose=slack_channel.purpose or None,
            status=ChannelStatus.ARCHIVED if slack_channel.is_archived else ChannelStatus.ACTIVE,
            is_general=slack_channel.is_general,
            slack_created_at=slack_channel.created,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["slack_channel_id"])
    )
    channel = get_channel(session, slack_channel.id)
    session.refresh(channel)
    return channel


def apply_slack_channel(
    session: Session, *, clock: Clock, slack_channel: SlackChannel
) -> tuple[Channel, set[Change]]:
    """Make the registry row match what Slack says; returns what changed."""
    existing = find_channel(session, slack_channel.id)
    channel = upsert_channel(session, clock=clock, slack_channel=slack_channel)
    if existing is None:
        return channel, {Change.NEW}
    changes: set[Change] = set()
    if slack_channel.name and channel.name != slack_channel.name:
        channel.name = slack_channel.name[:80]
        channel.category = kind_of(slack_channel.name)
        changes.add(Change.RENAMED)
    status = ChannelStatus.ARCHIVED if slack_channel.is_archived else ChannelStatus.ACTIVE
    if channel.status is not status:
        channel.status = status
        changes.add(Change.ARCHIVED if slack_channel.is_archived else Change.UNARCHIVED)
    if slack_channel.purpose is not None and (channel.purpose or "") != slack_channel.purpose:
        channel.purpose = slack_channel.purpose or None
        changes.add(Change.PURPOSE)
    channel.is_general = slack_channel.is_general
    if slack_channel.created is not None:
        channel.slack_created_at = slack_channel.created
    if changes:
        channel.updated_at = clock.now()
    if Change.ARCHIVED in changes:
        close_reviews_of_archived(session, clock=clock, channel=channel, actor=audit.SYSTEM_ACTOR)
    return channel, changes


def record_event(
    session: Session,
    *,
    clock: Clock,
    slack_channel: SlackChannel,
    actor: str,
    event_type: str,
) -> tuple[Channel, set[Change]]:
    channel, changes = apply_slack_channel(session, clock=clock, slack_channel=slack_channel)
    if changes:
        audit.record(
            session,
            clock=clock,
            actor=actor,
            action=f"channel.{event_type}",
            target_type="channel",
            target_id=channel.slack_channel_id,
            details={"name": channel.name, "changes": sorted(c.value for c in changes)},
        )
    return channel, changes


def record_rename(
    session: Session, *, clock: Clock, slack_channel_id: str, name: str, actor: str
) -> Channel | None:
    """From channel_rename (id and name only): the new name and the kind its prefix says."""
    channel = find_channel(session, slack_channel_id)
    if channel is None or channel.name == name:
        return channel
    previous = channel.name
    channel.name = name[:80]
    channel.category = kind_of(name)
    channel.updated_at = clock.now()
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="channel.renamed",
        target_type="channel",
        target_id=slack_channel_id,
        details={"name": channel.name, "previous": previous},
    )
    return channel


def set_archived(
    session: Session, *, clock: Clock, slack_channel_id: str, archived: bool, actor: str
) -> Channel | None:
    """From channel_archive / channel_unarchive (the event carries only the id)."""
    channel = find_channel(session, slack_channel_id)
    if channel is None:
        return None
    status = ChannelStatus.ARCHIVED if archived else ChannelStatus.ACTIVE
    if channel.status is status:
        return channel
    channel.status = status
    channel.updated_at = clock.now()
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="channel.archived" if archived else "channel.unarchived",
        target_type="channel",
        target_id=slack_channel_id,
        details={"name": channel.name, "source": "event"},
    )
    if archived:
        close_reviews_of_archived(session, clock=clock, channel=channel, actor=actor)
    return channel


def mark_missing(session: Session, *, clock: Clock, seen: set[str]) -> list[str]:
    """Active channels a complete listing no longer shows (deleted in Slack) → archived."""
    missing = [
        c
        for c in session.scalars(select(Channel).where(Channel.status == ChannelStatus.ACTIVE))
        if c.slack_channel_id not in seen
    ]
    for channel in missing:
        channel.status = ChannelStatus.ARCHIVED
        channel.updated_at = clock.now()
        audit.record(
            session,
            clock=clock,
            actor=audit.SYSTEM_ACTOR,
            action="channel.missing",
            target_type="channel",
            target_id=channel.slack_channel_id,
            details={"name": channel.name},
        )
    return [c.slack_channel_id for c in missing]


# --- facilitators --------------------------------------------------------------------------------


def facilitators_of(session: Session, channel: Channel) -> list[Member]:
    return list(
        session.scalars(
            select(Member)
            .join(ChannelFacilitator, ChannelFacilitator.member_id == Member.id)
            .where(ChannelFacilitator.channel_id == channel.id)
            .order_by(ChannelFacilitator.added_at, Member.id)
        )
    )


def facilitator_ids(session: Session, channel: Channel) -> list[str]:
    return [m.slack_user_id for m in facilitators_of(session, channel)]


def _replace_facilitators(
    session: Session, *, clock: Clock, channel: Channel, slack_user_ids: Iterable[str]
) -> tuple[list[str], list[str]]:
    wanted = list(dict.fromkeys(slack_user_ids))
    current = facilitator_ids(session, channel)
    added = [u for u in wanted if u not in current]
    removed = [u for u in current if u not in wanted]
    now = clock.now()
    for user_id in added:
        member = members.ensure_member(session, clock=clock, slack_user_id=user_id)
        session.add(ChannelFacilitator(channel_id=channel.id, member_id=member.id, added_at=now))
    if removed:
        gone = select(Member.id).where(Member.slack_user_id.in_(removed))
        session.execute(
            delete(ChannelFacilitator).where(
                ChannelFacilitator.channel_id == channel.id,
                ChannelFacilitator.member_id.in_(gone),
            )
        )
    session.flush()
    return added, removed


def can_manage(session: Session, actor: str, slack_channel_id: str) -> bool:
    """The secretariat, or one of the channel's facilitators. Checked on every arrival."""
    if members.has_role(session, actor, Role.SECRETARIAT):
        return True
    channel = find_channel(session, slack_channel_id)
    return channel is not None and actor in facilitator_ids(session, channel)


@dataclass(frozen=True)
class ChannelUpdate:
    channel_id: str
    purpose_changed: bool
    added: tuple[str, ...]
    removed: tuple[str, ...]


def update_channel(
    session: Session,
    *,
    clock: Clock,
    slack_channel_id: str,
    actor: str,
    purpose: str,
    facilitators: Sequence[str],
    end_date: date | None,
) -> ChannelUpdate:
    if not can_manage(session, actor, slack_channel_id):
        raise NotYours(slack_channel_id)
    channel = get_channel(session, slack_channel_id)
    purpose = purpose.strip()[:PURPOSE_MAX]
    purpose_changed = (channel.purpose or "") != purpose
    channel.purpose = purpose or None
    ended = channel.end_date != end_date
    channel.end_date = end_date
    added, removed = _replace_facilitators(
        session, clock=clock, channel=channel, slack_user_ids=facilitators
    )
    channel.updated_at = clock.now()
    if purpose_changed or added or removed or ended:
        audit.record(
            session,
            clock=clock,
            actor=actor,
            action="channel.updated",
            target_type="channel",
            target_id=slack_channel_id,
            details={
                "purpose_changed": purpose_changed,
                "facilitators_added": added,
                "facilitators_removed": removed,
                "end_date": end_date.isoformat() if end_date else None,
            },
        )
    return ChannelUpdate(slack_channel_id, purpose_changed, tuple(added), tuple(removed))


# --- listing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    slack_channel_id: str
    name: str
    category: ChannelCategory
    purpose: str | None
    prefecture: str | None


def _matches(channel: Channel, wanted: str) -> bool:
    if not wanted:
        return True
    haystacks = (channel.name, channel.purpose or "", channel.prefecture or "")
    return any(wanted in fold(text) for text in haystacks)


def list_channels(session: Session, *, word: str = "", exclude: Iterable[str] = ()) -> list[Listed]:
    """Active public channels, by kind then name, matching `word` (folded) if given."""
    wanted = fold(word)
    skipped = set(exclude)
    rows = session.scalars(
        select(Channel).where(Channel.status == ChannelStatus.ACTIVE).order_by(Channel.name)
    )
    found = [
        Listed(c.slack_channel_id, c.name, c.category, c.purpose, c.prefecture)
        for c in rows
        if c.slack_channel_id not in skipped and _matches(c, wanted)
    ]
    found.sort(key=lambda c: (KIND_ORDER.index(c.category), c.name))
    return found


def managed_by(session: Session, actor: str) -> list[Listed]:
    """Active channels `actor` facilitates."""
    rows = session.scalars(
        select(Channel)
        .join(ChannelFacilitator, ChannelFacilitator.channel_id == Channel.id)
        .join(Member, Member.id == ChannelFacilitator.member_id)
        .where(Member.slack_user_id == actor, Channel.status == ChannelStatus.ACTIVE)
        .order_by(Channel.name)
    )
    return [Listed(c.slack_channel_id, c.name, c.category, c.purpose, c.prefecture) for c in rows]


def channel_by_name(session: Session, name: str) -> Channel | None:
    wanted = name.strip().lstrip("#").strip()
    return session.scalar(select(Channel).where(Channel.name == wanted))


# --- dormant and finished channels ---------------------------------------------------------------

REMIND_AFTER = timedelta(days=7)
LIST_AFTER_REMINDER = timedelta(days=7)
OPEN_OUTCOMES = (DormancyOutcome.ASKED, DormancyOutcome.ARCHIVE, DormancyOutcome.LISTED)
REFUSED_ACTION = "channel.archive_refused"


def protected_channel_ids(session: Session, configured: Iterable[str]) -> set[str]:
    """Never asked about nor archived: the general channel, the channels Kyoso itself uses,
    and channels Slack refused to archive (required channels)."""
    protected = {c for c in configured if c}
    protected.update(session.scalars(select(Channel.slack_channel_id).where(Channel.is_general)))
    protected.update(
        session.scalars(
            select(AuditEntry.target_id).where(
                AuditEntry.action == REFUSED_ACTION, AuditEntry.target_type == "channel"
            )
        )
    )
    return protected


@dataclass(frozen=True)
class Candidate:
    channel: Channel
    reason: str  # "quiet" | "ended" | "unknown" (no activity known: ask Slack)


def dormancy_candidates(
    session: Session, *, now: datetime, today: date, dormant_days: int, protected: set[str]
) -> list[Candidate]:
    """Active channels with no message for `dormant_days` or past their end date, without an
    open round and not kept within the period."""
    threshold = now - timedelta(days=dormant_days)
    busy = set(
        session.scalars(
            select(DormancyReview.channel_id).where(DormancyReview.outcome.in_(OPEN_OUTCOMES))
        )
    )
    kept_recently = set(
        session.scalars(
            select(DormancyReview.channel_id).where(
                DormancyReview.outcome == DormancyOutcome.KEEP,
                DormancyReview.decided_at > threshold,
            )
        )
    )
    found = []
    channels = session.scalars(
        select(Channel)
        .where(Channel.status == ChannelStatus.ACTIVE, Channel.is_general.is_(False))
        .order_by(Channel.id)
    )
    for channel in channels:
        if channel.slack_channel_id in protected or channel.id in busy:
            continue
        if channel.id in kept_recently:
            continue
        if channel.end_date is not None and channel.end_date < today:
            found.append(Candidate(channel, "ended"))
        elif channel.last_activity_at is not None:
            if channel.last_activity_at < threshold:
                found.append(Candidate(channel, "quiet"))
        elif channel.slack_created_at is None or channel.slack_created_at < threshold:
            found.append(Candidate(channel, "unknown"))
    return found


def record_activity(session: Session, *, slack_channel_id: str, at: datetime) -> None:
    """The latest message Slack reported for a channel whose activity was unknown."""
    session.execute(
        update(Channel)
        .where(
            Channel.slack_channel_id == slack_channel_id,
            or_(Channel.last_activity_at.is_(None), Channel.last_activity_at < at),
        )
        .values(last_activity_at=at)
    )


def start_review(
    session: Session, *, clock: Clock, channel: Channel, today: date, reason: str
) -> DormancyReview | None:
    """Claim a new round for the channel (once per day at most); None if already claimed."""
    now = clock.now()
    inserted = session.execute(
        insert_for(session)(DormancyReview)
        .values(
            channel_id=channel.id,
            started_on=today,
            outcome=DormancyOutcome.ASKED,
            asked_at=now,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["channel_id", "started_on"])
        .returning(DormancyReview.id)
    ).first()
    if inserted is None:
        return None
    audit.record(
        session,
        clock=clock,
        actor=audit.SYSTEM_ACTOR,
        action="dormancy.asked",
        target_type="channel",
        target_id=channel.slack_channel_id,
        details={"review": inserted[0], "reason": reason},
    )
    return session.get(DormancyReview, inserted[0])


def get_review(session: Session, review_id: int) -> DormancyReview:
    review = session.get(DormancyReview, review_id)
    if review is None:
        raise LookupError(review_id)
    return review


def channel_of(session: Session, review: DormancyReview) -> Channel:
    channel = session.get(Channel, review.channel_id)
    assert channel is not None  # the foreign key cascades
    return channel


def due_reminders(session: Session, *, now: datetime) -> list[DormancyReview]:
    return list(
        session.scalars(
            select(DormancyReview)
            .where(
                DormancyReview.outcome == DormancyOutcome.ASKED,
                DormancyReview.reminded_at.is_(None),
                DormancyReview.asked_at <= now - REMIND_AFTER,
            )
            .order_by(DormancyReview.id)
        )
    )


def claim_reminder(session: Session, *, clock: Clock, review_id: int) -> bool:
    changed = session.execute(
        update(DormancyReview)
        .where(
            DormancyReview.id == review_id,
            DormancyReview.outcome == DormancyOutcome.ASKED,
            DormancyReview.reminded_at.is_(None),
        )
        .values(reminded_at=clock.now())
        .returning(DormancyReview.channel_id)
    ).first()
    if changed is None:
        return False
    channel = session.get(Channel, changed[0])
    audit.record(
        session,
        clock=clock,
        actor=audit.SYSTEM_ACTOR,
        action="dormancy.reminded",
        target_type="channel",
        target_id=channel.slack_channel_id if channel else str(changed[0]),
        details={"review": review_id},
    )
    return True


def claim_listing(session: Session, *, clock: Clock, now: datetime) -> list[DormancyReview]:
    """Rounds the secretariat should now archive: agreed by the facilitators, or unanswered
    a week after the reminder. Each is listed once."""
    listed_at = clock.now()
    unanswered = session.execute(
        update(DormancyReview)
        .where(
            DormancyReview.outcome == DormancyOutcome.ASKED,
            DormancyReview.reminded_at <= now - LIST_AFTER_REMINDER,
            DormancyReview.listed_at.is_(None),
        )
        .values(outcome=DormancyOutcome.LISTED, listed_at=listed_at)
        .returning(DormancyReview.id)
    ).all()
    agreed = session.execute(
        update(DormancyReview)
        .where(
            DormancyReview.outcome == DormancyOutcome.ARCHIVE,
            DormancyReview.listed_at.is_(None),
        )
        .values(listed_at=listed_at)
        .returning(DormancyReview.id)
    ).all()
    ids = sorted(row[0] for row in [*unanswered, *agreed])
    reviews = [get_review(session, i) for i in ids]
    for review in reviews:
        session.refresh(review)
        channel = channel_of(session, review)
        audit.record(
            session,
            clock=clock,
            actor=audit.SYSTEM_ACTOR,
            action="dormancy.listed",
            target_type="channel",
            target_id=channel.slack_channel_id,
            details={"review": review.id, "outcome": review.outcome.value},
        )
    return reviews


def decide_review(
    session: Session, *, clock: Clock, review_id: int, actor: str, keep: bool
) -> DormancyReview:
    """A facilitator's (or the secretariat's) answer: keep, or agree to archive."""
    review = get_review(session, review_id)
    channel = channel_of(session, review)
    if not can_manage(session, actor, channel.slack_channel_id):
        raise NotYours(channel.slack_channel_id)
    allowed = (DormancyOutcome.ASKED, DormancyOutcome.LISTED) if keep else (DormancyOutcome.ASKED,)
    outcome = DormancyOutcome.KEEP if keep else DormancyOutcome.ARCHIVE
    changed = session.execute(
        update(DormancyReview)
        .where(DormancyReview.id == review_id, DormancyReview.outcome.in_(allowed))
        .values(outcome=outcome, decided_by=actor, decided_at=clock.now())
        .returning(DormancyReview.id)
    ).first()
    session.refresh(review)
    if changed is None:
        raise AlreadyDecided(review.outcome.value)
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="dormancy.keep" if keep else "dormancy.archive_agreed",
        target_type="channel",
        target_id=channel.slack_channel_id,
        details={"review": review_id},
    )
    return review


def archivable(session: Session, review_id: int) -> DormancyReview:
    """A listed round the secretariat may archive now (raises AlreadyDecided otherwise)."""
    review = get_review(session, review_id)
    if review.outcome not in (DormancyOutcome.LISTED, DormancyOutcome.ARCHIVE):
        raise AlreadyDecided(review.outcome.value)
    return review


def mark_archived(session: Session, *, clock: Clock, review_id: int, actor: str) -> bool:
    """After conversations.archive succeeded: one decision, one audit entry."""
    now = clock.now()
    changed = session.execute(
        update(DormancyReview)
        .where(
            DormancyReview.id == review_id,
            DormancyReview.outcome.in_((DormancyOutcome.LISTED, DormancyOutcome.ARCHIVE)),
        )
        .values(outcome=DormancyOutcome.ARCHIVED, decided_by=actor, decided_at=now)
        .returning(DormancyReview.channel_id)
    ).first()
    if changed is None:
        return False
    channel = session.get(Channel, changed[0])
    assert channel is not None
    channel.status = ChannelStatus.ARCHIVED
    channel.updated_at = now
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="channel.archived",
        target_type="channel",
        target_id=channel.slack_channel_id,
        details={"review": review_id, "name": channel.name, "source": "dormancy"},
    )
    return True


def mark_archive_refused(
    session: Session, *, clock: Clock, review_id: int, actor: str, error: str
) -> None:
    """Slack will not archive it (general or required): kept, and never asked again."""
    review = get_review(session, review_id)
    channel = channel_of(session, review)
    session.execute(
        update(DormancyReview)
        .where(DormancyReview.id == review_id, DormancyReview.outcome.in_(OPEN_OUTCOMES))
        .values(outcome=DormancyOutcome.KEEP, decided_by=actor, decided_at=clock.now())
    )
    if error == "cant_archive_general":
        channel.is_general = True
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action=REFUSED_ACTION,
        target_type="channel",
        target_id=channel.slack_channel_id,
        reason=error,
        details={"review": review_id, "name": channel.name},
    )


def unclaim_listing(session: Session, *, review_ids: Sequence[int]) -> None:
    """A list that could not be posted is listed again at the next run."""
    session.execute(
        update(DormancyReview)
        .where(DormancyReview.id.in_(review_ids), DormancyReview.outcome == DormancyOutcome.LISTED)
        .values(outcome=DormancyOutcome.ASKED, listed_at=None)
    )
    session.execute(
        update(DormancyReview)
        .where(DormancyReview.id.in_(review_ids), DormancyReview.outcome == DormancyOutcome.ARCHIVE)
        .values(listed_at=None)
    )


def close_reviews_of_archived(
    session: Session, *, clock: Clock, channel: Channel, actor: str
) -> None:
    """Someone archived the channel in Slack: its open round is over."""
    session.execute(
        update(DormancyReview)
        .where(DormancyReview.channel_id == channel.id, DormancyReview.outcome.in_(OPEN_OUTCOMES))
        .values(outcome=DormancyOutcome.ARCHIVED, decided_by=actor, decided_at=clock.now())
    )


def channels_with_facilitators(session: Session) -> list[Channel]:
    return list(
        session.scalars(
            select(Channel)
            .where(
                Channel.status == ChannelStatus.ACTIVE,
                Channel.id.in_(select(ChannelFacilitator.channel_id)),
            )
            .order_by(Channel.id)
        )
    )


def gone_facilitators(session: Session, channel: Channel) -> list[str]:
    """Facilitators Kyoso knows have left the workspace."""
    return [
        m.slack_user_id
        for m in facilitators_of(session, channel)
        if m.status in GONE_MEMBER_STATUSES
    ]


def claim_left_report(
    session: Session, *, clock: Clock, channel: Channel, slack_user_id: str
) -> bool:
    """Report a facilitator who left once per channel (the audit entry is the mark)."""
    already = session.scalar(
        select(AuditEntry.id).where(
            AuditEntry.action == "channel.facilitator_left",
            AuditEntry.target_type == "channel",
            AuditEntry.target_id == channel.slack_channel_id,
            AuditEntry.reason == slack_user_id,
        )
    )
    if already is not None:
        return False
    audit.record(
        session,
        clock=clock,
        actor=audit.SYSTEM_ACTOR,
        action="channel.facilitator_left",
        target_type="channel",
        target_id=channel.slack_channel_id,
        reason=slack_user_id,
        details={"name": channel.name},
    )
    return True


def secretariat_ids(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(Member.slack_user_id)
            .join(MemberRole, MemberRole.member_id == Member.id)
            .where(MemberRole.role == Role.SECRETARIAT, Member.status.not_in(GONE_MEMBER_STATUSES))
            .order_by(Member.id)
        )
    )


# --- summaries -----------------------------------------------------------------------------------


def record_summary(
    session: Session,
    *,
    clock: Clock,
    channel_id: str,
    message_ts: str,
    author_id: str,
    recorded_by: str,
    permalink: str | None,
) -> bool:
    """Record a pinned message as the channel's summary; False if it already was."""
    inserted = session.execute(
        insert_for(session)(ChannelSummary)
        .values(
            channel_id=channel_id,
            message_ts=message_ts,
            author_id=author_id,
            recorded_by=recorded_by,
            permalink=permalink,
            created_at=clock.now(),
        )
        .on_conflict_do_nothing(index_elements=["channel_id", "message_ts"])
        .returning(ChannelSummary.id)
    ).first()
    if inserted is None:
        return False
    audit.record(
        session,
        clock=clock,
        actor=recorded_by,
        action="channel.summary_recorded",
        target_type="channel",
        target_id=channel_id,
        details={"message_ts": message_ts, "author": author_id},
    )
    return True


def record_pointer(
    session: Session, *, clock: Clock, channel_id: str, message_ts: str, target: str, actor: str
) -> None:
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="channel.pointed",
        target_type="channel",
        target_id=channel_id,
        details={"message_ts": message_ts, "to": target},
    )
