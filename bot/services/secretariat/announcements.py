"""Announcements by the secretariat: the draft, its audience, the confirmation that stages
every recipient, pause / resume / cancel, and each recipient's DM from claim to result.

Staging is one `INSERT … SELECT … ON CONFLICT DO NOTHING` from members, never a loop: active
members only, never bots or guests, minus those who opted out of an optional category
(100,000 members within 1 s on SQLite and PostgreSQL, bench/announcement_audience.py). The
unique (announcement, member) makes a repeated confirmation stage nothing twice.

A recipient is claimed in a committed transaction before its DM is posted (PLANNED with
`sent_at` set = in flight). A claim older than `CLAIM_LEASE` belongs to a sender that died;
the next run looks in the member's IM for the DM's block id (the key) before sending again.
The DMs are sent by bot/slack/secretariat/announcements.py."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, exists, func, literal, select, update
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.db import insert_for
from bot.regions import PREFECTURES
from bot.services import audit
from bot.services.lifecycle.policy import CLAIM_LEASE, MAX_ERROR_CHARS, SLACKBOT
from bot.services.lifecycle.rounds import at, count
from bot.text import MAX_DB_INTEGER
from models import (
    Announcement,
    AnnouncementCategory,
    AnnouncementRecipient,
    AnnouncementStatus,
    AttemptStatus,
    Member,
    MemberRole,
    MemberStatus,
    MessageOptOut,
    Organisation,
    OrganisationKind,
    Role,
)
from models.announcement import OPTIONAL_CATEGORIES

KEY_PREFIX = "ann"
MAX_TITLE = 150
MAX_TEXT = 2900  # one section block
MAX_LISTED_USERS = 20_000
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,31}$")


class AudienceKind(StrEnum):
    EVERYONE = "everyone"
    PREFECTURES = "prefectures"
    ORGANISATION_KIND = "organisation_kind"
    ROLES = "roles"
    CHANNEL = "channel"  # the caller gives the channel's members (conversations.members)
    USERS = "users"  # an uploaded list of user ids


class OrganisationGroup(StrEnum):
    LOCAL_GOVERNMENT = "local_government"
    AGENCY = "agency"


ANNOUNCED_ROLES = (Role.FACILITATOR, Role.AMBASSADOR)


class AnnouncementError(ValueError):
    """Bad input; `key` names the polite answer in the catalogue."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class AudienceChoice:
    kind: AudienceKind
    values: tuple[str, ...] = ()
    channel_id: str | None = None  # kept for the record when kind is CHANNEL

    def as_record(self) -> dict[str, object]:
        record: dict[str, object] = {"kind": self.kind.value, "values": list(self.values)}
        if self.channel_id:
            record["channel"] = self.channel_id
        return record

    @classmethod
    def of(cls, announcement: Announcement) -> AudienceChoice:
        """The audience a draft was composed with (the channel's members as they were)."""
        record = announcement.audience
        return cls(
            AudienceKind(str(record["kind"])),
            tuple(str(v) for v in record.get("values") or ()),
            channel_id=record.get("channel"),
        )


def audience_from(
    kind: str, values: Sequence[str], *, channel_id: str | None = None
) -> AudienceChoice:
    """The secretariat's pick, checked; AnnouncementError names what is wrong."""
    try:
        audience_kind = AudienceKind(kind)
    except ValueError:
        raise AnnouncementError("secretariat.announce.error.audience") from None
    cleaned = tuple(dict.fromkeys(v.strip() for v in values if v.strip()))
    allowed: set[str] | None = {
        AudienceKind.PREFECTURES: set(PREFECTURES),
        AudienceKind.ORGANISATION_KIND: {g.value for g in OrganisationGroup},
        AudienceKind.ROLES: {r.value for r in ANNOUNCED_ROLES},
    }.get(audience_kind)
    if audience_kind is AudienceKind.EVERYONE:
        return AudienceChoice(audience_kind)
    if not cleaned:
        raise AnnouncementError("secretariat.announce.error.no_values")
    if allowed is not None and not set(cleaned) <= allowed:
        raise AnnouncementError("secretariat.announce.error.values")
    if allowed is None and (
        len(cleaned) > MAX_LISTED_USERS or not all(_SLACK_USER.match(v) for v in cleaned)
    ):
        raise AnnouncementError("secretariat.announce.error.user_ids")
    return AudienceChoice(audience_kind, cleaned, channel_id=channel_id)


