"""Moderation in Slack: members report messages, detectors look at new posts, and the
secretariat decides each case once from its alert in the review channel.

Detection runs inside the one `message` listener (handlers/activity.py calls
`inspect_message` after its in-memory activity note): Bolt acknowledges events before
listeners run, so detectors never delay the ack, and most messages cost no database work."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, Respond
from sqlalchemy.orm import Session

from bot import ids
from bot.detectors import Finding, Severity, scan, scan_file_name
from bot.i18n import Language, t
from bot.services import members, moderation
from bot.services.moderation import (
    OPEN_STATUSES,
    RULE_KEYS,
    CaseAction,
    Opened,
    ReportedMessage,
    ReportReason,
)
from bot.services.moderation_actions import (
    UNDELIVERED,
    CaseAlerts,
    EffectResult,
    Outcome,
    delete_message,
    permalink,
    remove_member,
    send_dm,
    slack_error,
)
from bot.slack_errors import SLACK_CALL_ERRORS, classify
from bot.text import parse_int
from bot.timefmt import jst
from bot.views.help import notice_blocks
from bot.views.moderation import (
    CASES_PAGE_SIZE,
    MAX_CASES_PAGE,
    CaseLine,
    action_modal,
    author_dm_blocks,
    author_dm_text,
    cases_blocks,
    notice_modal,
    parse_action_metadata,
    report_modal,
    reporters_blocks,
    status_label,
    thanks_text,
    to_dicts,
    warning_blocks,
    warning_text,
)
from handlers.command_router import CommandCall
from handlers.deps import Deps
from handlers.modal_values import selected_value, typed_text
from handlers.once import run_once
from handlers.replies import reply
from models import CaseStatus, Role

log = logging.getLogger(__name__)

# Subtypes of a member's new post (edits and deletions are handled on their own).
_NEW_POST_SUBTYPES = {None, "thread_broadcast", "file_share", "me_message"}
_USER_ARGUMENT = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>|([UW][A-Z0-9]{2,})")


def case_alerts(deps: Deps) -> CaseAlerts:
    return CaseAlerts(
        session_factory=deps.session_factory,
        client=deps.client,
        review_channel=deps.settings.review_channel,
        language=deps.settings.default_locale,
    )


def _best_effort(what: str, work: Any, *args: Any) -> None:
    """Slack calls after the decision committed: a failure is logged, never retried blindly."""
    try:
        work(*args)
    except UNDELIVERED as exc:
        log.warning("%s failed: %s", what, slack_error(exc))


# --------------------------------------------------------------------------------------
# Detectors on members' posts


def _file_names(message: dict[str, Any]) -> list[str]:
    files = message.get("files") or []
    return [str(f.get("name") or "") for f in files if isinstance(f, dict) and f.get("name")]


def _kinds(findings: list[Finding]) -> list[str]:
    return list(dict.fromkeys(f.kind.value for f in findings))


def has_durable_effects(deps: Deps, event: dict[str, Any]) -> bool:
    """Whether a message event may do more than mark its author active: a detector finding,
    or an edit or deletion (which may concern a case). Only those go through the event
    inbox; the rest (most messages) cost no write before Slack's acknowledgement."""
    channel = event.get("channel")
    if not channel or channel == deps.settings.review_channel:
        return False
    if event.get("channel_type", "channel") != "channel":
        return False
    subtype = event.get("subtype")
    if subtype in ("message_changed", "message_deleted"):
        return True
    if subtype not in _NEW_POST_SUBTYPES or event.get("bot_id"):
        return False
    if scan(str(event.get("text") or "")):
        return True
    return any(scan_file_name(name) for name in _file_names(event))


