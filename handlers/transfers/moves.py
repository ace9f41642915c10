"""A member's move: `/kyoso move`, the App Home's 「所属が変わりました」 button (and the season
survey, through `open_move_form`) open the move form; its submission mails a link and a code
to the new address; the code is typed in a modal; a move that needs a person is approved or
refused by the secretariat in the review channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.audience import Audience
from bot.decided import AlreadyDecided
from bot.i18n import Language, t
from bot.services import members
from bot.services.transfers import moves
from bot.services.transfers.move_choices import organisation_choices, parse_choice
from bot.text import nfkc
from bot.views.transfers import moves as views
from bot.views.transfers.moves import CodeModalMetadata, MoveModalMetadata
from handlers.access import routes_for
from handlers.command_router import CommandCall
from handlers.deps import Deps
from handlers.modal_values import selected_value, typed_text
from handlers.replies import ephemeral, field_error
from models import MoveSource, MoveStatus

# The code's reasons go under the organisation; every other reason under the address.
_ORGANISATION_REASONS = ("code.", "organisation.", "agency.")


def open_move_form(
    deps: Deps,
    *,
    trigger_id: str,
    user_id: str,
    source: MoveSource,
    effective_on: date | None = None,
) -> None:
    """The move form, as /kyoso move, the App Home button and the season survey open it."""
    language = deps.locales.for_user(user_id)
    view = views.move_modal(source=source.value, language=language, effective_on=effective_on)
    deps.client.views_open(trigger_id=trigger_id, view=view.to_dict())


@dataclass(frozen=True)
class MoveForm:
    organisation_code: str | None
    agency_slug: str | None
    email: str
    department: str | None
    effective_on: date | None


def _form(view: dict[str, Any]) -> MoveForm:
    values = (view.get("state") or {}).get("values") or {}
    code, slug = parse_choice(
        selected_value(values, ids.TRANSFER_MOVE_ORGANISATION_BLOCK, ids.TRANSFER_MOVE_ORGANISATION)
    )
    picked = (values.get(ids.TRANSFER_MOVE_EFFECTIVE_BLOCK) or {}).get(
        ids.TRANSFER_MOVE_EFFECTIVE
    ) or {}
    try:
        effective_on = date.fromisoformat(str(picked.get("selected_date") or ""))
    except ValueError:
        effective_on = None

    def text(block_id: str) -> str:
        return typed_text(values, block_id, ids.TRANSFER_MOVE_INPUT)

    return MoveForm(
        organisation_code=code,
        agency_slug=slug,
        email=text(ids.TRANSFER_MOVE_EMAIL_BLOCK),
        department=text(ids.TRANSFER_MOVE_DEPARTMENT_BLOCK) or None,
        effective_on=effective_on,
    )


def _refusal(exc: moves.MoveRefused, language: Language) -> dict[str, Any]:
    reasons = exc.verdict.reasons_json
    shown = [r for r in reasons if r["severity"] != "info"]
    about_organisation = bool(shown) and all(
        str(r["code"]).startswith(_ORGANISATION_REASONS) for r in shown
    )
    block = (
        ids.TRANSFER_MOVE_ORGANISATION_BLOCK
        if about_organisation
        else ids.TRANSFER_MOVE_EMAIL_BLOCK
    )
    return field_error(block, views.refusal_text(reasons, language))


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)
    slack = deps.gateway.transfers.moves

    def from_command(call: CommandCall) -> None:
        open_move_form(
            deps, trigger_id=call.trigger_id, user_id=call.user_id, source=MoveSource.COMMAND
        )

    deps.commands.add("move", help_key="help.command.move", run=from_command)

    @routes.action(ids.TRANSFER_MOVE_HOME)
    def on_home_button(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        open_move_form(
            deps, trigger_id=body["trigger_id"], user_id=body["user"]["id"], source=MoveSource.HOME
        )

    @routes.options(ids.TRANSFER_MOVE_ORGANISATION)
    def on_organisation_options(ack: Ack, body: dict[str, Any]) -> None:
        with deps.session_factory() as session:
            choices = organisation_choices(session, str(body.get("value") or ""))
        ack(options=views.organisation_options(choices))

    @routes.view(ids.TRANSFER_MOVE_MODAL)
    def on_move_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        meta = MoveModalMetadata.load(view.get("private_metadata"))
        if meta is None:
            language = deps.locales.for_user(user_id)
            stale = t("transfers.move.error.stale", language)
            ack(**field_error(ids.TRANSFER_MOVE_ORGANISATION_BLOCK, stale))
            return
        language, form = meta.language, _form(view)
        if not (form.organisation_code or form.agency_slug):
            problem = t("transfers.move.error.organisation", language)
            ack(**field_error(ids.TRANSFER_MOVE_ORGANISATION_BLOCK, problem))
            return
        if not form.email:
            ack(
                **field_error(
                    ids.TRANSFER_MOVE_EMAIL_BLOCK, t("transfers.move.error.email", language)
                )
            )
            return
        if form.effective_on is not None:
            today = deps.clock.now().astimezone(deps.settings.zone).date()
            date_problem = moves.effective_date_problem(form.effective_on, today=today)
            if date_problem is not None:
                message = t(f"transfers.move.error.effective_{date_problem}", language)
                ack(**field_error(ids.TRANSFER_MOVE_EFFECTIVE_BLOCK, message))
                return
        try:
            with deps.session_factory.begin() as session:
                member = members.ensure_member(session, clock=deps.clock, slack_user_id=user_id)
                started = moves.start_move(
                    session,
                    clock=deps.clock,
                    member=member,
                    new_email=form.email,
                    organisation_code=form.organisation_code,
                    agency_slug=form.agency_slug,
                    department=form.department,
                    effective_on=form.effective_on,
                    source=MoveSource(meta.source),
                    language=language,
                    public_url=deps.settings.public_url,
                    zone=deps.settings.zone,
                )
                public_id = started.move.public_id
        except moves.MoveRefused as refused:
            ack(**_refusal(refused, language))
            return
        ack()
        if started.mailed:  # a double submission: the first one's DM says it all
            slack.tell_mail_sent(public_id, user_id=user_id, language=language)

    @routes.action(ids.TRANSFER_MOVE_CODE_OPEN)
    def on_code_button(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        language = deps.locales.for_user(body["user"]["id"])
        view = views.code_modal(public_id=str(action.get("value") or ""), language=language)
        deps.client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())

    @routes.view(ids.TRANSFER_MOVE_CODE_MODAL)
    def on_code_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        meta = CodeModalMetadata.load(view.get("private_metadata"))
        language = meta.language if meta is not None else deps.locales.for_user(user_id)

        def refuse(key: str, **params: Any) -> None:
            ack(**field_error(ids.TRANSFER_MOVE_CODE_BLOCK, t(key, language, **params)))

        if meta is None:
            refuse("transfers.move.error.stale")
            return
        values = (view.get("state") or {}).get("values") or {}
        code = nfkc(typed_text(values, ids.TRANSFER_MOVE_CODE_BLOCK, ids.TRANSFER_MOVE_INPUT))
        code = code.replace(" ", "").replace("-", "")
        if len(code) != 6 or not code.isdigit():
            refuse("transfers.move.code.format")
            return
        was_awaiting, locked, status, effective = False, False, MoveStatus.CANCELLED, "-"
        with deps.session_factory.begin() as session:
            try:
                move = moves.get_move(session, meta.public_id)
            except moves.UnknownMove:
                move = None
            owner = members.find(session, user_id)
            if move is None or owner is None or move.member_id != owner.id:
                checked = None
            else:
                was_awaiting = move.status is MoveStatus.AWAITING
                checked = moves.confirm_by_code(session, clock=deps.clock, move=move, code=code)
                status, locked = checked.move.status, moves.is_locked(checked.move)
                effective = views.day_text(checked.move.effective_on)
        if checked is None:
            refuse("transfers.move.code.not_yours")
            return
        if checked.wrong and checked.remaining > 0:
            refuse("transfers.move.code.wrong", remaining=checked.remaining)
            return
        if locked:
            refuse("transfers.move.code.locked")
            return
        if status is MoveStatus.EXPIRED:
            refuse("transfers.move.state.expired")
            return
        if status not in _RESULT_PAGE:
            refuse("transfers.move.state.closed", status=views.status_text(status, language))
            return
        text = t(f"transfers.move.page.{_RESULT_PAGE[status]}", language, date=effective)
        ack(response_action="update", view=views.notice_modal(text, language).to_dict())
        if was_awaiting:
            slack.after_confirmation(meta.public_id)

    @routes.action(ids.TRANSFER_MOVE_CANCEL)
    def on_cancel(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        """The member's own scheduled move, cancelled before its day."""
        ack()
        user_id, public_id = body["user"]["id"], str(action.get("value") or "")
        language = deps.locales.for_user(user_id)
        try:
            with deps.session_factory.begin() as session:
                moves.cancel_scheduled(
                    session, clock=deps.clock, public_id=public_id, slack_user_id=user_id
                )
        except (AlreadyDecided, moves.UnknownMove) as exc:
            status = (
                MoveStatus(exc.status) if isinstance(exc, AlreadyDecided) else MoveStatus.CANCELLED
            )
            text = t(
                "transfers.move.scheduled.not_cancellable",
                language,
                status=views.status_text(status, language),
            )
            ephemeral(respond, text)
            return
        respond(
            replace_original=True,
            text=t("transfers.move.scheduled.cancelled", language),
        )

    @routes.action(ids.TRANSFER_MOVE_APPROVE, audience=Audience.SECRETARIAT)
    def on_approve(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        actor, public_id = body["user"]["id"], str(action.get("value") or "")
        language = deps.settings.default_locale
        try:
            with deps.session_factory.begin() as session:
                moves.approve_move(session, clock=deps.clock, public_id=public_id, actor=actor)
        except (AlreadyDecided, moves.UnknownMove) as exc:
            ephemeral(respond, _already(exc, language))
            return
        except moves.AddressTaken:
            ephemeral(respond, t("transfers.move.review.taken", language))
            return
        slack.approved(public_id)

    @routes.action(ids.TRANSFER_MOVE_REFUSE, audience=Audience.SECRETARIAT)
    def on_refuse(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        actor, public_id = body["user"]["id"], str(action.get("value") or "")
        language = deps.settings.default_locale
        try:
            with deps.session_factory.begin() as session:
                moves.refuse_move(session, clock=deps.clock, public_id=public_id, actor=actor)
        except (AlreadyDecided, moves.UnknownMove) as exc:
            ephemeral(respond, _already(exc, language))
            return
        slack.refused(public_id)


_RESULT_PAGE = {
    MoveStatus.CONFIRMED: "applied",
    MoveStatus.SCHEDULED: "scheduled",
    MoveStatus.REVIEW: "review",
    MoveStatus.REFUSED: "refused",
}


def _already(exc: Exception, language: Language) -> str:
    status = MoveStatus(exc.status) if isinstance(exc, AlreadyDecided) else MoveStatus.CANCELLED
    return t("transfers.move.review.already", language, status=views.status_text(status, language))
