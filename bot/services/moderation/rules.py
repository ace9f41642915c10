"""Which usage rule a report reason or a detector's finding falls under, and the deadline an
author is given to edit."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.business_days import add_business_days
from bot.detectors import FindingKind, Rule
from bot.domain.moderation import RULE_KEYS, ReportReason

# The author is asked to edit within this many government business days (開庁日).
EDIT_DEADLINE_BUSINESS_DAYS = 2

_RULE_OF_REASON = {
    ReportReason.SLANDER.value: "slander",
    ReportReason.SPAM.value: "ad_or_link_only",
    ReportReason.PERSONAL_INFORMATION.value: "personal_information",
    ReportReason.CONFIDENTIAL.value: "confidentiality",
    ReportReason.REPOSTING.value: "reposting",
    ReportReason.OTHER.value: "general",
}
_RULE_OF_DETECTOR_RULE = {
    Rule.PERSONAL_INFORMATION: "personal_information",
    Rule.CONFIDENTIALITY_3: "confidentiality",
    Rule.CONFIDENTIALITY_2: "confidentiality",
    Rule.AD_OR_LINK_ONLY: "ad_or_link_only",
}
_KIND_RULE = {
    FindingKind.MY_NUMBER: Rule.PERSONAL_INFORMATION,
    FindingKind.RESIDENT_CODE: Rule.PERSONAL_INFORMATION,
    FindingKind.PHONE_NUMBER: Rule.PERSONAL_INFORMATION,
    FindingKind.POSTAL_ADDRESS: Rule.PERSONAL_INFORMATION,
    FindingKind.BIRTH_DATE: Rule.PERSONAL_INFORMATION,
    FindingKind.CONFIDENTIALITY_3: Rule.CONFIDENTIALITY_3,
    FindingKind.CONFIDENTIALITY_LABEL: Rule.CONFIDENTIALITY_2,
    FindingKind.LINK_ONLY: Rule.AD_OR_LINK_ONLY,
    FindingKind.ADVERT: Rule.AD_OR_LINK_ONLY,
}


def rule_of_detector(rule: Rule) -> str:
    return _RULE_OF_DETECTOR_RULE[rule]


def rule_of_reason(code: str) -> str:
    """The rule a report reason or a finding kind falls under."""
    if code in _RULE_OF_REASON:
        return _RULE_OF_REASON[code]
    try:
        return _RULE_OF_DETECTOR_RULE[_KIND_RULE[FindingKind(code)]]
    except ValueError:
        return "general"


def default_rule(reasons: Sequence[str]) -> str:
    """The rule most reasons point to (the earliest on a tie)."""
    rules = [rule_of_reason(r) for r in reasons]
    if not rules:
        return "general"
    counts = Counter(rules)
    return max(rules, key=lambda rule: (counts[rule], -rules.index(rule)))


def known_rule(chosen: str | None) -> str | None:
    """A rule picked in a modal, if it is one of ours (a forged value is dropped)."""
    return chosen if chosen in RULE_KEYS else None


def edit_deadline(now: datetime, zone: ZoneInfo) -> datetime:
    """The same time of day, EDIT_DEADLINE_BUSINESS_DAYS business days later (JST)."""
    local = now.astimezone(zone)
    day = add_business_days(local.date(), EDIT_DEADLINE_BUSINESS_DAYS)
    return datetime.combine(day, local.time(), tzinfo=zone).astimezone(UTC)
