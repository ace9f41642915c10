"""Applications to join: submit (with eligibility), decide once, remind, invite."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.business_days import business_days_between
from bot.clock import Clock
from bot.eligibility import (
    ApplicationInput,
    EmailHistory,
    OrganisationDirectory,
    Outcome,
    PreviousStatus,
    Reason,
    ReasonCode,
    Severity,
    Verdict,
    decide,
)
from bot.i18n import Language
from bot.services import audit
from models import (
    Application,
    ApplicationSource,
    ApplicationStatus,
    Member,
    MemberStatus,
    Organisation,
)

APPLICANT_ACTOR = "applicant"


@dataclass(frozen=True)
class ApplicationForm:
    """What an applicant typed on the page or what an imported row holds."""

    email: str
    name: str
    organisation_code: str | None
    agency_slug: str | None
    department: str | None
    language: Language
    rules_version: str


class ApplicationRefused(Exception):
    """The application cannot go on as typed; the verdict says why (nothing was stored)."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(", ".join(r.code.value for r in verdict.reasons))
        self.verdict = verdict


class AlreadyDecided(Exception):
    """Someone decided first (a double click, two secretaries): nothing changed."""

    def __init__(self, application: Application) -> None:
        super().__init__(application.status.value)
        self.application = application


class UnknownApplication(LookupError):
    pass


@dataclass(frozen=True)
class Submitted:
    application: Application
    verdict: Verdict


def history_of(session: Session) -> EmailHistory:
    """What Kyoso knows of an address, for the one-account-per-address rule."""

    def previous(normalised_email: str, /) -> PreviousStatus | None:
        member_status = session.scalar(
            select(Member.status).where(Member.email_normalized == normalised_email)
        )
        if member_status in (MemberStatus.DEACTIVATED, MemberStatus.DELETED):
            return "deleted"
        if member_status is not None:
            return "member"
        latest = session.scalar(
            select(Application.status)
            .where(Application.email_normalized == normalised_email)
            .order_by(Application.submitted_at.desc(), Application.id.desc())
            .limit(1)
        )
        match latest:
            case ApplicationStatus.PENDING | ApplicationStatus.INFO_REQUESTED:
                return "pending"
            case ApplicationStatus.APPROVED | ApplicationStatus.INVITED:
                return "approved"
            case ApplicationStatus.JOINED:
                return "member"
            case ApplicationStatus.REJECTED:
                return "rejected"
        return None

    return previous


def submit(
    session: Session,
    *,
    clock: Clock,
    directory: OrganisationDirectory,
    form: ApplicationForm,
    source: ApplicationSource,
) -> Submitted:
    verdict = decide(
        ApplicationInput(
            email=form.email,
            name=form.name,
            organisation_code=form.organisation_code,
            agency_slug=form.agency_slug,
            department=form.department,
        ),
        directory,
        history_of(session),
    )
    if verdict.outcome is Outcome.REFUSED:
        raise ApplicationRefused(verdict)
    now = clock.now()
    application = Application(
        public_id=secrets.token_hex(8),
        email=form.email.strip(),
        email_normalized=verdict.normalised_email,
        name=form.name.strip(),
        organisation_id=_organisation_id(session, verdict),
        organisation_code_entered=(form.organisation_code or "").strip() or None,
        department=(form.department or "").strip() or None,
        language=form.language,
        rules_version=form.rules_version,
        source=source,
        status=ApplicationStatus.PENDING,
        outcome=verdict.outcome.value,
        reasons=[reason_to_json(r) for r in verdict.reasons],
        is_reapplication=verdict.is_reapplication,
        submitted_at=now,
    )
    try:
        with session.begin_nested():  # a concurrent twin hits the open-address index
            session.add(application)
    except IntegrityError:
        raise ApplicationRefused(_duplicate(verdict)) from None
    audit.record(
        session,
        clock=clock,
        actor=APPLICANT_ACTOR,
        action="application.submitted",
        target_type="application",
        target_id=application.public_id,
        details={"outcome": verdict.outcome.value, "source": source.value},
    )
    return Submitted(application=application, verdict=verdict)


def _duplicate(verdict: Verdict) -> Verdict:
    reason = Reason(
        ReasonCode.EMAIL_DUPLICATE,
        Severity.REFUSE,
        {"status": "pending", "email": verdict.normalised_email},
    )
    return Verdict(
        outcome=Outcome.REFUSED,
        reasons=(reason,),
        normalised_email=verdict.normalised_email,
        organisation_code=verdict.organisation_code,
        agency_slug=verdict.agency_slug,
        suggested=verdict.suggested,
        is_reapplication=False,
    )


