"""Channels in Slack: requests and their review, the registry's events, `/kyoso channels`,
editing a channel, dormant-channel answers and the facilitators' message shortcuts.

Every privileged payload re-checks the actor when it arrives: the secretariat decides
requests and archives; a channel's facilitators (and the secretariat) edit it, answer for it
and use the message shortcuts in it."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from datetime import date
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.orm import Session

from bot import ids
from bot.channel_names import PREFIXES
from bot.i18n import Language, as_language, t
from bot.services import channels as svc
from bot.services import members
from bot.services.channel_slack import ChannelConfig, ChannelSlack, slack_error
from bot.services.channels import FormField, RequestForm, SlackChannel
from bot.text import escape_mrkdwn, parse_int
from bot.views import channels as views
from handlers.command_router import CommandCall
from handlers.deps import Deps
from handlers.modal_values import typed_text
from handlers.once import run_once
from models import ChannelCategory, ChannelRequestStatus, Role

log = logging.getLogger(__name__)

FIELD_BLOCKS = {
    FormField.KIND: ids.CHANNEL_KIND_BLOCK,
    FormField.NAME: ids.CHANNEL_NAME_BLOCK,
    FormField.PURPOSE: ids.CHANNEL_PURPOSE_BLOCK,
    FormField.ORGANISATION: ids.CHANNEL_ORGANISATION_BLOCK,
    FormField.FACILITATORS: ids.CHANNEL_FACILITATORS_BLOCK,
    FormField.PREFECTURE: ids.CHANNEL_PREFECTURE_BLOCK,
    FormField.REASON: ids.CHANNEL_REASON_BLOCK,
    FormField.END_DATE: ids.CHANNEL_END_DATE_BLOCK,
}
# `<#C0123|name>`, `<#C0123>` or `#name` after `/kyoso channel edit`.
_CHANNEL_REF = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$")
SIMILAR_DM_QUIET_SECONDS = 600
_UNDELIVERED = (SlackApiError, SlackClientError, OSError)


def _value(values: dict[str, Any], block_id: str) -> dict[str, Any]:
    entered = values.get(block_id, {}).get(ids.CHANNEL_INPUT)
    return entered if isinstance(entered, dict) else {}


def _text(values: dict[str, Any], block_id: str, *, multiline: bool = True) -> str:
    return typed_text(values, block_id, ids.CHANNEL_INPUT, multiline=multiline)


def _selected(values: dict[str, Any], block_id: str) -> str | None:
    option = _value(values, block_id).get("selected_option")
    return str(option["value"]) if isinstance(option, dict) and option.get("value") else None


def _date(values: dict[str, Any], block_id: str) -> date | None:
    chosen = _value(values, block_id).get("selected_date")
    try:
        return date.fromisoformat(str(chosen)) if chosen else None
    except ValueError:
        return None


def _users(values: dict[str, Any], block_id: str) -> tuple[str, ...]:
    return tuple(str(u) for u in _value(values, block_id).get("selected_users") or ())


def form_from_state(values: dict[str, Any]) -> RequestForm:
    kind = _selected(values, ids.CHANNEL_KIND_BLOCK)
    organisation = _selected(values, ids.CHANNEL_ORGANISATION_BLOCK)
    distinct = _value(values, ids.CHANNEL_DISTINCT_BLOCK).get("selected_options") or []
    return RequestForm(
        category=ChannelCategory(kind) if kind in {k.value for k in ChannelCategory} else None,
        suffix=_text(values, ids.CHANNEL_NAME_BLOCK, multiline=False),
        purpose=_text(values, ids.CHANNEL_PURPOSE_BLOCK),
        reason=_text(values, ids.CHANNEL_REASON_BLOCK),
        prefecture=_selected(values, ids.CHANNEL_PREFECTURE_BLOCK),
        organisation_id=parse_int(organisation, low=1),
        facilitator_ids=_users(values, ids.CHANNEL_FACILITATORS_BLOCK),
        end_date=_date(values, ids.CHANNEL_END_DATE_BLOCK),
        confirmed_distinct=bool(distinct),
    )


def channel_slack(deps: Deps) -> ChannelSlack:
    return ChannelSlack(
        session_factory=deps.session_factory,
        client=deps.client,
        clock=deps.clock,
        config=ChannelConfig.from_settings(deps.settings),
        language_of=deps.locales.for_user,
    )


def register(app: App, deps: Deps) -> None:
    slack = channel_slack(deps)
    secretariat_language: Language = deps.settings.default_locale
    similar_sent: dict[tuple[str, tuple[str, ...]], float] = {}
    similar_lock = threading.Lock()

    def ephemeral(respond: Respond, text: str, *, replace: bool = False) -> None:
        respond(text=text, response_type="ephemeral", replace_original=replace)

    def is_secretariat(session: Session, user_id: str) -> bool:
        return members.has_role(session, user_id, Role.SECRETARIAT)

    # --- the request modal -----------------------------------------------------------------------

    def open_request_modal(
        trigger_id: str,
        language: Language,
        *,
        draft: views.RequestDraft | None = None,
        public_id: str | None = None,
    ) -> None:
        with deps.session_factory() as session:
            organisations = [
                (i, (name_en or name) if language == "en" else name)
                for i, name, name_en in svc.organisation_options(session)
            ]
            prefectures = svc.prefecture_names(session)
        view = views.request_modal(
            language,
            organisations=organisations,
            prefectures=prefectures,
            draft=draft,
            public_id=public_id,
        )
        deps.client.views_open(trigger_id=trigger_id, view=view.to_dict())

    def tell_similar(user_id: str, similar: tuple[svc.Similar, ...]) -> None:
        if not any(s.slack_channel_id for s in similar):
            return
        key = (user_id, tuple(s.slack_channel_id or s.name for s in similar))
        now = time.monotonic()
        with similar_lock:
            if now - similar_sent.get(key, -1e9) < SIMILAR_DM_QUIET_SECONDS:
                return
            similar_sent[key] = now
            if len(similar_sent) > 5000:
                similar_sent.clear()
        slack.tell_similar(user_id, similar)

    @app.global_shortcut(ids.CHANNEL_REQUEST_SHORTCUT)
    def on_request_shortcut(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        open_request_modal(body["trigger_id"], deps.locales.for_user(body["user"]["id"]))

    @app.view(ids.CHANNEL_REQUEST_MODAL)
    def on_request_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        meta = views.ModalMetadata.load(view.get("private_metadata"), secretariat_language)
        language = meta.language
        form = form_from_state(view.get("state", {}).get("values", {}))
        today = slack.today()
        similar: tuple[svc.Similar, ...] = ()
        with deps.session_factory.begin() as session:
            try:
                if meta.public_id:
                    request = svc.resubmit_request(
                        session,
                        clock=deps.clock,
                        public_id=meta.public_id,
                        requester=user_id,
                        form=form,
                        today=today,
                    )
                else:
                    request = svc.submit_request(
                        session, clock=deps.clock, requester=user_id, form=form, today=today
                    )
            except svc.RequestInvalid as exc:
                errors: dict[str, str] = {}
                for problem in exc.problems:
                    block = FIELD_BLOCKS[problem.target]
                    errors.setdefault(
                        block, views.form_error(problem.code, problem.params, language)
                    )
                    similar = similar or problem.similar
                ack(response_action="errors", errors=errors)
                request = None
            except svc.NotYours:
                ack(
                    response_action="errors",
                    errors={ids.CHANNEL_NAME_BLOCK: views.form_error("not_yours", {}, language)},
                )
                return
            except svc.AlreadyDecided as exc:
                status = t(f"channels.status.{exc.status}", language)
                ack(
                    response_action="errors",
                    errors={
                        ids.CHANNEL_NAME_BLOCK: views.form_error(
                            "already_decided", {"status": status}, language
                        )
                    },
                )
                return
            if request is not None:
                public_id, name = request.public_id, request.name
        if request is None:
            if similar:
                tell_similar(user_id, similar)
            return
        ack()
        key = "channels.request.resubmitted" if meta.public_id else "channels.request.received"
        text = t(key, language, name=escape_mrkdwn(name))
        try:
            deps.client.chat_postMessage(channel=user_id, text=text)
        except _UNDELIVERED as exc:  # a receipt is a courtesy; the review goes on
            log.warning("receipt DM to %s failed: %s", user_id, slack_error(exc))
        if meta.public_id:
            slack.refresh_review_quietly(public_id)
        else:
            slack.post_review(public_id)

    @app.action(ids.CHANNEL_RESUBMIT)
    def on_resubmit(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        user_id, public_id = body["user"]["id"], str(action.get("value", ""))
        language = deps.locales.for_user(user_id)
        with deps.session_factory() as session:
            try:
                request = svc.get_request(session, public_id)
            except svc.UnknownRequest:
                ephemeral(respond, t("channels.form.error.not_yours", language))
                return
        if request.requester_id != user_id:
            ephemeral(respond, t("channels.form.error.not_yours", language))
            return
        if request.status is not ChannelRequestStatus.RETURNED:
            status = t(f"channels.status.{request.status.value}", language)
            ephemeral(respond, t("channels.already_decided", language, status=status))
            return
        prefix_length = len(PREFIXES[request.category])
        draft = views.RequestDraft(
            category=request.category,
            suffix=request.name[prefix_length:],
            purpose=request.purpose,
            reason=request.reason or "",
            prefecture=request.prefecture,
            organisation_id=request.facilitating_organisation_id,
            facilitator_ids=tuple(request.facilitator_ids or ()),
            end_date=request.end_date,
        )
        open_request_modal(body["trigger_id"], language, draft=draft, public_id=public_id)

    # --- the secretariat's decisions -------------------------------------------------------------

    def refuse(respond: Respond, key: str, **params: str) -> None:
        ephemeral(respond, t(key, secretariat_language, **params))

    def already(respond: Respond, exc: svc.AlreadyDecided) -> None:
        status = t(f"channels.status.{exc.status}", secretariat_language)
        refuse(respond, "channels.already_decided", status=status)

    @app.action(ids.CHANNEL_APPROVE)
    def on_approve(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        actor, public_id = body["user"]["id"], str(action.get("value", ""))
        with deps.session_factory.begin() as session:
            # Authorise on arrival: a button in a channel is no permission.
            if not is_secretariat(session, actor):
                refuse(respond, "channels.not_secretariat")
                return
            try:
                svc.approve(session, clock=deps.clock, public_id=public_id, actor=actor)
            except svc.AlreadyDecided as exc:
                already(respond, exc)
                return
        slack.tell_requester(public_id, "approved")
        slack.refresh_review_quietly(public_id)
        result = slack.provision(public_id)
        if result.status == "failed":
            refuse(respond, "channels.retry.failed", error=result.error or "")

    @app.action(ids.CHANNEL_RETRY)
    def on_retry(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        actor, public_id = body["user"]["id"], str(action.get("value", ""))
        with deps.session_factory() as session:
            if not is_secretariat(session, actor):
                refuse(respond, "channels.not_secretariat")
                return
        result = slack.provision(public_id)
        if result.status == "busy":
            refuse(respond, "channels.retry.busy")
        elif result.status == "failed":
            refuse(respond, "channels.retry.failed", error=result.error or "")
        elif result.status == "not_approved":
            with deps.session_factory() as session:
                status = svc.get_request(session, public_id).status.value
            refuse(
                respond,
                "channels.already_decided",
                status=t(f"channels.status.{status}", secretariat_language),
            )

    def open_decision_modal(
        body: dict[str, Any], action: dict[str, Any], respond: Respond, kind: str
    ) -> None:
        with deps.session_factory() as session:
            if not is_secretariat(session, body["user"]["id"]):
                refuse(respond, "channels.not_secretariat")
                return
        callback = ids.CHANNEL_RETURN_MODAL if kind == "return" else ids.CHANNEL_REJECT_MODAL
        view = views.decision_modal(
            callback_id=callback,
            public_id=str(action.get("value", "")),
            language=secretariat_language,
            kind=kind,
        )
        deps.client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())

    @app.action(ids.CHANNEL_RETURN)
    def on_return(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        open_decision_modal(body, action, respond, "return")

    @app.action(ids.CHANNEL_REJECT)
    def on_reject(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        open_decision_modal(body, action, respond, "reject")

    def decide_with_reason(ack: Ack, body: dict[str, Any], view: dict[str, Any], kind: str) -> None:
        actor, public_id = body["user"]["id"], str(view.get("private_metadata") or "")
        values = view.get("state", {}).get("values", {})
        reason = _text(values, ids.CHANNEL_DECISION_BLOCK).strip()

        def error(key: str, **params: str) -> None:
            ack(
                response_action="errors",
                errors={ids.CHANNEL_DECISION_BLOCK: t(key, secretariat_language, **params)},
            )

        if not reason:
            error("channels.modal.reason_required")
            return
        with deps.session_factory.begin() as session:
            if not is_secretariat(session, actor):
                error("channels.not_secretariat")
                return
            try:
                if kind == "return":
                    svc.return_for_changes(
                        session, clock=deps.clock, public_id=public_id, actor=actor, comment=reason
                    )
                else:
                    svc.reject(
                        session, clock=deps.clock, public_id=public_id, actor=actor, reason=reason
                    )
            except svc.AlreadyDecided as exc:
                status = t(f"channels.status.{exc.status}", secretariat_language)
                error("channels.already_decided", status=status)
                return
        ack()
        slack.tell_requester(public_id, "returned" if kind == "return" else "rejected")
        slack.refresh_review_quietly(public_id)

    @app.view(ids.CHANNEL_RETURN_MODAL)
    def on_return_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        decide_with_reason(ack, body, view, "return")

    @app.view(ids.CHANNEL_REJECT_MODAL)
    def on_reject_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        decide_with_reason(ack, body, view, "reject")

    # --- the registry's events (each exactly once) -----------------------------------------------

    def actor_of(event: dict[str, Any]) -> str:
        user = event.get("user")
        return str(user) if isinstance(user, str) and user else "slack"

    @app.event("channel_created")
    def on_channel_created(body: dict[str, Any], event: dict[str, Any]) -> None:
        data = event.get("channel") or {}
        if not data.get("id"):
            return
        slack_channel = SlackChannel.from_payload(data)
        creator = str(data.get("creator") or "slack")

        def work(session: Session) -> None:
            svc.record_event(
                session,
                clock=deps.clock,
                slack_channel=slack_channel,
                actor=creator,
                event_type="created",
            )

        run_once(deps, body, work)

    def known(slack_channel_id: str) -> bool:
        with deps.session_factory() as session:
            return svc.find_channel(session, slack_channel_id) is not None

    def with_info(slack_channel_id: str) -> SlackChannel | None:
        """An event about a channel the registry has not seen: ask Slack for the rest."""
        return None if known(slack_channel_id) else slack.channel_info(slack_channel_id)

    @app.event("channel_rename")
    def on_channel_rename(body: dict[str, Any], event: dict[str, Any]) -> None:
        data = event.get("channel") or {}
        channel_id, name = str(data.get("id") or ""), str(data.get("name") or "")
        if not channel_id or not name:
            return
        info = with_info(channel_id)

        def work(session: Session) -> None:
            if info is not None:
                svc.record_event(
                    session,
                    clock=deps.clock,
                    slack_channel=info,
                    actor="slack",
                    event_type="created",
                )
            svc.record_rename(
                session, clock=deps.clock, slack_channel_id=channel_id, name=name, actor="slack"
            )

        run_once(deps, body, work)

    def on_archive_change(body: dict[str, Any], event: dict[str, Any], archived: bool) -> None:
        channel_id = event.get("channel")
        if not isinstance(channel_id, str) or not channel_id:
            return
        info = with_info(channel_id)

        def work(session: Session) -> None:
            if info is not None:
                svc.record_event(
                    session,
                    clock=deps.clock,
                    slack_channel=info,
                    actor="slack",
                    event_type="created",
                )
            svc.set_archived(
                session,
                clock=deps.clock,
                slack_channel_id=channel_id,
                archived=archived,
                actor=actor_of(event),
            )

        run_once(deps, body, work)

    @app.event("channel_archive")
    def on_channel_archive(body: dict[str, Any], event: dict[str, Any]) -> None:
        on_archive_change(body, event, True)

    @app.event("channel_unarchive")
    def on_channel_unarchive(body: dict[str, Any], event: dict[str, Any]) -> None:
        on_archive_change(body, event, False)

    # --- /kyoso channels, /kyoso channel [edit] --------------------------------------------------

    def listing(user_id: str, word: str, offset: int, language: Language) -> tuple[list[Any], str]:
        with deps.session_factory() as session:
            found = svc.list_channels(session, word=word)
            managed = svc.managed_by(session, user_id)
        offset = min(offset, max(0, len(found) - 1))
        counts: dict[ChannelCategory, int] = {}
        for listed in found:
            counts[listed.category] = counts.get(listed.category, 0) + 1
        page = views.ListingPage(
            word=word,
            offset=offset,
            total=len(found),
            channels=found[offset : offset + views.LIST_PAGE_SIZE],
            counts=counts,
            managed=managed if offset == 0 else (),
        )
        blocks = views.listing_blocks(page, language)
        text = t("channels.list.title", language)
        return views.to_dicts(blocks), text

    def list_channels(call: CommandCall) -> None:
        blocks, text = listing(call.user_id, call.args, 0, call.language)
        call.respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)

    def on_page(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        user_id = body["user"]["id"]
        word, offset = views.parse_page_value(action.get("value"))
        blocks, text = listing(user_id, word, offset, deps.locales.for_user(user_id))
        respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=True)

    app.action(ids.CHANNELS_PAGE_PREVIOUS)(on_page)
    app.action(ids.CHANNELS_PAGE_NEXT)(on_page)

    def resolve_channel(session: Session, reference: str, here: str) -> str | None:
        reference = reference.strip()
        if not reference:
            return here if svc.find_channel(session, here) is not None else None
        matched = _CHANNEL_REF.match(reference)
        if matched:
            return matched.group(1)
        channel = svc.channel_by_name(session, reference)
        return channel.slack_channel_id if channel is not None else None

    def open_edit(
        trigger_id: str, user_id: str, channel_id: str | None, language: Language, respond: Any
    ) -> None:
        with deps.session_factory() as session:
            channel = svc.find_channel(session, channel_id) if channel_id else None
            if channel is None:
                ephemeral(respond, t("channels.edit.unknown", language))
                return
            if not svc.can_manage(session, user_id, channel.slack_channel_id):
                ephemeral(respond, t("channels.edit.not_allowed", language))
                return
            view = views.edit_modal(
                slack_channel_id=channel.slack_channel_id,
                name=channel.name,
                purpose=channel.purpose,
                facilitators=svc.facilitator_ids(session, channel),
                end_date=channel.end_date,
                language=language,
            )
        deps.client.views_open(trigger_id=trigger_id, view=view.to_dict())

    def request_or_edit(call: CommandCall) -> None:
        first, _, rest = call.args.partition(" ")
        if first.lower() == "edit":
            with deps.session_factory() as session:
                channel_id = resolve_channel(session, rest, call.channel_id)
            open_edit(call.trigger_id, call.user_id, channel_id, call.language, call.respond)
            return
        open_request_modal(call.trigger_id, call.language)

    deps.commands.add("channel", help_key="help.command.channel", run=request_or_edit)
    deps.commands.add("channels", help_key="help.command.channels", run=list_channels)

    @app.action(ids.CHANNEL_EDIT_OPEN)
    def on_edit_open(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        user_id = body["user"]["id"]
        open_edit(
            body["trigger_id"],
            user_id,
            str(action.get("value") or ""),
            deps.locales.for_user(user_id),
            respond,
        )

    @app.view(ids.CHANNEL_EDIT_MODAL)
    def on_edit_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            meta = {}
        channel_id = str(meta.get("c") or "")
        language = as_language(meta.get("l"), secretariat_language)
        values = view.get("state", {}).get("values", {})
        purpose = _text(values, ids.CHANNEL_PURPOSE_BLOCK).strip()
        if not purpose:
            ack(
                response_action="errors",
                errors={
                    ids.CHANNEL_PURPOSE_BLOCK: t("channels.form.error.purpose_required", language)
                },
            )
            return
        with deps.session_factory.begin() as session:
            try:
                update = svc.update_channel(
                    session,
                    clock=deps.clock,
                    slack_channel_id=channel_id,
                    actor=user_id,
                    purpose=purpose,
                    facilitators=_users(values, ids.CHANNEL_FACILITATORS_BLOCK),
                    end_date=_date(values, ids.CHANNEL_END_DATE_BLOCK),
                )
            except (svc.NotYours, svc.UnknownChannel):
                ack(
                    response_action="errors",
                    errors={ids.CHANNEL_PURPOSE_BLOCK: t("channels.edit.not_allowed", language)},
                )
                return
        ack()
        if update.purpose_changed:
            error = slack.set_purpose(channel_id, purpose)
            if error is not None:
                text = t(
                    "channels.edit.purpose_failed",
                    language,
                    channel=views.channel_link(channel_id),
                    error=error,
                )
                deps.client.chat_postMessage(channel=user_id, text=text)

    # --- dormant channels ------------------------------------------------------------------------

    def update_ask_message(body: dict[str, Any], review_id: int, language: Language) -> None:
        container = body.get("container") or {}
        if not (container.get("channel_id") and container.get("message_ts")):
            return
        item = slack.dormant_item(review_id)
        deps.client.chat_update(
            channel=container["channel_id"],
            ts=container["message_ts"],
            blocks=views.to_dicts(views.dormancy_answered_blocks(item, language)),
            text=views.dormancy_ask_text(item, language, reminder=False),
        )

    def on_dormancy_answer(
        body: dict[str, Any], action: dict[str, Any], respond: Respond, keep: bool
    ) -> None:
        actor = body["user"]["id"]
        language = deps.locales.for_user(actor)
        review_id = parse_int(str(action.get("value") or ""), low=1)
        if review_id is None:
            return
        with deps.session_factory.begin() as session:
            try:
                review = svc.decide_review(
                    session, clock=deps.clock, review_id=review_id, actor=actor, keep=keep
                )
                channel_id = svc.channel_of(session, review).slack_channel_id
            except svc.NotYours:
                ephemeral(respond, t("channels.not_facilitator", language))
                return
            except svc.AlreadyDecided as exc:
                status = t(f"channels.dormant.status.{exc.status}", language)
                ephemeral(respond, t("channels.dormant.already", language, status=status))
                return
            except LookupError:
                return
        key = "channels.dormant.answered.keep" if keep else "channels.dormant.answered.archive"
        ephemeral(respond, t(key, language, channel=views.channel_link(channel_id)))
        update_ask_message(body, review_id, language)

    @app.action(ids.DORMANCY_KEEP)
    def on_keep(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        on_dormancy_answer(body, action, respond, True)

    @app.action(ids.DORMANCY_ARCHIVE)
    def on_archive_agreed(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        on_dormancy_answer(body, action, respond, False)

    @app.action(ids.DORMANCY_ARCHIVE_NOW)
    def on_archive_now(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        actor = body["user"]["id"]
        listed_id = parse_int(str(action.get("value") or ""), low=1)
        with deps.session_factory() as session:
            if not is_secretariat(session, actor):
                refuse(respond, "channels.not_secretariat")
                return
        if listed_id is None:
            return
        result = slack.archive_listed(listed_id, actor)
        link = views.channel_link(result.slack_channel_id or "")
        if result.status == "archived":
            refuse(respond, "channels.archive.done", channel=link)
        elif result.status == "refused":
            refuse(respond, "channels.archive.refused", channel=link, error=result.error or "")
        elif result.status == "failed":
            refuse(respond, "channels.archive.failed", channel=link, error=result.error or "")
        else:
            status = t(f"channels.dormant.status.{result.outcome}", secretariat_language)
            refuse(respond, "channels.dormant.already", status=status)
        refresh_list_message(body)

    def refresh_list_message(body: dict[str, Any]) -> None:
        """Re-render the secretariat's list in place: archived ones lose their button."""
        container, message = body.get("container") or {}, body.get("message") or {}
        prefix = ids.DORMANCY_BLOCK + "_"
        found = (
            parse_int(str(block.get("block_id", "")).removeprefix(prefix), low=1)
            for block in message.get("blocks") or []
            if str(block.get("block_id", "")).startswith(prefix)
        )
        review_ids = [review_id for review_id in found if review_id is not None]
        if not review_ids or not container.get("channel_id"):
            return
        items = [slack.dormant_item(review_id) for review_id in review_ids]
        try:
            deps.client.chat_update(
                channel=container["channel_id"],
                ts=container["message_ts"],
                blocks=views.to_dicts(views.dormancy_list_blocks(items, secretariat_language)),
                text=views.dormancy_list_text(len(items), secretariat_language),
            )
        except _UNDELIVERED as exc:  # the archive itself is done and recorded
            log.warning("dormant list not updated: %s", slack_error(exc))

    # --- facilitator tools (message shortcuts) ---------------------------------------------------

    def shortcut_context(body: dict[str, Any]) -> tuple[str, str, str, str, Language]:
        actor = body["user"]["id"]
        channel_id = str((body.get("channel") or {}).get("id") or "")
        message = body.get("message") or {}
        ts = str(message.get("ts") or body.get("message_ts") or "")
        return actor, channel_id, ts, str(message.get("user") or ""), deps.locales.for_user(actor)

    @app.message_shortcut(ids.CHANNEL_SUMMARY_SHORTCUT)
    def on_summary(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        actor, channel_id, ts, author, language = shortcut_context(body)
        with deps.session_factory() as session:
            allowed = svc.can_manage(session, actor, channel_id)
        if not allowed:
            ephemeral(respond, t("channels.not_facilitator", language))
            return
        recorded, error = slack.record_summary(
            channel_id=channel_id, message_ts=ts, author=author, actor=actor
        )
        if error is not None:
            ephemeral(respond, t("channels.summary.failed", language, error=error))
        else:
            ephemeral(
                respond,
                t("channels.summary.done" if recorded else "channels.summary.already", language),
            )

    @app.message_shortcut(ids.CHANNEL_POINT_SHORTCUT)
    def on_point(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        actor, channel_id, ts, author, language = shortcut_context(body)
        message = body.get("message") or {}
        with deps.session_factory() as session:
            allowed = svc.can_manage(session, actor, channel_id)
        if not allowed:
            ephemeral(respond, t("channels.not_facilitator", language))
            return
        view = views.point_modal(
            channel_id=channel_id,
            message_ts=str(message.get("thread_ts") or ts),
            author=author,
            language=language,
        )
        deps.client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())

    @app.options(ids.CHANNEL_POINT_TARGET)
    def on_point_options(ack: Ack, body: dict[str, Any]) -> None:
        try:
            meta = json.loads((body.get("view") or {}).get("private_metadata") or "{}")
        except ValueError:
            meta = {}
        language = as_language(meta.get("l"), secretariat_language)
        with deps.session_factory() as session:
            found = svc.list_channels(
                session, word=str(body.get("value") or ""), exclude=[str(meta.get("c") or "")]
            )
        ack(options=views.point_options(found, language))

    @app.view(ids.CHANNEL_POINT_MODAL)
    def on_point_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        actor = body["user"]["id"]
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            meta = {}
        language = as_language(meta.get("l"), secretariat_language)
        channel_id, ts, author = (
            str(meta.get("c") or ""),
            str(meta.get("ts") or ""),
            str(meta.get("a") or ""),
        )
        values = view.get("state", {}).get("values", {})
        chosen = values.get(ids.CHANNEL_POINT_TARGET_BLOCK, {}).get(ids.CHANNEL_POINT_TARGET, {})
        target = str((chosen.get("selected_option") or {}).get("value") or "")
        note = _text(values, ids.CHANNEL_POINT_NOTE_BLOCK)
        with deps.session_factory() as session:
            allowed = svc.can_manage(session, actor, channel_id)
            listed = {c.slack_channel_id for c in svc.list_channels(session)}
        if not allowed:
            ack(
                response_action="errors",
                errors={ids.CHANNEL_POINT_TARGET_BLOCK: t("channels.not_facilitator", language)},
            )
            return
        if target not in listed or target == channel_id:
            ack(
                response_action="errors",
                errors={ids.CHANNEL_POINT_TARGET_BLOCK: t("channels.point.unknown", language)},
            )
            return
        ack()
        error = slack.point(
            channel_id=channel_id,
            message_ts=ts,
            author=author,
            target=target,
            note=note,
            actor=actor,
        )
        if error is not None:
            deps.client.chat_postMessage(
                channel=actor, text=t("channels.point.failed", language, error=error)
            )
