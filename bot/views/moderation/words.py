"""The words every moderation view shares: reasons, rules, statuses, quoting."""

from __future__ import annotations

from bot.detectors import KIND_LABELS, FindingKind
from bot.domain.moderation import RULE_KEYS, ReportReason
from bot.i18n import Language, t
from bot.text import escape_mrkdwn
from models import CaseStatus


def quote(text: str) -> str:
    return "\n".join("> " + line for line in escape_mrkdwn(text).splitlines() or [""])


def reason_label(code: str, language: Language) -> str:
    """A report reason or a detector's finding kind, in words."""
    if code in {r.value for r in ReportReason}:
        return t(f"moderation.reason.{code}", language)
    try:
        labels = KIND_LABELS[FindingKind(code)]
    except ValueError:
        return code
    return labels[0] if language == "ja" else labels[1]


def rule_text(rule: str, language: Language) -> str:
    return t(f"moderation.rule.{rule if rule in RULE_KEYS else 'general'}", language)


def status_label(status: CaseStatus, language: Language) -> str:
    return t(f"moderation.status.{status.value}", language)


def already_decided(status: str, language: Language) -> str:
    """Someone acted first: what the case is now, and that nothing changed."""
    return t(
        "moderation.already_decided", language, status=status_label(CaseStatus(status), language)
    )
