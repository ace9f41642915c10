"""A member's channel request: the form's checks (Slack's naming rules, the kind's
requirements, similar channels), submitting it, and editing it once the secretariat
returned it."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channel_names import BLOCKING, PREFIXES, Likeness, NameCheck, compose, find_similar
from bot.clock import Clock
from bot.decided import AlreadyDecided, AuditEntry, decide_once
from bot.domain.channels import (
    MAX_FACILITATORS,
    PURPOSE_MAX,
    REASON_MAX,
    FormField,
    FormProblem,
    NotYours,
    RequestDraft,
    RequestForm,
    RequestInvalid,
    Similar,
    Submitted,
    UnknownRequest,
)
from bot.i18n import Language
from bot.services import audit
from models import (
    Channel,
    ChannelCategory,
    ChannelRequest,
    ChannelRequestStatus,
    ChannelStatus,
    Organisation,
    OrganisationKind,
)

# Requests whose name is reserved while they are open.
OPEN_REQUEST_STATUSES = (
    ChannelRequestStatus.PENDING,
    ChannelRequestStatus.RETURNED,
    ChannelRequestStatus.APPROVED,
)


@dataclass(frozen=True)
class CheckedForm:
    form: RequestForm
    name: NameCheck | None
    problems: tuple[FormProblem, ...]
    similar: tuple[Similar, ...] = ()  # all resemblances, blocking or not


@dataclass(frozen=True)
class ModalChoices:
    organisations: list[tuple[int, str]]  # (id, name in the member's language)
    prefectures: list[str]


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


def modal_choices(session: Session, language: Language) -> ModalChoices:
    organisations = [
        (i, (name_en or name) if language == "en" else name)
        for i, name, name_en in organisation_options(session)
    ]
    return ModalChoices(organisations, prefecture_names(session))


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


class SimilarNotices:
    """Whether to DM a member the similar channels once more: each resubmission of the same
    name would repeat it, so the same list goes to the same member once in ten minutes."""

    QUIET_SECONDS = 600
    _MAX_REMEMBERED = 5000

    def __init__(self, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._sent: dict[tuple[str, tuple[str, ...]], float] = {}
        self._lock = threading.Lock()

    def due(self, user_id: str, similar: tuple[Similar, ...]) -> bool:
        if not any(s.slack_channel_id for s in similar):
            return False  # only other requests: nothing to join
        key = (user_id, tuple(s.slack_channel_id or s.name for s in similar))
        now = self._monotonic()
        with self._lock:
            if now - self._sent.get(key, -1e9) < self.QUIET_SECONDS:
                return False
            self._sent[key] = now
            if len(self._sent) > self._MAX_REMEMBERED:
                self._sent.clear()
        return True


# --- submit and resubmit -------------------------------------------------------------------------


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


def submit(
    session: Session,
    *,
    clock: Clock,
    zone: ZoneInfo,
    requester: str,
    form: RequestForm,
    public_id: str | None,
) -> Submitted:
    """The modal's submission: a new request, or (with `public_id`) a returned one edited."""
    today = clock.now().astimezone(zone).date()
    if public_id is None:
        request = submit_request(session, clock=clock, requester=requester, form=form, today=today)
    else:
        request = resubmit_request(
            session, clock=clock, public_id=public_id, requester=requester, form=form, today=today
        )
    return Submitted(request.public_id, request.name, resubmitted=public_id is not None)


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
    values = _request_values(checked)
    return decide_once(
        session,
        row=request,
        status=ChannelRequest.status,
        allowed_from=[ChannelRequestStatus.RETURNED],
        values={"status": ChannelRequestStatus.PENDING, "updated_at": clock.now(), **values},
        audit_entry=AuditEntry(
            actor=requester,
            action="channel_request.resubmitted",
            target_type="channel_request",
            target_id=public_id,
            details={"name": values["name"], "category": values["category"].value},
        ),
        clock=clock,
    )


def resubmit_draft(session: Session, *, public_id: str, requester: str) -> RequestDraft:
    """The returned request, to prefill the modal its requester edits it in."""
    try:
        request = get_request(session, public_id)
    except UnknownRequest:
        raise NotYours(public_id) from None
    if request.requester_id != requester:
        raise NotYours(public_id)
    if request.status is not ChannelRequestStatus.RETURNED:
        raise AlreadyDecided(request.status.value, request)
    return RequestDraft(
        category=request.category,
        suffix=request.name[len(PREFIXES[request.category]) :],
        purpose=request.purpose,
        reason=request.reason or "",
        prefecture=request.prefecture,
        organisation_id=request.facilitating_organisation_id,
        facilitator_ids=tuple(request.facilitator_ids or ()),
        end_date=request.end_date,
    )