def inspect_message(deps: Deps, body: dict[str, Any], event: dict[str, Any]) -> None:
    """Detectors on a new or edited post in a public channel; notes an author's edit or
    deletion of a message with an open case. Never logs or stores the text."""
    channel = event.get("channel")
    if not channel or channel == deps.settings.review_channel:
        return
    if event.get("channel_type", "channel") != "channel":
        return  # public channels only
    subtype = event.get("subtype")
    if subtype == "message_deleted":
        _note_deleted(deps, body, event, channel)
        return
    edited = subtype == "message_changed"
    message = event.get("message") if edited else event
    if not isinstance(message, dict) or (not edited and subtype not in _NEW_POST_SUBTYPES):
        return
    user, ts = message.get("user"), message.get("ts")
    if not user or not ts or message.get("bot_id") or message.get("subtype") == "bot_message":
        return
    text = str(message.get("text") or "")
    names = _file_names(message)
    if edited:
        previous = event.get("previous_message") or {}
        if previous.get("text") == message.get("text") and _file_names(previous) == names:
            return  # a link preview or other decoration, not the author's edit
    text_findings = scan(text)
    name_findings = [f for name in names for f in scan_file_name(name)]
    findings = text_findings + name_findings
    if not findings and not (edited and _has_case(deps, channel, ts)):
        return
    _handle_findings(
        deps,
        body,
        channel=channel,
        ts=ts,
        thread_ts=message.get("thread_ts"),
        user=user,
        text=text,
        names=names,
        findings=findings,
        in_file_name=bool(name_findings) and not text_findings,
        edited=edited,
    )


def _has_case(deps: Deps, channel: str, ts: str) -> bool:
    with deps.session_factory() as session:
        return moderation.find_by_message(session, channel, ts) is not None


def _handle_findings(
    deps: Deps,
    body: dict[str, Any],
    *,
    channel: str,
    ts: str,
    thread_ts: str | None,
    user: str,
    text: str,
    names: list[str],
    findings: list[Finding],
    in_file_name: bool,
    edited: bool,
) -> None:
    kinds = _kinds(findings)
    serious = [f for f in findings if f.severity is Severity.CASE]
    result: dict[str, Any] = {}

    def work(session: Session) -> None:
        if edited:
            result["edited_case"] = moderation.note_author_change(
                session,
                clock=deps.clock,
                channel_id=channel,
                message_ts=ts,
                actor=user,
                deleted=False,
                found_kinds=kinds,
            )
        if not findings:
            return
        result["warn"] = moderation.record_detection(
            session,
            clock=deps.clock,
            channel_id=channel,
            message_ts=ts,
            user_id=user,
            kinds=kinds,
            details={
                "severity": Severity.CASE.value if serious else Severity.WARN.value,
                "in_file_name": in_file_name,
                "edited": edited,
            },
        )
        if serious:
            message = ReportedMessage(
                channel_id=channel,
                message_ts=ts,
                author_id=user,
                excerpt=moderation.safe_excerpt(text, names),
            )
            result["case"] = moderation.open_from_detection(
                session, clock=deps.clock, message=message, kinds=kinds
            )

    first_time = run_once(deps, body, work)
    opened: Opened | None = result.get("case")
    if opened is not None:
        log.info("detector case %s on %s/%s: %s", opened.public_id, channel, ts, kinds)
    # Owed until Slack has it: a retry of the event (the inbox's, after a failure here)
    # still warns, while a warning that went out is not repeated.
    owed = result.get("warn") if first_time else findings and _warning_owed(deps, channel, ts)
    if owed or (opened is not None and opened.new_case):
        _warn_poster(
            deps,
            channel=channel,
            thread_ts=thread_ts,
            user=user,
            findings=findings,
            case_opened=bool(serious),
            in_file_name=in_file_name,
        )
        with deps.session_factory.begin() as session:
            moderation.mark_warned(session, clock=deps.clock, channel_id=channel, message_ts=ts)
    if not first_time:
        return
    alerts = case_alerts(deps)
    if opened is not None and opened.new_case:
        _best_effort("case alert", alerts.post, opened.public_id)
    elif opened is not None and opened.new_report:
        _best_effort("case alert update", alerts.refresh, opened.public_id)
    edited_case = result.get("edited_case")
    if edited_case and (opened is None or edited_case != opened.public_id or not opened.new_report):
        _best_effort("case alert update", alerts.refresh, edited_case)


