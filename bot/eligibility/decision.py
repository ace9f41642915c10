"""The decision: one pure function from what the applicant typed to a verdict with reasons.

`decide()` never raises on what an applicant typed and never looks anything up itself: the
organisation directory and the email history are handed in."""

from __future__ import annotations

from bot.eligibility.addresses import CheckedEmail, check_email
from bot.eligibility.directory import OrganisationDirectory
from bot.eligibility.names import organisation_like
from bot.eligibility.organisations import check_organisation
from bot.eligibility.verdict import (
    ApplicationInput,
    EmailHistory,
    Outcome,
    Reason,
    ReasonCode,
    Severity,
    Verdict,
    flag,
    info,
    refuse,
)
from bot.text import nfkc

_BLOCKING_STATUSES: frozenset[str] = frozenset({"pending", "approved", "member"})


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = nfkc(value)
    return cleaned or None


def _check_history(email: CheckedEmail, history: EmailHistory) -> tuple[list[Reason], bool]:
    if email.local is None:  # no usable address to look up
        return [], False
    reasons: list[Reason] = []
    reapplication = False
    for address in dict.fromkeys(a for a in (email.normalised, email.plain) if a):
        status = history(address)
        if status in _BLOCKING_STATUSES:
            reasons.append(refuse(ReasonCode.EMAIL_DUPLICATE, status=str(status), email=address))
        elif status == "rejected" and address == email.normalised:
            reapplication = True
            reasons.append(info(ReasonCode.REAPPLICATION_AFTER_REJECTION))
        elif status == "deleted" and address == email.normalised:
            reapplication = True
            reasons.append(info(ReasonCode.REAPPLICATION_AFTER_DELETION))
    return reasons, reapplication


def decide(
    application: ApplicationInput,
    directory: OrganisationDirectory,
    history: EmailHistory,
    *,
    check_name: bool = True,
) -> Verdict:
    """The eligibility of one application, with every reason that led there.

    `check_name=False` for a member's new address: their name was settled when they joined."""
    email = check_email(application.email)
    reasons = list(email.reasons)
    history_reasons, reapplication = _check_history(email, history)
    reasons.extend(history_reasons)

    org = check_organisation(
        email.domain,
        _clean(application.organisation_code),
        _clean(application.agency_slug),
        directory,
    )
    reasons.extend(org.reasons)

    name = nfkc(application.name)
    if not check_name:
        pass
    elif not name:
        reasons.append(refuse(ReasonCode.NAME_MISSING))
    else:
        matched = organisation_like(name, directory)
        if matched:
            reasons.append(flag(ReasonCode.NAME_LOOKS_LIKE_ORGANISATION, matched=matched))

    severities = {reason.severity for reason in reasons}
    if Severity.REFUSE in severities:
        outcome = Outcome.REFUSED
    elif Severity.FLAG in severities or org.eligible is None:
        outcome = Outcome.MANUAL_REVIEW
    else:
        outcome = org.eligible
    if not reasons:  # cannot happen (every domain path adds one); kept as a safety net
        reasons.append(flag(ReasonCode.DOMAIN_OTHER, domain=email.domain or ""))
    return Verdict(
        outcome=outcome,
        reasons=tuple(reasons),
        normalised_email=email.normalised,
        organisation_code=org.code,
        agency_slug=org.slug,
        suggested=org.suggested,
        is_reapplication=reapplication,
    )
