"""Members as Kyoso knows them: joining, roles and language preference."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.i18n import Language
from bot.services import audit
from bot.text import normalise_email
from models import GuestKind, Member, MemberRole, MemberStatus, Role


class UnknownMember(LookupError):
    """No member with that Slack user id."""


@dataclass(frozen=True)
class SlackUser:
    """The parts of a Slack user object Kyoso keeps."""

    user_id: str
    email: str | None
    real_name: str | None
    display_name: str | None
    is_bot: bool
    locale: str | None = None
    guest_kind: GuestKind | None = None

    @classmethod
    def from_payload(cls, user: dict[str, object], *, home_team: str | None = None) -> SlackUser:
        """`home_team`: the workspace's team id (an event's envelope carries it), to tell a
        Slack Connect user by a foreign `team_id`."""
        profile = user.get("profile") or {}
        assert isinstance(profile, dict)
        email = profile.get("email")
        return cls(
            user_id=str(user["id"]),
            email=str(email) if email else None,
            real_name=str(profile.get("real_name") or user.get("real_name") or "") or None,
            display_name=str(profile.get("display_name") or "") or None,
            is_bot=bool(user.get("is_bot")),
            locale=str(user["locale"]) if user.get("locale") else None,
            guest_kind=guest_kind_of(user, home_team=home_team),
        )


def guest_kind_of(user: dict[str, object], *, home_team: str | None = None) -> GuestKind | None:
    """A guest or a Slack Connect user, from Slack's user flags; None for a member.
    Slack sets `is_restricted` for single-channel guests too, so the narrower flag wins."""
    team = user.get("team_id")
    if user.get("is_stranger") or (home_team and team and team != home_team):
        return GuestKind.EXTERNAL
    if user.get("is_ultra_restricted"):
        return GuestKind.SINGLE_CHANNEL
    if user.get("is_restricted"):
        return GuestKind.MULTI_CHANNEL
    return None


def find(session: Session, slack_user_id: str) -> Member | None:
    return session.scalar(select(Member).where(Member.slack_user_id == slack_user_id))


def locale_of(session: Session, slack_user_id: str) -> str | None:
    """The member's chosen language, if any: one column, not the member and its roles."""
    return session.scalar(select(Member.locale).where(Member.slack_user_id == slack_user_id))


def record_join(session: Session, *, clock: Clock, user: SlackUser) -> Member:
    """Create or refresh the member for a Slack user who joined the workspace."""
    now = clock.now()
    member = find(session, user.user_id)
    if member is None:
        member = Member(
            slack_user_id=user.user_id,
            status=MemberStatus.ACTIVE,
            is_bot=user.is_bot,
            joined_at=now,
            created_at=now,
        )
        session.add(member)
    member.email = user.email
    member.email_normalized = normalise_email(user.email) if user.email else None
    member.real_name = user.real_name
    member.display_name = user.display_name
    member.guest_kind = user.guest_kind
    member.updated_at = now
    session.flush()
    audit.record(
        session,
        clock=clock,
        actor=user.user_id,
        action="member.joined",
        target_type="member",
        target_id=user.user_id,
        details={"guest_kind": user.guest_kind.value} if user.guest_kind else None,
    )
    return member


def set_guest_kind(
    session: Session, *, clock: Clock, slack_user_id: str, kind: GuestKind | None
) -> bool:
    """Follow Slack when a guest becomes a member or the reverse; True when it changed.
    A guarded UPDATE: a retried user_change changes nothing twice."""
    changed = session.execute(
        update(Member)
        .where(
            Member.slack_user_id == slack_user_id,
            Member.guest_kind.is_distinct_from(kind),
        )
        .values(guest_kind=kind, updated_at=clock.now())
        .returning(Member.id)
    ).first()
    if changed is None:
        return False
    audit.record(
        session,
        clock=clock,
        actor=audit.SYSTEM_ACTOR,
        action="member.guest_kind_changed",
        target_type="member",
        target_id=slack_user_id,
        details={"guest_kind": kind.value if kind else None},
    )
    return True


def has_role(session: Session, slack_user_id: str, role: Role) -> bool:
    """Checked when each privileged payload arrives: a hidden button is no permission."""
    return (
        session.scalar(
            select(MemberRole.role)
            .join(Member)
            .where(Member.slack_user_id == slack_user_id, MemberRole.role == role)
        )
        is not None
    )


def has_any_role(session: Session, slack_user_id: str, roles: Iterable[Role | str]) -> bool:
    return (
        session.scalar(
            select(MemberRole.role)
            .join(Member)
            .where(Member.slack_user_id == slack_user_id, MemberRole.role.in_(list(roles)))
            .limit(1)
        )
        is not None
    )


def grant_role(
    session: Session, *, clock: Clock, slack_user_id: str, role: Role, actor: str
) -> bool:
    """Grant a role; False when the member already had it."""
    member = _known(session, slack_user_id)
    if member.has_role(role):
        return False
    member.roles.append(MemberRole(role=role, granted_at=clock.now(), granted_by=actor))
    _audit_role(
        session, clock=clock, actor=actor, member=member, role=role, action="member.role_granted"
    )
    return True


def revoke_role(
    session: Session, *, clock: Clock, slack_user_id: str, role: Role, actor: str
) -> bool:
    """Revoke a role; False when the member did not have it."""
    member = _known(session, slack_user_id)
    kept = [r for r in member.roles if r.role != role]
    if len(kept) == len(member.roles):
        return False
    member.roles = kept
    _audit_role(
        session, clock=clock, actor=actor, member=member, role=role, action="member.role_revoked"
    )
    return True


def _known(session: Session, slack_user_id: str) -> Member:
    member = find(session, slack_user_id)
    if member is None:
        raise UnknownMember(slack_user_id)
    return member


def _audit_role(
    session: Session, *, clock: Clock, actor: str, member: Member, role: Role, action: str
) -> None:
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action=action,
        target_type="member",
        target_id=member.slack_user_id,
        details={"role": role.value},
    )


def ensure_member(session: Session, *, clock: Clock, slack_user_id: str) -> Member:
    """The member row for a user Kyoso has not seen join (installed into a live workspace)."""
    member = find(session, slack_user_id)
    if member is None:
        now = clock.now()
        member = Member(
            slack_user_id=slack_user_id,
            status=MemberStatus.ACTIVE,
            is_bot=False,
            created_at=now,
            updated_at=now,
        )
        session.add(member)
        session.flush()
    return member


def set_language(session: Session, *, clock: Clock, slack_user_id: str, language: Language) -> None:
    member = ensure_member(session, clock=clock, slack_user_id=slack_user_id)
    member.locale = language
    member.updated_at = clock.now()
