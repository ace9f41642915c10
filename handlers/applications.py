"""The secretariat's review of applications in the review channel."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.i18n import Language, t
from bot.services import applications, invitations, members
from bot.services.application_emails import ApplicationEmailKind, queue_application_email
from bot.services.review_messages import ReviewMessages
from bot.views.applications import reason_modal
from handlers.deps import Deps
from handlers.modal_values import typed_text
from models import Role

log = logging.getLogger(__name__)


def review_messages(deps: Deps) -> ReviewMessages:
    return ReviewMessages(
        session_factory=deps.session_factory,
        client=deps.client,
        review_channel=deps.settings.review_channel,
        language=deps.settings.default_locale,
    )


def post_for_review(deps: Deps, public_id: str) -> None:
    """Post a new application to the review channel (once; the message is then updated)."""
    review_messages(deps).post(public_id)


def refresh_review_message(deps: Deps, public_id: str) -> None:
    review_messages(deps).refresh(public_id)


def register(app: App, deps: Deps) -> None:
    language: Language = deps.settings.default_locale

    def refuse(respond: Respond, key: str, **params: str) -> None:
        respond(text=t(key, language, **params), response_type="ephemeral", replace_original=False)

    def already(respond: Respond, exc: applications.AlreadyDecided) -> None:
        status = t(f"applications.status.{exc.application.status.value}", language)
        refuse(respond, "applications.already_decided", status=status)

    @app.action(ids.APPLICATION_APPROVE)
    def on_approve(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        actor, public_id = body["user"]["id"], action["value"]
        with deps.session_factory.begin() as session:
            # Authorise on arrival: a button in a channel is no permission.
            if not members.has_role(session, actor, Role.SECRETARIAT):
                refuse(respond, "applications.not_secretariat")
                return
            try:
                approved = applications.approve(
                    session, clock=deps.clock, public_id=public_id, actor=actor
                )
            except applications.AlreadyDecided as exc:
                already(respond, exc)
                return
            if not can_invite(deps):
                # In the same transaction as the decision: told exactly once, never before it.
                queue_application_email(
                    session,
                    clock=deps.clock,
                    application=approved,
                    kind=ApplicationEmailKind.APPROVED,
                )
        invite(deps, public_id)
        refresh_review_message(deps, public_id)

    @app.action(ids.APPLICATION_MARK_INVITED)
    def on_mark_invited(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        actor, public_id = body["user"]["id"], action["value"]
        with deps.session_factory.begin() as session:
            if not members.has_role(session, actor, Role.SECRETARIAT):
                refuse(respond, "applications.not_secretariat")
                return
            try:
                applications.mark_invited(
                    session, clock=deps.clock, public_id=public_id, actor=actor
                )
            except applications.AlreadyDecided as exc:
                already(respond, exc)
                return
        refresh_review_message(deps, public_id)

    def open_reason_modal(
        body: dict[str, Any], action: dict[str, Any], respond: Respond, callback_id: str, kind: str
    ) -> None:
        if not deps.is_secretariat(body["user"]["id"]):
            refuse(respond, "applications.not_secretariat")
            return
        view = reason_modal(
            callback_id=callback_id,
            public_id=action["value"],
            language=language,
            title_key=f"applications.modal.{kind}.title",
            label_key=f"applications.modal.{kind}.label",
        )
        deps.client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())

    @app.action(ids.APPLICATION_REJECT)
    def on_reject(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        open_reason_modal(body, action, respond, ids.APPLICATION_REJECT_MODAL, "reject")

    @app.action(ids.APPLICATION_REQUEST_INFO)
    def on_request_info(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        open_reason_modal(body, action, respond, ids.APPLICATION_INFO_MODAL, "info")

    def decide_with_reason(ack: Ack, body: dict[str, Any], view: dict[str, Any], kind: str) -> None:
        actor, public_id = body["user"]["id"], view["private_metadata"]
        reason = typed_text(
            view["state"]["values"],
            ids.APPLICATION_REASON_BLOCK,
            ids.APPLICATION_REASON_INPUT,
            multiline=True,
        )

        def error(key: str, **params: str) -> None:
            ack(
                response_action="errors",
                errors={ids.APPLICATION_REASON_BLOCK: t(key, language, **params)},
            )

        if not reason:
            error("applications.modal.reason_required")
            return
        with deps.session_factory.begin() as session:
            if not members.has_role(session, actor, Role.SECRETARIAT):
                error("applications.not_secretariat")
                return
            try:
                if kind == "reject":
                    decided = applications.reject(
                        session, clock=deps.clock, public_id=public_id, actor=actor, reason=reason
                    )
                else:
                    decided = applications.request_info(
                        session, clock=deps.clock, public_id=public_id, actor=actor, message=reason
                    )
            except applications.AlreadyDecided as exc:
                status = t(f"applications.status.{exc.application.status.value}", language)
                error("applications.already_decided", status=status)
                return
            queue_application_email(
                session,
                clock=deps.clock,
                application=decided,
                kind=(
                    ApplicationEmailKind.REJECTED
                    if kind == "reject"
                    else ApplicationEmailKind.INFO_REQUESTED
                ),
                reason=reason,
            )
        ack()
        refresh_review_message(deps, public_id)

    @app.view(ids.APPLICATION_REJECT_MODAL)
    def on_reject_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        decide_with_reason(ack, body, view, "reject")

    @app.view(ids.APPLICATION_INFO_MODAL)
    def on_info_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        decide_with_reason(ack, body, view, "info")


def can_invite(deps: Deps) -> bool:
    return deps.admin_client is not None and bool(deps.settings.invite_channel_ids)


def invite(deps: Deps, public_id: str) -> None:
    """Invite through the admin API when an Enterprise admin token allows it; the approval
    email follows the outcome (bot/services/invitations.py).

    Without one (or when Slack refuses), the review message keeps a to-do for the
    secretariat: invite by hand, then press "Mark as invited"."""
    admin = deps.admin_client
    if admin is None or not can_invite(deps):
        return
    invitations.invite(
        session_factory=deps.session_factory,
        clock=deps.clock,
        admin=admin,
        channel_ids=deps.settings.invite_channel_ids,
        public_id=public_id,
    )
