"""Onboarding: from `team_join` to a member who accepted the rules and introduced themselves.

Every contact is claimed with a guarded update in the caller's transaction before it is
sent (`welcome_claimed_at`, `intro_reminded_at`, `profile_nudged_at`): a redelivered event,
a double click or a rerun job finds the claim and sends nothing. The welcome DM is marked
sent (`welcomed_at`) only when Slack accepted it: a claim Slack refused for a passing reason
is given back, and one left in flight is checked in the member's IM by the
onboarding-welcomes job before it is sent again (bot/services/welcome_sender.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.business_days import business_days_between
from bot.clock import Clock
from bot.eligibility import (
    OrganisationDirectory,
    normalise_application_email,
    organisation_like,
)
from bot.i18n import Language
from bot.services import audit, members
from bot.services.rules import REACHABLE_STATUSES, Rules, current
from models import (
    Application,
    ApplicationStatus,
    Channel,
    ChannelCategory,
    ChannelStatus,
    Member,
    Organisation,
    OrganisationKind,
)

# The application states a newcomer's join completes.
JOINABLE_STATUSES = (ApplicationStatus.APPROVED, ApplicationStatus.INVITED)
INTRO_REMINDER_AFTER = timedelta(days=7)
# Give newcomers a day to set up their profile; stop checking after two weeks.
PROFILE_CHECK_AFTER = timedelta(days=1)
PROFILE_CHECK_UNTIL = timedelta(days=14)
STUCK_AFTER_BUSINESS_DAYS = 3
MAIN_CHANNELS = 4
REGIONAL_CHANNELS = 2
THEME_CHANNELS = 3
SUGGESTED_CATEGORIES = (ChannelCategory.ALL, ChannelCategory.PJ, ChannelCategory.RE)


# --- team_join ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnmatchedJoin:
    """A newcomer Kyoso has no approved application for: the secretariat is told."""

    slack_user_id: str
    name: str | None
    email: str | None
    application_status: ApplicationStatus | None  # of the latest application, if any


@dataclass(frozen=True)
class JoinOutcome:
    slack_user_id: str
    welcome: bool  # this delivery claimed the welcome DM and must send it
    matched_application: str | None  # public id of the application marked joined
    unmatched: UnmatchedJoin | None  # set only together with `welcome`


def handle_join(session: Session, *, clock: Clock, user: members.SlackUser) -> JoinOutcome:
    """Record the join, complete the member's application, and claim the welcome DM."""
    member = members.record_join(session, clock=clock, user=user)
    if user.is_bot:
        return JoinOutcome(user.user_id, welcome=False, matched_application=None, unmatched=None)
    matched: str | None = None
    latest_status: ApplicationStatus | None = None
    email = normalise_application_email(member.email) if member.email else None
    if email:
        application = _joinable_application(session, email)
        if application is not None and _mark_joined(session, clock, application, member):
            matched = application.public_id
        else:
            latest_status = session.scalar(
                select(Application.status)
                .where(Application.email_normalized == email)
                .order_by(Application.submitted_at.desc(), Application.id.desc())
                .limit(1)
            )
    welcome = claim_welcome(session, clock=clock, slack_user_id=user.user_id)
    unmatched = None
    if welcome and matched is None:
        unmatched = UnmatchedJoin(
            slack_user_id=user.user_id,
            name=user.real_name or user.display_name,
            email=user.email,
            application_status=latest_status,
        )
    return JoinOutcome(
        user.user_id, welcome=welcome, matched_application=matched, unmatched=unmatched
    )


def _joinable_application(session: Session, normalised_email: str) -> Application | None:
    return session.scalar(
        select(Application)
        .where(
            Application.email_normalized == normalised_email,
            Application.status.in_(JOINABLE_STATUSES),
        )
        .order_by(Application.submitted_at.desc())
        .limit(1)
    )


def _mark_joined(session: Session, clock: Clock, application: Application, member: Member) -> bool:
    """A guarded update: decided_at/decided_by stay the secretariat's decision."""
    changed = session.execute(
        update(Application)
        .where(Application.id == application.id, Application.status.in_(JOINABLE_STATUSES))
        .values(status=ApplicationStatus.JOINED, slack_user_id=member.slack_user_id)
        .returning(Application.id)
    ).first()
    if changed is None:
        return False
    session.refresh(application)
    if application.organisation_id is not None:
        member.organisation_id = application.organisation_id
    if application.department:
        member.department = application.department
    member.updated_at = clock.now()
    audit.record(
        session,
        clock=clock,
        actor=member.slack_user_id,
        action="application.joined",
        target_type="application",
        target_id=application.public_id,
    )
    return True


