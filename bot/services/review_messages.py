"""The review message of each application in the secretariat's channel: posted once, then
updated in place as decisions are taken."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import select, update

from bot.db import SessionFactory
from bot.i18n import Language
from bot.services import applications
from bot.services.application_review import decisions_of, review_item
from bot.views.applications import fallback_text, review_blocks, to_dicts
from models import Application, ApplicationStatus

log = logging.getLogger(__name__)

_OPEN_FOR_DECISION = (ApplicationStatus.PENDING, ApplicationStatus.INFO_REQUESTED)


class ReviewMessages:
    def __init__(
        self,
        *,
        session_factory: SessionFactory,
        client: WebClient,
        review_channel: str | None,
        language: Language,
    ) -> None:
        self._session_factory = session_factory
        self._client = client
        self._channel = review_channel
        self._language = language

    def _render(self, public_id: str) -> tuple[Application, list[dict[str, Any]], str]:
        with self._session_factory() as session:
            application = applications.get(session, public_id)
            item = review_item(session, application, self._language)
            blocks = review_blocks(
                item,
                self._language,
                decisions=decisions_of(session, public_id),
                open_for_decision=application.status in _OPEN_FOR_DECISION,
                awaiting_invitation=application.status is ApplicationStatus.APPROVED,
            )
        return application, to_dicts(blocks), fallback_text(item, self._language)

    def post(self, public_id: str) -> bool:
        """Post a new application for review; False if already posted or nowhere to post."""
        if self._channel is None:
            log.warning("KYOSO_REVIEW_CHANNEL is not set: application %s awaits review", public_id)
            return False
        application, blocks, text = self._render(public_id)
        if application.review_message_ts:
            return False
        posted = self._client.chat_postMessage(channel=self._channel, blocks=blocks, text=text)
        with self._session_factory.begin() as session:
            session.execute(
                update(Application)
                .where(Application.public_id == public_id, Application.review_message_ts.is_(None))
                .values(review_channel_id=posted["channel"], review_message_ts=posted["ts"])
            )
        return True

    def refresh(self, public_id: str) -> None:
        application, blocks, text = self._render(public_id)
        if not (application.review_channel_id and application.review_message_ts):
            self.post(public_id)
            return
        self._client.chat_update(
            channel=application.review_channel_id,
            ts=application.review_message_ts,
            blocks=blocks,
            text=text,
        )

    def unposted(self) -> list[str]:
        """Undecided applications that never reached the channel (Slack was down, say)."""
        with self._session_factory() as session:
            return list(
                session.scalars(
                    select(Application.public_id)
                    .where(
                        Application.status.in_(_OPEN_FOR_DECISION),
                        Application.review_message_ts.is_(None),
                    )
                    .order_by(Application.submitted_at)
                )
            )
