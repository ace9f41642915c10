"""Roles from the secretariat's App Home: a button opens a modal (a member, a role, grant or
revoke); the submission changes the role through the same use case as the member card."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot import ids
from bot.audience import Audience
from bot.services.secretariat import roles
from bot.views.blocks import mention
from bot.views.secretariat import members as views
from handlers.access import routes_for
from handlers.deps import Deps
from handlers.modal_values import selected_value
from handlers.replies import field_error


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)

    @routes.action(ids.SECRETARIAT_ROLES_OPEN, audience=Audience.SECRETARIAT)
    def on_open(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        language = deps.locales.for_user(body["user"]["id"])
        view = views.roles_modal(language)
        deps.client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())

    @routes.view(ids.SECRETARIAT_ROLES_MODAL, audience=Audience.SECRETARIAT)
    def on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        actor = body["user"]["id"]
        meta = views.RolesModalMetadata.load(view.get("private_metadata"))
        language = meta.language if meta else deps.locales.for_user(actor)
        values = (view.get("state") or {}).get("values") or {}
        user_block = values.get(ids.SECRETARIAT_ROLES_USER_BLOCK) or {}
        user_id = str(
            (user_block.get(ids.SECRETARIAT_ROLES_INPUT) or {}).get("selected_user") or ""
        )
        role = roles.parse_role(
            selected_value(values, ids.SECRETARIAT_ROLES_ROLE_BLOCK, ids.SECRETARIAT_ROLES_INPUT)
        )
        change = roles.parse_change(
            selected_value(values, ids.SECRETARIAT_ROLES_CHANGE_BLOCK, ids.SECRETARIAT_ROLES_INPUT)
        )
        if not user_id:
            ack(
                **field_error(
                    ids.SECRETARIAT_ROLES_USER_BLOCK, views.note_text("pick_user", language)
                )
            )
            return
        if role is None or change is None:
            ack(
                **field_error(
                    ids.SECRETARIAT_ROLES_ROLE_BLOCK, views.note_text("pick_role", language)
                )
            )
            return
        name = views.role_name(role.value, language)
        try:
            with deps.session_factory.begin() as session:
                changed = roles.change_role(
                    session,
                    clock=deps.clock,
                    actor=actor,
                    slack_user_id=user_id,
                    role=role,
                    change=change,
                )
        except roles.LastSecretariat:
            ack(
                **field_error(
                    ids.SECRETARIAT_ROLES_ROLE_BLOCK,
                    views.note_text("last_secretariat", language, role=name),
                )
            )
            return
        note = views.role_note(change.value, changed, role.value, language) + " " + mention(user_id)
        ack(response_action="update", view=views.roles_done_modal(note, language).to_dict())
