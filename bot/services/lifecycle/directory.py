"""What Slack's directory tells about members, applied to the database a page at a time
(bot/slack/lifecycle/directory.py reads the pages):

- users.list: members Kyoso missed, profile changes, and accounts deactivated (`deleted`) or
  reactivated in Slack;
- team.accessLogs: last logins (paid plans, an admin user token), newest first, until the
  entries are older than what Kyoso already holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain.lifecycle import EndReason
from bot.i18n import Language, t
from bot.services import audit
from bot.services.lifecycle.deactivation import mark_deactivated
from bot.services.lifecycle.policy import SLACKBOT
from bot.services.members import SlackUser
from bot.services.transfers.slack_changes import AddressChange, address_seen, awaited_in_slack
from bot.text import normalise_email
from models import Member, MemberStatus

# Logins this much older than the newest one Kyoso holds end the import: already known.
ACCESS_LOG_OVERLAP = timedelta(days=1)
MAX_ACCESS_LOG_PAGES = 100


# --- users.list -----------------------------------------------------------------------------


@dataclass
class UsersSync:
    seen: int = 0
    added: int = 0
    updated: int = 0
    deactivated: int = 0
    reactivated: int = 0
    addresses: int = 0  # changed addresses gone through transfers' address_seen
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
    return bool(user.get("is_bot") or user.get("is_app_user")) or user.get("id") == SLACKBOT


def apply_users_page(
    session: Session,
    *,
    clock: Clock,
    users: Sequence[dict[str, Any]],
    result: UsersSync,
    home_team: str | None = None,
) -> list[AddressChange]:
    """One page of users.list: new members added, changes copied, deactivations ended.
    A known member's changed address goes through `address_seen` (a move, a check); what
    those changes need of Slack is returned, for after the commit."""
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
    awaited = awaited_in_slack(session, [m.id for m in known.values()])
    changes: list[AddressChange] = []
    for raw in users:
        user = SlackUser.from_payload(raw, home_team=home_team)
        deleted = bool(raw.get("deleted"))
        member = known.get(user.user_id)
        email = normalise_email(user.email) if user.email else None
        shown = email
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
                    guest_kind=user.guest_kind,
                    created_at=now,
                    updated_at=now,
                )
            )
            if email:
                taken[email] = user.user_id
            result.added += 1
            continue
        if deleted:
            if mark_deactivated(
                session,
                clock=clock,
                slack_user_id=user.user_id,
                actor=audit.SYSTEM_ACTOR,
                via=EndReason.DEACTIVATED_IN_SLACK,
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
        # Only a changed address (or one a confirmed move awaits) costs more than a compare.
        seen = shown is not None and (
            shown != member.email_normalized or (member.id, shown) in awaited
        )
        if _refresh(member, user, None if seen else email, is_bot=_is_bot(raw)):
            member.updated_at = now
            result.updated += 1
        if seen and user.email:
            changes.append(address_seen(session, clock=clock, member=member, email=user.email))
            result.addresses += 1
    session.flush()
    return changes


def _refresh(member: Member, user: SlackUser, email: str | None, *, is_bot: bool) -> bool:
    changed = False
    wanted: dict[str, Any] = {
        "real_name": user.real_name,
        "display_name": user.display_name,
        "is_bot": is_bot,
        "guest_kind": user.guest_kind,
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


def known_logins_before(session: Session) -> float | None:
    """The instant (a Unix time) before which the log holds nothing new for Kyoso."""
    newest = session.scalar(select(func.max(Member.last_login_at)))
    return (newest - ACCESS_LOG_OVERLAP).timestamp() if newest else None


def record_logins(session: Session, *, entries: Sequence[dict[str, Any]]) -> int:
    """Each member's latest login on one page of the log; members whose login moved on."""
    latest: dict[str, float] = {}
    for entry in entries:
        user, when = entry.get("user_id"), float(entry.get("date_last") or 0)
        if user and when > latest.get(user, 0):
            latest[user] = when
    if not latest:
        return 0
    changed = session.connection().execute(
        _LATEST_LOGIN,
        [{"b_user": u, "b_at": datetime.fromtimestamp(when, UTC)} for u, when in latest.items()],
    )
    return max(0, changed.rowcount)


def import_done(
    entries: Sequence[dict[str, Any]], *, known_before: float | None, pages: int
) -> bool:
    """The rest of the log is older than what Kyoso knows, or the import read enough."""
    oldest = min((float(e.get("date_last") or 0) for e in entries), default=0)
    if known_before is not None and oldest < known_before:
        return True
    return pages >= MAX_ACCESS_LOG_PAGES