def parse_user_ids(text: str) -> list[str]:
    """User ids from a pasted or uploaded list: separated by spaces, commas or lines;
    `<@U…>` mentions accepted."""
    return [part.strip("<@>") for part in re.split(r"[\s,、]+", text) if part.strip("<@>")]


# --- who receives it ------------------------------------------------------------------------


def _reachable() -> ColumnElement[bool]:
    """Active members: never bots, Slackbot or guests."""
    return (
        (Member.status == MemberStatus.ACTIVE)
        & Member.is_bot.is_(False)
        & Member.guest_kind.is_(None)
        & (Member.slack_user_id != SLACKBOT)
    )


def _opted_out(category: AnnouncementCategory) -> ColumnElement[bool]:
    return (
        exists()
        .where(MessageOptOut.member_id == Member.id, MessageOptOut.category == category)
        .correlate_except(MessageOptOut)
    )


def _in_organisations(where: ColumnElement[bool]) -> ColumnElement[bool]:
    return Member.organisation_id.in_(select(Organisation.id).where(where))


def _audience(choice: AudienceChoice) -> ColumnElement[bool]:
    if choice.kind is AudienceKind.EVERYONE:
        return literal(True)
    if choice.kind is AudienceKind.PREFECTURES:
        return _in_organisations(Organisation.prefecture.in_(choice.values))
    if choice.kind is AudienceKind.ORGANISATION_KIND:
        agency = Organisation.kind == OrganisationKind.AGENCY
        wanted = set(choice.values)
        if wanted == {g.value for g in OrganisationGroup}:
            return Member.organisation_id.is_not(None)
        return _in_organisations(agency if OrganisationGroup.AGENCY in wanted else ~agency)
    if choice.kind is AudienceKind.ROLES:
        return Member.id.in_(
            select(MemberRole.member_id).where(
                MemberRole.role.in_([Role(v) for v in choice.values])
            )
        )
    return Member.slack_user_id.in_(choice.values)


def _recipients(category: AnnouncementCategory, choice: AudienceChoice) -> ColumnElement[bool]:
    where = _reachable() & _audience(choice)
    if category in OPTIONAL_CATEGORIES:
        where = where & ~_opted_out(category)
    return where


def count_audience(
    session: Session, *, category: AnnouncementCategory, audience: AudienceChoice
) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(Member).where(_recipients(category, audience))
        )
        or 0
    )


def stage(
    session: Session, *, announcement: Announcement, audience: AudienceChoice, now: datetime
) -> int:
    """Every recipient, in one statement; those already staged are left alone."""
    statement = (
        insert_for(session)(AnnouncementRecipient)
        .from_select(
            ["announcement_id", "member_id", "status", "due_at"],
            select(
                literal(announcement.id),
                Member.id,
                literal(AttemptStatus.PLANNED, AnnouncementRecipient.status.type),
                at(now),
            ).where(_recipients(announcement.category, audience)),
        )
        .on_conflict_do_nothing()
    )
    return count(session, statement)


# --- the draft and its life -----------------------------------------------------------------


