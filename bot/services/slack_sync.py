"""What Slack knows about members, read in bulk; and deactivation when a token allows it.

- `sync_users`: pages through `users.list` (200 a page, Tier 2: about 16 pages a minute here)
  and records members Kyoso missed, profile changes, and accounts deactivated (`deleted`)
  or reactivated in Slack. About 75 pages, 5 minutes, for 15,000 members.
- `import_access_logs`: last logins from `team.accessLogs` (paid plans, an admin user token),
  newest first, until the entries are older than what Kyoso already holds. On a free plan
  Slack answers `paid_only`: the import says so and Kyoso relies on the activity it sees.
- `Deactivator`: SCIM `DELETE /Users/{id}` (Business+ / Enterprise), else
  `admin.users.remove` (Enterprise), else nothing: the secretariat gets a to-do list.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.scim import SCIMClient
from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.db import SessionFactory
from bot.i18n import Language, t
from bot.services import audit, lifecycle
from bot.services.contact_sender import TokenBucket, bulk_per_minute, retry_after
from bot.services.members import SlackUser
from bot.text import normalise_email
from models import Member, MemberStatus

log = logging.getLogger(__name__)

USERS_PAGE = 200  # Slack's maximum for users.list
ACCESS_LOGS_PAGE = 1000  # team.accessLogs' maximum
# Logins this much older than the newest one Kyoso holds end the import: already known.
ACCESS_LOG_OVERLAP = timedelta(days=1)
MAX_ACCESS_LOG_PAGES = 100

Progress = Callable[[int, int | None], None]


def paced_call(bucket: TokenBucket, method: Callable[..., Any], **kwargs: Any) -> Any:
    """One call within the bucket's pace; `ratelimited` waits for Retry-After and retries."""
    while True:
        bucket.take()
        try:
            return method(**kwargs)
        except SlackApiError as exc:
            wait = retry_after(exc)
            if wait is None:
                raise
            log.info("Slack asked to wait %.0f s (ratelimited); waiting", wait)
            bucket.hold(wait)


def _pages(
    bucket: TokenBucket, method: Callable[..., Any], key: str, **kwargs: Any
) -> Iterator[list[dict[str, Any]]]:
    cursor: str | None = None
    while True:
        response = paced_call(bucket, method, cursor=cursor, **kwargs)
        yield list(response.get(key) or [])
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return


# --- users.list -----------------------------------------------------------------------------


@dataclass
class UsersSync:
    seen: int = 0
    added: int = 0
    updated: int = 0
    deactivated: int = 0
    reactivated: int = 0
    pages: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def summary(self, language: Language) -> str:
        return t(
            "lifecycle.summary.users",
            language,
            seen=self.seen,
            added=self.added,
            deactivated=self.deactivated,
            reactivated=self.reactivated,
        )

    @property
    def changed(self) -> bool:
        return bool(self.added or self.deactivated or self.reactivated)


def _is_bot(user: dict[str, Any]) -> bool:
    return bool(user.get("is_bot") or user.get("is_app_user")) or user.get("id") == "USLACKBOT"


def sync_users(
    *,
    session_factory: SessionFactory,
    clock: Clock,
    client: WebClient,
    bucket: TokenBucket | None = None,
    progress: Progress | None = None,
) -> UsersSync:
    """Bring members up to date with users.list; one transaction per page."""
    bucket = bucket or TokenBucket(bulk_per_minute("users.list"))
    result = UsersSync()
    for page in _pages(bucket, client.users_list, "members", limit=USERS_PAGE):
        with session_factory.begin() as session:
            _apply_page(session, clock=clock, users=page, result=result)
        result.pages += 1
        result.seen += len(page)
        if progress is not None:
            progress(result.seen, None)
    return result