# How long a welcome claim may stay in flight before the job looks in Slack, and for how
# long after joining a member who was never welcomed is still worth welcoming.
WELCOME_CLAIM_LEASE = timedelta(minutes=10)
WELCOME_RETRY_FOR = timedelta(days=7)
_MAX_ERROR_CHARS = 500


def claim_welcome(session: Session, *, clock: Clock, slack_user_id: str) -> bool:
    return _claim(
        session,
        slack_user_id,
        Member.welcome_claimed_at,
        clock.now(),
        Member.welcomed_at.is_(None),
        Member.welcome_error.is_(None),
    )


def _welcome_update(slack_user_id: str) -> Any:
    return update(Member).where(
        Member.slack_user_id == slack_user_id,
        Member.welcomed_at.is_(None),
        Member.welcome_error.is_(None),
    )


def mark_welcomed(session: Session, *, at: datetime, slack_user_id: str) -> None:
    """Slack accepted the welcome DM."""
    session.execute(_welcome_update(slack_user_id).values(welcomed_at=at))


def release_welcome(session: Session, *, slack_user_id: str) -> None:
    """Slack certainly did not take it: due again for the next run."""
    session.execute(_welcome_update(slack_user_id).values(welcome_claimed_at=None))


def fail_welcome(session: Session, *, slack_user_id: str, error: str) -> None:
    """Slack refused it for good (the member cannot be DMed): never retried."""
    session.execute(
        _welcome_update(slack_user_id).values(
            welcome_error=error[:_MAX_ERROR_CHARS], welcome_claimed_at=None
        )
    )


def _unwelcomed() -> tuple[Any, ...]:
    return (
        *_reachable(),
        Member.joined_at.is_not(None),
        Member.welcomed_at.is_(None),
        Member.welcome_error.is_(None),
    )


def due_welcomes(session: Session, *, now: datetime, limit: int) -> list[str]:
    """Joined lately, never welcomed, not in flight."""
    return list(
        session.scalars(
            select(Member.slack_user_id)
            .where(
                *_unwelcomed(),
                Member.joined_at >= now - WELCOME_RETRY_FOR,
                Member.welcome_claimed_at.is_(None),
            )
            .order_by(Member.joined_at, Member.id)
            .limit(limit)
        )
    )


def stale_welcome_claims(session: Session, *, now: datetime, limit: int) -> list[str]:
    """Welcomes a sender left in flight (it died, or Slack's answer was lost)."""
    return list(
        session.scalars(
            select(Member.slack_user_id)
            .where(*_unwelcomed(), Member.welcome_claimed_at <= now - WELCOME_CLAIM_LEASE)
            .order_by(Member.welcome_claimed_at, Member.id)
            .limit(limit)
        )
    )


def _claim(session: Session, slack_user_id: str, column: Any, now: datetime, *more: Any) -> bool:
    """Set a once-only mark; True for the one caller that set it."""
    changed = session.execute(
        update(Member)
        .where(Member.slack_user_id == slack_user_id, column.is_(None), *more)
        .values({column.key: now})
        .returning(Member.id)
    ).first()
    return changed is not None


# --- the welcome DM ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelRef:
    slack_channel_id: str
    name: str
    prefecture: str | None = None


@dataclass(frozen=True)
class Suggestions:
    main: tuple[ChannelRef, ...]
    regional: tuple[ChannelRef, ...]
    themes: tuple[ChannelRef, ...]


@dataclass(frozen=True)
class Welcome:
    slack_user_id: str
    name: str | None
    rules: Rules
    suggestions: Suggestions


def _ref(channel: Channel) -> ChannelRef:
    return ChannelRef(channel.slack_channel_id, channel.name, channel.prefecture)


def _active(category: ChannelCategory) -> Any:
    return select(Channel).where(
        Channel.category == category, Channel.status == ChannelStatus.ACTIVE
    )


def suggestions_for(session: Session, member: Member | None) -> Suggestions:
    """Everyone's channels, the member's prefecture's channel, the liveliest theme channels."""
    main = session.scalars(
        _active(ChannelCategory.ALL)
        .order_by(Channel.is_general.desc(), Channel.name)
        .limit(MAIN_CHANNELS)
    )
    prefecture = _prefecture_of(session, member)
    regional: list[Channel] = []
    if prefecture:
        regional = list(
            session.scalars(
                _active(ChannelCategory.RE)
                .where(Channel.prefecture == prefecture)
                .order_by(Channel.name)
                .limit(REGIONAL_CHANNELS)
            )
        )
    themes = session.scalars(
        _active(ChannelCategory.PJ)
        .order_by(Channel.last_activity_at.desc().nulls_last(), Channel.name)
        .limit(THEME_CHANNELS)
    )
    return Suggestions(
        main=tuple(_ref(c) for c in main),
        regional=tuple(_ref(c) for c in regional),
        themes=tuple(_ref(c) for c in themes),
    )


