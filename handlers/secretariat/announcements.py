"""Announcements: `/kyoso announce` opens the compose modal (secretariat only); its submission
keeps a draft and shows the preview with the number of recipients; 「送信する」 confirms once
and stages every recipient; the progress message's pause / resume / cancel; a member's
「このカテゴリを受け取らない」 on an optional announcement's DM."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.audience import Audience
from bot.i18n import Language, t
from bot.services.secretariat import announcements
from bot.services.secretariat.announcements import AnnouncementError, AudienceChoice
from bot.views.blocks import to_dicts
from bot.views.secretariat.announcements import (
    ComposeMetadata,
    compose_modal,
    confirmation_blocks,
    dm_blocks,
)
from handlers.access import routes_for
from handlers.command_router import CommandCall
from handlers.deps import Deps
from handlers.replies import ephemeral, field_error
from models.announcement import OPTIONAL_CATEGORIES

_ROLES = {"facilitator", "ambassador"}
_GROUPS = {"local_government", "agency"}


def _state(view: dict[str, Any], block: str) -> dict[str, Any]:
    return dict(view.get("state", {}).get("values", {}).get(block, {}).get(ids.ANNOUNCE_INPUT, {}))


def _text(view: dict[str, Any], block: str) -> str:
    return str(_state(view, block).get("value") or "")


def _selected(view: dict[str, Any], block: str) -> str:
    return str((_state(view, block).get("selected_option") or {}).get("value") or "")


def _selected_many(view: dict[str, Any], block: str) -> list[str]:
    return [str(o.get("value")) for o in _state(view, block).get("selected_options") or []]


def _error_block(key: str) -> str:
    if key in ("secretariat.announce.error.empty", "secretariat.announce.error.too_long"):
        return ids.ANNOUNCE_TEXT_JA_BLOCK
    if key == "secretariat.announce.error.category":
        return ids.ANNOUNCE_CATEGORY_BLOCK
    return ids.ANNOUNCE_AUDIENCE_BLOCK


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)
    slack = deps.gateway.secretariat.announcements

    def open_compose(call: CommandCall) -> None:
        view = compose_modal(ComposeMetadata(), call.language)
        deps.client.views_open(trigger_id=call.trigger_id, view=view.to_dict())

    deps.commands.add(
        "announce",
        help_key="help.command.announce",
        run=open_compose,
        audience=Audience.SECRETARIAT,
    )

    def audience_of(view: dict[str, Any], language: Language) -> AudienceChoice | str:
        """The picked audience, or the polite answer when it cannot be used."""
        kind = _selected(view, ids.ANNOUNCE_AUDIENCE_BLOCK)
        values: list[str] = []
        channel_id = None
        if kind == "prefectures":
            values = _selected_many(view, ids.ANNOUNCE_PREFECTURES_BLOCK)
        elif kind in ("organisation_kind", "roles"):
            wanted = _GROUPS if kind == "organisation_kind" else _ROLES
            picked = _selected_many(view, ids.ANNOUNCE_VALUES_BLOCK)
            values = [v for v in picked if v in wanted] or picked
        elif kind == "channel":
            channel_id = str(
                _state(view, ids.ANNOUNCE_CHANNEL_BLOCK).get("selected_conversation") or ""
            )
            members = slack.channel_members(channel_id) if channel_id else []
            if members is None:
                return t("secretariat.announce.error.channel", language)
            values = members
        elif kind == "users":
            values = announcements.parse_user_ids(_text(view, ids.ANNOUNCE_USERS_BLOCK))
        try:
            return announcements.audience_from(kind, values, channel_id=channel_id)
        except AnnouncementError as exc:
            return t(exc.key, language)

    @routes.view(ids.ANNOUNCE_MODAL, audience=Audience.SECRETARIAT)
    def on_composed(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        actor = body["user"]["id"]
        language = deps.locales.for_user(actor)
        metadata = ComposeMetadata.load(view.get("private_metadata"))
        if metadata is None:
            ack(
                **field_error(
                    ids.ANNOUNCE_TITLE_BLOCK, t("secretariat.announce.not_found", language)
                )
            )
            return
        audience = audience_of(view, language)
        if isinstance(audience, str):
            ack(**field_error(ids.ANNOUNCE_AUDIENCE_BLOCK, audience))
            return
        try:
            with deps.session_factory.begin() as session:
                draft = announcements.create_draft(
                    session,
                    clock=deps.clock,
                    actor=actor,
                    title=_text(view, ids.ANNOUNCE_TITLE_BLOCK),
                    text_ja=_text(view, ids.ANNOUNCE_TEXT_JA_BLOCK),
                    text_en=_text(view, ids.ANNOUNCE_TEXT_EN_BLOCK),
                    category=_selected(view, ids.ANNOUNCE_CATEGORY_BLOCK),
                    audience=audience,
                )
                recipients = announcements.count_audience(
                    session, category=draft.category, audience=audience
                )
        except AnnouncementError as exc:
            ack(**field_error(_error_block(exc.key), t(exc.key, language)))
            return
        ack()
        preview = dm_blocks(
            key=f"preview:{draft.public_id}",
            title=draft.title,
            text_ja=draft.text_ja,
            text_en=draft.text_en,
            category=draft.category,
            language=language,
        )
        blocks = confirmation_blocks(
            public_id=draft.public_id, preview=preview, recipients=recipients, language=language
        )
        slack.show_confirmation(
            user_id=actor,
            blocks=to_dicts(blocks),
            text=t("secretariat.announce.confirm.head", language, recipients=recipients),
        )

    @routes.action(ids.ANNOUNCE_TEST_SEND, audience=Audience.SECRETARIAT)
    def on_test(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        actor = body["user"]["id"]
        language = deps.locales.for_user(actor)
        sent = slack.send_test(str(action.get("value", "")), user_id=actor)
        key = "secretariat.announce.test_sent" if sent else "secretariat.announce.not_found"
        ephemeral(respond, t(key, language))

    @routes.action(ids.ANNOUNCE_SEND, audience=Audience.SECRETARIAT)
    def on_send(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        actor = body["user"]["id"]
        language = deps.locales.for_user(actor)
        public_id = str(action.get("value", ""))
        with deps.session_factory.begin() as session:
            staged = announcements.confirm(
                session, clock=deps.clock, actor=actor, public_id=public_id
            )
        if staged is None:
            ephemeral(respond, t("secretariat.announce.already_confirmed", language))
            return
        slack.progress.show(public_id)
        ephemeral(respond, t("secretariat.announce.sending", language, recipients=staged))

    def add_control(control: str) -> None:
        @routes.action(ids.ANNOUNCE_CONTROL[control], audience=Audience.SECRETARIAT)
        def on_control(
            ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
        ) -> None:
            ack()
            actor = body["user"]["id"]
            public_id = str(action.get("value", ""))
            with deps.session_factory.begin() as session:
                changed = announcements.control(
                    session, clock=deps.clock, actor=actor, public_id=public_id, action=control
                )
            if not changed:
                refused = t("secretariat.announce.control.refused", deps.locales.for_user(actor))
                ephemeral(respond, refused)
                return
            slack.progress.show(public_id)

    for control in announcements.CONTROLS:
        add_control(control)

    @routes.action(ids.ANNOUNCE_OPT_OUT, audience=Audience.ANYONE)
    def on_opt_out(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        user_id = body["user"]["id"]
        language = deps.locales.for_user(user_id)
        parsed = announcements.parse_key(str(action.get("value", "")))
        with deps.session_factory.begin() as session:
            found = announcements.find(session, parsed[0]) if parsed else None
            category = found.category if found else None
            stopped = category is not None and announcements.opt_out(
                session, clock=deps.clock, slack_user_id=user_id, category=category
            )
        if category is None:
            ephemeral(respond, t("secretariat.announce.not_found", language))
            return
        if not stopped and category not in OPTIONAL_CATEGORIES:
            ephemeral(respond, t("secretariat.announce.opt_out_refused", language))
            return
        name = t(f"secretariat.announce.category.{category.value}", language)
        ephemeral(respond, t("secretariat.announce.opted_out", language, category=name))
