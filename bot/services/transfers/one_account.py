"""One person, one account: an application from a member's new address becomes a move.

The applicant says they had an account and gives its address. When that address is an
active (or inactive, or flagged) member's, the application is not a second account: it is
stored as MOVED, linked to the member, and the member's move starts (`start_move` mails the
confirmation link to the new address); no review message and no invitation follow. When the
new address is not eligible for a member, the application is refused with the reasons, as
any refused application is. Every other application goes on as before, with the hints
(bot/services/applications/duplicates.py) the reviewer sees on its card.
"""

from __future__ import annotations

import secrets
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.eligibility.directory import OrganisationDirectory
from bot.eligibility.verdict import Outcome, Severity, Verdict
from bot.services import audit
from bot.services.applications import submission
from bot.services.applications.duplicates import DuplicateHint, active_member_by_email
from bot.services.applications.emails import ApplicationEmailKind, queue_application_email
from bot.services.applications.organisations import current_directory
from bot.services.applications.submission import (
    APPLICANT_ACTOR,
    ApplicationForm,
    ApplicationRefused,
    Submitted,
)
from bot.services.transfers.eligibility import (
    NOT_PUBLIC_SECTOR,
    AddressOutcome,
    AddressVerdict,
    evaluate_address,
)
from bot.services.transfers.moves import MoveRefused, start_move
from bot.text import normalise_email
from models import (
    AffiliationMove,
    Application,
    ApplicationSource,
    ApplicationStatus,
    Member,
    MoveSource,
)
from models.transfer import OPEN_MOVE_STATUSES


def receive(
    session: Session,
    *,
    clock: Clock,
    directory: OrganisationDirectory,
    form: ApplicationForm,
    source: ApplicationSource,
    tell_applicant: bool = True,
    public_url: str | None = None,
) -> Submitted:
    """`submission.receive`, unless the application is a member's move (see the module)."""
    moved = move_instead(
        session,
        clock=clock,
        directory=directory,
        form=form,
        source=source,
        tell_applicant=tell_applicant,
        public_url=public_url,
    )
    if moved is not None:
        return moved
    return submission.receive(
        session,
        clock=clock,
        directory=directory,
        form=form,
        source=source,
        tell_applicant=tell_applicant,
    )


def apply_on_page(
    session: Session, *, clock: Clock, form: ApplicationForm, public_url: str | None = None
) -> Submitted:
    """`submission.apply_on_page`, unless the application is a member's move (the mail's
    link points at `public_url`, KYOSO_PUBLIC_URL)."""
    form = submission.with_published_rules(session, form)
    moved = move_instead(
        session,
        clock=clock,
        directory=current_directory(session),
        form=form,
        source=ApplicationSource.WEB,
        public_url=public_url,
    )
    if moved is not None:
        return moved
    return submission.apply_on_page(session, clock=clock, form=form)


def move_instead(
    session: Session,
    *,
    clock: Clock,
    directory: OrganisationDirectory,
    form: ApplicationForm,
    source: ApplicationSource,
    tell_applicant: bool = True,
    public_url: str | None = None,
) -> Submitted | None:
    """The MOVED application and the member's started move; None when the earlier address
    is no active member's (or is the address applied with). Raises ApplicationRefused,
    nothing stored, when the new address is not eligible for the member."""
    previous = submission.previous_email_of(form)
    member = active_member_by_email(session, previous) if previous else None
    new_email = normalise_email(form.email)
    if member is None or not new_email or member.email_normalized == new_email:
        return None
    address = evaluate_address(
        session,
        member=member,
        email=form.email,
        organisation_code=form.organisation_code,
        agency_slug=form.agency_slug,
        directory=directory,
    )
    if address.outcome is AddressOutcome.REFUSED:
        raise ApplicationRefused(_refusal(address))
    repeated = _open_move_application(session, member=member, new_email=new_email)
    if repeated is not None:  # a double submit: the move already started, mailed once
        return Submitted(application=repeated, verdict=address.verdict)
    application = _moved_application(
        form, source=source, member=member, address=address, previous=previous, clock=clock
    )
    try:
        with session.begin_nested():  # a refusal leaves neither application nor move
            session.add(application)
            session.flush()
            started = start_move(
                session,
                clock=clock,
                member=member,
                new_email=form.email.strip(),
                organisation_code=form.organisation_code,
                agency_slug=form.agency_slug,
                department=(form.department or "").strip() or None,
                effective_on=None,
                source=MoveSource.APPLICATION,
                language=form.language,
                application_id=application.id,
                public_url=public_url,
            )
    except MoveRefused as refused:
        raise ApplicationRefused(_refusal(refused.verdict)) from None
    audit.record(
        session,
        clock=clock,
        actor=APPLICANT_ACTOR,
        action="application.moved",
        target_type="application",
        target_id=application.public_id,
        details={
            "member_id": member.id,
            "move": started.move.public_id,
            "source": source.value,
            "outcome": address.outcome.value,
        },
    )
    if tell_applicant:
        queue_application_email(
            session, clock=clock, application=application, kind=ApplicationEmailKind.MOVED
        )
    return Submitted(application=application, verdict=address.verdict)


def _moved_application(
    form: ApplicationForm,
    *,
    source: ApplicationSource,
    member: Member,
    address: AddressVerdict,
    previous: str | None,
    clock: Clock,
) -> Application:
    now = clock.now()
    return Application(
        public_id=secrets.token_hex(8),
        email=form.email.strip(),
        email_normalized=address.verdict.normalised_email,
        name=form.name.strip(),
        organisation_id=address.organisation_id,
        organisation_code_entered=(form.organisation_code or "").strip() or None,
        department=(form.department or "").strip() or None,
        language=form.language,
        rules_version=form.rules_version,
        source=source,
        status=ApplicationStatus.MOVED,
        outcome=address.verdict.outcome.value,
        reasons=address.reasons_json,
        is_reapplication=False,
        submitted_at=now,
        decided_at=now,
        decided_by=APPLICANT_ACTOR,
        previous_email=previous,
        existing_member_id=member.id,
        duplicate_hints=[DuplicateHint.PREVIOUS_EMAIL.value],
    )


def _open_move_application(
    session: Session, *, member: Member, new_email: str
) -> Application | None:
    return session.scalar(
        select(Application)
        .join(AffiliationMove, AffiliationMove.application_id == Application.id)
        .where(
            Application.status == ApplicationStatus.MOVED,
            Application.existing_member_id == member.id,
            Application.email_normalized == new_email,
            AffiliationMove.status.in_(OPEN_MOVE_STATUSES),
        )
        .order_by(Application.id.desc())
        .limit(1)
    )


def _refusal(address: AddressVerdict) -> Verdict:
    """The member's refusal as an applicant's: an address outside the public sector, only a
    flag for an applicant, is a reason to retype here."""
    reasons = tuple(
        replace(r, severity=Severity.REFUSE) if r.code in NOT_PUBLIC_SECTOR else r
        for r in address.verdict.reasons
    )
    return replace(address.verdict, outcome=Outcome.REFUSED, reasons=reasons)
