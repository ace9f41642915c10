"""The Slack side of channels: review messages, provisioning in resumable steps, the
registry sync, dormancy rounds and archiving.

Provisioning is never half-done: each step (create, purpose and topic, invitations, the
first message, the announcement) is recorded on the request once Slack confirmed it, so a
retry (the review message's button or the catch-up job) completes what is missing without
repeating what is done. One runner at a time per request: a short database lease (a row in
`scheduler_leases` named after the request) keeps a click and the job from racing. If a run
dies between Slack's answer and the mark, the next run finds `name_taken` for the channel
it made itself and adopts it (created by this bot, after the approval, not claimed by
another request) instead of failing.

Bulk work is paced for Slack's tiers: `conversations.list` (Tier 2, about 20 a minute) at
one page every 3 s, `conversations.history` (Tier 3) at one call every 1.2 s. slack_sdk's
retry handlers honour `Retry-After` should Slack still answer 429.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import delete, select, update

from bot.clock import Clock
from bot.db import SessionFactory, insert_for
from bot.i18n import Language
from bot.services import audit
from bot.services import channels as svc
from bot.services.activity import slack_ts_to_datetime
from bot.services.channels import SlackChannel, Step
from bot.settings import Settings
from bot.views import channels as views
from models import (
    Channel,
    ChannelRequest,
    ChannelRequestStatus,
    DormancyReview,
    Organisation,
    SchedulerLease,
)

log = logging.getLogger(__name__)

TIER2_PACE_SECONDS = 3.0  # 20 calls a minute
TIER3_PACE_SECONDS = 1.2  # 50 calls a minute
TIER4_PACE_SECONDS = 0.6  # 100 calls a minute (users.info)
SYNC_PAGE_SIZE = 200
PROVISION_LEASE = timedelta(minutes=5)
# Slack errors a retry will not cure: a person has to act first (the review message says how).
NEEDS_A_PERSON = frozenset(
    {
        "name_taken",
        "restricted_action",
        "missing_scope",
        "not_in_channel",
        "is_archived",
        "channel_not_found",
        "invalid_name_specials",
        "invalid_name_maxlength",
        "invalid_name_punctuation",
        "invalid_name_required",
        "too_long",
        "not_authed",
        "invalid_auth",
        "account_inactive",
    }
)
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
_MEMBER_SUBTYPES = {None, "thread_broadcast", "file_share", "me_message"}

_UNDELIVERED = (SlackApiError, SlackClientError, OSError)


def slack_error(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or "unknown_error")
    return "connection"


@dataclass(frozen=True)
class ChannelConfig:
    review_channel: str | None
    announce_channel: str | None
    language: Language  # the workspace's: the secretariat and shared channels read it
    zone: ZoneInfo
    dormant_days: int = 90
    # Channels Kyoso itself relies on: never asked about, never archived.
    kyoso_channels: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> ChannelConfig:
        own = (
            settings.review_channel,
            settings.intro_channel,
            settings.announce_channel,
            *settings.invite_channel_ids,
        )
        return cls(
            review_channel=settings.review_channel,
            announce_channel=settings.announce_channel,
            language=settings.default_locale,
            zone=settings.zone,
            dormant_days=settings.dormant_days,
            kyoso_channels=tuple(c for c in own if c),
        )


class Pacer:
    """At least `interval` seconds between the starts of consecutive calls."""

    def __init__(
        self,
        interval: float,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self._sleep = sleep
        self._monotonic = monotonic
        self._last: float | None = None

    def wait(self) -> None:
        now = self._monotonic()
        if self._last is not None:
            remaining = self._last + self.interval - now
            if remaining > 0:
                self._sleep(remaining)
                now = self._monotonic()
        self._last = now


class _RequestLease:
    """One provisioning run per request across threads and instances."""

    def __init__(self, session_factory: SessionFactory, clock: Clock, public_id: str) -> None:
        self._session_factory = session_factory
        self._clock = clock
        self.name = f"channel-request:{public_id}"
        self.holder = secrets.token_hex(8)

    def acquire(self) -> bool:
        now = self._clock.now()
        with self._session_factory.begin() as session:
            taken = session.execute(
                update(SchedulerLease)
                .where(SchedulerLease.name == self.name, SchedulerLease.expires_at < now)
                .values(holder=self.holder, acquired_at=now, expires_at=now + PROVISION_LEASE)
                .returning(SchedulerLease.name)
            ).first()
            if taken is not None:
                return True
            inserted = session.execute(
                insert_for(session)(SchedulerLease)
                .values(
                    name=self.name,
                    holder=self.holder,
                    acquired_at=now,
                    expires_at=now + PROVISION_LEASE,
                )
                .on_conflict_do_nothing(index_elements=["name"])
                .returning(SchedulerLease.name)
            ).first()
            return inserted is not None

    def release(self) -> None:
        with self._session_factory.begin() as session:
            session.execute(
                delete(SchedulerLease).where(
                    SchedulerLease.name == self.name, SchedulerLease.holder == self.holder
                )
            )


@dataclass(frozen=True)
class ProvisionResult:
    status: str  # provisioned | failed | busy | not_approved
    step: Step | None = None
    error: str | None = None
    newly: bool = False  # this run completed it (the requester is told once)


@dataclass(frozen=True)
class ArchiveResult:
    status: str  # archived | refused | failed | decided
    error: str | None = None
    outcome: str | None = None  # when decided by someone else
    slack_channel_id: str | None = None


@dataclass
class _Run:
    """Counts of one dormancy run."""

    counts: Counter[str] = field(default_factory=Counter)
    users: dict[str, bool] = field(default_factory=dict)  # user id → deleted in Slack
    users_pacer: Pacer | None = None


class ChannelSlack:
    def __init__(
        self,
        *,
        session_factory: SessionFactory,
        client: WebClient,
        clock: Clock,
        config: ChannelConfig,
        language_of: Callable[[str], Language] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._session_factory = session_factory
        self._client = client
        self._clock = clock
        self.config = config
        self._language_of = language_of or (lambda _user: config.language)
        self._sleep = sleep
        self._bot_user: str | None = None
        self._lock = threading.Lock()

    # --- small helpers ---------------------------------------------------------------------------

    def today(self) -> date:
        return self._clock.now().astimezone(self.config.zone).date()

    def bot_user_id(self) -> str:
        with self._lock:
            if self._bot_user is None:
                self._bot_user = str(self._client.auth_test()["user_id"])
            return self._bot_user

    def _dm(self, user_id: str, blocks: list[dict[str, Any]], text: str) -> bool:
        try:
            self._client.chat_postMessage(
                channel=user_id, blocks=blocks, text=text, unfurl_links=False
            )
        except _UNDELIVERED as exc:
            log.warning("DM to %s failed: %s", user_id, slack_error(exc))
            return False
        return True

    # --- review messages -------------------------------------------------------------------------

    def _item(self, session: Any, request: ChannelRequest) -> views.RequestItem:
        organisation = (
            session.get(Organisation, request.facilitating_organisation_id)
            if request.facilitating_organisation_id
            else None
        )
        done = {
            step
            for step, at in (
                (Step.CREATE, request.slack_channel_id),
                (Step.PURPOSE, request.purpose_set_at),
                (Step.INVITE, request.invited_at),
                (Step.WELCOME, request.welcomed_at),
                (Step.ANNOUNCE, request.announced_at),
            )
            if at is not None
        }
        similar: tuple[svc.Similar, ...] = ()
        if request.status in (ChannelRequestStatus.PENDING, ChannelRequestStatus.RETURNED):
            similar = tuple(
                svc.similar_to(session, request.name, exclude_request=request.public_id)
            )
        return views.RequestItem(
            public_id=request.public_id,
            requester=request.requester_id,
            name=request.name,
            category=request.category,
            purpose=request.purpose,
            reason=request.reason,
            prefecture=request.prefecture,
            organisation=organisation.name if organisation is not None else None,
            facilitators=tuple(request.facilitator_ids or ()),
            end_date=request.end_date,
            created_at=request.created_at,
            status=request.status.value,
            slack_channel_id=request.slack_channel_id,
            done=frozenset(done),
            failure=svc.failed_step(request),
            announce=self.config.announce_channel is not None,
            similar=similar,
        )

    def _render(self, public_id: str) -> tuple[ChannelRequest, list[dict[str, Any]], str]:
        language = self.config.language
        with self._session_factory() as session:
            request = svc.get_request(session, public_id)
            item = self._item(session, request)
            history = [
                views.HistoryLine(e.kind, e.actor, e.at, e.reason)
                for e in svc.history_of(session, public_id)
            ]
        blocks = views.review_blocks(item, language, history=history)
        return request, views.to_dicts(blocks), views.review_text(item, language)

    def post_review(self, public_id: str) -> bool:
        """Post a request to the review channel once; later changes update it in place."""
        if self.config.review_channel is None:
            log.warning("KYOSO_REVIEW_CHANNEL is not set: channel request %s waits", public_id)
            return False
        request, blocks, text = self._render(public_id)
        if request.review_message_ts:
            return False
        posted = self._client.chat_postMessage(
            channel=self.config.review_channel, blocks=blocks, text=text
        )
        with self._session_factory.begin() as session:
            svc.set_review_message(
                session, public_id=public_id, channel=posted["channel"], ts=posted["ts"]
            )
        return True

    def refresh_review(self, public_id: str) -> None:
        request, blocks, text = self._render(public_id)
        if not (request.review_channel_id and request.review_message_ts):
            self.post_review(public_id)
            return
        self._client.chat_update(
            channel=request.review_channel_id,
            ts=request.review_message_ts,
            blocks=blocks,
            text=text,
        )

    def refresh_review_quietly(self, public_id: str) -> None:
        try:
            self.refresh_review(public_id)
        except _UNDELIVERED as exc:
            log.warning("review message of %s not updated: %s", public_id, slack_error(exc))

    # --- telling the requester -------------------------------------------------------------------

    def tell_requester(self, public_id: str, kind: str) -> bool:
        """approved | returned | rejected | provisioned, in the requester's language."""
        with self._session_factory() as session:
            request = svc.get_request(session, public_id)
        language = self._language_of(request.requester_id)
        blocks = views.decision_dm_blocks(
            kind,
            public_id=public_id,
            name=request.name,
            language=language,
            reason=request.decision_reason,
            slack_channel_id=request.slack_channel_id,
        )
        return self._dm(
            request.requester_id,
            views.to_dicts(blocks),
            views.decision_dm_text(kind, request.name, language),
        )

    def tell_similar(self, user_id: str, similar: tuple[svc.Similar, ...]) -> bool:
        language = self._language_of(user_id)
        blocks = views.similar_blocks(similar, language)
        return self._dm(user_id, views.to_dicts(blocks), views.to_dicts(blocks)[0]["text"]["text"])

    # --- provisioning ----------------------------------------------------------------------------

    def provision(self, public_id: str) -> ProvisionResult:
        """Complete whatever is missing of an approved request; safe to call any time."""
        lease = _RequestLease(self._session_factory, self._clock, public_id)
        if not lease.acquire():
            return ProvisionResult("busy")
        try:
            result = self._provision(public_id)
        finally:
            lease.release()
        self.refresh_review_quietly(public_id)
        if result.newly:
            self.tell_requester(public_id, "provisioned")
        return result

    def _provision(self, public_id: str) -> ProvisionResult:
        with self._session_factory() as session:
            request = svc.get_request(session, public_id)
            organisation = (
                session.get(Organisation, request.facilitating_organisation_id)
                if request.facilitating_organisation_id
                else None
            )
            organisation_name = organisation.name if organisation is not None else None
        if request.status is ChannelRequestStatus.PROVISIONED:
            return ProvisionResult("provisioned")
        if request.status is not ChannelRequestStatus.APPROVED:
            return ProvisionResult("not_approved")
        language = self.config.language
        facilitators = list(request.facilitator_ids or ())
        step = Step.CREATE
        try:
            channel_id = request.slack_channel_id or self._create(request)
            step = Step.PURPOSE
            if request.purpose_set_at is None:
                self._client.conversations_setPurpose(
                    channel=channel_id, purpose=request.purpose[: svc.PURPOSE_MAX]
                )
                self._client.conversations_setTopic(
                    channel=channel_id,
                    topic=views.topic_text(
                        category=request.category,
                        organisation=organisation_name,
                        end_date=request.end_date,
                        language=language,
                    ),
                )
                self._mark(public_id, Step.PURPOSE)
            step = Step.INVITE
            if request.invited_at is None:
                skipped = self._invite(channel_id, [request.requester_id, *facilitators])
                self._mark(public_id, Step.INVITE, {"not_invited": skipped})
            step = Step.WELCOME
            if request.welcomed_at is None:
                blocks = views.welcome_blocks(
                    purpose=request.purpose,
                    facilitators=facilitators,
                    requester=request.requester_id,
                    language=language,
                )
                posted = self._client.chat_postMessage(
                    channel=channel_id,
                    blocks=views.to_dicts(blocks),
                    text=views.welcome_text(language),
                    unfurl_links=False,
                )
                self._pin(channel_id, str(posted["ts"]))
                self._mark(public_id, Step.WELCOME)
            step = Step.ANNOUNCE
            announce = self.config.announce_channel
            if request.announced_at is None and announce is not None:
                blocks = views.announcement_blocks(
                    slack_channel_id=channel_id,
                    category=request.category,
                    purpose=request.purpose,
                    language=language,
                )
                self._client.chat_postMessage(
                    channel=announce,
                    blocks=views.to_dicts(blocks),
                    text=views.announcement_text(channel_id, language),
                    unfurl_links=False,
                )
                self._mark(public_id, Step.ANNOUNCE)
        except _UNDELIVERED as exc:
            error = slack_error(exc)
            log.warning("channel request %s: %s failed: %s", public_id, step.value, error)
            with self._session_factory.begin() as session:
                svc.mark_failed(
                    session, clock=self._clock, public_id=public_id, step=step, error=error
                )
            return ProvisionResult("failed", step=step, error=error)
        with self._session_factory.begin() as session:
            newly = svc.mark_provisioned(session, clock=self._clock, public_id=public_id)
        return ProvisionResult("provisioned", newly=newly)

    def _mark(self, public_id: str, step: Step, details: dict[str, Any] | None = None) -> None:
        with self._session_factory.begin() as session:
            svc.mark_step(
                session, clock=self._clock, public_id=public_id, step=step, details=details
            )

    def _create(self, request: ChannelRequest) -> str:
        try:
            data = dict(
                self._client.conversations_create(name=request.name, is_private=False)["channel"]
            )
        except SlackApiError as exc:
            adopted = self._adopt(request) if slack_error(exc) == "name_taken" else None
            if adopted is None:
                raise
            data = adopted
        with self._session_factory.begin() as session:
            svc.mark_created(
                session,
                clock=self._clock,
                request=svc.get_request(session, request.public_id),
                slack_channel=SlackChannel.from_payload(data),
            )
        return str(data["id"])

    def _adopt(self, request: ChannelRequest) -> dict[str, Any] | None:
        """The channel holding the name is the one an interrupted run of this request made."""
        with self._session_factory() as session:
            existing = svc.channel_by_name(session, request.name)
            if existing is None:
                return None
            claimed = session.scalar(
                select(ChannelRequest.id).where(
                    ChannelRequest.slack_channel_id == existing.slack_channel_id
                )
            )
        if claimed is not None:
            return None
        try:
            info = dict(
                self._client.conversations_info(channel=existing.slack_channel_id)["channel"]
            )
        except _UNDELIVERED:
            return None
        created = info.get("created")
        decided = request.decided_at or request.created_at
        made_after = created is not None and datetime.fromtimestamp(int(created), UTC) >= (
            decided - timedelta(minutes=5)
        )
        if info.get("creator") == self.bot_user_id() and made_after and not info.get("is_archived"):
            log.info("channel request %s: adopting %s", request.public_id, info["id"])
            return info
        return None

    def _invite(self, channel_id: str, users: list[str]) -> list[dict[str, str]]:
        bot = self.bot_user_id()
        skipped = []
        for user in dict.fromkeys(users):
            if user == bot:
                continue
            try:
                self._client.conversations_invite(channel=channel_id, users=user)
            except SlackApiError as exc:
                error = slack_error(exc)
                if error in ("already_in_channel", "cant_invite_self"):
                    continue
                if error in _UNINVITABLE:
                    skipped.append({"user": user, "error": error})
                    continue
                raise
        return skipped

    def _pin(self, channel_id: str, ts: str) -> None:
        try:
            self._client.pins_add(channel=channel_id, timestamp=ts)
        except _UNDELIVERED as exc:
            # The message is there; an unpinned welcome is not worth failing the step.
            log.info("welcome message in %s not pinned: %s", channel_id, slack_error(exc))

    def retry_unfinished(self, *, limit: int = 20) -> dict[str, int]:
        """The catch-up job: approved requests that stopped on a passing error, or whose run
        died; those waiting for a person (name_taken, …) are left for the retry button."""
        with self._session_factory() as session:
            pending = [
                r.public_id
                for r in svc.approved_unfinished(session)
                if (svc.failed_step(r) or ("", ""))[1] not in NEEDS_A_PERSON
            ][:limit]
        counts: Counter[str] = Counter()
        for public_id in pending:
            counts[self.provision(public_id).status] += 1
        return dict(counts)

    def post_unposted(self) -> dict[str, int]:
        with self._session_factory() as session:
            waiting = svc.unposted_requests(session)
        posted = failed = 0
        for public_id in waiting:
            try:
                posted += self.post_review(public_id)
            except _UNDELIVERED as exc:
                failed += 1
                log.warning("channel request %s still not posted: %s", public_id, slack_error(exc))
        return {"posted": posted, "failed": failed}

    # --- the registry ----------------------------------------------------------------------------

    def channel_info(self, slack_channel_id: str) -> SlackChannel | None:
        try:
            data = self._client.conversations_info(channel=slack_channel_id)["channel"]
        except _UNDELIVERED as exc:
            log.warning("conversations.info %s failed: %s", slack_channel_id, slack_error(exc))
            return None
        return SlackChannel.from_payload(data)

    def sync_registry(
        self, *, page_size: int = SYNC_PAGE_SIZE, pace_seconds: float = TIER2_PACE_SECONDS
    ) -> dict[str, Any]:
        """Every public channel, archived ones included, page by page with Slack's cursor."""
        pacer = Pacer(pace_seconds, sleep=self._sleep)
        seen: set[str] = set()
        changes: Counter[str] = Counter()
        pages = 0
        cursor = ""
        while True:
            pacer.wait()
            try:
                response = self._client.conversations_list(
                    types="public_channel",
                    exclude_archived=False,
                    limit=page_size,
                    cursor=cursor or None,
                )
            except _UNDELIVERED as exc:
                error = slack_error(exc)
                log.warning("channel sync stopped after %d pages: %s", pages, error)
                return {"pages": pages, "channels": len(seen), "error": error, **changes}
            pages += 1
            with self._session_factory.begin() as session:
                for data in response.get("channels") or []:
                    slack_channel = SlackChannel.from_payload(data)
                    if slack_channel.is_private:
                        continue
                    seen.add(slack_channel.id)
                    _, changed = svc.apply_slack_channel(
                        session, clock=self._clock, slack_channel=slack_channel
                    )
                    changes.update(c.value for c in changed)
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or ""
            if not cursor:
                break
        with self._session_factory.begin() as session:
            missing = svc.mark_missing(session, clock=self._clock, seen=seen)
            result = {"pages": pages, "channels": len(seen), "missing": len(missing), **changes}
            audit.record(
                session,
                clock=self._clock,
                actor=audit.SYSTEM_ACTOR,
                action="channels.synced",
                target_type="channel",
                target_id="*",
                details=dict(result),
            )
        return result

    def set_purpose(self, slack_channel_id: str, purpose: str) -> str | None:
        """Slack's purpose after an edit; the error code if Slack refused."""
        try:
            self._client.conversations_setPurpose(
                channel=slack_channel_id, purpose=purpose[: svc.PURPOSE_MAX]
            )
        except _UNDELIVERED as exc:
            return slack_error(exc)
        return None

    # --- dormant and finished channels -----------------------------------------------------------

    def _deleted_in_slack(self, run: _Run, user_id: str) -> bool:
        if user_id not in run.users:
            if run.users_pacer is not None:
                run.users_pacer.wait()
            try:
                user = self._client.users_info(user=user_id)["user"]
                run.users[user_id] = bool(user.get("deleted"))
            except SlackApiError as exc:
                run.users[user_id] = slack_error(exc) in ("user_not_found", "account_inactive")
            except (SlackClientError, OSError):
                run.users[user_id] = False  # unknown: keep asking them
        return run.users[user_id]

    def _people(self, run: _Run, channel: Channel) -> tuple[list[str], list[str]]:
        """(facilitators to ask, facilitators who left the workspace)."""
        with self._session_factory() as session:
            everyone = svc.facilitators_of(session, channel)
        active: list[str] = []
        gone: list[str] = []
        for member in everyone:
            left = member.status in svc.GONE_MEMBER_STATUSES or self._deleted_in_slack(
                run, member.slack_user_id
            )
            (gone if left else active).append(member.slack_user_id)
        return active, gone

    def _latest_message(self, slack_channel_id: str) -> tuple[bool, datetime | None]:
        """(known, latest member message) from conversations.history; joins if need be."""
        for attempt in range(2):
            try:
                response = self._client.conversations_history(channel=slack_channel_id, limit=20)
            except SlackApiError as exc:
                if slack_error(exc) == "not_in_channel" and attempt == 0:
                    try:
                        self._client.conversations_join(channel=slack_channel_id)
                    except _UNDELIVERED as join_exc:
                        log.info("cannot join %s: %s", slack_channel_id, slack_error(join_exc))
                        return False, None
                    continue
                log.info("history of %s unavailable: %s", slack_channel_id, slack_error(exc))
                return False, None
            except (SlackClientError, OSError):
                return False, None
            for message in response.get("messages") or []:
                if message.get("bot_id") or message.get("subtype") not in _MEMBER_SUBTYPES:
                    continue
                return True, slack_ts_to_datetime(str(message["ts"]))
            return True, None
        return False, None

    def _dormant_item(
        self, session: Any, review: DormancyReview, gone: list[str]
    ) -> views.DormantItem:
        channel = svc.channel_of(session, review)
        reason = "ended" if channel.end_date and channel.end_date < self.today() else "quiet"
        return views.DormantItem(
            review_id=review.id,
            slack_channel_id=channel.slack_channel_id,
            name=channel.name,
            reason=reason,
            last_activity_at=channel.last_activity_at,
            end_date=channel.end_date,
            dormant_days=self.config.dormant_days,
            gone_facilitators=tuple(gone),
            outcome=review.outcome.value,
            decided_by=review.decided_by,
            decided_at=review.decided_at,
        )

    def dormant_item(self, review_id: int) -> views.DormantItem:
        with self._session_factory() as session:
            review = svc.get_review(session, review_id)
            channel = svc.channel_of(session, review)
            gone = svc.gone_facilitators(session, channel)
            return self._dormant_item(session, review, gone)

    def _ask(self, run: _Run, review_id: int, *, reminder: bool) -> None:
        with self._session_factory() as session:
            review = svc.get_review(session, review_id)
            channel = svc.channel_of(session, review)
        active, gone = self._people(run, channel)
        with self._session_factory() as session:
            item = self._dormant_item(session, svc.get_review(session, review_id), gone)
        if gone:
            run.counts["facilitators_left"] += len(gone)
        sent = 0
        for user_id in active:
            language = self._language_of(user_id)
            blocks = views.dormancy_ask_blocks(
                item, language, reminder=reminder, to_secretariat=False
            )
            sent += self._dm(
                user_id,
                views.to_dicts(blocks),
                views.dormancy_ask_text(item, language, reminder=reminder),
            )
        if not active:
            sent += self._ask_secretariat(item, reminder=reminder)
        run.counts["reminded" if reminder else "asked"] += 1
        run.counts["messages"] += sent

    def _ask_secretariat(self, item: views.DormantItem, *, reminder: bool) -> int:
        language = self.config.language
        blocks = views.to_dicts(
            views.dormancy_ask_blocks(item, language, reminder=reminder, to_secretariat=True)
        )
        text = views.dormancy_ask_text(item, language, reminder=reminder)
        if self.config.review_channel is not None:
            try:
                self._client.chat_postMessage(
                    channel=self.config.review_channel, blocks=blocks, text=text
                )
                return 1
            except _UNDELIVERED as exc:
                log.warning("dormancy question not posted: %s", slack_error(exc))
                return 0
        with self._session_factory() as session:
            secretaries = svc.secretariat_ids(session)
        return sum(self._dm(user_id, blocks, text) for user_id in secretaries)

    def run_dormancy(
        self,
        *,
        history_pace_seconds: float = TIER3_PACE_SECONDS,
        users_pace_seconds: float = TIER4_PACE_SECONDS,
        limit: int = 200,
    ) -> dict[str, Any]:
        """The weekly round: ask about quiet or finished channels, remind once, then list the
        unanswered and agreed ones for the secretariat to archive."""
        now, today = self._clock.now(), self.today()
        run = _Run(users_pacer=Pacer(users_pace_seconds, sleep=self._sleep))
        threshold = now - timedelta(days=self.config.dormant_days)
        with self._session_factory() as session:
            protected = svc.protected_channel_ids(session, self.config.kyoso_channels)
            candidates = svc.dormancy_candidates(
                session,
                now=now,
                today=today,
                dormant_days=self.config.dormant_days,
                protected=protected,
            )
        pacer = Pacer(history_pace_seconds, sleep=self._sleep)
        for candidate in candidates[:limit]:
            channel, reason = candidate.channel, candidate.reason
            if reason == "unknown":
                pacer.wait()
                known, latest = self._latest_message(channel.slack_channel_id)
                run.counts["history_checked"] += 1
                if not known:
                    run.counts["unknown"] += 1
                    continue
                if latest is not None:
                    with self._session_factory.begin() as session:
                        svc.record_activity(
                            session, slack_channel_id=channel.slack_channel_id, at=latest
                        )
                    if latest >= threshold:
                        continue
                reason = "quiet"
            with self._session_factory.begin() as session:
                review = svc.start_review(
                    session, clock=self._clock, channel=channel, today=today, reason=reason
                )
                review_id = review.id if review is not None else None
            if review_id is not None:
                self._ask(run, review_id, reminder=False)
        with self._session_factory() as session:
            due = [r.id for r in svc.due_reminders(session, now=now)]
        for review_id in due:
            with self._session_factory.begin() as session:
                claimed = svc.claim_reminder(session, clock=self._clock, review_id=review_id)
            if claimed:
                self._ask(run, review_id, reminder=True)
        run.counts["listed"] += self._list_for_archiving(run, now)
        run.counts["left_reported"] += self._report_left(run)
        return dict(run.counts)

    def _list_for_archiving(self, run: _Run, now: datetime) -> int:
        if self.config.review_channel is None:
            log.warning("KYOSO_REVIEW_CHANNEL unset: dormant channels are not listed")
            return 0
        with self._session_factory.begin() as session:
            reviews = svc.claim_listing(session, clock=self._clock, now=now)
            ids = [r.id for r in reviews]
        if not ids:
            return 0
        items = []
        for review_id in ids:
            with self._session_factory() as session:
                review = svc.get_review(session, review_id)
                channel = svc.channel_of(session, review)
            _, gone = self._people(run, channel)
            with self._session_factory() as session:
                items.append(self._dormant_item(session, svc.get_review(session, review_id), gone))
        language = self.config.language
        for start in range(0, len(items), views.DORMANCY_LIST_MAX):
            chunk = items[start : start + views.DORMANCY_LIST_MAX]
            try:
                self._client.chat_postMessage(
                    channel=self.config.review_channel,
                    blocks=views.to_dicts(views.dormancy_list_blocks(chunk, language)),
                    text=views.dormancy_list_text(len(chunk), language),
                )
            except _UNDELIVERED as exc:
                log.warning("dormant list not posted: %s; listed again next run", slack_error(exc))
                with self._session_factory.begin() as session:
                    svc.unclaim_listing(session, review_ids=[i.review_id for i in chunk])
                return start
        return len(items)

    def _report_left(self, run: _Run) -> int:
        """Facilitators who left the workspace, reported once per channel to the secretariat."""
        if self.config.review_channel is None:
            return 0
        rows: list[tuple[str, list[str]]] = []
        with self._session_factory() as session:
            watched = svc.channels_with_facilitators(session)
        for channel in watched:
            _, gone = self._people(run, channel)
            if not gone:
                continue
            new = []
            with self._session_factory.begin() as session:
                for user_id in gone:
                    if svc.claim_left_report(
                        session, clock=self._clock, channel=channel, slack_user_id=user_id
                    ):
                        new.append(user_id)
            if new:
                rows.append((channel.slack_channel_id, new))
        if not rows:
            return 0
        language = self.config.language
        blocks = views.left_facilitators_blocks(rows, language)
        try:
            self._client.chat_postMessage(
                channel=self.config.review_channel,
                blocks=views.to_dicts(blocks),
                text=views.to_dicts(blocks)[0]["text"]["text"],
            )
        except _UNDELIVERED as exc:
            log.warning("left facilitators not reported: %s", slack_error(exc))
        return len(rows)

    def archive_listed(self, review_id: int, actor: str) -> ArchiveResult:
        """The secretariat's one click: archive in Slack, then record it once."""
        with self._session_factory() as session:
            try:
                review = svc.archivable(session, review_id)
            except svc.AlreadyDecided as exc:
                return ArchiveResult("decided", outcome=exc.status)
            channel = svc.channel_of(session, review)
            protected = svc.protected_channel_ids(session, self.config.kyoso_channels)
        channel_id = channel.slack_channel_id
        if channel_id in protected:
            with self._session_factory.begin() as session:
                svc.mark_archive_refused(
                    session, clock=self._clock, review_id=review_id, actor=actor, error="protected"
                )
            return ArchiveResult("refused", error="protected", slack_channel_id=channel_id)
        try:
            self._client.conversations_archive(channel=channel_id)
        except _UNDELIVERED as exc:
            error = slack_error(exc)
            if error in ("cant_archive_general", "cant_archive_required"):
                with self._session_factory.begin() as session:
                    svc.mark_archive_refused(
                        session, clock=self._clock, review_id=review_id, actor=actor, error=error
                    )
                return ArchiveResult("refused", error=error, slack_channel_id=channel_id)
            if error != "already_archived":
                return ArchiveResult("failed", error=error, slack_channel_id=channel_id)
        with self._session_factory.begin() as session:
            done = svc.mark_archived(session, clock=self._clock, review_id=review_id, actor=actor)
            outcome = svc.get_review(session, review_id).outcome.value
        if not done:
            return ArchiveResult("decided", outcome=outcome, slack_channel_id=channel_id)
        return ArchiveResult("archived", slack_channel_id=channel_id)

    # --- facilitator tools -----------------------------------------------------------------------

    def record_summary(
        self, *, channel_id: str, message_ts: str, author: str, actor: str
    ) -> tuple[bool, str | None]:
        """Pin the message and record it; (newly recorded, Slack error if the pin failed)."""
        error = None
        try:
            self._client.pins_add(channel=channel_id, timestamp=message_ts)
        except _UNDELIVERED as exc:
            error = slack_error(exc)
            if error == "already_pinned":
                error = None
            else:
                return False, error
        permalink = None
        try:
            permalink = str(
                self._client.chat_getPermalink(channel=channel_id, message_ts=message_ts)[
                    "permalink"
                ]
            )
        except _UNDELIVERED as exc:
            log.info("no permalink for %s/%s: %s", channel_id, message_ts, slack_error(exc))
        with self._session_factory.begin() as session:
            recorded = svc.record_summary(
                session,
                clock=self._clock,
                channel_id=channel_id,
                message_ts=message_ts,
                author_id=author,
                recorded_by=actor,
                permalink=permalink,
            )
        return recorded, error

    def point(
        self, *, channel_id: str, message_ts: str, author: str, target: str, note: str, actor: str
    ) -> str | None:
        """Reply in the message's thread with the suggested channel; the Slack error if any."""
        language = self.config.language
        try:
            self._client.chat_postMessage(
                channel=channel_id,
                thread_ts=message_ts,
                text=views.pointer_text(author=author, target=target, note=note, language=language),
                unfurl_links=False,
            )
        except _UNDELIVERED as exc:
            return slack_error(exc)
        with self._session_factory.begin() as session:
            svc.record_pointer(
                session,
                clock=self._clock,
                channel_id=channel_id,
                message_ts=message_ts,
                target=target,
                actor=actor,
            )
        return None
