"""Provisioning an approved request in Slack, in resumable steps.

Provisioning is never half-done: each step (create, purpose and topic, invitations, the
first message, the announcement) is recorded on the request once Slack confirmed it, so a
retry (the review message's button or the catch-up job) completes what is missing without
repeating what is done. One runner at a time per request: a short database lease (a row in
`scheduler_leases` named after the request) keeps a click and the job from racing. If a run
dies between Slack's answer and the mark, the next run finds `name_taken` for the channel
it made itself and adopts it (created by this bot, after the approval, not claimed by
another request) instead of failing."""

from __future__ import annotations

import logging
import secrets
import threading
from collections import Counter
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.domain.channels import PURPOSE_MAX, ProvisionResult, SlackChannel, Step
from bot.services.channels import provisioning, requests
from bot.slack.channels.base import ChannelAdapter, ChannelConfig
from bot.slack.channels.review import RequestReview
from bot.slack.wiring import SlackWiring
from bot.slack_errors import SLACK_CALL_ERRORS, error_code
from bot.views.blocks import to_dicts
from bot.views.channels import provisioning as views
from models import ChannelRequest, ChannelRequestStatus

log = logging.getLogger(__name__)

# Invitations that cannot succeed for that one person; the others still go ahead.
_UNINVITABLE = frozenset(
    {
        "user_not_found",
        "user_disabled",
        "user_is_deactivated",
        "cant_invite",
        "user_is_restricted",
        "user_is_ultra_restricted",
        "ura_max_channels",
    }
)


