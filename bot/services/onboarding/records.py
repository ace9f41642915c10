"""What Kyoso holds about a member (`/kyoso whoami`)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.domain.onboarding import MemberRecord, RulesState
from bot.i18n import Language
from bot.services import members
from bot.services.onboarding.organisations import organisation_name
from bot.services.rules import current
from models import Organisation


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
