"""Publishing a new version of the usage rules from Slack: `/kyoso rules publish` (opened by
handlers/onboarding/rules.py, which owns `/kyoso rules`) shows a form; 「確認へ」 checks it and
shows the preview in both languages; 「公開する」 publishes through the same use case as the
CLI (bot/services/rules.py: audited, members asked again by the onboarding job); 「戻る」
returns to the form as filled. Every entry is the secretariat's."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot import ids
from bot.audience import Audience
from bot.services import rules
from bot.views.secretariat import rules as views
from bot.views.secretariat.rules import RulesForm, RulesPreviewMetadata
from handlers.access import routes_for
from handlers.deps import Deps
from handlers.modal_values import typed_text
from handlers.replies import field_error

_FIELD_BLOCKS = {
    "version": ids.SECRETARIAT_RULES_VERSION_BLOCK,
    "clock": ids.SECRETARIAT_RULES_VERSION_BLOCK,
    "ja": ids.SECRETARIAT_RULES_JA_BLOCK,
    "en": ids.SECRETARIAT_RULES_EN_BLOCK,
}


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)
    secretariat = Audience.SECRETARIAT

    @routes.view(ids.SECRETARIAT_RULES_EDIT_MODAL, audience=secretariat)
    def on_form(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        meta = RulesPreviewMetadata.load(view.get("private_metadata"))
        language = meta.language if meta else deps.locales.for_user(body["user"]["id"])
        if meta is None:
            stale = views.form_error("stale", language)
            ack(**field_error(ids.SECRETARIAT_RULES_VERSION_BLOCK, stale))
            return
        values = (view.get("state") or {}).get("values") or {}

        def typed(block_id: str, multiline: bool = True) -> str:
            return typed_text(values, block_id, ids.SECRETARIAT_RULES_INPUT, multiline=multiline)

        try:
            with deps.session_factory() as session:
                draft = rules.check_draft(
                    session,
                    clock=deps.clock,
                    version=typed(ids.SECRETARIAT_RULES_VERSION_BLOCK, multiline=False),
                    text_ja=typed(ids.SECRETARIAT_RULES_JA_BLOCK),
                    text_en=typed(ids.SECRETARIAT_RULES_EN_BLOCK),
                )
        except rules.RulesError as exc:
            ack(
                **field_error(
                    _FIELD_BLOCKS.get(exc.field, ids.SECRETARIAT_RULES_VERSION_BLOCK), str(exc)
                )
            )
            return
        form = RulesForm(
            version=draft.version,
            text_ja=draft.text_ja,
            text_en=draft.text_en,
            summary=typed(ids.SECRETARIAT_RULES_SUMMARY_BLOCK),
        )
        ack(response_action="update", view=views.preview_modal(form, language).to_dict())

    @routes.action(ids.SECRETARIAT_RULES_BACK, audience=secretariat)
    def on_back(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        view = body.get("view") or {}
        form = _previewed(view)
        if form is None:
            return  # not our preview: nothing to go back to
        meta = RulesPreviewMetadata.load(view.get("private_metadata"))
        assert meta is not None, "checked by _previewed"
        deps.client.views_update(
            view_id=view.get("id"),
            hash=view.get("hash"),
            view=views.form_modal(meta.language, form).to_dict(),
        )

    @routes.view(ids.SECRETARIAT_RULES_PREVIEW_MODAL, audience=secretariat)
    def on_publish(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        form = _previewed(view)
        meta = RulesPreviewMetadata.load(view.get("private_metadata"))
        language = meta.language if meta else deps.locales.for_user(user_id)
        if form is None:
            notice = views.notice_modal(views.form_error("stale", language), language)
            ack(response_action="update", view=notice.to_dict())
            return
        try:
            with deps.session_factory.begin() as session:
                published = rules.publish(
                    session,
                    clock=deps.clock,
                    version=form.version,
                    text_ja=form.text_ja,
                    text_en=form.text_en,
                    actor=user_id,
                    summary=form.summary,
                )
        except rules.RulesError as exc:  # e.g. a double submit: the version exists now
            ack(response_action="update", view=views.notice_modal(str(exc), language).to_dict())
            return
        done = views.notice_modal(views.published_text(published.version, language), language)
        ack(response_action="update", view=done.to_dict())


def _previewed(view: dict[str, Any]) -> RulesForm | None:
    """The draft a preview shows: short fields from its metadata, texts from its sections
    (what the secretariat saw is what is published)."""
    meta = RulesPreviewMetadata.load(view.get("private_metadata"))
    texts: dict[str, str] = {}
    for block in view.get("blocks") or []:
        text = (block.get("text") or {}).get("text") if isinstance(block, dict) else None
        if isinstance(text, str):
            texts[str(block.get("block_id"))] = text
    text_ja = texts.get(ids.SECRETARIAT_RULES_PREVIEW_JA_BLOCK)
    text_en = texts.get(ids.SECRETARIAT_RULES_PREVIEW_EN_BLOCK)
    if meta is None or not meta.version or text_ja is None or text_en is None:
        return None
    return RulesForm(version=meta.version, text_ja=text_ja, text_en=text_en, summary=meta.summary)