def _warn_poster(
    deps: Deps,
    *,
    channel: str,
    thread_ts: str | None,
    user: str,
    findings: list[Finding],
    case_opened: bool,
    in_file_name: bool,
) -> None:
    """An ephemeral warning in the channel, in the poster's language: the label, never the value."""
    language = deps.locales.for_user(user)
    kinds = _kinds(findings)
    rules = list(dict.fromkeys(moderation.rule_of_detector(f.rule) for f in findings))
    blocks = warning_blocks(
        language, kinds=kinds, rules=rules, case_opened=case_opened, in_file_name=in_file_name
    )
    extra: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
    try:
        deps.client.chat_postEphemeral(
            channel=channel,
            user=user,
            blocks=to_dicts(blocks),
            text=warning_text(language, kinds=kinds),
            **extra,
        )
    except SLACK_CALL_ERRORS as exc:
        failure = classify(exc)
        if failure.transient or failure.auth:
            raise  # passing (or our token): the event is retried and the warning with it
        log.warning("detector warning to %s in %s failed: %s", user, channel, slack_error(exc))


def _warning_owed(deps: Deps, channel: str, ts: str) -> bool:
    with deps.session_factory() as session:
        return moderation.warning_owed(session, channel, ts)


def _note_deleted(deps: Deps, body: dict[str, Any], event: dict[str, Any], channel: str) -> None:
    ts = event.get("deleted_ts")
    if not ts or not _has_case(deps, channel, ts):
        return
    previous = event.get("previous_message") or {}
    actor = str(previous.get("user") or "member")
    noted: list[str] = []

    def work(session: Session) -> None:
        public_id = moderation.note_author_change(
            session, clock=deps.clock, channel_id=channel, message_ts=ts, actor=actor, deleted=True
        )
        if public_id:
            noted.append(public_id)

    if run_once(deps, body, work) and noted:
        _best_effort("case alert update", case_alerts(deps).refresh, noted[0])


# --------------------------------------------------------------------------------------
# Listeners


