"""Leavers: `/kyoso leave` and the App Home button open the leaving form (the member's own);
`/kyoso leave @member YYYY-MM-DD` opens it for a member (the secretariat only: its
approval). The confirmation DM carries change and cancel buttons. The last day itself is the
`transfers-departures` job's (scheduler/transfers_leavers_jobs.py)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.audience import Audience
from bot.decided import AlreadyDecided
from bot.domain.transfers_leavers import (
    DepartureInvalid,
    DeparturePlan,
    NotYours,
    TooLate,
    UnknownDeparture,
)
from bot.i18n import Language
from bot.services.transfers import leavers
from bot.views.transfers import leavers as views
from bot.views.transfers.leavers import LeaveModalMetadata
from handlers.access import may, refusal_text, routes_for
from handlers.command_router import CommandCall
from handlers.deps import Deps
from handlers.modal_values import selected_value
from handlers.replies import ephemeral, field_error
from models import KnowledgeChoice

# `<@U123|name>`, `U123` or `@name`, then the last day (2027-03-31 or 2027/03/31).
_FOR_MEMBER = re.compile(
    r"^(?:<@(?P<mention>[UW][A-Z0-9]+)(?:\|[^>]*)?>|(?P<id>[UW][A-Z0-9]{2,})|(?P<handle>@\S+))"
    r"\s+(?P<day>\d{4}[-/]\d{1,2}[-/]\d{1,2})$"
)


def open_leaving_form(
    deps: Deps, *, trigger_id: str, user_id: str, last_day: date | None = None
) -> None:
    """The member's own leaving form (the season survey opens it with the day they gave)."""
    _open(deps, trigger_id=trigger_id, opener=user_id, member=user_id, last_day=last_day)


