"""The season survey's buttons (変更なし / 異動します / 退職します) and the reminder's button.

Anyone may press them; only the member the DM was sent to changes anything (the value is the
contact key, which names the member). The latest answer counts; the same answer twice is
recorded once. 異動します opens the move form, 退職します the leaving form."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.audience import Audience
from bot.domain.transfers_season import AnswerOutcome, SeasonAnswered
from bot.i18n import Language
from bot.services.transfers.season import owner_check, record_answer
from bot.services.transfers.season_calendar import (
    SeasonCalendar,
    effective_on,
    last_day_before,
)
from bot.views.blocks import to_dicts
from bot.views.transfers.season import (
    closed_text,
    not_yours_text,
    survey_dm_blocks,
    survey_dm_text,
)
from handlers.access import routes_for
from handlers.deps import Deps
from handlers.transfers.leavers import open_leaving_form
from handlers.transfers.moves import open_move_form
from models import MoveSource, SeasonAnswerKind

ANSWERS = {
    ids.TRANSFER_SEASON_NO_CHANGE: SeasonAnswerKind.NO_CHANGE,
    ids.TRANSFER_SEASON_MOVING: SeasonAnswerKind.MOVING,
    ids.TRANSFER_SEASON_LEAVING: SeasonAnswerKind.LEAVING,
}


def _refuse(respond: Respond, answered: SeasonAnswered, language: Language) -> None:
    """A polite note to the presser only; the DM stays as it is."""
    text = (
        not_yours_text(language)
        if answered.outcome is AnswerOutcome.NOT_YOURS
        else closed_text(language)
    )
    respond(text=text, response_type="ephemeral", replace_original=False)


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)
    calendar = SeasonCalendar.from_settings(deps.settings)

    def on_answer(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        user_id = body["user"]["id"]
        answer = ANSWERS[action["action_id"]]
        with deps.session_factory.begin() as session:
            answered = record_answer(
                session,
                clock=deps.clock,
                value=str(action.get("value", "")),
                slack_user_id=user_id,
                answer=answer,
                current_season=calendar.season_at(deps.clock.now(), deps.settings.zone),
            )
        language = deps.locales.for_user(user_id)
        if answered.season is None:
            _refuse(respond, answered, language)
            return
        # The form first: its trigger_id lasts 3 seconds.
        trigger_id = body["trigger_id"]
        if answer is SeasonAnswerKind.MOVING:
            open_move_form(
                deps,
                trigger_id=trigger_id,
                user_id=user_id,
                source=MoveSource.SURVEY,
                effective_on=effective_on(answered.season),
            )
        elif answer is SeasonAnswerKind.LEAVING:
            open_leaving_form(
                deps,
                trigger_id=trigger_id,
                user_id=user_id,
                last_day=last_day_before(answered.season),
            )
        blocks = survey_dm_blocks(
            str(action["value"]),
            language,
            season=answered.season,
            until=calendar.window(answered.season)[1],
            answer=answer,
        )
        respond(blocks=to_dicts(blocks), text=survey_dm_text(language), replace_original=True)

    for action_id in ANSWERS:
        routes.action(action_id, audience=Audience.ANYONE)(on_answer)

    @routes.action(ids.TRANSFER_SEASON_REMINDER_MOVE, audience=Audience.ANYONE)
    def on_reminder(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        user_id = body["user"]["id"]
        with deps.session_factory() as session:
            owner = owner_check(session, value=str(action.get("value", "")), slack_user_id=user_id)
        if owner.season is None:
            _refuse(respond, owner, deps.locales.for_user(user_id))
            return
        open_move_form(
            deps,
            trigger_id=body["trigger_id"],
            user_id=user_id,
            source=MoveSource.SURVEY,
            effective_on=effective_on(owner.season),
        )
