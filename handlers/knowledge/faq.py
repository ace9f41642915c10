"""The secretariat writes an FAQ entry: `/kyoso faq` opens the modal, its submission passes the
privacy gate (personal values masked, a handling label refused) and keeps the entry under a
key chosen when the modal opened, so submitting twice keeps one entry."""

from __future__ import annotations

import uuid
from typing import Any

from slack_bolt import Ack, App

from bot import ids
from bot.audience import Audience
from bot.services.knowledge import entries
from bot.services.knowledge.privacy import Refused
from bot.views.knowledge.capture import FaqMetadata, faq_modal, saved_text
from handlers.access import routes_for
from handlers.command_router import CommandCall
from handlers.deps import Deps
from handlers.knowledge.entry_form import refusal_text, stale_error, submitted_entry
from handlers.replies import field_error


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)
    capture = deps.gateway.knowledge.capture

    def open_faq(call: CommandCall) -> None:
        view = faq_modal(call.language, metadata=FaqMetadata(key=uuid.uuid4().hex))
        deps.client.views_open(trigger_id=call.trigger_id, view=view.to_dict())

    deps.commands.add(
        "faq", help_key="help.command.faq", run=open_faq, audience=Audience.SECRETARIAT
    )

    @routes.view(ids.KNOWLEDGE_FAQ_MODAL, audience=Audience.SECRETARIAT)
    def on_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        actor = body["user"]["id"]
        language = deps.locales.for_user(actor)
        metadata = FaqMetadata.load(view.get("private_metadata"))
        if metadata is None or not metadata.key.isalnum():
            ack(**stale_error(language))
            return
        typed = submitted_entry(ack, view, language)
        if typed is None:
            return
        try:
            with deps.session_factory.begin() as session:
                saved = entries.save_faq(
                    session,
                    clock=deps.clock,
                    actor=actor,
                    key=metadata.key[:64],
                    title=typed.title,
                    question=typed.question,
                    answer=typed.answer,
                    tags=typed.tags,
                )
        except Refused as exc:
            ack(**field_error(ids.KNOWLEDGE_CAPTURE_ANSWER_BLOCK, refusal_text(exc, language)))
            return
        ack()
        text = saved_text(
            language, title=typed.title, created=saved.created, masked=saved.masked, faq=True
        )
        capture.tell(actor, text)
