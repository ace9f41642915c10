"""Answers to the dormancy round: a facilitator (or the secretariat) keeps the channel or
agrees to archive it; the secretariat archives a listed channel with one click."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.audience import Audience
from bot.decided import AlreadyDecided
from bot.domain.channels import ArchiveResult, NotYours
from bot.i18n import Language, t
from bot.services.channels import dormancy
from bot.text import parse_int
from bot.views.channels.common import channel_link
from handlers.access import routes_for
from handlers.deps import Deps
from handlers.replies import ephemeral


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)
    answers = deps.gateway.channels.answers

    @routes.action(ids.DORMANCY_KEEP, audience=Audience.FACILITATOR)
    @routes.action(ids.DORMANCY_ARCHIVE, audience=Audience.FACILITATOR)
    def on_answer(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        actor, keep = body["user"]["id"], action["action_id"] == ids.DORMANCY_KEEP
        language = deps.locales.for_user(actor)
        review_id = parse_int(str(action.get("value") or ""), low=1)
        if review_id is None:
            return
        try:
            with deps.session_factory.begin() as session:
                channel_id = dormancy.answer(
                    session, clock=deps.clock, review_id=review_id, actor=actor, keep=keep
                )
        except (NotYours, AlreadyDecided) as exc:
            ephemeral(respond, answer_refusal(exc, language))
            return
        except LookupError:  # a round that no longer exists
            return
        key = "channels.dormant.answered.keep" if keep else "channels.dormant.answered.archive"
        ephemeral(respond, t(key, language, channel=channel_link(channel_id)))
        answers.show_answer(body.get("container") or {}, review_id=review_id, language=language)

    @routes.action(ids.DORMANCY_ARCHIVE_NOW, audience=Audience.SECRETARIAT)
    def on_archive_now(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        listed_id = parse_int(str(action.get("value") or ""), low=1)
        if listed_id is None:
            return
        result = answers.archive_listed(listed_id, body["user"]["id"])
        ephemeral(respond, archive_text(result, deps.settings.default_locale))
        answers.refresh_list(body.get("container") or {}, listed_review_ids(body))


def answer_refusal(exc: Exception, language: Language) -> str:
    if isinstance(exc, AlreadyDecided):
        status = t(f"channels.dormant.status.{exc.status}", language)
        return t("channels.dormant.already", language, status=status)
    return t("channels.not_facilitator", language)


def archive_text(result: ArchiveResult, language: Language) -> str:
    link = channel_link(result.slack_channel_id or "")
    if result.status == "archived":
        return t("channels.archive.done", language, channel=link)
    if result.status in ("refused", "failed"):
        key = f"channels.archive.{result.status}"
        return t(key, language, channel=link, error=result.error or "")
    status = t(f"channels.dormant.status.{result.outcome}", language)
    return t("channels.dormant.already", language, status=status)


def listed_review_ids(body: dict[str, Any]) -> list[int]:
    """The rounds the clicked secretariat list shows, from its blocks' ids."""
    message = body.get("message") or {}
    prefix = ids.DORMANCY_BLOCK + "_"
    found = (
        parse_int(str(block.get("block_id", "")).removeprefix(prefix), low=1)
        for block in message.get("blocks") or []
        if str(block.get("block_id", "")).startswith(prefix)
    )
    return [review_id for review_id in found if review_id is not None]