def create_draft(
    session: Session,
    *,
    clock: Clock,
    actor: str,
    title: str,
    text_ja: str,
    text_en: str | None,
    category: str,
    audience: AudienceChoice,
) -> Announcement:
    title, text_ja, text_en = title.strip(), text_ja.strip(), (text_en or "").strip() or None
    if not title or not text_ja:
        raise AnnouncementError("secretariat.announce.error.empty")
    if len(title) > MAX_TITLE or len(text_ja) > MAX_TEXT or len(text_en or "") > MAX_TEXT:
        raise AnnouncementError("secretariat.announce.error.too_long")
    try:
        kind = AnnouncementCategory(category)
    except ValueError:
        raise AnnouncementError("secretariat.announce.error.category") from None
    now = clock.now()
    announcement = Announcement(
        public_id="ANN-" + secrets.token_hex(6),
        status=AnnouncementStatus.DRAFT,
        category=kind,
        title=title,
        text_ja=text_ja,
        text_en=text_en,
        audience=audience.as_record(),
        recipients=0,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(announcement)
    session.flush()
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="announcement.draft",
        target_type="announcement",
        target_id=announcement.public_id,
        details={"category": kind.value, "audience": audience.kind.value, "title": title},
    )
    return announcement


def find(session: Session, public_id: str) -> Announcement | None:
    return session.scalar(select(Announcement).where(Announcement.public_id == public_id))


def confirm(session: Session, *, clock: Clock, actor: str, public_id: str) -> int | None:
    """DRAFT → SENDING, staging every recipient; the number staged. None when it was not a
    draft any more (a double click confirms once)."""
    now = clock.now()
    moved = session.execute(
        update(Announcement)
        .where(Announcement.public_id == public_id, Announcement.status == AnnouncementStatus.DRAFT)
        .values(
            status=AnnouncementStatus.SENDING, confirmed_by=actor, confirmed_at=now, updated_at=now
        )
        .returning(Announcement.id)
        .execution_options(synchronize_session=False)
    ).first()
    if moved is None:
        return None
    announcement = session.get_one(Announcement, moved.id)
    session.refresh(announcement)
    audience = AudienceChoice.of(announcement)
    staged = stage(session, announcement=announcement, audience=audience, now=now)
    announcement.recipients = staged
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="announcement.confirm",
        target_type="announcement",
        target_id=public_id,
        details={"recipients": staged, "audience": audience.kind.value},
    )
    return staged


_TRANSITIONS = {
    "pause": ((AnnouncementStatus.SENDING,), AnnouncementStatus.PAUSED),
    "resume": ((AnnouncementStatus.PAUSED,), AnnouncementStatus.SENDING),
    "cancel": (
        (AnnouncementStatus.SENDING, AnnouncementStatus.PAUSED, AnnouncementStatus.DRAFT),
        AnnouncementStatus.CANCELLED,
    ),
}
CONTROLS = tuple(_TRANSITIONS)


def control(session: Session, *, clock: Clock, actor: str, public_id: str, action: str) -> bool:
    """pause / resume / cancel, guarded: False when the announcement was not in a state that
    allows it (a repeated click, or it is finished)."""
    sources, target = _TRANSITIONS[action]
    now = clock.now()
    values: dict[str, object] = {"status": target, "updated_at": now}
    if target is AnnouncementStatus.CANCELLED:
        values["finished_at"] = now
    changed = session.execute(
        update(Announcement)
        .where(Announcement.public_id == public_id, Announcement.status.in_(sources))
        .values(**values)
        .returning(Announcement.id)
        .execution_options(synchronize_session=False)
    ).first()
    if changed is None:
        return False
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action=f"announcement.{action}",
        target_type="announcement",
        target_id=public_id,
    )
    return True


@dataclass(frozen=True)
class Progress:
    planned: int
    sent: int
    failed: int


def progress(session: Session, *, announcement_id: int) -> Progress:
    rows: dict[str, int] = {
        status: number
        for status, number in session.execute(
            select(AnnouncementRecipient.status, func.count())
            .where(AnnouncementRecipient.announcement_id == announcement_id)
            .group_by(AnnouncementRecipient.status)
        )
    }
    return Progress(
        planned=rows.get(AttemptStatus.PLANNED, 0),
        sent=rows.get(AttemptStatus.SENT, 0),
        failed=rows.get(AttemptStatus.FAILED, 0),
    )