def _apply_page(
    session: Session, *, clock: Clock, users: list[dict[str, Any]], result: UsersSync
) -> None:
    now = clock.now()
    ids = [str(u["id"]) for u in users]
    known = {
        m.slack_user_id: m
        for m in session.scalars(select(Member).where(Member.slack_user_id.in_(ids)))
    }
    emails = {
        normalise_email(str(u["profile"]["email"]))
        for u in users
        if (u.get("profile") or {}).get("email")
    }
    taken = dict(
        session.execute(
            select(Member.email_normalized, Member.slack_user_id).where(
                Member.email_normalized.in_(emails)
            )
        ).all()
    )
    for raw in users:
        user = SlackUser.from_payload(raw)
        deleted = bool(raw.get("deleted"))
        member = known.get(user.user_id)
        email = normalise_email(user.email) if user.email else None
        # One account per address: an address another member row holds is not copied.
        if email is not None and taken.get(email, user.user_id) != user.user_id:
            email = None
        if member is None:
            if deleted:
                continue  # never a member Kyoso knew: nothing to keep about them
            session.add(
                Member(
                    slack_user_id=user.user_id,
                    email=user.email if email else None,
                    email_normalized=email,
                    real_name=user.real_name,
                    display_name=user.display_name,
                    status=MemberStatus.ACTIVE,
                    is_bot=_is_bot(raw),
                    created_at=now,
                    updated_at=now,
                )
            )
            if email:
                taken[email] = user.user_id
            result.added += 1
            continue
        if deleted:
            if lifecycle.mark_deactivated(
                session,
                clock=clock,
                slack_user_id=user.user_id,
                actor=audit.SYSTEM_ACTOR,
                via=lifecycle.EndReason.DEACTIVATED_IN_SLACK,
            ):
                result.deactivated += 1
            continue
        if member.status in (MemberStatus.DEACTIVATED, MemberStatus.DELETED):
            member.status = MemberStatus.ACTIVE
            member.deactivated_at = None
            member.personal_data_reduced_at = None  # the refresh below restores the profile
            member.updated_at = now
            audit.record(
                session,
                clock=clock,
                actor=audit.SYSTEM_ACTOR,
                action="member.reactivated_in_slack",
                target_type="member",
                target_id=user.user_id,
            )
            result.reactivated += 1
        if member.personal_data_reduced_at is not None and member.status is not MemberStatus.ACTIVE:
            continue
        if _refresh(member, user, email, is_bot=_is_bot(raw)):
            member.updated_at = now
            result.updated += 1
    session.flush()


def _refresh(member: Member, user: SlackUser, email: str | None, *, is_bot: bool) -> bool:
    changed = False
    wanted: dict[str, Any] = {
        "real_name": user.real_name,
        "display_name": user.display_name,
        "is_bot": is_bot,
    }
    if email is not None:  # users:read.email may be missing: never erase an address
        wanted |= {"email": user.email, "email_normalized": email}
    for name, value in wanted.items():
        if getattr(member, name) != value:
            setattr(member, name, value)
            changed = True
    return changed


# --- team.accessLogs --------------------------------------------------------------------------


@dataclass
class AccessLogImport:
    entries: int = 0
    updated: int = 0
    pages: int = 0
    skipped: str | None = None  # why nothing could be imported (e.g. paid_only)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def summary(self, language: Language) -> str:
        return t("lifecycle.summary.logins", language, updated=self.updated)


_LATEST_LOGIN = (
    update(Member)
    .where(Member.slack_user_id == bindparam("b_user"))
    .where(or_(Member.last_login_at.is_(None), Member.last_login_at < bindparam("b_at")))
    .values(last_login_at=bindparam("b_at"))
)


def import_access_logs(
    *,
    session_factory: SessionFactory,
    clock: Clock,
    admin_client: WebClient | None,
    bucket: TokenBucket | None = None,
    progress: Progress | None = None,
) -> AccessLogImport:
    result = AccessLogImport()
    if admin_client is None:
        result.skipped = "no admin user token"
        return result
    bucket = bucket or TokenBucket(bulk_per_minute("team.accessLogs"))
    with session_factory() as session:
        newest = session.scalar(select(func.max(Member.last_login_at)))
    stop_before = (newest - ACCESS_LOG_OVERLAP).timestamp() if newest else None
    try:
        for page in _pages(bucket, admin_client.team_accessLogs, "logins", limit=ACCESS_LOGS_PAGE):
            result.pages += 1
            result.entries += len(page)
            latest: dict[str, float] = {}
            for entry in page:
                user, at = entry.get("user_id"), float(entry.get("date_last") or 0)
                if user and at > latest.get(user, 0):
                    latest[user] = at
            if latest:
                with session_factory.begin() as session:
                    changed = session.connection().execute(
                        _LATEST_LOGIN,
                        [
                            {"b_user": u, "b_at": datetime.fromtimestamp(at, UTC)}
                            for u, at in latest.items()
                        ],
                    )
                    result.updated += max(0, changed.rowcount)
            if progress is not None:
                progress(result.entries, None)
            oldest = min((float(e.get("date_last") or 0) for e in page), default=0)
            if stop_before is not None and oldest < stop_before:
                break  # the rest is older than what Kyoso already knows
            if result.pages >= MAX_ACCESS_LOG_PAGES:
                break
    except SlackApiError as exc:
        error = str(exc.response.get("error", exc))
        if result.pages == 0:
            # paid_only (free plan), missing_scope, not_allowed_token_type: quietly skipped;
            # `kyoso doctor` explains. Inactivity then rests on the activity Kyoso sees.
            log.info("team.accessLogs unavailable (%s); using activity seen by the bot", error)
            result.skipped = error
            return result
        raise
    return result


