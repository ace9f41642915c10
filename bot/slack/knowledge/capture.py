"""Capture's Slack side: the modal that keeps a public thread's question and answer (from the
message shortcut or the ✅ offer's button), the ✅ offer itself, and what happens to a kept
entry when its source is edited or deleted in Slack.

The modal opens in two steps. `trigger_id` is good for 3 s and once, while reading a thread
may take longer: conversations.replies pages are paced, and the client's retry handler
sleeps through `Retry-After` when Slack limits us. So a "loading" modal is opened at once
with the trigger, and views.update (which has no such deadline) replaces it with the
prefilled modal or with a notice saying why nothing can be kept."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.views import View
from sqlalchemy.orm import Session

from bot.i18n import Language, t
from bot.services import members
from bot.services.channels import facilitation
from bot.services.knowledge import channel_choices, entries, feedback
from bot.services.knowledge.privacy import Gated, Refused, gate
from bot.slack.knowledge.threads import (
    CHECK_REACTION,
    CannotCapture,
    Post,
    Thread,
    ThreadReader,
    plain,
)
from bot.slack.wiring import SlackAdapter, SlackWiring
from bot.slack_errors import SLACK_CALL_ERRORS, classify, error_code
from bot.text import clean_multiline
from bot.views.blocks import to_dicts
from bot.views.knowledge.capture import (
    CaptureMetadata,
    capture_modal,
    label_names,
    loading_modal,
    notice_modal,
    offer_blocks,
    offer_text,
    title_from,
)
from models import Role

log = logging.getLogger(__name__)

_EDIT_SUBTYPES = frozenset({"message_changed", "message_deleted"})
# Besides the asker and the channel's facilitators, who may keep a thread from a ✅.
_KEEPER_ROLES = (Role.AMBASSADOR, Role.SECRETARIAT)


@dataclass(frozen=True)
class Prefill:
    metadata: CaptureMetadata
    title: str
    question: str
    answer: str
    masked: frozenset[str]


def may_keep_from_check(session: Session, user_id: str, channel_id: str, asker: str | None) -> bool:
    """The thread's asker, the channel's facilitators, ambassadors and the secretariat."""
    return (
        user_id == asker
        or members.has_any_role(session, user_id, _KEEPER_ROLES)
        or facilitation.can_manage(session, user_id, channel_id)
    )


def prefill(thread: Thread, marked_ts: str) -> Prefill:
    """The modal's content: the root's question, the marked reply's answer (on the root: the
    last reply not by the asker, or the first reply), masked. Raises CannotCapture."""
    marked = thread.post(marked_ts)
    if marked is None:
        raise CannotCapture("gone")
    if not thread.replies:
        raise CannotCapture("not_thread")
    labels: set[str] = set()
    for post in thread.posts:  # a label anywhere in the thread refuses all of it
        try:
            gate(post.text)
        except Refused as exc:
            labels.update(exc.kinds)
    if labels:
        raise CannotCapture("label", labels=tuple(sorted(labels)))
    answer = marked if marked is not thread.root else _answer_of(thread)
    question, answered = _gated(thread.root.text), _gated(answer.text)
    return Prefill(
        metadata=CaptureMetadata(
            channel_id=thread.channel_id,
            thread_ts=thread.root.ts,
            answer_ts=answer.ts,
            asker_id=thread.root.user,
            answerer_id=answer.user,
            checks=answer.checks,
        ),
        title=title_from(question.text),
        question=question.text,
        answer=answered.text,
        masked=question.masked | answered.masked,
    )


def _answer_of(thread: Thread) -> Post:
    by_members = [r for r in thread.replies if not r.from_bot] or list(thread.replies)
    others = [r for r in by_members if r.user != thread.root.user]
    return others[-1] if others else by_members[0]


def _gated(text: str) -> Gated:
    return gate(clean_multiline(text))  # labels were checked on the whole thread already


class CaptureSlack(SlackAdapter):
    def __init__(self, wiring: SlackWiring) -> None:
        super().__init__(wiring)
        self.wiring = wiring
        self._reader = ThreadReader(wiring.client)

    # ---- the modal ----------------------------------------------------------------------------

    def open_modal(
        self, *, trigger_id: str, user_id: str, channel_id: str, ts: str, from_check: bool
    ) -> None:
        """The capture modal for message `ts`; `from_check`: opened from the ✅ offer, whose
        presser is checked again (the asker, a facilitator, an ambassador, the secretariat)."""
        language = self._locales.for_user(user_id)
        opened = self._client.views_open(
            trigger_id=trigger_id, view=loading_modal(language).to_dict()
        )
        view_id = str(opened["view"]["id"])
        try:
            view = self._modal(user_id, channel_id, ts, from_check=from_check, language=language)
        except Exception:
            self._update(view_id, notice_modal(language, _notice("unavailable", language)))
            raise
        self._update(view_id, view)

    def _modal(
        self, user_id: str, channel_id: str, ts: str, *, from_check: bool, language: Language
    ) -> View:
        try:
            filled = self._prefill(user_id, channel_id, ts, from_check=from_check)
        except CannotCapture as exc:
            log.info("nothing to keep from %s/%s: %s", channel_id, ts, exc.code)
            return notice_modal(language, _notice(exc.code, language, exc.labels))
        return capture_modal(
            language,
            metadata=filled.metadata,
            title=filled.title,
            question=filled.question,
            answer=filled.answer,
            masked=filled.masked,
        )

    def _prefill(self, user_id: str, channel_id: str, ts: str, *, from_check: bool) -> Prefill:
        self._reader.ensure_public(channel_id)  # before anything is read from it
        with self._session_factory() as session:
            if channel_choices.choice(session, channel_id).opted_out:
                raise CannotCapture("opted_out")
        thread = self._reader.fetch(channel_id, ts)
        if from_check:
            with self._session_factory() as session:
                if not may_keep_from_check(session, user_id, channel_id, thread.root.user):
                    raise CannotCapture("not_allowed")
        return prefill(thread, ts)

    def _update(self, view_id: str, view: View) -> None:
        self._client.views_update(view_id=view_id, view=view.to_dict())

    # ---- telling the member -----------------------------------------------------------------

    def tell(
        self,
        user_id: str,
        text: str,
        *,
        channel_id: str | None = None,
        thread_ts: str | None = None,
    ) -> None:
        """A short answer only the member sees: beside the thread when there is one, else
        (or when that fails) by DM. Its loss is logged: what it confirms is already done."""
        if channel_id:
            extra: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
            try:
                self._client.chat_postEphemeral(
                    channel=channel_id, user=user_id, text=text, **extra
                )
                return
            except SLACK_CALL_ERRORS as exc:
                log.info("ephemeral to %s in %s failed: %s", user_id, channel_id, error_code(exc))
        try:
            self._client.chat_postMessage(channel=user_id, text=text, unfurl_links=False)
        except SLACK_CALL_ERRORS as exc:
            log.warning("confirmation to %s failed: %s", user_id, error_code(exc))

    # ---- events -------------------------------------------------------------------------------

    def on_message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        """An edit or deletion of a kept question or answer: the entry follows its source."""
        subtype = event.get("subtype")
        channel_id = event.get("channel")
        if subtype not in _EDIT_SUBTYPES or not channel_id:
            return
        if event.get("channel_type", "channel") != "channel":  # public channels only
            return
        if subtype == "message_deleted":
            if event.get("deleted_ts"):
                self._source_deleted(str(channel_id), str(event["deleted_ts"]))
            return
        message = event.get("message")
        if not isinstance(message, dict) or not message.get("ts"):
            return
        ts = str(message["ts"])
        if message.get("subtype") == "tombstone":  # a root deleted under its replies
            self._source_deleted(str(channel_id), ts)
            return
        previous = event.get("previous_message")
        if isinstance(previous, dict) and previous.get("text") == message.get("text"):
            return  # a reply count, an unfurl: not an edit of the text
        text = clean_multiline(plain(str(message.get("text") or "")))
        with self._session_factory.begin() as session:
            changed = entries.source_edited(
                session, clock=self._clock, channel_id=str(channel_id), ts=ts, text=text
            )
        if changed:
            log.info("source edited: %d entries of %s/%s follow it", changed, channel_id, ts)

    def _source_deleted(self, channel_id: str, ts: str) -> None:
        with self._session_factory.begin() as session:
            removed = entries.source_deleted(
                session, clock=self._clock, channel_id=channel_id, ts=ts
            )
        if removed:
            log.info("source deleted: %d entries of %s/%s removed", removed, channel_id, ts)

    def on_reaction(self, event: dict[str, Any], *, added: bool) -> None:
        """A ✅ on a reply: counted on a kept answer; otherwise, from the asker, a facilitator,
        an ambassador or the secretariat, an offer (only they see it) to keep the thread."""
        if event.get("reaction") != CHECK_REACTION:
            return
        item = event.get("item") or {}
        channel_id, ts, user_id = item.get("channel"), item.get("ts"), event.get("user")
        if item.get("type") != "message" or not (channel_id and ts and user_id):
            return
        with self._session_factory.begin() as session:
            counted = feedback.count_check(
                session, channel_id=str(channel_id), ts=str(ts), delta=1 if added else -1
            )
        if counted or not added:
            return
        self._offer(str(user_id), str(channel_id), str(ts))

    def _offer(self, user_id: str, channel_id: str, ts: str) -> None:
        try:
            self._reader.ensure_public(channel_id)
            with self._session_factory() as session:
                if channel_choices.choice(session, channel_id).opted_out:
                    return
            thread = self._reader.fetch(channel_id, ts)
        except CannotCapture as exc:
            if exc.transient:
                raise  # Slack was busy: the event inbox tries again later
            return
        if ts == thread.root.ts:
            return  # a ✅ on the question itself marks no answer
        with self._session_factory() as session:
            if not may_keep_from_check(session, user_id, channel_id, thread.root.user):
                return
        language = self._locales.for_user(user_id)
        try:
            self._client.chat_postEphemeral(
                channel=channel_id,
                user=user_id,
                thread_ts=thread.root.ts,
                blocks=to_dicts(offer_blocks(language, channel_id=channel_id, ts=ts)),
                text=offer_text(language),
            )
        except SLACK_CALL_ERRORS as exc:
            if classify(exc).transient:
                raise
            log.info("✅ offer to %s in %s failed: %s", user_id, channel_id, error_code(exc))


def _notice(code: str, language: Language, labels: tuple[str, ...] = ()) -> str:
    if code == "label":
        return t("knowledge.capture.notice.label", language, labels=label_names(labels, language))
    return t(f"knowledge.capture.notice.{code}", language)
