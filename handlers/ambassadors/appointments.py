"""The secretariat's appointments: `/kyoso ambassadors` shows the roster (an ephemeral
message, a page at a time) with 「任命」, 「延長」 and 「終了」; the two modals and the end
button change the appointments (bot/services/ambassadors/appointments.py). Every entry is
the secretariat's. The daily work (reminders, terms that start or end) is the
`ambassadors-appointments` job's."""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.audience import Audience
from bot.decided import AlreadyDecided
from bot.domain.ambassadors_appointments import AppointmentInvalid, UnknownAppointment
from bot.i18n import Language
from bot.services import members
from bot.services.ambassadors import appointments
from bot.text import parse_int
from bot.views.ambassadors import appointments as views
from bot.views.ambassadors.appointments import AppointModalMetadata, ExtendModalMetadata
from bot.views.blocks import to_dicts
from handlers.access import routes_for
from handlers.command_router import CommandCall
from handlers.deps import Deps
from handlers.modal_values import selected_value
from handlers.replies import ephemeral, field_error

_FIELD_BLOCKS = {
    "member": ids.AMBASSADORS_MEMBER_BLOCK,
    "area": ids.AMBASSADORS_PREFECTURES_BLOCK,
    "starts_on": ids.AMBASSADORS_STARTS_BLOCK,
    "ends_on": ids.AMBASSADORS_ENDS_BLOCK,
}


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)
    secretariat = Audience.SECRETARIAT

    def today() -> date:
        return appointments.today_in(deps.clock, deps.settings.zone)

    def roster(offset: int, language: Language) -> dict[str, Any]:
        with deps.session_factory() as session:
            page = appointments.roster_page(session, today=today(), offset=offset)
        return {
            "text": views.roster_text(language),
            "blocks": to_dicts(views.roster_blocks(page, language)),
        }

    def show_roster(call: CommandCall) -> None:
        call.respond(**roster(0, call.language), response_type="ephemeral", replace_original=False)

    deps.commands.add(
        "ambassadors", help_key="help.command.ambassadors", run=show_roster, audience=secretariat
    )

    @routes.action(ids.AMBASSADORS_PAGE_PREVIOUS, audience=secretariat)
    @routes.action(ids.AMBASSADORS_PAGE_NEXT, audience=secretariat)
    def on_page(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        language = deps.locales.for_user(body["user"]["id"])
        offset = parse_int(action.get("value")) or 0
        respond(**roster(offset, language), response_type="ephemeral", replace_original=True)

    @routes.action(ids.AMBASSADORS_APPOINT, audience=secretariat)
    def on_appoint(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        language = deps.locales.for_user(body["user"]["id"])
        view = views.appoint_modal(language, public_id=appointments.new_public_id(), today=today())
        deps.client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())

    @routes.view(ids.AMBASSADORS_APPOINT_MODAL, audience=secretariat)
    def on_appointed(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        meta = AppointModalMetadata.load(view.get("private_metadata"))
        if meta is None:
            language = deps.locales.for_user(user_id)
            ack(**field_error(ids.AMBASSADORS_MEMBER_BLOCK, views.form_error("stale", language)))
            return
        values = (view.get("state") or {}).get("values") or {}
        chosen = _element(values, ids.AMBASSADORS_MEMBER_BLOCK).get("selected_user")
        starts_on = _date(values, ids.AMBASSADORS_STARTS_BLOCK)
        ends_on = _date(values, ids.AMBASSADORS_ENDS_BLOCK)
        if not chosen or starts_on is None or ends_on is None:
            problems = appointments.term_problems(starts_on, ends_on, today=today())
            if not chosen:
                problems["member"] = "missing"
            ack(
                response_action="errors",
                errors=_errors(AppointmentInvalid(problems), meta.language),
            )
            return
        try:
            with deps.session_factory.begin() as session:
                member = members.ensure_member(session, clock=deps.clock, slack_user_id=str(chosen))
                appointment = appointments.appoint(
                    session,
                    clock=deps.clock,
                    member=member,
                    prefectures=_selected_values(values, ids.AMBASSADORS_PREFECTURES_BLOCK),
                    region=selected_value(
                        values, ids.AMBASSADORS_REGION_BLOCK, ids.AMBASSADORS_INPUT
                    ),
                    starts_on=starts_on,
                    ends_on=ends_on,
                    actor=user_id,
                    zone=deps.settings.zone,
                    public_id=meta.public_id,
                )
                line = appointments.roster_line(session, public_id=appointment.public_id)
        except AppointmentInvalid as exc:
            ack(response_action="errors", errors=_errors(exc, meta.language))
            return
        done = views.done_modal(line, "appointed", meta.language)
        ack(response_action="update", view=done.to_dict())

    @routes.action(ids.AMBASSADORS_EXTEND, audience=secretariat)
    def on_extend(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        language = deps.locales.for_user(body["user"]["id"])
        try:
            with deps.session_factory() as session:
                line = appointments.roster_line(session, public_id=str(action.get("value") or ""))
        except UnknownAppointment:
            ephemeral(respond, views.note_text("unknown", language))
            return
        if not line.active:
            ephemeral(respond, views.note_text("already_ended", language))
            return
        view = views.extend_modal(line, language)
        deps.client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())

    @routes.view(ids.AMBASSADORS_EXTEND_MODAL, audience=secretariat)
    def on_extended(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        meta = ExtendModalMetadata.load(view.get("private_metadata"))
        if meta is None:
            language = deps.locales.for_user(user_id)
            ack(**field_error(ids.AMBASSADORS_ENDS_BLOCK, views.form_error("stale", language)))
            return
        values = (view.get("state") or {}).get("values") or {}
        ends_on = _date(values, ids.AMBASSADORS_ENDS_BLOCK)
        if ends_on is None:
            ack(
                **field_error(
                    ids.AMBASSADORS_ENDS_BLOCK, views.form_error("missing", meta.language)
                )
            )
            return
        try:
            with deps.session_factory.begin() as session:
                appointments.extend(
                    session,
                    clock=deps.clock,
                    public_id=meta.public_id,
                    ends_on=ends_on,
                    actor=user_id,
                    zone=deps.settings.zone,
                )
                line = appointments.roster_line(session, public_id=meta.public_id)
        except AppointmentInvalid as exc:
            ack(response_action="errors", errors=_errors(exc, meta.language))
            return
        except (AlreadyDecided, UnknownAppointment) as exc:
            code = "already_ended" if isinstance(exc, AlreadyDecided) else "unknown"
            ack(**field_error(ids.AMBASSADORS_ENDS_BLOCK, views.note_text(code, meta.language)))
            return
        done = views.done_modal(line, "extended", meta.language)
        ack(response_action="update", view=done.to_dict())

    @routes.action(ids.AMBASSADORS_END, audience=secretariat)
    def on_end(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        user_id = body["user"]["id"]
        language = deps.locales.for_user(user_id)
        try:
            with deps.session_factory.begin() as session:
                appointments.end(
                    session,
                    clock=deps.clock,
                    public_id=str(action.get("value") or ""),
                    actor=user_id,
                    reason="ended",
                    zone=deps.settings.zone,
                )
        except UnknownAppointment:
            ephemeral(respond, views.note_text("unknown", language))
            return
        except AlreadyDecided:
            ephemeral(respond, views.note_text("already_ended", language))
            return
        respond(**roster(0, language), response_type="ephemeral", replace_original=True)
        ephemeral(respond, views.note_text("ended", language))


def _element(values: dict[str, Any], block_id: str) -> dict[str, Any]:
    block = values.get(block_id)
    element = block.get(ids.AMBASSADORS_INPUT) if isinstance(block, dict) else None
    return element if isinstance(element, dict) else {}


def _date(values: dict[str, Any], block_id: str) -> date | None:
    chosen = _element(values, block_id).get("selected_date")
    try:
        return date.fromisoformat(str(chosen)) if chosen else None
    except ValueError:
        return None


def _selected_values(values: dict[str, Any], block_id: str) -> list[str]:
    options = _element(values, block_id).get("selected_options") or []
    return [str(o["value"]) for o in options if isinstance(o, dict) and o.get("value")]


def _errors(exc: AppointmentInvalid, language: Language) -> dict[str, str]:
    return {
        _FIELD_BLOCKS[field]: views.form_error(code, language)
        for field, code in exc.problems.items()
    }
