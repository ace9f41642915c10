"""Granting and revoking the secretariat, facilitator and ambassador roles from Slack (the
member card and the App Home's modal); `kyoso roles` on the server stays for the first
secretariat member. Each change is audited by bot/services/members.py."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.services import members
from models import Member, MemberRole, Role

MANAGED_ROLES = (Role.SECRETARIAT, Role.FACILITATOR, Role.AMBASSADOR)


class Change(StrEnum):
    GRANT = "grant"
    REVOKE = "revoke"


class LastSecretariat(Exception):
    """Revoking this role would leave nobody in the secretariat."""


def parse_change(text: str | None) -> Change | None:
    try:
        return Change(text or "")
    except ValueError:
        return None


def parse_role(text: str | None) -> Role | None:
    try:
        role = Role(text or "")
    except ValueError:
        return None
    return role if role in MANAGED_ROLES else None


def change_role(
    session: Session, *, clock: Clock, actor: str, slack_user_id: str, role: Role, change: Change
) -> bool:
    """Grant or revoke `role`; False when it was so already (a double click changes nothing).
    Raises LastSecretariat rather than revoke the last secretariat member's role."""
    if change is Change.GRANT:
        members.ensure_member(session, clock=clock, slack_user_id=slack_user_id)
        return members.grant_role(
            session, clock=clock, slack_user_id=slack_user_id, role=role, actor=actor
        )
    if role is Role.SECRETARIAT:
        _keep_one_secretariat(session, slack_user_id)
    if members.find(session, slack_user_id) is None:
        return False
    return members.revoke_role(
        session, clock=clock, slack_user_id=slack_user_id, role=role, actor=actor
    )


def _keep_one_secretariat(session: Session, slack_user_id: str) -> None:
    # The holders' rows are locked (PostgreSQL), so two revocations at once cannot both pass.
    holders = session.scalars(
        select(Member.slack_user_id)
        .join(MemberRole, MemberRole.member_id == Member.id)
        .where(MemberRole.role == Role.SECRETARIAT)
        .with_for_update(of=MemberRole)
    ).all()
    if list(holders) == [slack_user_id]:
        raise LastSecretariat(slack_user_id)
