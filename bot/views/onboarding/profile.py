"""The one profile nudge: a missing photo, a display name that reads as an organisation."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.domain.onboarding import ProfileProblems
from bot.i18n import Language, t
from bot.text import escape_mrkdwn
from bot.views.blocks import context, section


def profile_nudge_blocks(problems: ProfileProblems, language: Language) -> list[Block]:
    lines = []
    if problems.no_photo:
        lines.append(t("onboarding.profile.no_photo", language))
    if problems.organisation_like_name:
        lines.append(
            t(
                "onboarding.profile.organisation_name",
                language,
                name=escape_mrkdwn(problems.organisation_like_name[:100]),
            )
        )
    return [
        section(
            f"*{t('onboarding.profile.title', language)}*\n{t('onboarding.profile.lead', language)}"
        ),
        section("\n".join(lines)),
        context(t("onboarding.profile.how", language)),
    ]


def profile_nudge_text(language: Language) -> str:
    return t("onboarding.profile.title", language)
