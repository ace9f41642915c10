"""Account lifecycle: the member's "keep my account" button; the secretariat's flagged list
(`/kyoso inactive`, the weekly summary) with batch approval and one-click restore."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.i18n import Language, t
from bot.services import lifecycle
from bot.services.slack_sync import ApprovalOutcome, Deactivator, approve_and_deactivate
from bot.settings import Settings
from bot.text import MAX_DB_INTEGER, parse_int
from bot.timefmt import slack_date
from bot.views.lifecycle import BATCH_SIZE, ListTerms, flagged_list_blocks, kept_blocks, to_dicts
from handlers.command_router import CommandCall
from handlers.deps import Deps
from models import CycleStatus


def deactivator_for(deps: Deps) -> Deactivator:
    token = deps.settings.slack_admin_user_token
    return Deactivator(
        bot_client=deps.client,
        admin_client=deps.admin_client,
        admin_token=token.get_secret_value() if token is not None else None,
        scim_url=deps.settings.slack_scim_url,
    )


def list_terms(settings: Settings) -> ListTerms:
    return ListTerms(inactive_days=settings.inactive_days, grace_days=settings.grace_days)


def flagged_list(
    deps: Deps, language: Language, notes: list[str] | None = None
) -> tuple[list[dict[str, Any]], str]:
    """The current first batch of flagged members, as block dicts, and its fallback text."""
    with deps.session_factory() as session:
        overview = lifecycle.overview(session)
        batch = lifecycle.flagged_members(session, limit=BATCH_SIZE)
    blocks = flagged_list_blocks(
        batch,
        language,
        total=overview.flagged,
        approved_waiting=overview.approved,
        terms=list_terms(deps.settings),
        notes=notes or [],
    )
    return to_dicts(blocks), t("lifecycle.list.header", language, count=overview.flagged)


def approval_notes(
    outcome: ApprovalOutcome, language: Language, *, actor: str, at: Any
) -> list[str]:
    if not outcome.approved:
        return [t("lifecycle.approved.none", language)]
    notes = [
        t(
            "lifecycle.approved.done",
            language,
            actor=f"<@{actor}>",
            count=len(outcome.approved),
            at=slack_date(at),
        )
    ]
    for via, users in outcome.deactivated.items():
        label = t(f"lifecycle.via.{via.value.removeprefix('deactivated_')}", language)
        notes.append(t("lifecycle.approved.deactivated", language, count=len(users), via=label))

    def mentions(users: list[str]) -> str:
        return " ".join(f"<@{user}>" for user in users)

    if outcome.to_do:
        notes.append(
            t(
                "lifecycle.approved.todo",
                language,
                count=len(outcome.to_do),
                users=mentions(outcome.to_do),
            )
        )
    if outcome.failed:
        errors = ", ".join(sorted(set(outcome.failed.values())))
        notes.append(
            t(
                "lifecycle.approved.failed",
                language,
                count=len(outcome.failed),
                error=errors,
                users=mentions(list(outcome.failed)),
            )
        )
    return notes


def register(app: App, deps: Deps) -> None:
    language: Language = deps.settings.default_locale

    def refuse(respond: Callable[..., Any], key: str, **params: Any) -> None:
        respond(text=t(key, language, **params), response_type="ephemeral", replace_original=False)

    def answer_to(body: dict[str, Any], respond: Respond) -> Callable[..., Any]:
        """Messages carry a response_url; a button on the App Home (a view) does not, so the
        answer then goes to the clicker by DM."""
        if body.get("response_url"):
            return respond

        def by_dm(**kwargs: Any) -> None:
            kwargs.pop("replace_original", None)
            kwargs.pop("response_type", None)
            deps.client.chat_postMessage(channel=body["user"]["id"], **kwargs)

        return by_dm

    def show(respond: Callable[..., Any], notes: list[str] | None = None) -> None:
        blocks, text = flagged_list(deps, language, notes)
        respond(blocks=blocks, text=text, replace_original=True)

    # --- the member --------------------------------------------------------------------

    @app.action(ids.LIFECYCLE_KEEP)
    def on_keep(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        user_id = body["user"]["id"]
        member_language = deps.locales.for_user(user_id)
        try:
            cycle_id = lifecycle.cycle_id_of(str(action.get("value", "")))
            if cycle_id > MAX_DB_INTEGER:
                raise lifecycle.UnknownCycle(cycle_id)  # beyond any id: names nothing
            with deps.session_factory.begin() as session:
                kept = lifecycle.keep(
                    session, clock=deps.clock, cycle_id=cycle_id, slack_user_id=user_id
                )
        except (ValueError, lifecycle.UnknownCycle):
            blocks = kept_blocks(member_language, closed=True)
        else:
            closed = not kept.ended and kept.status is CycleStatus.DEACTIVATED
            blocks = kept_blocks(member_language, already=not kept.ended, closed=closed)
        text = blocks[0].to_dict()["text"]["text"]
        respond(blocks=to_dicts(blocks), text=text, replace_original=True)

    # --- the secretariat ---------------------------------------------------------------

    def list_command(call: CommandCall) -> None:
        if not deps.is_secretariat(call.user_id):
            refuse(call.respond, "lifecycle.not_secretariat")
            return
        blocks, text = flagged_list(deps, language)
        call.respond(
            blocks=blocks,
            text=text,
            response_type="ephemeral",
            replace_original=False,
        )

    deps.commands.add("inactive", help_key="help.command.inactive", run=list_command)

    @app.action(ids.LIFECYCLE_SHOW_FLAGGED)
    def on_refresh(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        reply = answer_to(body, respond)
        if not deps.is_secretariat(body["user"]["id"]):
            refuse(reply, "lifecycle.not_secretariat")
            return
        show(reply)

    @app.action(ids.LIFECYCLE_APPROVE_BATCH)
    def on_approve(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        reply = answer_to(body, respond)
        actor = body["user"]["id"]
        # Authorise on arrival: a button in a channel is no permission.
        if not deps.is_secretariat(actor):
            refuse(reply, "lifecycle.not_secretariat")
            return
        value = str(action.get("value", ""))
        parsed = (parse_int(part, low=1) for part in value.split(","))
        cycle_ids = [cycle_id for cycle_id in parsed if cycle_id is not None]
        outcome = approve_and_deactivate(
            session_factory=deps.session_factory,
            clock=deps.clock,
            deactivator=deactivator_for(deps),
            cycle_ids=cycle_ids[:BATCH_SIZE],
            actor=actor,
        )
        show(reply, approval_notes(outcome, language, actor=actor, at=deps.clock.now()))

    @app.action(ids.LIFECYCLE_RESTORE)
    def on_restore(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        reply = answer_to(body, respond)
        actor = body["user"]["id"]
        if not deps.is_secretariat(actor):
            refuse(reply, "lifecycle.not_secretariat")
            return
        cycle_id = parse_int(str(action.get("value", "")), low=1)
        if cycle_id is None:
            show(reply)
            return
        try:
            with deps.session_factory.begin() as session:
                restored = lifecycle.restore(
                    session, clock=deps.clock, cycle_id=cycle_id, actor=actor
                )
        except lifecycle.NotDecidable as exc:
            status = t(f"lifecycle.status.{exc.status.value}", language)
            show(reply, [t("lifecycle.already_decided", language, status=status)])
            return
        except lifecycle.UnknownCycle:
            show(reply)
            return
        note = t(
            "lifecycle.restored",
            language,
            actor=f"<@{actor}>",
            user=restored.slack_user_id,
            at=slack_date(deps.clock.now()),
        )
        show(reply, [note])