class Provisioner(ChannelAdapter):
    def __init__(
        self, wiring: SlackWiring, config: ChannelConfig, *, review: RequestReview
    ) -> None:
        super().__init__(wiring, config)
        self._review = review
        self._bot_user: str | None = None
        self._lock = threading.Lock()

    def _bot_user_id(self) -> str:
        with self._lock:
            if self._bot_user is None:
                self._bot_user = str(self._client.auth_test()["user_id"])
            return self._bot_user

    def provision(self, public_id: str) -> ProvisionResult:
        """Complete whatever is missing of an approved request; safe to call any time."""
        name, holder = provisioning.lease_name(public_id), secrets.token_hex(8)
        with self._session_factory.begin() as session:
            taken = provisioning.acquire_lease(session, clock=self._clock, name=name, holder=holder)
        if not taken:
            return ProvisionResult("busy")
        try:
            result = self._provision(public_id)
        finally:
            with self._session_factory.begin() as session:
                provisioning.release_lease(session, name=name, holder=holder)
        self._review.refresh(public_id)
        if result.newly:
            self._review.tell_requester(public_id, "provisioned")
        return result

    def retry_unfinished(self, *, limit: int = 20) -> dict[str, int]:
        """The catch-up job: approved requests that stopped on a passing error, or whose run
        died; those waiting for a person (name_taken, …) are left for the retry button."""
        with self._session_factory() as session:
            pending = provisioning.retry_candidates(session, limit=limit)
        counts: Counter[str] = Counter()
        for public_id in pending:
            counts[self.provision(public_id).status] += 1
        return dict(counts)

    def _provision(self, public_id: str) -> ProvisionResult:
        with self._session_factory() as session:
            request = requests.get_request(session, public_id)
            organisation = provisioning.organisation_name(session, request)
        if request.status is ChannelRequestStatus.PROVISIONED:
            return ProvisionResult("provisioned")
        if request.status is not ChannelRequestStatus.APPROVED:
            return ProvisionResult("not_approved")
        step = Step.CREATE
        try:
            channel_id = request.slack_channel_id or self._create(request)
            step = Step.PURPOSE
            if request.purpose_set_at is None:
                self._set_purpose_and_topic(channel_id, request, organisation)
            step = Step.INVITE
            if request.invited_at is None:
                facilitators = list(request.facilitator_ids or ())
                skipped = self._invite(channel_id, [request.requester_id, *facilitators])
                self._mark(public_id, Step.INVITE, {"not_invited": skipped})
            step = Step.WELCOME
            if request.welcomed_at is None:
                self._welcome(channel_id, request)
            step = Step.ANNOUNCE
            if request.announced_at is None and self._config.announce_channel is not None:
                self._announce(self._config.announce_channel, channel_id, request)
        except SLACK_CALL_ERRORS as exc:
            error = error_code(exc)
            log.warning("channel request %s: %s failed: %s", public_id, step.value, error)
            with self._session_factory.begin() as session:
                provisioning.mark_failed(
                    session, clock=self._clock, public_id=public_id, step=step, error=error
                )
            return ProvisionResult("failed", step=step, error=error)
        with self._session_factory.begin() as session:
            newly = provisioning.mark_provisioned(session, clock=self._clock, public_id=public_id)
        return ProvisionResult("provisioned", newly=newly)

    def _mark(self, public_id: str, step: Step, details: dict[str, Any] | None = None) -> None:
        with self._session_factory.begin() as session:
            provisioning.mark_step(
                session, clock=self._clock, public_id=public_id, step=step, details=details
            )

    def _create(self, request: ChannelRequest) -> str:
        try:
            data = dict(
                self._client.conversations_create(name=request.name, is_private=False)["channel"]
            )
        except SlackApiError as exc:
            adopted = self._adopt(request) if error_code(exc) == "name_taken" else None
            if adopted is None:
                raise
            data = adopted
        with self._session_factory.begin() as session:
            provisioning.mark_created(
                session,
                clock=self._clock,
                request=requests.get_request(session, request.public_id),
                slack_channel=SlackChannel.from_payload(data),
            )
        return str(data["id"])

    def _adopt(self, request: ChannelRequest) -> dict[str, Any] | None:
        """The channel holding the name is the one an interrupted run of this request made."""
        with self._session_factory() as session:
            candidate = provisioning.unclaimed_channel_named(session, request.name)
        if candidate is None:
            return None
        try:
            info = dict(self._client.conversations_info(channel=candidate)["channel"])
        except SLACK_CALL_ERRORS:
            return None
        if provisioning.made_by_this_run(info, request=request, bot_user_id=self._bot_user_id()):
            log.info("channel request %s: adopting %s", request.public_id, info["id"])
            return info
        return None

    def _set_purpose_and_topic(
        self, channel_id: str, request: ChannelRequest, organisation: str | None
    ) -> None:
        self._client.conversations_setPurpose(
            channel=channel_id, purpose=request.purpose[:PURPOSE_MAX]
        )
        self._client.conversations_setTopic(
            channel=channel_id,
            topic=views.topic_text(
                category=request.category,
                organisation=organisation,
                end_date=request.end_date,
                language=self._config.language,
            ),
        )
        self._mark(request.public_id, Step.PURPOSE)

    def _invite(self, channel_id: str, users: list[str]) -> list[dict[str, str]]:
        bot = self._bot_user_id()
        skipped = []
        for user in dict.fromkeys(users):
            if user == bot:
                continue
            try:
                self._client.conversations_invite(channel=channel_id, users=user)
            except SlackApiError as exc:
                error = error_code(exc)
                if error in ("already_in_channel", "cant_invite_self"):
                    continue
                if error in _UNINVITABLE:
                    skipped.append({"user": user, "error": error})
                    continue
                raise
        return skipped

    def _welcome(self, channel_id: str, request: ChannelRequest) -> None:
        language = self._config.language
        blocks = views.welcome_blocks(
            purpose=request.purpose,
            facilitators=list(request.facilitator_ids or ()),
            requester=request.requester_id,
            language=language,
        )
        posted = self._client.chat_postMessage(
            channel=channel_id,
            blocks=to_dicts(blocks),
            text=views.welcome_text(language),
            unfurl_links=False,
        )
        try:
            self._client.pins_add(channel=channel_id, timestamp=str(posted["ts"]))
        except SLACK_CALL_ERRORS as exc:
            # The message is there; an unpinned welcome is not worth failing the step.
            log.info("welcome message in %s not pinned: %s", channel_id, error_code(exc))
        self._mark(request.public_id, Step.WELCOME)

    def _announce(self, announce: str, channel_id: str, request: ChannelRequest) -> None:
        language = self._config.language
        blocks = views.announcement_blocks(
            slack_channel_id=channel_id,
            category=request.category,
            purpose=request.purpose,
            language=language,
        )
        self._client.chat_postMessage(
            channel=announce,
            blocks=to_dicts(blocks),
            text=views.announcement_text(channel_id, language),
            unfurl_links=False,
        )
        self._mark(request.public_id, Step.ANNOUNCE)
