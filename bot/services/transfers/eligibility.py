"""A member's new address through the registration eligibility rules.

The rules are the applicant's (bot/eligibility/decision.py), with two differences: the
member's own records do not count as another account, and an address eligibility cannot
place in the public sector (a private or company address) refuses rather than asks the
secretariat: a member keeps their account by a public-sector address, and the secretariat
may still decide by hand."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.eligibility.decision import decide
from bot.eligibility.directory import OrganisationDirectory
from bot.eligibility.verdict import (
    ApplicationInput,
    EmailHistory,
    Outcome,
    PreviousStatus,
    ReasonCode,
    Verdict,
)
from bot.services.applications.organisations import current_directory
from bot.services.applications.submission import history_of
from models import Member, Organisation

# Reasons that say the address is not a public servant's: refused for a member.
NOT_PUBLIC_SECTOR = frozenset({ReasonCode.DOMAIN_OTHER, ReasonCode.DOMAIN_LOOKALIKE})


class AddressOutcome(StrEnum):
    ELIGIBLE = "eligible"  # the organisation is known: the change can be applied
    REVIEW = "review"  # the secretariat decides
    REFUSED = "refused"  # not eligible: nothing changes


@dataclass(frozen=True)
class AddressVerdict:
    outcome: AddressOutcome
    verdict: Verdict
    organisation_id: int | None  # the organisation eligibility settled on, if any

    @property
    def reasons_json(self) -> list[dict[str, object]]:
        return [
            {"code": r.code.value, "severity": r.severity.value, "params": dict(r.params)}
            for r in self.verdict.reasons
        ]


def _history_without(session: Session, member: Member) -> EmailHistory:
    """The address history, where the member's own address is not a second account."""
    history = history_of(session)

    def previous(normalised_email: str, /) -> PreviousStatus | None:
        if member.email_normalized and normalised_email == member.email_normalized:
            return None
        return history(normalised_email)

    return previous


def evaluate_address(
    session: Session,
    *,
    member: Member,
    email: str,
    organisation_code: str | None = None,
    agency_slug: str | None = None,
    directory: OrganisationDirectory | None = None,
) -> AddressVerdict:
    """Whether `member` may belong by `email` (and the organisation they named, if any)."""
    verdict = decide(
        ApplicationInput(
            email=email,
            name=member.real_name or member.display_name or "",
            organisation_code=organisation_code,
            agency_slug=agency_slug,
        ),
        directory or current_directory(session),
        _history_without(session, member),
        check_name=False,
    )
    if verdict.outcome is Outcome.REFUSED or any(
        r.code in NOT_PUBLIC_SECTOR for r in verdict.reasons
    ):
        return AddressVerdict(AddressOutcome.REFUSED, verdict, None)
    organisation_id = _organisation_id(session, verdict)
    if verdict.outcome is Outcome.MANUAL_REVIEW or organisation_id is None:
        return AddressVerdict(AddressOutcome.REVIEW, verdict, organisation_id)
    return AddressVerdict(AddressOutcome.ELIGIBLE, verdict, organisation_id)


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
