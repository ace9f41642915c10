"""What eligibility answers: an outcome, and every reason that led there.

A reason has a stable code (a key for the ja/en catalogues, bot/i18n/reasons.py), string
params and a severity; the outcome follows from the severities (bot/eligibility/decision.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Literal, Protocol


class Outcome(StrEnum):
    ELIGIBLE_LOCAL = "eligible_local"
    ELIGIBLE_AGENCY = "eligible_agency"
    MANUAL_REVIEW = "manual_review"
    REFUSED = "refused"


class Severity(StrEnum):
    INFO = "info"  # recorded, does not change the outcome
    FLAG = "flag"  # a person (the secretariat) must look: MANUAL_REVIEW
    REFUSE = "refuse"  # the application cannot go on as typed: REFUSED


class ReasonCode(StrEnum):
    """Stable keys for the message catalogues; the params each one carries are noted."""

    # email address as a whole
    EMAIL_INVALID = "email.invalid"  # problem: empty|missing_at|empty_local|empty_domain|
    #                                  too_long|characters|dots|whitespace
    EMAIL_NON_ASCII = "email.non_ascii"  # characters: "U+3042 U+200B"
    EMAIL_QUOTED_LOCAL = "email.quoted_local"
    EMAIL_MULTIPLE_AT = "email.multiple_at"
    EMAIL_SUBADDRESS = "email.subaddress"  # separator: "+", plain: the address without tag
    EMAIL_ROUTING = "email.routing"  # character: "%" or "!"
    EMAIL_UNUSUAL_LOCAL_PART = "email.unusual_local_part"  # characters
    EMAIL_DUPLICATE = "email.duplicate"  # status: pending|approved|member, email
    REAPPLICATION_AFTER_REJECTION = "reapplication.after_rejection"
    REAPPLICATION_AFTER_DELETION = "reapplication.after_deletion"
    # domain shape and look-alikes
    DOMAIN_TRAILING_DOT = "domain.trailing_dot"
    DOMAIN_EMPTY_LABEL = "domain.empty_label"
    DOMAIN_IP_LITERAL = "domain.ip_literal"
    DOMAIN_NON_ASCII = "domain.non_ascii"  # characters
    DOMAIN_PUNYCODE = "domain.punycode"  # label
    DOMAIN_INVALID = "domain.invalid"  # label
    DOMAIN_LOOKALIKE = "domain.lookalike"  # imitates: "lg.jp"|"go.jp"|"<regional>.jp"
    # domain kinds
    DOMAIN_LG_JP = "domain.lg_jp"  # domain
    DOMAIN_GO_JP_AGENCY = "domain.go_jp_agency"  # domain, agency
    DOMAIN_GO_JP_UNLISTED = "domain.go_jp_unlisted"  # domain
    DOMAIN_REGIONAL_KNOWN = "domain.regional_known"  # domain, code
    DOMAIN_REGIONAL_UNKNOWN = "domain.regional_unknown"  # domain
    DOMAIN_HOMEPAGE_MATCH = "domain.homepage_match"  # domain, codes
    DOMAIN_OTHER = "domain.other"  # domain
    # organisation
    CODE_FORMAT = "code.format"  # entered, did_you_mean (optional)
    CODE_CHECK_DIGIT = "code.check_digit"  # entered, did_you_mean (optional)
    CODE_UNKNOWN_VALID = "code.unknown_valid"  # code, prefecture (optional)
    CODE_DOMAIN_MISMATCH = "code.domain_mismatch"  # entered, suggested, basis: exact|inferred
    ORGANISATION_FROM_DOMAIN = "organisation.from_domain"  # code or agency
    ORGANISATION_MISSING = "organisation.missing"  # suggested (may be empty)
    ORGANISATION_KIND_MISMATCH = "organisation.kind_mismatch"  # entered: code|agency, domain
    ORGANISATION_AMBIGUOUS = "organisation.ambiguous"  # both a code and an agency entered
    AGENCY_UNKNOWN = "agency.unknown"  # entered
    AGENCY_DOMAIN_MISMATCH = "agency.domain_mismatch"  # entered, suggested
    # name
    NAME_MISSING = "name.missing"
    NAME_LOOKS_LIKE_ORGANISATION = "name.looks_like_organisation"  # matched


@dataclass(frozen=True)
class Reason:
    code: ReasonCode
    severity: Severity
    params: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        # frozen all the way down: a verdict is a record, not a scratchpad
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))


@dataclass(frozen=True)
class ApplicationInput:
    """What the applicant typed, unnormalised."""

    email: str
    name: str
    organisation_code: str | None = None
    agency_slug: str | None = None
    department: str | None = None


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reasons: tuple[Reason, ...]
    normalised_email: str
    organisation_code: str | None
    agency_slug: str | None
    suggested: tuple[str, ...]  # codes (local governments) or slugs (agencies) from the domain
    is_reapplication: bool

    def has(self, code: ReasonCode) -> bool:
        return any(reason.code is code for reason in self.reasons)

    @property
    def codes(self) -> tuple[ReasonCode, ...]:
        return tuple(reason.code for reason in self.reasons)


PreviousStatus = Literal["pending", "approved", "member", "rejected", "deleted"]


class EmailHistory(Protocol):
    """The previous status of a normalised address, or None if it was never seen."""

    def __call__(self, normalised_email: str, /) -> PreviousStatus | None: ...


def no_history(normalised_email: str, /) -> PreviousStatus | None:
    return None


def codepoints(text: str) -> str:
    seen = dict.fromkeys(ch for ch in text if not ch.isascii())
    return " ".join(f"U+{ord(ch):04X}" for ch in list(seen)[:8])


def refuse(reason: ReasonCode, /, **params: str) -> Reason:
    return Reason(reason, Severity.REFUSE, params)


def flag(reason: ReasonCode, /, **params: str) -> Reason:
    return Reason(reason, Severity.FLAG, params)


def info(reason: ReasonCode, /, **params: str) -> Reason:
    return Reason(reason, Severity.INFO, params)