def undeliverable(
    session: Session, *, announcement_id: int, limit: int = 50
) -> list[tuple[str, str]]:
    """(Slack user id, error) of recipients Slack refused for good."""
    return [
        (row.slack_user_id, row.error or "")
        for row in session.execute(
            select(Member.slack_user_id, AnnouncementRecipient.error)
            .join(Member, Member.id == AnnouncementRecipient.member_id)
            .where(
                AnnouncementRecipient.announcement_id == announcement_id,
                AnnouncementRecipient.status == AttemptStatus.FAILED,
            )
            .order_by(AnnouncementRecipient.id)
            .limit(limit)
        )
    ]


def finish_sent(session: Session, *, now: datetime) -> list[str]:
    """SENDING announcements with nobody left to send to → DONE; their public ids."""
    nobody_left = ~exists().where(
        AnnouncementRecipient.announcement_id == Announcement.id,
        AnnouncementRecipient.status == AttemptStatus.PLANNED,
    )
    return list(
        session.scalars(
            update(Announcement)
            .where(Announcement.status == AnnouncementStatus.SENDING, nobody_left)
            .values(status=AnnouncementStatus.DONE, finished_at=now, updated_at=now)
            .returning(Announcement.public_id)
            .execution_options(synchronize_session=False)
        )
    )


# --- members opting out ---------------------------------------------------------------------


def opt_out(session: Session, *, clock: Clock, slack_user_id: str, category: str) -> bool:
    """The member stops announcements of an optional category; False for rules and account
    notices (or an unknown category), which cannot be opted out of, or a repeat."""
    try:
        kind = AnnouncementCategory(category)
    except ValueError:
        return False
    if kind not in OPTIONAL_CATEGORIES:
        return False
    member_id = session.scalar(select(Member.id).where(Member.slack_user_id == slack_user_id))
    if member_id is None:
        return False
    statement = (
        insert_for(session)(MessageOptOut)
        .values(member_id=member_id, category=kind, created_at=clock.now())
        .on_conflict_do_nothing()
    )
    if count(session, statement) == 0:
        return False
    audit.record(
        session,
        clock=clock,
        actor=slack_user_id,
        action="announcement.opt_out",
        target_type="member",
        target_id=slack_user_id,
        details={"category": kind.value},
    )
    return True


# --- each recipient's DM --------------------------------------------------------------------


def recipient_key(public_id: str, member_id: int) -> str:
    return f"{KEY_PREFIX}:{public_id}:{member_id}"


def parse_key(key: str) -> tuple[str, int] | None:
    """(announcement public id, member id) of a DM's key; None if malformed."""
    parts = key.split(":")
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[2].isdigit():
        return None
    if int(parts[2]) > MAX_DB_INTEGER:
        return None
    return parts[1], int(parts[2])


@dataclass(frozen=True)
class AnnouncementDM:
    recipient_id: int
    announcement_id: int
    public_id: str
    category: AnnouncementCategory
    title: str
    text_ja: str
    text_en: str | None
    member_id: int
    slack_user_id: str
    locale: str | None
    claimed_at: datetime | None = None

    @property
    def key(self) -> str:
        return recipient_key(self.public_id, self.member_id)


def _sending() -> ColumnElement[bool]:
    return (
        exists()
        .where(
            Announcement.id == AnnouncementRecipient.announcement_id,
            Announcement.status == AnnouncementStatus.SENDING,
        )
        .correlate_except(Announcement)
    )