def _prefecture_of(session: Session, member: Member | None) -> str | None:
    if member is None or member.organisation_id is None:
        return None
    organisation = session.get(Organisation, member.organisation_id)
    return organisation.prefecture if organisation is not None else None


def welcome_for(session: Session, slack_user_id: str) -> Welcome:
    member = members.find(session, slack_user_id)
    return Welcome(
        slack_user_id=slack_user_id,
        name=(member.real_name or member.display_name) if member else None,
        rules=current(session),
        suggestions=suggestions_for(session, member),
    )


def joinable_channel(
    session: Session, slack_channel_id: str, *, excluded: tuple[str, ...] = ()
) -> ChannelRef | None:
    """A channel a member may join from a suggestion button (never the review channel)."""
    if slack_channel_id in excluded:
        return None
    channel = session.scalar(
        select(Channel).where(
            Channel.slack_channel_id == slack_channel_id,
            Channel.status == ChannelStatus.ACTIVE,
            Channel.category.in_(SUGGESTED_CATEGORIES),
        )
    )
    return _ref(channel) if channel is not None else None


# --- self-introduction -------------------------------------------------------------------------


@dataclass(frozen=True)
class IntroDraft:
    name: str
    organisation: str
    department: str


def organisation_name(organisation: Organisation | None, language: Language) -> str | None:
    """How a member's organisation reads in a message: 北海道 札幌市, デジタル庁."""
    if organisation is None:
        return None
    if language == "en" and organisation.name_en:
        return organisation.name_en
    if (
        organisation.kind is not OrganisationKind.AGENCY
        and organisation.prefecture
        and organisation.prefecture != organisation.name
    ):
        return f"{organisation.prefecture} {organisation.name}"
    return organisation.name


def intro_draft(session: Session, slack_user_id: str, language: Language) -> IntroDraft:
    """Prefill the modal from what Kyoso knows: the member, else their application."""
    member = members.find(session, slack_user_id)
    application = session.scalar(
        select(Application)
        .where(Application.slack_user_id == slack_user_id)
        .order_by(Application.submitted_at.desc())
        .limit(1)
    )
    organisation_id = (member.organisation_id if member else None) or (
        application.organisation_id if application else None
    )
    organisation = session.get(Organisation, organisation_id) if organisation_id else None
    name = (member.real_name if member else None) or (application.name if application else None)
    department = (member.department if member else None) or (
        application.department if application else None
    )
    return IntroDraft(
        name=name or "",
        organisation=organisation_name(organisation, language) or "",
        department=department or "",
    )


def record_introduction(session: Session, *, clock: Clock, slack_user_id: str) -> bool:
    """Note the first introduction; True the first time."""
    members.ensure_member(session, clock=clock, slack_user_id=slack_user_id)
    first = _claim(session, slack_user_id, Member.introduced_at, clock.now())
    audit.record(
        session,
        clock=clock,
        actor=slack_user_id,
        action="member.introduced",
        target_type="member",
        target_id=slack_user_id,
    )
    return first


def _reachable() -> tuple[Any, ...]:
    return (Member.is_bot.is_(False), Member.status.in_(REACHABLE_STATUSES))


def due_intro_reminders(session: Session, *, now: datetime, limit: int) -> list[str]:
    """Welcomed a week ago or more, not introduced, never reminded."""
    return list(
        session.scalars(
            select(Member.slack_user_id)
            .where(
                *_reachable(),
                Member.welcomed_at <= now - INTRO_REMINDER_AFTER,
                Member.introduced_at.is_(None),
                Member.intro_reminded_at.is_(None),
            )
            .order_by(Member.welcomed_at)
            .limit(limit)
        )
    )


def claim_intro_reminder(session: Session, *, clock: Clock, slack_user_id: str) -> bool:
    return _claim(
        session,
        slack_user_id,
        Member.intro_reminded_at,
        clock.now(),
        Member.introduced_at.is_(None),
    )


# --- profile nudges ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileProblems:
    no_photo: bool
    organisation_like_name: str | None  # the display name, when it reads as an organisation

    def __bool__(self) -> bool:
        return self.no_photo or self.organisation_like_name is not None