def _open(deps: Deps, *, trigger_id: str, opener: str, member: str, last_day: date | None) -> None:
    language = deps.locales.for_user(opener)
    with deps.session_factory() as session:
        form = leavers.leaving_form(session, slack_user_id=member)
    view = views.leaving_modal(form, language, opener=opener, last_day=last_day)
    deps.client.views_open(trigger_id=trigger_id, view=view.to_dict())


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)
    slack = deps.gateway.transfers.leavers

    def leave_command(call: CommandCall) -> None:
        if not call.args:
            open_leaving_form(deps, trigger_id=call.trigger_id, user_id=call.user_id)
            return
        # Recording someone else's leaving is the secretariat's approval.
        if not may(deps, call.user_id, Audience.SECRETARIAT):
            ephemeral(call.respond, refusal_text(Audience.SECRETARIAT, call.language))
            return
        target = _for_member(deps, call.args)
        if target is None:
            ephemeral(call.respond, views.usage_text(call.language))
            return
        member, day = target
        _open(deps, trigger_id=call.trigger_id, opener=call.user_id, member=member, last_day=day)

    deps.commands.add("leave", help_key="help.command.leave", run=leave_command)

    @routes.action(ids.TRANSFER_LEAVE_HOME)
    def on_home_button(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        open_leaving_form(deps, trigger_id=body["trigger_id"], user_id=body["user"]["id"])

    @routes.action(ids.TRANSFER_LEAVE_CHANGE)
    def on_change(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        open_leaving_form(deps, trigger_id=body["trigger_id"], user_id=body["user"]["id"])

    @routes.view(ids.TRANSFER_LEAVE_MODAL)
    def on_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        meta = LeaveModalMetadata.load(view.get("private_metadata"))
        if meta is None:  # not the form Kyoso opened: nothing is stored
            language = deps.locales.for_user(user_id)
            ack(
                **field_error(
                    ids.TRANSFER_LEAVE_LAST_DAY_BLOCK, views.form_error("stale", language)
                )
            )
            return
        try:
            with deps.session_factory.begin() as session:
                summary = leavers.schedule(
                    session,
                    clock=deps.clock,
                    zone=deps.settings.zone,
                    slack_user_id=meta.member,
                    actor=user_id,
                    plan=_plan(view, meta),
                )
        except DepartureInvalid as exc:
            ack(response_action="errors", errors=_errors(exc, meta))
            return
        except (NotYours, TooLate) as exc:
            code = "not_yours" if isinstance(exc, NotYours) else "too_late"
            ack(
                **field_error(
                    ids.TRANSFER_LEAVE_LAST_DAY_BLOCK, views.form_error(code, meta.language)
                )
            )
            return
        ack()
        if not summary.unchanged:  # a double submit confirms once
            slack.confirm(summary, actor=user_id)

    @routes.action(ids.TRANSFER_LEAVE_CANCEL)
    def on_cancel(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        user_id = body["user"]["id"]
        language = deps.locales.for_user(user_id)
        note, done = _cancel(
            deps, public_id=str(action.get("value") or ""), actor=user_id, language=language
        )
        if body.get("response_url"):
            if done:  # the confirmation's buttons go with it
                respond(text=note, replace_original=True)
            else:
                ephemeral(respond, note)
        else:
            slack.tell(user_id, note)


def _cancel(deps: Deps, *, public_id: str, actor: str, language: Language) -> tuple[str, bool]:
    try:
        with deps.session_factory.begin() as session:
            summary = leavers.cancel(
                session, clock=deps.clock, zone=deps.settings.zone, public_id=public_id, actor=actor
            )
    except UnknownDeparture:
        return views.gone_text(language), False
    except NotYours:
        return views.form_error("not_yours", language), False
    except TooLate:
        return views.form_error("too_late", language), False
    except AlreadyDecided as exc:
        return views.already_text(exc.status, language), False
    return views.cancelled_text(summary, language), True


def _for_member(deps: Deps, args: str) -> tuple[str, date] | None:
    matched = _FOR_MEMBER.match(args.strip())
    if matched is None:
        return None
    try:
        year, month, day = (int(p) for p in re.split(r"[-/]", matched["day"]))
        last_day = date(year, month, day)
    except ValueError:
        return None
    member = matched["mention"] or matched["id"]
    if member is None:
        with deps.session_factory() as session:
            member = leavers.member_by_handle(session, matched["handle"])
    return (member, last_day) if member else None


def _plan(view: dict[str, Any], meta: LeaveModalMetadata) -> DeparturePlan:
    values = (view.get("state") or {}).get("values") or {}

    def picked(block_id: str, key: str) -> Any:
        element = (values.get(block_id) or {}).get(ids.TRANSFER_LEAVE_INPUT) or {}
        return element.get(key) if isinstance(element, dict) else None

    def user(block_id: str) -> str | None:
        chosen = picked(block_id, "selected_user")
        return str(chosen) if chosen else None

    try:
        chosen_day = picked(ids.TRANSFER_LEAVE_LAST_DAY_BLOCK, "selected_date")
        last_day = date.fromisoformat(str(chosen_day)) if chosen_day else None
    except ValueError:
        last_day = None
    knowledge = selected_value(values, ids.TRANSFER_LEAVE_KNOWLEDGE_BLOCK, ids.TRANSFER_LEAVE_INPUT)
    return DeparturePlan(
        last_day=last_day,
        knowledge=(
            KnowledgeChoice.ANONYMOUS
            if knowledge == KnowledgeChoice.ANONYMOUS.value
            else KnowledgeChoice.ATTRIBUTED
        ),
        channel_successors={
            cid: user(ids.TRANSFER_LEAVE_CHANNEL_BLOCK + cid) for cid in meta.pickers
        },
        other_channels_successor=user(ids.TRANSFER_LEAVE_OTHER_CHANNELS_BLOCK),
        requests_successor=user(ids.TRANSFER_LEAVE_REQUESTS_BLOCK),
        cases_successor=user(ids.TRANSFER_LEAVE_CASES_BLOCK),
    )


_FIELD_BLOCKS = {
    "last_day": ids.TRANSFER_LEAVE_LAST_DAY_BLOCK,
    "other_channels": ids.TRANSFER_LEAVE_OTHER_CHANNELS_BLOCK,
    "requests": ids.TRANSFER_LEAVE_REQUESTS_BLOCK,
    "cases": ids.TRANSFER_LEAVE_CASES_BLOCK,
}


def _errors(exc: DepartureInvalid, meta: LeaveModalMetadata) -> dict[str, str]:
    errors = {}
    for field, code in exc.problems.items():
        if field.startswith("channel:"):
            block = ids.TRANSFER_LEAVE_CHANNEL_BLOCK + field.removeprefix("channel:")
        else:
            block = _FIELD_BLOCKS[field]
        errors[block] = views.form_error(code, meta.language)
    return errors
