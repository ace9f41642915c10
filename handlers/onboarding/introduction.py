"""Self-introduction: the modal opened from the welcome DM or the reminder, and its post to
the introduction channel."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.audience import Audience
from bot.domain.onboarding import Introduction
from bot.i18n import t
from bot.services.onboarding.introductions import intro_draft, record_introduction
from bot.views.onboarding.introduction import IntroModalMetadata
from handlers.access import routes_for
from handlers.deps import Deps
from handlers.modal_values import typed_text
from handlers.replies import ephemeral, field_error


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)

    @routes.action(ids.ONBOARDING_INTRO_OPEN, audience=Audience.ANYONE)
    def on_intro_open(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        user_id = body["user"]["id"]
        language = deps.locales.for_user(user_id)
        intro_channel = deps.settings.intro_channel
        if intro_channel is None:
            ephemeral(respond, t("onboarding.intro.no_channel", language))
            return
        with deps.session_factory() as session:
            draft = intro_draft(session, user_id, language)
        deps.gateway.onboarding.replies.open_introduction(
            trigger_id=body["trigger_id"],
            draft=draft,
            language=language,
            intro_channel=intro_channel,
        )

    @routes.view(ids.ONBOARDING_INTRO_MODAL, audience=Audience.ANYONE)
    def on_intro_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        metadata = IntroModalMetadata.load(view.get("private_metadata"))
        intro = submitted_introduction(body["user"]["id"], view)
        intro_channel = deps.settings.intro_channel
        problem = submission_problem(metadata, intro, intro_channel)
        if problem is not None or intro_channel is None:
            language = metadata.language if metadata else deps.settings.default_locale
            error = t(problem or "onboarding.intro.no_channel", language)
            ack(**field_error(ids.ONBOARDING_INTRO_NAME_BLOCK, error))
            return
        ack()
        deps.gateway.onboarding.replies.post_introduction(intro, intro_channel=intro_channel)
        with deps.session_factory.begin() as session:
            record_introduction(session, clock=deps.clock, slack_user_id=intro.slack_user_id)


def submitted_introduction(user_id: str, view: dict[str, Any]) -> Introduction:
    values = view.get("state", {}).get("values", {})

    def value(block_id: str, *, multiline: bool = False) -> str:
        return typed_text(values, block_id, ids.ONBOARDING_INTRO_INPUT, multiline=multiline)

    return Introduction(
        slack_user_id=user_id,
        name=value(ids.ONBOARDING_INTRO_NAME_BLOCK),
        organisation=value(ids.ONBOARDING_INTRO_ORGANISATION_BLOCK),
        department=value(ids.ONBOARDING_INTRO_DEPARTMENT_BLOCK),
        interests=value(ids.ONBOARDING_INTRO_INTERESTS_BLOCK, multiline=True),
    )


def submission_problem(
    metadata: IntroModalMetadata | None, intro: Introduction, intro_channel: str | None
) -> str | None:
    """The catalogue key shown under the name field, or None when the post can go."""
    if metadata is None:  # not a modal Kyoso opened, or one from an older release
        return "onboarding.intro.stale"
    if not intro.name:
        return "onboarding.intro.name_required"
    if intro_channel is None:
        return "onboarding.intro.no_channel"
    return None
