"""Moves in Slack: the member's DMs (mail sent, applied, refused), the Slack profile's
address after a confirmed move (SCIM with an admin token on a paid plan, else instructions to
the member and, if never seen in time, one to-do for the secretariat), and the review
channel's message for a move that needs a person (posted once, edited in place)."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackClientError
from slack_sdk.scim import SCIMClient

from bot.domain.transfers_moves import MoveSummary
from bot.i18n import Language, t
from bot.review_post import Placement, Rendered, ReviewPost
from bot.services.transfers import moves, slack_email
from bot.services.transfers.move_emails import expiry_text
from bot.slack.wiring import SlackAdapter, SlackWiring
from bot.slack_errors import SLACK_CALL_ERRORS, error_code
from bot.text import normalise_email
from bot.views.blocks import section, to_dicts
from bot.views.transfers import moves as views
from models import AffiliationMove, MoveStatus, SlackEmailState

log = logging.getLogger(__name__)

_PLACEMENT = Placement(
    key=AffiliationMove.public_id,
    channel=AffiliationMove.review_channel_id,
    ts=AffiliationMove.review_message_ts,
)
_PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


class MovesSlack(SlackAdapter):
    def __init__(self, wiring: SlackWiring) -> None:
        super().__init__(wiring)
        self._settings = wiring.settings
        self._language: Language = wiring.settings.default_locale  # the secretariat's
        token = wiring.admin_token
        self._scim = (
            SCIMClient(token=token, base_url=wiring.settings.slack_scim_url) if token else None
        )
        self._review = ReviewPost(wiring, _PLACEMENT, render=self._render, what="move")

    # ---- the member --------------------------------------------------------------------

    def _dm(self, user_id: str, blocks: list[Any], text: str) -> bool:
        try:
            self._client.chat_postMessage(
                channel=user_id, blocks=to_dicts(blocks), text=text, unfurl_links=False
            )
        except SLACK_CALL_ERRORS as exc:
            log.warning("move DM to %s failed: %s", user_id, error_code(exc))
            return False
        return True

    def tell_mail_sent(self, public_id: str, *, user_id: str, language: Language) -> bool:
        """「確認メールを送りました」 with the button that opens the code modal."""
        with self._session_factory() as session:
            move = moves.get_move(session, public_id)
            email, expires_at = move.new_email or "", move.code_expires_at
        expires = expiry_text(expires_at, language) if expires_at else "-"
        blocks = views.sent_blocks(
            public_id=public_id, email=email, expires=expires, language=language
        )
        return self._dm(user_id, blocks, t("transfers.move.sent.text", language))

    def after_confirmation(self, public_id: str) -> None:
        """After the transaction that confirmed (link, code, Slack): what the member and the
        secretariat now need, by where the move stands."""
        with self._session_factory() as session:
            summary = moves.move_summary(session, public_id)
        if summary.status is MoveStatus.CONFIRMED:
            self._tell_applied(summary)
        elif summary.status is MoveStatus.SCHEDULED:
            self._tell_scheduled(summary)
        elif summary.status is MoveStatus.REVIEW:
            self._post_review(public_id)
            language = self._locales.for_user(summary.slack_user_id)
            text = t("transfers.move.review.member", language)
            self._dm(summary.slack_user_id, [section(text)], text)
        elif summary.status is MoveStatus.REFUSED:
            self._tell_refused(summary, by_secretariat=False)

    def approved(self, public_id: str) -> None:
        with self._session_factory() as session:
            summary = moves.move_summary(session, public_id)
        if summary.status is MoveStatus.SCHEDULED:
            self._tell_scheduled(summary)
        else:
            self._tell_applied(summary)
        self.refresh_review(public_id)

    def _tell_scheduled(self, summary: MoveSummary) -> None:
        """「{date} に所属変更を反映します」, with the button that cancels it until then."""
        language = self._locales.for_user(summary.slack_user_id)
        blocks = views.scheduled_blocks(summary, language=language)
        self._dm(summary.slack_user_id, blocks, t("transfers.move.scheduled.text", language))

    def apply_scheduled(self) -> dict[str, int]:
        """Scheduled moves whose day has come: applied, then each member told as after an
        immediate move (SCIM or the instructions, the grace counted from now). The DM is
        claimed first and released when Slack refuses it, so a crash or a failure after
        applying is told by the next run, and two runs tell once."""
        with self._session_factory.begin() as session:
            applied, to_review = moves.apply_due_moves(session, clock=self._clock)
        for public_id in to_review:  # another member took the address meanwhile
            self._post_review(public_id)
        with self._session_factory() as session:
            untold = moves.untold_applied(session)
        told = failed = 0
        for public_id in untold:
            with self._session_factory.begin() as session:
                if not moves.claim_notice(session, clock=self._clock, public_id=public_id):
                    continue
                summary = moves.move_summary(session, public_id)
            if self._tell_applied(summary):
                with self._session_factory.begin() as session:
                    moves.notice_sent(session, clock=self._clock, public_id=public_id)
                told += 1
            else:
                with self._session_factory.begin() as session:
                    moves.release_notice(session, clock=self._clock, public_id=public_id)
                failed += 1
        return {"applied": len(applied), "review": len(to_review), "told": told, "failed": failed}

    def refused(self, public_id: str) -> None:
        with self._session_factory() as session:
            summary = moves.move_summary(session, public_id)
        self._tell_refused(summary, by_secretariat=True)
        self.refresh_review(public_id)

    def _tell_refused(self, summary: MoveSummary, *, by_secretariat: bool) -> None:
        language = self._locales.for_user(summary.slack_user_id)
        blocks = views.refused_blocks(summary, by_secretariat=by_secretariat, language=language)
        self._dm(summary.slack_user_id, blocks, t("transfers.move.refused_dm.text", language))

    def _tell_applied(self, summary: MoveSummary) -> bool:
        language = self._locales.for_user(summary.slack_user_id)
        slack_email, due = "unchanged", None
        if summary.slack_email_state is SlackEmailState.SEEN:
            slack_email = "seen"
        elif summary.slack_email_state is SlackEmailState.SCIM_CHANGED:  # a DM sent again
            slack_email = "scim"
        elif summary.slack_email_state is SlackEmailState.INSTRUCTED:
            if self._change_by_scim(summary):
                slack_email = "scim"
            else:
                slack_email = "instructions"
                due = self._due_text(summary.public_id, language)
        blocks = views.applied_blocks(summary, slack_email=slack_email, due=due, language=language)
        return self._dm(summary.slack_user_id, blocks, t("transfers.move.applied.text", language))

    def _due_text(self, public_id: str, language: Language) -> str:
        with self._session_factory() as session:
            due_at = moves.get_move(session, public_id).slack_email_due_at
        return expiry_text(due_at, language) if due_at else "-"

    def _change_by_scim(self, summary: MoveSummary) -> bool:
        """SCIM PATCH Users/{id} emails: Slack's address changed by Kyoso itself."""
        if self._scim is None:
            return False
        patch = {
            "schemas": [_PATCH_OP],
            "Operations": [
                {
                    "op": "replace",
                    "path": "emails",
                    "value": [{"value": summary.new_email, "primary": True}],
                }
            ],
        }
        try:
            response = self._scim.patch_user(summary.slack_user_id, patch)
        except (SlackClientError, OSError) as exc:
            log.warning("SCIM unreachable for move %s: %s", summary.public_id, type(exc).__name__)
            return False
        if response.status_code != 200:
            if response.status_code in (401, 403):
                self._scim = None  # no SCIM on this plan or token: instructions from now on
            log.warning("SCIM refused move %s: HTTP %s", summary.public_id, response.status_code)
            return False
        with self._session_factory.begin() as session:
            slack_email.mark_scim_changed(session, clock=self._clock, public_id=summary.public_id)
        return True

    # ---- the secretariat ---------------------------------------------------------------

    def _render(self, public_id: str) -> Rendered:
        with self._session_factory() as session:
            summary = moves.move_summary(session, public_id)
        blocks = views.review_blocks(summary, self._language)
        return Rendered(to_dicts(blocks), views.review_text(summary, self._language))

    def _post_review(self, public_id: str) -> None:
        try:
            self._review.post(public_id)
        except SLACK_CALL_ERRORS as exc:
            log.warning("review message of move %s not posted: %s", public_id, error_code(exc))

    def refresh_review(self, public_id: str) -> None:
        try:
            self._review.refresh(public_id, post_if_missing=False)
        except SLACK_CALL_ERRORS as exc:
            log.warning("review message of move %s not updated: %s", public_id, error_code(exc))

    def check_slack_emails(self) -> dict[str, int]:
        """Moves whose member was asked to change their Slack address, past the grace: the
        new address in users.info → SEEN; otherwise one to-do in the review channel (claimed
        first, so a second run posts nothing; released when the post fails)."""
        with self._session_factory() as session:
            due = slack_email.instructed_past_due(session, now=self._clock.now())
        counts = {"seen": 0, "todo": 0, "failed": 0}
        for item in due:
            try:
                user = self._client.users_info(user=item.slack_user_id)["user"]
            except SLACK_CALL_ERRORS as exc:
                log.warning("users.info for move %s failed: %s", item.public_id, error_code(exc))
                counts["failed"] += 1
                continue
            shown = normalise_email(str((user.get("profile") or {}).get("email") or ""))
            if shown and shown == item.new_email_normalized:
                with self._session_factory.begin() as session:
                    counts["seen"] += slack_email.mark_seen(
                        session, clock=self._clock, public_id=item.public_id
                    )
                continue
            posted = self._post_todo(item.public_id)
            if posted is not None:
                counts["todo" if posted else "failed"] += 1
        return counts

    def _post_todo(self, public_id: str) -> bool | None:
        """True: posted; False: Slack refused (released for the next run); None: another
        run claimed it."""
        with self._session_factory.begin() as session:
            if not slack_email.claim_todo(session, clock=self._clock, public_id=public_id):
                return None
        channel = self._settings.review_channel
        with self._session_factory() as session:
            summary = moves.move_summary(session, public_id)
            confirmed_at = moves.get_move(session, public_id).confirmed_at
        days = (self._clock.now() - confirmed_at).days if confirmed_at else 0
        try:
            if channel is None:
                raise OSError("KYOSO_REVIEW_CHANNEL is not set")
            self._client.chat_postMessage(
                channel=channel,
                blocks=to_dicts(views.todo_blocks(summary, days=days, language=self._language)),
                text=views.todo_text(summary, self._language),
            )
        except SLACK_CALL_ERRORS as exc:
            log.warning("to-do of move %s not posted: %s", public_id, error_code(exc))
            with self._session_factory.begin() as session:
                slack_email.release_todo(session, clock=self._clock, public_id=public_id)
            return False
        return True