def _dms(session: Session, where: list[ColumnElement[bool]], limit: int) -> list[AnnouncementDM]:
    rows = session.execute(
        select(
            AnnouncementRecipient.id,
            AnnouncementRecipient.sent_at,
            Announcement.id.label("announcement_id"),
            Announcement.public_id,
            Announcement.category,
            Announcement.title,
            Announcement.text_ja,
            Announcement.text_en,
            Member.id.label("member_id"),
            Member.slack_user_id,
            Member.locale,
        )
        .join(Announcement, Announcement.id == AnnouncementRecipient.announcement_id)
        .join(Member, Member.id == AnnouncementRecipient.member_id)
        .where(
            Announcement.status == AnnouncementStatus.SENDING,
            AnnouncementRecipient.status == AttemptStatus.PLANNED,
            *where,
        )
        .order_by(AnnouncementRecipient.due_at, AnnouncementRecipient.id)
        .limit(limit)
    ).all()
    return [
        AnnouncementDM(
            recipient_id=row.id,
            announcement_id=row.announcement_id,
            public_id=row.public_id,
            category=row.category,
            title=row.title,
            text_ja=row.text_ja,
            text_en=row.text_en,
            member_id=row.member_id,
            slack_user_id=row.slack_user_id,
            locale=row.locale,
            claimed_at=row.sent_at,
        )
        for row in rows
    ]


def due(session: Session, *, now: datetime, limit: int) -> list[AnnouncementDM]:
    return _dms(
        session,
        [AnnouncementRecipient.sent_at.is_(None), AnnouncementRecipient.due_at <= at(now)],
        limit,
    )


def stale_claims(session: Session, *, now: datetime, limit: int) -> list[AnnouncementDM]:
    """DMs claimed by a sender that never reported back (it died mid-send)."""
    return _dms(
        session,
        [
            AnnouncementRecipient.sent_at.is_not(None),
            AnnouncementRecipient.sent_at <= at(now - CLAIM_LEASE),
        ],
        limit,
    )


def claim(session: Session, *, recipient_id: int, now: datetime) -> bool:
    """Mark a DM in flight (committed before posting); False if taken, or paused/cancelled."""
    claimed = session.execute(
        update(AnnouncementRecipient)
        .where(
            AnnouncementRecipient.id == recipient_id,
            AnnouncementRecipient.status == AttemptStatus.PLANNED,
            AnnouncementRecipient.sent_at.is_(None),
            _sending(),
        )
        .values(sent_at=now)
        .returning(AnnouncementRecipient.id)
        .execution_options(synchronize_session=False)
    ).first()
    return claimed is not None


def release(session: Session, *, recipient_id: int) -> None:
    """Give a claim back: Slack certainly did not take the DM."""
    session.execute(
        update(AnnouncementRecipient)
        .where(
            AnnouncementRecipient.id == recipient_id,
            AnnouncementRecipient.status == AttemptStatus.PLANNED,
        )
        .values(sent_at=None)
        .execution_options(synchronize_session=False)
    )


def defer(session: Session, *, recipient_id: int, until: datetime) -> None:
    """Try later: the member is in do-not-disturb."""
    session.execute(
        update(AnnouncementRecipient)
        .where(
            AnnouncementRecipient.id == recipient_id,
            AnnouncementRecipient.status == AttemptStatus.PLANNED,
            AnnouncementRecipient.sent_at.is_(None),
        )
        .values(due_at=until)
        .execution_options(synchronize_session=False)
    )


def settle(session: Session, *, recipient_id: int, at_: datetime, error: str | None = None) -> bool:
    """The DM's result: sent (at `at_`), or failed for good with `error`."""
    settled = session.execute(
        update(AnnouncementRecipient)
        .where(
            AnnouncementRecipient.id == recipient_id,
            AnnouncementRecipient.status == AttemptStatus.PLANNED,
        )
        .values(
            status=AttemptStatus.FAILED if error else AttemptStatus.SENT,
            sent_at=None if error else at_,
            error=error[:MAX_ERROR_CHARS] if error else None,
        )
        .returning(AnnouncementRecipient.id)
        .execution_options(synchronize_session=False)
    ).first()
    return settled is not None