def register(app: App, deps: Deps) -> None:
    alerts = case_alerts(deps)

    def is_secretariat(session: Session, user_id: str) -> bool:
        return members.has_role(session, user_id, Role.SECRETARIAT)

    def ephemeral(respond: Respond, text: str) -> None:
        respond(text=text, response_type="ephemeral", replace_original=False)

    def already_text(status: CaseStatus, language: Language) -> str:
        return t("moderation.already_decided", language, status=status_label(status, language))

    # ---- report (any member) ------------------------------------------------------------

    @app.message_shortcut(ids.MODERATION_REPORT_SHORTCUT)
    def on_report_shortcut(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        reporter = body["user"]["id"]
        language = deps.locales.for_user(reporter)
        message = body.get("message") or {}
        author = message.get("user")
        if not author or message.get("bot_id") or message.get("subtype") == "bot_message":
            view = notice_modal(language, "moderation.report.not_member_message")
        elif author == reporter:
            view = notice_modal(language, "moderation.report.own_message")
        else:
            metadata = {
                "c": (body.get("channel") or {}).get("id", ""),
                "ts": body.get("message_ts") or message.get("ts", ""),
                "a": author,
                # Masked here: the clear text never leaves this function.
                "x": moderation.safe_excerpt(str(message.get("text") or ""), _file_names(message)),
            }
            view = report_modal(language, private_metadata=json.dumps(metadata, ensure_ascii=False))
        deps.client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())

    @app.view(ids.MODERATION_REPORT_MODAL)
    def on_report_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        reporter = body["user"]["id"]
        language = deps.locales.for_user(reporter)
        values = view["state"]["values"]
        selected = selected_value(values, ids.MODERATION_REPORT_REASON_BLOCK, ids.MODERATION_INPUT)
        try:
            reason = ReportReason(str(selected or ""))
        except ValueError:
            ack(
                response_action="errors",
                errors={
                    ids.MODERATION_REPORT_REASON_BLOCK: t(
                        "moderation.report.reason_required", language
                    )
                },
            )
            return
        note = typed_text(
            values, ids.MODERATION_REPORT_NOTE_BLOCK, ids.MODERATION_INPUT, multiline=True
        )
        metadata = json.loads(view["private_metadata"])
        message = ReportedMessage(
            channel_id=str(metadata["c"]),
            message_ts=str(metadata["ts"]),
            author_id=str(metadata["a"]),
            excerpt=str(metadata.get("x") or ""),
        )
        try:
            with deps.session_factory.begin() as session:
                opened = moderation.report(
                    session,
                    clock=deps.clock,
                    message=message,
                    reporter_id=reporter,
                    reason=reason,
                    note=note or None,
                )
        except moderation.CannotReport:
            ack(
                response_action="errors",
                errors={
                    ids.MODERATION_REPORT_REASON_BLOCK: t("moderation.report.own_message", language)
                },
            )
            return
        ack()
        log.info("report on case %s (new case: %s)", opened.public_id, opened.new_case)
        thanks = thanks_text(language, reason=reason.value, again=not opened.new_report)
        _best_effort(
            "thanks DM",
            lambda: deps.client.chat_postMessage(channel=reporter, text=thanks),
        )
        if opened.new_case:
            _best_effort("case alert", alerts.post, opened.public_id)
        elif opened.new_report:
            _best_effort("case alert update", alerts.refresh, opened.public_id)

    # ---- the secretariat's buttons ------------------------------------------------------

    @app.action(ids.MODERATION_CLAIM)
    def on_claim(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        actor, public_id = body["user"]["id"], action["value"]
        language = deps.locales.for_user(actor)
        with deps.session_factory.begin() as session:
            # Authorise on arrival: a button in a channel is no permission.
            if not is_secretariat(session, actor):
                ephemeral(respond, t("moderation.not_secretariat", language))
                return
            try:
                changed = moderation.claim(
                    session, clock=deps.clock, public_id=public_id, actor=actor
                )
            except moderation.AlreadyDecided as exc:
                ephemeral(respond, already_text(exc.case.status, language))
                return
            except moderation.UnknownCase:
                ephemeral(respond, t("moderation.unknown_case", language))
                return
        if changed:
            alerts.refresh(public_id)

    def explanation(kind: CaseAction, author_id: str, language: Language) -> str:
        key = f"moderation.modal.{kind.value}.explain"
        if kind in (CaseAction.DELETE, CaseAction.REMOVE):
            key += "_token" if deps.admin_client is not None else "_manual"
        deadline = moderation.edit_deadline(deps.clock.now(), deps.settings.zone)
        return t(
            key,
            language,
            author=f"<@{author_id}>",
            deadline=jst(deadline, deps.settings.zone),
            days=str(moderation.EDIT_DEADLINE_BUSINESS_DAYS),
        )

    def opener(kind: CaseAction) -> Any:
        def on_click(
            ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
        ) -> None:
            ack()
            actor, public_id = body["user"]["id"], action["value"]
            language = deps.locales.for_user(actor)
            with deps.session_factory() as session:
                if not is_secretariat(session, actor):
                    ephemeral(respond, t("moderation.not_secretariat", language))
                    return
                try:
                    found = moderation.get(session, public_id)
                except moderation.UnknownCase:
                    ephemeral(respond, t("moderation.unknown_case", language))
                    return
                if found.status not in OPEN_STATUSES or (
                    kind is CaseAction.REQUEST_EDIT and found.status is CaseStatus.EDIT_REQUESTED
                ):
                    ephemeral(respond, already_text(found.status, language))
                    return
                rule = moderation.default_rule(found.reasons or [])
                author_id = found.author_id
            view = action_modal(
                kind,
                public_id=public_id,
                language=language,
                default_rule=rule,
                explanation=explanation(kind, author_id, language),
            )
            deps.client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())

        return on_click

    for action_id, kind in (
        (ids.MODERATION_DISMISS, CaseAction.DISMISS),
        (ids.MODERATION_REQUEST_EDIT, CaseAction.REQUEST_EDIT),
        (ids.MODERATION_WARN, CaseAction.WARN),
        (ids.MODERATION_DELETE, CaseAction.DELETE),
        (ids.MODERATION_REMOVE, CaseAction.REMOVE),
    ):
        app.action(action_id)(opener(kind))

    @app.view(ids.MODERATION_ACTION_MODAL)
    def on_action_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        actor = body["user"]["id"]
        language = deps.locales.for_user(actor)
        public_id, kind = parse_action_metadata(view["private_metadata"])
        values = view["state"]["values"]
        reason = typed_text(
            values, ids.MODERATION_REASON_BLOCK, ids.MODERATION_INPUT, multiline=True
        )
        rule = selected_value(values, ids.MODERATION_RULE_BLOCK, ids.MODERATION_INPUT)

        def error(text: str) -> None:
            ack(response_action="errors", errors={ids.MODERATION_REASON_BLOCK: text})

        if not reason:
            error(t("moderation.modal.reason_required", language))
            return
        with deps.session_factory.begin() as session:
            if not is_secretariat(session, actor):
                error(t("moderation.not_secretariat", language))
                return
            try:
                if kind is CaseAction.REQUEST_EDIT:
                    decided = moderation.request_edit(
                        session,
                        clock=deps.clock,
                        public_id=public_id,
                        actor=actor,
                        reason=reason,
                        rule=rule if rule in RULE_KEYS else "general",
                        zone=deps.settings.zone,
                    )
                else:
                    decided = moderation.decide(
                        session,
                        clock=deps.clock,
                        public_id=public_id,
                        actor=actor,
                        action=kind,
                        reason=reason,
                        rule=rule if rule in RULE_KEYS else None,
                    )
            except moderation.AlreadyDecided as exc:
                error(already_text(exc.case.status, language))
                return
            except moderation.UnknownCase:
                error(t("moderation.unknown_case", language))
                return
            channel_id, message_ts = decided.channel_id, decided.message_ts
            author_id, deadline = decided.author_id, decided.edit_deadline
        ack()
        log.info("case %s: %s by %s", public_id, kind.value, actor)
        effect = _carry_out(
            deps,
            kind,
            channel_id=channel_id,
            message_ts=message_ts,
            author_id=author_id,
            rule=rule if rule in RULE_KEYS else "general",
            comment=reason,
            deadline=deadline,
        )
        if effect is not None:
            with deps.session_factory.begin() as session:
                moderation.record_effect(
                    session,
                    clock=deps.clock,
                    public_id=public_id,
                    actor=actor,
                    details=effect.details(),
                )
                if kind is CaseAction.REMOVE and effect.outcome is Outcome.DONE:
                    moderation.mark_member_removed(
                        session, clock=deps.clock, slack_user_id=author_id
                    )
        alerts.refresh(public_id)

    @app.action(ids.MODERATION_SHOW_REPORTERS)
    def on_show_reporters(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        actor, public_id = body["user"]["id"], action["value"]
        language = deps.locales.for_user(actor)
        with deps.session_factory.begin() as session:
            if not is_secretariat(session, actor):
                ephemeral(respond, t("moderation.not_secretariat", language))
                return
            try:
                found = moderation.get(session, public_id)
            except moderation.UnknownCase:
                ephemeral(respond, t("moderation.unknown_case", language))
                return
            reports = moderation.reports_of(session, found.id)
            moderation.record_reporters_viewed(
                session, clock=deps.clock, public_id=public_id, actor=actor
            )
        blocks = reporters_blocks(public_id, reports, language)
        respond(
            text=t("moderation.reporters.title", language, id=public_id),
            blocks=to_dicts(blocks),
            response_type="ephemeral",
            replace_original=False,
        )

    # ---- /kyoso cases -------------------------------------------------------------------

    def show_cases(call: CommandCall) -> None:
        language = call.language
        with deps.session_factory() as session:
            if not is_secretariat(session, call.user_id):
                text = t("moderation.cases.not_secretariat", language)
                reply(call.respond, notice_blocks(text), text)
                return
        argument = call.args.strip()
        who = _USER_ARGUMENT.fullmatch(argument)
        if argument and who is None and not argument.isdigit():
            text = t("moderation.cases.usage", language)
            reply(call.respond, notice_blocks(text), text)
            return
        page = 1
        if who is None and argument:
            chosen = parse_int(argument, low=1, high=MAX_CASES_PAGE)
            if chosen is None:
                no_such_page(call, argument)
                return
            page = chosen
        with deps.session_factory() as session:
            if who is not None:
                author = who.group(1) or who.group(2)
                found, total = moderation.cases_of(session, author, limit=CASES_PAGE_SIZE)
                title = t(
                    "moderation.cases.history_title", language, author=author, total=str(total)
                )
                page, pages = 1, 1
            else:
                found, total = moderation.open_cases(
                    session, offset=(page - 1) * CASES_PAGE_SIZE, limit=CASES_PAGE_SIZE
                )
                pages = max(1, -(-total // CASES_PAGE_SIZE))
                if page > pages:
                    no_such_page(call, argument, pages=pages)
                    return
                title = t("moderation.cases.title", language, total=str(total))
            lines = [
                CaseLine(
                    public_id=c.public_id,
                    channel_id=c.channel_id,
                    author_id=c.author_id,
                    created_at=c.created_at,
                    status=c.status,
                    reasons=tuple(c.reasons or []),
                    report_count=len(moderation.reports_of(session, c.id)),
                    earlier_cases=moderation.history_of(
                        session, c.author_id, excluding=c.id, recent=0
                    ).total,
                    alert_link=None,
                )
                for c in found
            ]
            alert_refs = [(c.alert_channel_id, c.alert_ts) for c in found]
        lines = [
            replace(line, alert_link=permalink(deps.client, *ref))
            for line, ref in zip(lines, alert_refs, strict=True)
        ]
        next_hint = (
            t("moderation.cases.next", language, page=str(page + 1)) if page < pages else None
        )
        blocks = cases_blocks(
            lines, language, title=title, page=page, pages=pages, total=total, next_hint=next_hint
        )
        reply(call.respond, blocks, title)

    def no_such_page(call: CommandCall, argument: str, pages: int | None = None) -> None:
        if pages is None:
            with deps.session_factory() as session:
                _, total = moderation.open_cases(session, offset=0, limit=1)
            pages = max(1, -(-total // CASES_PAGE_SIZE))
        shown = argument if len(argument) <= 12 else argument[:12] + "…"
        text = t("moderation.cases.no_such_page", call.language, page=shown, pages=str(pages))
        reply(call.respond, notice_blocks(text), text)

    deps.commands.add("cases", help_key="help.command.cases", run=show_cases)


def _carry_out(
    deps: Deps,
    kind: CaseAction,
    *,
    channel_id: str,
    message_ts: str,
    author_id: str,
    rule: str,
    comment: str,
    deadline: datetime | None,
) -> EffectResult | None:
    """The Slack side of a decision, after it committed."""
    if kind in (CaseAction.WARN, CaseAction.REQUEST_EDIT):
        language = deps.locales.for_user(author_id)
        blocks = author_dm_blocks(
            kind,
            language,
            channel_id=channel_id,
            permalink=permalink(deps.client, channel_id, message_ts),
            rule=rule,
            comment=comment,
            deadline=deadline if kind is CaseAction.REQUEST_EDIT else None,
        )
        return send_dm(
            deps.client, user_id=author_id, blocks=blocks, text=author_dm_text(kind, language)
        )
    if kind is CaseAction.DELETE:
        return delete_message(deps.admin_client, channel_id=channel_id, message_ts=message_ts)
    if kind is CaseAction.REMOVE:
        token = deps.settings.slack_admin_user_token
        return remove_member(
            admin=deps.admin_client,
            admin_token=token.get_secret_value() if token is not None else None,
            scim_url=deps.settings.slack_scim_url,
            user_id=author_id,
        )
    return None
