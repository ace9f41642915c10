"""Onboarding in Slack: the welcome DM, "I agree", self-introduction, channel suggestions,
and the members' `/kyoso rules` and `/kyoso whoami`.

`team_join` itself is received in handlers/members.py, which calls `complete_join` once the
join is recorded (exactly once per member)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk.errors import SlackApiError, SlackClientError

from bot import ids
from bot.i18n import Language, as_language, t
from bot.services import members, onboarding, rules
from bot.services.onboarding import JoinOutcome, UnmatchedJoin
from bot.services.welcome_sender import WelcomeSender
from bot.timefmt import slack_date
from bot.views.help import notice_blocks
from bot.views.onboarding import (
    AcceptedState,
    Introduction,
    after_acceptance,
    intro_modal,
    intro_post_blocks,
    intro_post_text,
    join_result_text,
    rules_blocks,
    to_dicts,
    unmatched_join_blocks,
    unmatched_join_text,
    whoami_blocks,
)
from handlers.applications import refresh_review_message
from handlers.command_router import CommandCall
from handlers.deps import Deps
from handlers.modal_values import typed_text
from handlers.replies import reply

log = logging.getLogger(__name__)


# What a best-effort Slack call may raise once slack_sdk's retries are spent.
_UNDELIVERED = (SlackApiError, SlackClientError, OSError)


def _slack_error(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", exc))
    return f"{type(exc).__name__}: {exc}"


# --- team_join, after the join is recorded -------------------------------------------------------


def with_email(deps: Deps, user: members.SlackUser) -> members.SlackUser:
    """The event carries the email with `users:read.email`; otherwise ask users.info."""
    if user.email or user.is_bot:
        return user
    try:
        info = deps.client.users_info(user=user.user_id, include_locale=True)
    except _UNDELIVERED as exc:
        log.warning("users.info failed for joiner %s: %s", user.user_id, _slack_error(exc))
        return user
    return members.SlackUser.from_payload(info["user"])


def complete_join(deps: Deps, outcome: JoinOutcome) -> None:
    """The Slack side of a join, after its transaction committed: each step at most once."""
    if outcome.welcome:
        # Marked sent only when Slack accepts it; otherwise the onboarding-welcomes job retries.
        welcome_sender(deps).deliver(outcome.slack_user_id)
    if outcome.matched_application:
        try:
            refresh_review_message(deps, outcome.matched_application)
        except _UNDELIVERED as exc:
            log.warning(
                "review message of %s not updated: %s",
                outcome.matched_application,
                _slack_error(exc),
            )
    if outcome.unmatched is not None:
        alert_unmatched_join(deps, outcome.unmatched)


def welcome_sender(deps: Deps) -> WelcomeSender:
    return WelcomeSender(
        session_factory=deps.session_factory,
        clock=deps.clock,
        client=deps.client,
        settings=deps.settings,
        locales=deps.locales,
    )


def alert_unmatched_join(deps: Deps, joiner: UnmatchedJoin) -> None:
    """Tell the secretariat; never remove anyone automatically."""
    channel = deps.settings.review_channel
    if channel is None:
        log.warning(
            "%s joined without an application (KYOSO_REVIEW_CHANNEL unset)", joiner.slack_user_id
        )
        return
    language = deps.settings.default_locale
    status = joiner.application_status
    status_label = t(f"applications.status.{status.value}", language) if status else None
    try:
        deps.client.chat_postMessage(
            channel=channel,
            blocks=to_dicts(unmatched_join_blocks(joiner, language, status_label=status_label)),
            text=unmatched_join_text(joiner, language),
        )
    except _UNDELIVERED as exc:
        log.warning("alert for %s not posted: %s", joiner.slack_user_id, _slack_error(exc))


# --- listeners -----------------------------------------------------------------------------------


def register(app: App, deps: Deps) -> None:
    default_language: Language = deps.settings.default_locale

    def ephemeral(respond: Respond, text: str) -> None:
        respond(text=text, response_type="ephemeral", replace_original=False)

    @app.action(ids.ONBOARDING_ACCEPT_RULES)
    def on_accept_rules(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        user_id = body["user"]["id"]
        language = deps.locales.for_user(user_id)
        with deps.session_factory.begin() as session:
            members.ensure_member(session, clock=deps.clock, slack_user_id=user_id)
            result = rules.accept(
                session, clock=deps.clock, slack_user_id=user_id, version=action.get("value", "")
            )
        accepted = (
            AcceptedState(result.accepted_version, result.accepted_at)
            if result.accepted_version and result.accepted_at
            else None
        )
        if result.outcome is rules.AcceptOutcome.OUTDATED:
            text = t("onboarding.rules.outdated", language, version=result.rules.version)
            reply(
                respond,
                [*notice_blocks(text), *rules_blocks(result.rules, language, accepted=accepted)],
                text,
            )
            return
        assert accepted is not None
        if result.outcome is rules.AcceptOutcome.ALREADY:
            ephemeral(
                respond,
                t(
                    "onboarding.rules.already_accepted",
                    language,
                    version=accepted.version,
                    at=slack_date(accepted.at),
                ),
            )
            return
        _show_acceptance(body, respond, accepted, language, result.rules)

    def _show_acceptance(
        body: dict[str, Any],
        respond: Respond,
        accepted: AcceptedState,
        language: Language,
        current: rules.Rules,
    ) -> None:
        container = body.get("container") or {}
        message = body.get("message")
        if message and not container.get("is_ephemeral") and container.get("channel_id"):
            # The welcome DM or a re-ask: replace the button with the record of acceptance.
            deps.client.chat_update(
                channel=container["channel_id"],
                ts=container["message_ts"],
                blocks=after_acceptance(message.get("blocks") or [], accepted, language),
                text=message.get("text") or t("onboarding.rules.accept_button", language),
            )
            return
        # An ephemeral answer to `/kyoso rules`: only its response_url can change it.
        blocks = rules_blocks(current, language, accepted=accepted)
        respond(
            text=t("onboarding.rules.title", language, version=current.version),
            blocks=to_dicts(blocks),
            response_type="ephemeral",
            replace_original=True,
        )

    @app.action(ids.ONBOARDING_JOIN_CHANNEL)
    def on_join_channel(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        user_id, channel_id = body["user"]["id"], str(action.get("value", ""))
        language = deps.locales.for_user(user_id)
        excluded = tuple(c for c in (deps.settings.review_channel,) if c)
        with deps.session_factory() as session:
            # Authorise on arrival: only channels Kyoso suggests, never the review channel.
            channel = onboarding.joinable_channel(session, channel_id, excluded=excluded)
        if channel is None:
            ephemeral(respond, t("onboarding.join.refused", language))
            return
        try:
            deps.client.conversations_invite(channel=channel.slack_channel_id, users=user_id)
            key = "done"
        except SlackApiError as exc:
            error = _slack_error(exc)
            key = "already" if error == "already_in_channel" else "link"
            if key == "link":
                log.info("could not invite %s to %s: %s", user_id, channel_id, error)
        ephemeral(respond, join_result_text(key, channel.slack_channel_id, language))

    @app.action(ids.ONBOARDING_INTRO_OPEN)
    def on_intro_open(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        user_id = body["user"]["id"]
        language = deps.locales.for_user(user_id)
        intro_channel = deps.settings.intro_channel
        if intro_channel is None:
            ephemeral(respond, t("onboarding.intro.no_channel", language))
            return
        with deps.session_factory() as session:
            draft = onboarding.intro_draft(session, user_id, language)
        view = intro_modal(draft, language, intro_channel=intro_channel)
        deps.client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())

    @app.view(ids.ONBOARDING_INTRO_MODAL)
    def on_intro_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        language = as_language(view.get("private_metadata"), default_language)
        values = view.get("state", {}).get("values", {})

        def value(block_id: str, *, multiline: bool = False) -> str:
            return typed_text(values, block_id, ids.ONBOARDING_INTRO_INPUT, multiline=multiline)

        name = value(ids.ONBOARDING_INTRO_NAME_BLOCK)
        intro_channel = deps.settings.intro_channel
        if not name or intro_channel is None:
            problem = (
                "onboarding.intro.name_required" if not name else "onboarding.intro.no_channel"
            )
            ack(
                response_action="errors",
                errors={ids.ONBOARDING_INTRO_NAME_BLOCK: t(problem, language)},
            )
            return
        ack()
        intro = Introduction(
            slack_user_id=user_id,
            name=name,
            organisation=value(ids.ONBOARDING_INTRO_ORGANISATION_BLOCK),
            department=value(ids.ONBOARDING_INTRO_DEPARTMENT_BLOCK),
            interests=value(ids.ONBOARDING_INTRO_INTERESTS_BLOCK, multiline=True),
        )
        # The channel is shared by everyone: it reads in the workspace's language.
        channel_language = deps.settings.default_locale
        deps.client.chat_postMessage(
            channel=intro_channel,
            blocks=to_dicts(intro_post_blocks(intro, channel_language)),
            text=intro_post_text(intro, channel_language),
            unfurl_links=False,
            unfurl_media=False,
        )
        with deps.session_factory.begin() as session:
            onboarding.record_introduction(session, clock=deps.clock, slack_user_id=user_id)

    # --- /kyoso rules, /kyoso whoami -------------------------------------------------------------

    def show_rules(call: CommandCall) -> None:
        with deps.session_factory() as session:
            current = rules.current(session)
            member = members.find(session, call.user_id)
        accepted = (
            AcceptedState(member.rules_version, member.rules_accepted_at)
            if member is not None and member.rules_version and member.rules_accepted_at
            else None
        )
        blocks = rules_blocks(current, call.language, accepted=accepted)
        reply(
            call.respond,
            blocks,
            t("onboarding.rules.title", call.language, version=current.version),
        )

    def whoami(call: CommandCall) -> None:
        with deps.session_factory() as session:
            record = onboarding.member_record(session, call.user_id, call.language)
        blocks = whoami_blocks(
            record,
            call.language,
            slack_language_name=t(f"lang.name.{call.language}", call.language),
        )
        reply(call.respond, blocks, t("onboarding.whoami.title", call.language))

    deps.commands.add("rules", help_key="help.command.rules", run=show_rules)
    deps.commands.add("whoami", help_key="help.command.whoami", run=whoami)
