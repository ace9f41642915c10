"""An organisation's mail or web domain changes (city.old.lg.jp → city.new.lg.jp): the
organisations on the old domain move to the new one, and everyone eligibility looked at on
either domain is looked at again.

- members on the new domain whose affiliation was unverified (an open check) and who are now
  eligible: the check is resolved and their organisation set;
- members still on the old domain stay as they are: they move when Slack shows their new
  address (bot/services/transfers/slack_changes.py);
- pending applications on either domain get their outcome and reasons recomputed.

Nothing is committed here: `kyoso orgs remap-domain --dry-run` runs the very same steps and
rolls back, so its report is the real one."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.eligibility.decision import decide
from bot.eligibility.directory import OrganisationDirectory
from bot.eligibility.domains import organisation_domain
from bot.eligibility.verdict import ApplicationInput, EmailHistory, PreviousStatus
from bot.services import audit
from bot.services.applications.organisations import organisation_label
from bot.services.applications.submission import history_of, reason_to_json
from bot.services.transfers.eligibility import AddressOutcome, evaluate_address
from bot.services.transfers.slack_changes import open_check_of
from bot.text import nfkc
from models import (
    Application,
    ApplicationStatus,
    CheckStatus,
    Member,
    MemberStatus,
    Organisation,
)

_PENDING = (ApplicationStatus.PENDING, ApplicationStatus.INFO_REQUESTED)
_DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


class BadDomain(ValueError):
    """Not a domain, the same domain twice, or no organisation on the old one."""

    def __init__(self, key: str, **params: str) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass
class RemapReport:
    old: str
    new: str
    organisations: list[str] = field(default_factory=list)  # labels
    resolved: list[str] = field(default_factory=list)  # Slack user ids
    still_unverified: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # still on the old domain
    applications: list[str] = field(default_factory=list)  # public ids re-evaluated
    applications_changed: list[str] = field(default_factory=list)
    cards_to_refresh: list[str] = field(default_factory=list)  # checks and applications


def normalise_domain(value: str) -> str:
    return nfkc(value).strip().strip(".").lower()


def _on(column: Any, domain: str) -> ColumnElement[bool]:
    """An address on `domain` or one of its subdomains."""
    return or_(
        column.endswith("@" + domain, autoescape=True),
        column.endswith("." + domain, autoescape=True),
    )


def _is_on(email: str, domain: str) -> bool:
    return email.endswith("@" + domain) or email.endswith("." + domain)


def _site(organisation: Organisation) -> str | None:
    """The domain the directory derives from an organisation's row (homepage host or mail)."""
    if not organisation.domain:
        return None
    host = normalise_domain(organisation.domain)
    return organisation_domain(host) or host


def remap_domain(session: Session, *, clock: Clock, old: str, new: str, actor: str) -> RemapReport:
    old, new = normalise_domain(old), normalise_domain(new)
    for domain in (old, new):
        if not _DOMAIN.fullmatch(domain):
            raise BadDomain("transfers.orgs.remap.bad_domain", domain=domain)
    if old == new:
        raise BadDomain("transfers.orgs.remap.same_domain")
    now = clock.now()
    report = RemapReport(old=old, new=new)
    organisations = [o for o in session.scalars(select(Organisation)) if _site(o) == old]
    if not organisations:
        raise BadDomain("transfers.orgs.remap.unknown_domain", old=old)
    for organisation in organisations:
        organisation.domain = new
        organisation.updated_at = now
        report.organisations.append(organisation_label(organisation) or organisation.name)
    session.flush()
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="transfers.domain_remapped",
        target_type="domain",
        target_id=old,
        details={"new": new, "organisations": [o.id for o in organisations]},
    )
    directory = OrganisationDirectory(
        session.scalars(select(Organisation).where(Organisation.retired_at.is_(None))).all()
    )
    _members(session, clock=clock, report=report, directory=directory, actor=actor)
    _applications(session, clock=clock, report=report, directory=directory, actor=actor)
    return report


def _members(
    session: Session,
    *,
    clock: Clock,
    report: RemapReport,
    directory: OrganisationDirectory,
    actor: str,
) -> None:
    now = clock.now()
    found = session.scalars(
        select(Member)
        .where(
            Member.status.not_in((MemberStatus.DEACTIVATED, MemberStatus.DELETED)),
            or_(_on(Member.email_normalized, report.old), _on(Member.email_normalized, report.new)),
        )
        .order_by(Member.id)
    )
    for member in found:
        email = member.email_normalized or ""
        if not _is_on(email, report.new):
            report.waiting.append(member.slack_user_id)
            continue
        check = open_check_of(session, member.id)
        if check is None:
            continue  # verified before: the domain change does not touch them
        verdict = evaluate_address(session, member=member, email=email, directory=directory)
        if verdict.outcome is not AddressOutcome.ELIGIBLE:
            check.outcome, check.reasons = verdict.outcome.value, verdict.reasons_json
            check.updated_at = now
            report.still_unverified.append(member.slack_user_id)
            report.cards_to_refresh.append(check.public_id)
            continue
        check.status = CheckStatus.RESOLVED
        check.decided_by, check.decided_at, check.updated_at = actor, now, now
        old_organisation = member.organisation_id
        member.organisation_id = verdict.organisation_id
        member.updated_at = now
        audit.record(
            session,
            clock=clock,
            actor=actor,
            action="transfers.check_resolved",
            target_type="affiliation_check",
            target_id=check.public_id,
            details={
                "member": member.slack_user_id,
                "by": "domain_remap",
                "old_organisation": old_organisation,
                "new_organisation": verdict.organisation_id,
            },
        )
        report.resolved.append(member.slack_user_id)
        report.cards_to_refresh.append(check.public_id)


def _history_without(session: Session, application: Application) -> EmailHistory:
    """The address history, where the application itself is not a second one."""
    history = history_of(session)

    def previous(normalised_email: str, /) -> PreviousStatus | None:
        status = history(normalised_email)
        if normalised_email == application.email_normalized and status == "pending":
            return None
        return status

    return previous


def _applications(
    session: Session,
    *,
    clock: Clock,
    report: RemapReport,
    directory: OrganisationDirectory,
    actor: str,
) -> None:
    found = session.scalars(
        select(Application)
        .where(
            Application.status.in_(_PENDING),
            or_(
                _on(Application.email_normalized, report.old),
                _on(Application.email_normalized, report.new),
            ),
        )
        .order_by(Application.id)
    )
    for application in found:
        verdict = decide(
            ApplicationInput(
                email=application.email,
                name=application.name,
                organisation_code=application.organisation_code_entered,
            ),
            directory,
            _history_without(session, application),
        )
        reasons = [reason_to_json(r) for r in verdict.reasons]
        report.applications.append(application.public_id)
        if (application.outcome, application.reasons) == (verdict.outcome.value, reasons):
            continue
        before = application.outcome
        application.outcome, application.reasons = verdict.outcome.value, reasons
        organisation_id = _organisation_id(session, verdict.organisation_code)
        if organisation_id is not None:
            application.organisation_id = organisation_id
        audit.record(
            session,
            clock=clock,
            actor=actor,
            action="application.reevaluated",
            target_type="application",
            target_id=application.public_id,
            details={"before": before, "after": verdict.outcome.value, "by": "domain_remap"},
        )
        report.applications_changed.append(application.public_id)
        report.cards_to_refresh.append(application.public_id)


def _organisation_id(session: Session, code: str | None) -> int | None:
    if not code:
        return None
    return session.scalar(select(Organisation.id).where(Organisation.code == code))
