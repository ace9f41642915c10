"""The secretariat's review message of each channel request (posted once, edited in place
as the request moves) and the requester's DMs about the decisions."""

from __future__ import annotations

import logging

from bot.review_post import Placement, Rendered, ReviewPost
from bot.services.channels import requests, review
from bot.slack.channels.base import ChannelAdapter, ChannelConfig, send_dm
from bot.slack.wiring import SlackWiring
from bot.slack_errors import SLACK_CALL_ERRORS, error_code
from bot.views.blocks import to_dicts
from bot.views.channels import requests as request_views
from bot.views.channels import review as review_views
from models import ChannelRequest

log = logging.getLogger(__name__)

_PLACEMENT = Placement(
    key=ChannelRequest.public_id,
    channel=ChannelRequest.review_channel_id,
    ts=ChannelRequest.review_message_ts,
)


class RequestReview(ChannelAdapter):
    def __init__(self, wiring: SlackWiring, config: ChannelConfig) -> None:
        super().__init__(wiring, config)
        self._post = ReviewPost(wiring, _PLACEMENT, render=self._render, what="channel request")

    def _render(self, public_id: str) -> Rendered:
        language = self._config.language
        announce = self._config.announce_channel is not None
        with self._session_factory() as session:
            item = review.request_item(session, public_id, announce=announce)
            history = review.history_of(session, public_id)
        blocks = review_views.review_blocks(item, language, history=history)
        return Rendered(to_dicts(blocks), review_views.review_text(item, language))

    def post(self, public_id: str) -> bool:
        """Post a request to the review channel once; later changes update it in place."""
        return self._post.post(public_id)

    def refresh(self, public_id: str) -> None:
        """Show the request as it is now (a slow Slack is logged: the decision stands)."""
        try:
            self._post.refresh(public_id)
        except SLACK_CALL_ERRORS as exc:
            log.warning("review message of %s not updated: %s", public_id, error_code(exc))

    def show(self, public_id: str, *, resubmitted: bool) -> None:
        """A new request is posted; a resubmitted one changes its message in place."""
        if resubmitted:
            self.refresh(public_id)
        else:
            self.post(public_id)

    def post_unposted(self) -> dict[str, int]:
        """Requests that never reached the review channel (Slack was down, or no channel)."""
        with self._session_factory() as session:
            waiting = review.unposted_requests(session)
        return self._post.post_waiting(waiting)

    def decided(self, public_id: str, status: str) -> None:
        """approved | returned | rejected: the requester is told, the message shows it."""
        self.tell_requester(public_id, status)
        self.refresh(public_id)

    def tell_requester(self, public_id: str, kind: str) -> bool:
        """approved | returned | rejected | provisioned, in the requester's language."""
        with self._session_factory() as session:
            request = requests.get_request(session, public_id)
        language = self._locales.for_user(request.requester_id)
        blocks = request_views.decision_dm_blocks(
            kind,
            public_id=public_id,
            name=request.name,
            language=language,
            reason=request.decision_reason,
            slack_channel_id=request.slack_channel_id,
        )
        return send_dm(
            self._client,
            request.requester_id,
            to_dicts(blocks),
            request_views.decision_dm_text(kind, request.name, language),
        )
