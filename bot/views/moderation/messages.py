"""What Kyoso says to a poster (the detectors' warning) and to an author (the secretariat's
DM): the rule, never who reported."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from bot.detectors import NUDGE_KINDS, FindingKind
from bot.domain.moderation import CaseAction, DetectorWarning
from bot.i18n import Language, t
from bot.timefmt import slack_date
from bot.views.blocks import cut
from bot.views.moderation.words import quote, reason_label, rule_text


def _nudge_key(warning: DetectorWarning) -> str | None:
    """The gentle nudge's text when only a post's form (a bare link, an advert) is the matter."""
    kinds = set(warning.kinds)
    if not kinds or not kinds <= {kind.value for kind in NUDGE_KINDS}:
        return None
    if FindingKind.ADVERT.value in kinds:
        return "moderation.warning.advert"
    return "moderation.warning.link_only"


def warning_blocks(language: Language, warning: DetectorWarning) -> list[Block]:
    """The poster's ephemeral warning: what was found (never the value), the rule, what to do."""
    nudge = _nudge_key(warning)
    if nudge is not None:
        lead = t(nudge, language)
    else:
        labels = "、".join(reason_label(kind, language) for kind in warning.kinds)
        lead = t("moderation.warning.found", language, labels=labels)
    rule_lines = "\n".join(quote(rule_text(rule, language)) for rule in warning.rules)
    parts = [lead, f"*{t('moderation.warning.rule', language)}*\n{rule_lines}"]
    if nudge is None:
        how = "moderation.warning.how_file" if warning.in_file_name else "moderation.warning.how"
        parts.append(t(how, language))
    if warning.case_opened:
        parts.append(t("moderation.warning.case_opened", language))
    return [SectionBlock(text=MarkdownTextObject(text=cut("\n\n".join(parts))))]


def warning_text(language: Language, warning: DetectorWarning) -> str:
    nudge = _nudge_key(warning)
    if nudge is not None:
        return t(nudge, language)
    labels = "、".join(reason_label(kind, language) for kind in warning.kinds)
    return t("moderation.warning.found", language, labels=labels)


def author_dm_blocks(
    action: CaseAction,
    language: Language,
    *,
    channel_id: str,
    permalink: str | None,
    rule: str,
    comment: str,
    deadline: datetime | None,
) -> list[Block]:
    """A polite DM citing the rule. It never says who reported the message, or that anyone did."""
    key = f"moderation.dm.{action.value}.lead"
    message = permalink or t("moderation.dm.your_message", language)
    lead = t(
        key,
        language,
        channel=f"<#{channel_id}>",
        message=f"<{permalink}|{t('moderation.dm.your_message', language)}>"
        if permalink
        else message,
        deadline=slack_date(deadline) if deadline else "",
    )
    parts = [lead, quote(rule_text(rule, language))]
    if comment.strip():
        parts.append(f"*{t('moderation.dm.comment', language)}*\n{quote(comment)}")
    if action is CaseAction.REQUEST_EDIT:
        parts.append(t("moderation.warning.how", language))
    parts.append(t("moderation.dm.footer", language))
    return [SectionBlock(text=MarkdownTextObject(text=cut("\n\n".join(parts))))]


def author_dm_text(action: CaseAction, language: Language) -> str:
    return t(f"moderation.dm.{action.value}.title", language)
