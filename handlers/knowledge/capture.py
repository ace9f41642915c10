"""Keeping a public thread's question and answer: the message shortcut (any member) and the
✅ offer's button open the prefilled modal (bot/slack/knowledge/capture.py reads the thread);
the submission passes the privacy gate again, keeps one entry per thread and tells the
recorder what was masked."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App

from bot import ids
from bot.i18n import t
from bot.services.activity import slack_ts_to_datetime
from bot.services.channels import registry
from bot.services.knowledge import entries
from bot.services.knowledge.entries import ChannelOptedOut, Saved, ThreadDraft
from bot.services.knowledge.privacy import Refused
from bot.views.knowledge.capture import CaptureMetadata, parse_offer_value, saved_text
from handlers.access import routes_for
from handlers.deps import Deps
from handlers.knowledge.entry_form import Typed, refusal_text, stale_error, submitted_entry
from handlers.replies import field_error

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)
    capture = deps.gateway.knowledge.capture

    @routes.message_shortcut(ids.KNOWLEDGE_SAVE_SHORTCUT)
    def on_shortcut(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        message = body.get("message") or {}
        capture.open_modal(
            trigger_id=str(body["trigger_id"]),
            user_id=body["user"]["id"],
            channel_id=str((body.get("channel") or {}).get("id") or ""),
            ts=str(message.get("ts") or body.get("message_ts") or ""),
            from_check=False,
        )

    # Anyone may press it; the adapter checks the presser against the thread (the asker, a
    # facilitator of the channel, an ambassador, the secretariat) once it has read it.
    @routes.action(ids.KNOWLEDGE_CAPTURE_OFFER)
    def on_offer(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        action = (body.get("actions") or [{}])[0]
        marked = parse_offer_value(action.get("value"))
        if marked is None:
            log.warning("an offer button with an unknown value was ignored")
            return
        channel_id, ts = marked
        capture.open_modal(
            trigger_id=str(body["trigger_id"]),
            user_id=body["user"]["id"],
            channel_id=channel_id,
            ts=ts,
            from_check=True,
        )

    @routes.view(ids.KNOWLEDGE_CAPTURE_MODAL)
    def on_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        recorder = body["user"]["id"]
        language = deps.locales.for_user(recorder)
        metadata = CaptureMetadata.load(view.get("private_metadata"))
        if metadata is None:  # not what Kyoso sent: nothing is kept
            ack(**stale_error(language))
            return
        typed = submitted_entry(ack, view, language)
        if typed is None:
            return
        try:
            saved = _save(deps, recorder, metadata, typed)
        except ChannelOptedOut:
            opted_out = t("knowledge.capture.notice.opted_out", language)
            ack(**field_error(ids.KNOWLEDGE_CAPTURE_TITLE_BLOCK, opted_out))
            return
        except Refused as exc:  # the gate's last word, should the fields' check have missed
            ack(**field_error(ids.KNOWLEDGE_CAPTURE_ANSWER_BLOCK, refusal_text(exc, language)))
            return
        ack()
        log.info("thread kept as entry %s (new: %s)", saved.entry_id, saved.created)
        capture.tell(
            recorder,
            saved_text(language, title=typed.title, created=saved.created, masked=saved.masked),
            channel_id=metadata.channel_id,
            thread_ts=metadata.thread_ts,
        )


def _save(deps: Deps, recorder: str, metadata: CaptureMetadata, typed: Typed) -> Saved:
    with deps.session_factory.begin() as session:
        channel = registry.find_channel(session, metadata.channel_id)
        return entries.save_thread(
            session,
            clock=deps.clock,
            recorder_id=recorder,
            draft=ThreadDraft(
                channel_id=metadata.channel_id,
                thread_ts=metadata.thread_ts,
                answer_ts=metadata.answer_ts,
                asker_id=metadata.asker_id,
                answerer_id=metadata.answerer_id,
                title=typed.title,
                question=typed.question,
                answer=typed.answer,
                tags=typed.tags,
                answered_at=slack_ts_to_datetime(metadata.answer_ts),
                checks=metadata.checks,
                prefecture=channel.prefecture if channel is not None else None,
            ),
        )