def _organisation_id(session: Session, verdict: Verdict) -> int | None:
    if verdict.organisation_code:
        return session.scalar(
            select(Organisation.id).where(Organisation.code == verdict.organisation_code)
        )
    if verdict.agency_slug:
        return session.scalar(
            select(Organisation.id).where(Organisation.slug == verdict.agency_slug)
        )
    return None


def reason_to_json(reason: Reason) -> dict[str, object]:
    return {
        "code": reason.code.value,
        "severity": reason.severity.value,
        "params": dict(reason.params),
    }


def get(session: Session, public_id: str) -> Application:
    application = session.scalar(select(Application).where(Application.public_id == public_id))
    if application is None:
        raise UnknownApplication(public_id)
    return application


_DECIDABLE = (ApplicationStatus.PENDING, ApplicationStatus.INFO_REQUESTED)


def _transition(
    session: Session,
    *,
    clock: Clock,
    public_id: str,
    actor: str,
    to: ApplicationStatus,
    allowed_from: Sequence[ApplicationStatus],
    reason: str | None,
    action: str,
) -> Application:
    """A guarded update: of two concurrent clicks exactly one matches the WHERE."""
    now = clock.now()
    changed = session.execute(
        update(Application)
        .where(Application.public_id == public_id, Application.status.in_(allowed_from))
        .values(status=to, decided_at=now, decided_by=actor, decision_reason=reason)
        .returning(Application.id)
    ).first()
    application = get(session, public_id)
    if changed is None:
        raise AlreadyDecided(application)
    session.refresh(application)
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action=action,
        target_type="application",
        target_id=public_id,
        reason=reason,
    )
    return application


def approve(session: Session, *, clock: Clock, public_id: str, actor: str) -> Application:
    return _transition(
        session,
        clock=clock,
        public_id=public_id,
        actor=actor,
        to=ApplicationStatus.APPROVED,
        allowed_from=_DECIDABLE,
        reason=None,
        action="application.approved",
    )


def reject(
    session: Session, *, clock: Clock, public_id: str, actor: str, reason: str
) -> Application:
    return _transition(
        session,
        clock=clock,
        public_id=public_id,
        actor=actor,
        to=ApplicationStatus.REJECTED,
        allowed_from=_DECIDABLE,
        reason=reason,
        action="application.rejected",
    )


def request_info(
    session: Session, *, clock: Clock, public_id: str, actor: str, message: str
) -> Application:
    return _transition(
        session,
        clock=clock,
        public_id=public_id,
        actor=actor,
        to=ApplicationStatus.INFO_REQUESTED,
        allowed_from=(ApplicationStatus.PENDING,),
        reason=message,
        action="application.info_requested",
    )


def mark_invited(session: Session, *, clock: Clock, public_id: str, actor: str) -> Application:
    return _transition(
        session,
        clock=clock,
        public_id=public_id,
        actor=actor,
        to=ApplicationStatus.INVITED,
        allowed_from=(ApplicationStatus.APPROVED,),
        reason=None,
        action="application.invited",
    )


def awaiting_decision(session: Session, *, submitted_before: datetime) -> list[Application]:
    return list(
        session.scalars(
            select(Application)
            .where(Application.status.in_(_DECIDABLE), Application.submitted_at < submitted_before)
            .order_by(Application.submitted_at)
        )
    )


@dataclass(frozen=True)
class Overdue:
    application: Application
    business_days: int


def overdue_for_reminder(
    session: Session, *, clock: Clock, zone: ZoneInfo, after_business_days: int = 2
) -> list[Overdue]:
    """Undecided applications older than N business days, not yet reminded today (JST).

    Applicants are promised an answer within 3 business days; reminding from the second
    keeps the promise even when a reminder is read late."""
    now = clock.now()
    today = now.astimezone(zone).date()
    overdue = []
    for application in awaiting_decision(session, submitted_before=now):
        reminded = application.last_reminded_at
        if reminded is not None and reminded.astimezone(zone).date() == today:
            continue
        submitted = application.submitted_at.astimezone(zone).date()
        days = business_days_between(submitted, today)
        if days >= after_business_days:
            overdue.append(Overdue(application=application, business_days=days))
    return overdue


def mark_reminded(session: Session, *, clock: Clock, public_ids: Sequence[str]) -> None:
    if public_ids:
        session.execute(
            update(Application)
            .where(Application.public_id.in_(public_ids))
            .values(last_reminded_at=clock.now())
        )


def awaiting_invitation(session: Session) -> list[Application]:
    """Approved applicants the secretariat still has to invite by hand (oldest first)."""
    return list(
        session.scalars(
            select(Application)
            .where(Application.status == ApplicationStatus.APPROVED)
            .order_by(Application.decided_at, Application.id)
        )
    )
