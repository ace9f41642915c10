"""`/kyoso whoami`: what Kyoso holds about the member who asks."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import Block, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.domain.onboarding import MemberRecord, RulesState
from bot.i18n import Language, t
from bot.text import escape_mrkdwn
from bot.timefmt import slack_date
from bot.views.blocks import context, field, section


def whoami_title(language: Language) -> str:
    return t("onboarding.whoami.title", language)


def whoami_blocks(
    record: MemberRecord | None, language: Language, *, slack_language_name: str
) -> list[Block]:
    title = HeaderBlock(text=whoami_title(language))
    if record is None:
        return [title, section(t("onboarding.whoami.none", language))]

    def item(key: str, value: str) -> MarkdownTextObject:
        return field(t(f"onboarding.whoami.{key}", language), value)

    def or_dash(value: str | None) -> str:
        return escape_mrkdwn(value) if value else t("onboarding.whoami.empty", language)

    separator = "、" if language == "ja" else ", "
    roles = separator.join(t(f"onboarding.role.{r}", language) for r in record.roles) or t(
        "onboarding.whoami.roles_none", language
    )
    if record.locale in ("ja", "en"):
        language_text = t(f"lang.name.{record.locale}", language)
    else:
        language_text = t(
            "onboarding.whoami.language_follow_slack", language, language=slack_language_name
        )
    return [
        title,
        SectionBlock(
            fields=[
                item("real_name", or_dash(record.real_name)),
                item("display_name", or_dash(record.display_name)),
                item("email", or_dash(record.email)),
                item("organisation", or_dash(record.organisation)),
                item("department", or_dash(record.department)),
                item("status", t(f"home.status.{record.status}", language)),
            ]
        ),
        SectionBlock(
            fields=[
                item("roles", roles),
                item("language", language_text),
                item("rules", _rules_text(record, language)),
                item("joined", _when(record.joined_at, language)),
                item("introduced", _when(record.introduced_at, language)),
            ]
        ),
        context(t("onboarding.whoami.footer", language)),
    ]


def _when(at: datetime | None, language: Language) -> str:
    return slack_date(at) if at else t("onboarding.whoami.empty", language)


def _rules_text(record: MemberRecord, language: Language) -> str:
    version = escape_mrkdwn(record.rules_version or "")
    at = _when(record.rules_accepted_at, language)
    if record.rules_state is RulesState.CURRENT:
        return t("onboarding.whoami.rules_current", language, version=version, at=at)
    if record.rules_state is RulesState.OUTDATED:
        current = escape_mrkdwn(record.current_rules_version)
        return t(
            "onboarding.whoami.rules_outdated", language, version=version, at=at, current=current
        )
    return t("onboarding.whoami.rules_none", language)
