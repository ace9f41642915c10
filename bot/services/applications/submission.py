"""An application comes in: eligibility decides whether it may go on, and it is stored with
the verdict's reasons for the secretariat, the applicant told by email that it arrived."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.eligibility.decision import decide
from bot.eligibility.directory import OrganisationDirectory
from bot.eligibility.verdict import (
    ApplicationInput,
    EmailHistory,
    Outcome,
    PreviousStatus,
    Reason,
    ReasonCode,
    Severity,
    Verdict,
)
from bot.i18n import Language
from bot.services import audit, rules
from bot.services.applications.duplicates import find_duplicates
from bot.services.applications.emails import ApplicationEmailKind, queue_application_email
from bot.services.applications.organisations import current_directory
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
    # One person, one account: whether they had an account before, and its address.
    had_account: bool = False
    previous_email: str | None = None


class ApplicationRefused(Exception):
    """The application cannot go on as typed; the verdict says why (nothing was stored)."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(", ".join(r.code.value for r in verdict.reasons))
        self.verdict = verdict


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
    organisation_id = _organisation_id(session, verdict)
    duplicates = find_duplicates(
        session,
        name=form.name,
        organisation_id=organisation_id,
        previous_email=form.previous_email,
        declared=form.had_account,
    )
    application = Application(
        public_id=secrets.token_hex(8),
        email=form.email.strip(),
        email_normalized=verdict.normalised_email,
        name=form.name.strip(),
        organisation_id=organisation_id,
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
        previous_email=previous_email_of(form),
        existing_member_id=duplicates.member_id,
        duplicate_hints=[h.value for h in duplicates.hints],
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
        details={
            "outcome": verdict.outcome.value,
            "source": source.value,
            "duplicate_hints": application.duplicate_hints,
        },
    )
    return Submitted(application=application, verdict=verdict)


def previous_email_of(form: ApplicationForm) -> str | None:
    """The earlier account's address as given, kept only when they said they had one."""
    if not form.had_account:
        return None
    return (form.previous_email or "").strip() or None


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


def receive(
    session: Session,
    *,
    clock: Clock,
    directory: OrganisationDirectory,
    form: ApplicationForm,
    source: ApplicationSource,
    tell_applicant: bool = True,
) -> Submitted:
    """Submit, and queue the "received" email in the same transaction: stored and told, or
    neither. Raises ApplicationRefused (nothing stored) when eligibility refuses."""
    submitted = submit(session, clock=clock, directory=directory, form=form, source=source)
    if tell_applicant:
        queue_application_email(
            session,
            clock=clock,
            application=submitted.application,
            kind=ApplicationEmailKind.RECEIVED,
        )
    return submitted


def with_published_rules(session: Session, form: ApplicationForm) -> ApplicationForm:
    """The rules version the applicant confirmed rides in a hidden field: one that was never
    published (stale or edited) counts as the current one."""
    if form.rules_version not in {r.version for r in rules.published(session)}:
        return replace(form, rules_version=rules.current_version(session))
    return form


def apply_on_page(session: Session, *, clock: Clock, form: ApplicationForm) -> Submitted:
    """An application from the registration page, against the organisations as the latest
    code-list release left them (`current_directory`)."""
    return receive(
        session,
        clock=clock,
        directory=current_directory(session),
        form=with_published_rules(session, form),
        source=ApplicationSource.WEB,
    )