# --- Deactivation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deactivation:
    via: lifecycle.EndReason | None  # None: not possible with the tokens at hand (a to-do)
    error: str | None = None  # Slack refused (also a to-do, with the reason)


class Deactivator:
    """Deactivates Slack accounts with the best power the admin token has; remembers which
    powers failed so a batch does not ask again for each member."""

    def __init__(
        self,
        *,
        bot_client: WebClient,
        admin_client: WebClient | None,
        admin_token: str | None,
        scim_url: str,
    ) -> None:
        self._bot = bot_client
        self._admin = admin_client
        self._scim = SCIMClient(token=admin_token, base_url=scim_url) if admin_token else None
        self._admin_api = admin_client is not None
        self._team_id: str | None = None

    @property
    def possible(self) -> bool:
        return self._scim is not None or self._admin_api

    def deactivate(self, slack_user_id: str) -> Deactivation:
        if self._scim is not None:
            try:
                response = self._scim.delete_user(slack_user_id)
            except (SlackClientError, OSError) as exc:
                return Deactivation(None, f"SCIM unreachable: {exc}")
            if response.status_code in (200, 204):
                return Deactivation(lifecycle.EndReason.DEACTIVATED_SCIM)
            if response.status_code in (401, 403):
                self._scim = None  # no SCIM on this plan or token: try the admin API
            else:
                return Deactivation(None, f"SCIM HTTP {response.status_code}")
        if self._admin is not None and self._admin_api:
            try:
                if self._team_id is None:
                    self._team_id = str(self._bot.auth_test()["team_id"])
                self._admin.admin_users_remove(team_id=self._team_id, user_id=slack_user_id)
            except SlackApiError as exc:
                error = str(exc.response.get("error", exc))
                if error in ("not_allowed_token_type", "missing_scope", "not_an_enterprise"):
                    self._admin_api = False
                    return Deactivation(None)
                return Deactivation(None, error)
            except SlackClientError as exc:
                return Deactivation(None, f"{type(exc).__name__}: {exc}")
            return Deactivation(lifecycle.EndReason.DEACTIVATED_ADMIN_API)
        return Deactivation(None)


@dataclass
class ApprovalOutcome:
    approved: list[lifecycle.Decided]
    deactivated: dict[lifecycle.EndReason, list[str]]  # how → Slack user IDs
    to_do: list[str]  # no power to deactivate: the secretariat does it in the admin pages
    failed: dict[str, str]  # Slack user ID → Slack's refusal (also to do by hand)


def approve_and_deactivate(
    *,
    session_factory: SessionFactory,
    clock: Clock,
    deactivator: Deactivator,
    cycle_ids: list[int],
    actor: str,
) -> ApprovalOutcome:
    """Approve a batch (each round once, however many clicks), then deactivate each account
    with the admin token's best power; what cannot be done becomes the to-do list."""
    with session_factory.begin() as session:
        approved = lifecycle.approve(session, clock=clock, cycle_ids=cycle_ids, actor=actor)
    outcome = ApprovalOutcome(approved=approved, deactivated={}, to_do=[], failed={})
    for decided in approved:
        result = deactivator.deactivate(decided.slack_user_id)
        if result.via is None:
            if result.error:
                outcome.failed[decided.slack_user_id] = result.error
            else:
                outcome.to_do.append(decided.slack_user_id)
            continue
        with session_factory.begin() as session:
            lifecycle.mark_deactivated(
                session,
                clock=clock,
                slack_user_id=decided.slack_user_id,
                actor=actor,
                via=result.via,
            )
        outcome.deactivated.setdefault(result.via, []).append(decided.slack_user_id)
    return outcome