def profile_problems(user: Mapping[str, Any], directory: OrganisationDirectory) -> ProfileProblems:
    """From a Slack user object (users.info): a default avatar, an organisation's name."""
    profile = user.get("profile") or {}
    custom = profile.get("is_custom_image")
    if custom is None:  # older payloads: Slack's default avatars live under /img/avatars/ava_
        custom = "/avatars/ava_" not in str(profile.get("image_72", "")).replace("%2F", "/")
    shown = str(
        profile.get("display_name") or profile.get("real_name") or user.get("real_name") or ""
    )
    organisation_like_name = shown if shown and organisation_like(shown, directory) else None
    return ProfileProblems(no_photo=not custom, organisation_like_name=organisation_like_name)


def due_profile_checks(session: Session, *, now: datetime, limit: int) -> list[str]:
    return list(
        session.scalars(
            select(Member.slack_user_id)
            .where(
                *_reachable(),
                Member.welcomed_at <= now - PROFILE_CHECK_AFTER,
                Member.welcomed_at > now - PROFILE_CHECK_UNTIL,
                Member.profile_nudged_at.is_(None),
            )
            .order_by(Member.welcomed_at)
            .limit(limit)
        )
    )


def claim_profile_nudge(session: Session, *, clock: Clock, slack_user_id: str) -> bool:
    return _claim(session, slack_user_id, Member.profile_nudged_at, clock.now())


# --- stuck in onboarding -----------------------------------------------------------------------


@dataclass(frozen=True)
class StuckMember:
    slack_user_id: str
    name: str | None
    email: str | None
    organisation: str | None
    joined_at: datetime
    business_days: int


def stuck_in_onboarding(
    session: Session,
    *,
    now: datetime,
    zone: ZoneInfo,
    language: Language = "ja",
    min_business_days: int = STUCK_AFTER_BUSINESS_DAYS,
) -> list[StuckMember]:
    """Members who joined `min_business_days` 開庁日 ago or more and have not accepted the rules.

    Oldest first. The secretariat's daily summary and the dashboard both use this list."""
    today = now.astimezone(zone).date()
    rows = session.execute(
        select(Member, Organisation)
        .outerjoin(Organisation, Organisation.id == Member.organisation_id)
        .where(
            *_reachable(),
            Member.joined_at.is_not(None),
            # a business day is at least a calendar day: let the database skip the newest
            Member.joined_at <= now - timedelta(days=min_business_days),
            Member.rules_accepted_at.is_(None),
        )
        .order_by(Member.joined_at, Member.id)
    )
    stuck = []
    for member, organisation in rows:
        assert member.joined_at is not None
        days = business_days_between(member.joined_at.astimezone(zone).date(), today)
        if days >= min_business_days:
            stuck.append(
                StuckMember(
                    slack_user_id=member.slack_user_id,
                    name=member.real_name or member.display_name,
                    email=member.email,
                    organisation=organisation_name(organisation, language),
                    joined_at=member.joined_at,
                    business_days=days,
                )
            )
    return stuck


# --- what Kyoso holds about a member ------------------------------------------------------------


class RulesState(StrEnum):
    CURRENT = "current"
    OUTDATED = "outdated"
    NONE = "none"


@dataclass(frozen=True)
class MemberRecord:
    slack_user_id: str
    real_name: str | None
    display_name: str | None
    email: str | None
    organisation: str | None
    department: str | None
    status: str
    roles: tuple[str, ...]
    locale: str | None  # the member's own choice; None follows Slack
    rules_version: str | None
    rules_accepted_at: datetime | None
    rules_state: RulesState
    current_rules_version: str
    joined_at: datetime | None
    introduced_at: datetime | None


def member_record(session: Session, slack_user_id: str, language: Language) -> MemberRecord | None:
    member = members.find(session, slack_user_id)
    if member is None:
        return None
    organisation = (
        session.get(Organisation, member.organisation_id) if member.organisation_id else None
    )
    rules = current(session)
    if member.rules_version is None:
        state = RulesState.NONE
    elif member.rules_version == rules.version:
        state = RulesState.CURRENT
    else:
        state = RulesState.OUTDATED
    return MemberRecord(
        slack_user_id=member.slack_user_id,
        real_name=member.real_name,
        display_name=member.display_name,
        email=member.email,
        organisation=organisation_name(organisation, language),
        department=member.department,
        status=member.status.value,
        roles=tuple(sorted(r.role.value for r in member.roles)),
        locale=member.locale,
        rules_version=member.rules_version,
        rules_accepted_at=member.rules_accepted_at,
        rules_state=state,
        current_rules_version=rules.version,
        joined_at=member.joined_at,
        introduced_at=member.introduced_at,
    )
