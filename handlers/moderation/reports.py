"""A member reports a message: the message shortcut opens the modal, its submission opens or
joins the message's case, thanks the reporter and posts (or updates) the case's alert."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App

from bot import ids
from bot.domain.moderation import ReportReason
from bot.i18n import Language, t
from bot.services.moderation import reports
from bot.services.moderation.cases import Opened, ReportedMessage
from bot.views.moderation.reports import ReportMetadata, notice_modal, report_modal, thanks_text
from handlers.access import routes_for
from handlers.deps import Deps
from handlers.modal_values import selected_value, typed_text
from handlers.replies import field_error

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)

    @routes.message_shortcut(ids.MODERATION_REPORT_SHORTCUT)
    def on_report_shortcut(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        reporter = body["user"]["id"]
        language = deps.locales.for_user(reporter)
        try:
            message = reports.reportable(
                reporter_id=reporter,
                channel_id=str((body.get("channel") or {}).get("id", "")),
                message_ts=str(body.get("message_ts") or ""),
                message=body.get("message") or {},
            )
        except reports.CannotReport as exc:
            view = notice_modal(language, f"moderation.report.{exc.code}")
        else:  # masked already: the clear text never reaches the modal
            view = report_modal(language, metadata=ReportMetadata(**vars(message)))
        deps.client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())

    @routes.view(ids.MODERATION_REPORT_MODAL)
    def on_report_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        reporter = body["user"]["id"]
        language = deps.locales.for_user(reporter)
        submitted = _submitted(view)
        if isinstance(submitted, str):
            return _refuse(ack, submitted, language)
        try:
            opened = _file(deps, reporter, submitted)
        except reports.CannotReport as exc:
            return _refuse(ack, f"moderation.report.{exc.code}", language)
        ack()
        log.info("report on case %s (new case: %s)", opened.public_id, opened.new_case)
        again = not opened.new_report
        thanks = thanks_text(language, reason=submitted.reason.value, again=again)
        deps.gateway.moderation.effects.thank(reporter, thanks)
        deps.gateway.moderation.alerts.announce(opened)


@dataclass(frozen=True)
class Submitted:
    message: ReportedMessage
    reason: ReportReason
    note: str | None


def _file(deps: Deps, reporter: str, submitted: Submitted) -> Opened:
    with deps.session_factory.begin() as session:
        return reports.report(
            session,
            clock=deps.clock,
            message=submitted.message,
            reporter_id=reporter,
            reason=submitted.reason,
            note=submitted.note,
        )


def _submitted(view: dict[str, Any]) -> Submitted | str:
    """The report, or the catalogue key of what is wrong with it."""
    values = view["state"]["values"]
    chosen = selected_value(values, ids.MODERATION_REPORT_REASON_BLOCK, ids.MODERATION_INPUT)
    try:
        reason = ReportReason(str(chosen or ""))
    except ValueError:
        return "moderation.report.reason_required"
    metadata = ReportMetadata.load(view.get("private_metadata"))
    if metadata is None:  # not what Kyoso sent: refused, nothing stored
        return "moderation.report.stale"
    note = typed_text(
        values, ids.MODERATION_REPORT_NOTE_BLOCK, ids.MODERATION_INPUT, multiline=True
    )
    return Submitted(ReportedMessage(**metadata.model_dump()), reason, note or None)


def _refuse(ack: Ack, key: str, language: Language) -> None:
    ack(**field_error(ids.MODERATION_REPORT_REASON_BLOCK, t(key, language)))
