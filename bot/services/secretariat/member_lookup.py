"""`/kyoso member`: find members by name or kana, email, mention or organisation, and one
member's card. Set-based: the matching runs in the database, a page at a time.

Where kana comes from: Slack's real and display names (members often write their name in
kana there) and the name on their application to join; an organisation matches by its name
or its kana (the directory's `name_kana`). Both sides lose their spaces and compare
lower-cased, and the query is tried in hiragana and in katakana, so 「やまだ」 finds
「ヤマダ ハナコ」. Stored names are compared as stored (Slack and the registration form keep
them NFKC already)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from bot.domain.secretariat_members import (
    ApplicationSummary,
    AuditLine,
    CaseSummary,
    MemberCard,
    MemberLine,
    MemberPage,
)
from bot.services.applications.organisations import normalise_fragment, organisation_label
from bot.services.lifecycle.decisions import open_cycle_of
from bot.text import nfkc, normalise_email
from models import (
    Application,
    AuditEntry,
    CycleStatus,
    Member,
    ModerationCase,
    Organisation,
)

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_HIRAGANA_TO_KATAKANA = 0x60
_KATAKANA_FIRST, _KATAKANA_LAST = 0x30A1, 0x30F6
AUDIT_LINES = 5
_RESTORABLE = (CycleStatus.FLAGGED, CycleStatus.APPROVED)


def mentioned_user(query: str) -> str | None:
    """The user id of `<@U…>` (or `<@U…|name>`) when that is the whole query."""
    match = _MENTION.fullmatch(query.strip())
    return match.group(1) if match else None


def find_members(session: Session, *, query: str, offset: int, limit: int) -> MemberPage:
    """One page of the members `query` names, oldest first; an empty query matches nobody."""
    wanted = nfkc(query)
    condition = _condition(wanted)
    offset = max(offset, 0)
    if condition is None:
        return MemberPage(query=wanted, lines=(), offset=0, total=0)
    matching = select(Member.id).where(Member.is_bot.is_(False), condition)
    total = session.scalar(select(func.count()).select_from(matching.subquery())) or 0
    rows = session.execute(
        select(Member, Organisation)
        .outerjoin(Organisation, Organisation.id == Member.organisation_id)
        .where(Member.id.in_(matching))
        .order_by(Member.id)
        .offset(offset)
        .limit(limit)
    ).all()
    lines = tuple(
        MemberLine(
            slack_user_id=member.slack_user_id,
            name=member.real_name or member.display_name,
            organisation=organisation_label(organisation),
            status=member.status.value,
        )
        for member, organisation in rows
    )
    return MemberPage(query=wanted, lines=lines, offset=offset, total=total)


def _condition(wanted: str) -> ColumnElement[bool] | None:
    if not wanted:
        return None
    user_id = mentioned_user(wanted)
    if user_id is not None:
        return Member.slack_user_id == user_id
    if "@" in wanted:
        email = normalise_email(wanted)
        return or_(
            Member.email_normalized == email,
            exists().where(
                Application.slack_user_id == Member.slack_user_id,
                Application.email_normalized == email,
            ),
        )
    return or_(*(_name_matches(form) for form in _forms(wanted)))


def _forms(wanted: str) -> set[str]:
    """The query without spaces, lower-cased, in katakana and in hiragana."""
    katakana = normalise_fragment(wanted).lower()
    hiragana = "".join(
        chr(ord(ch) - _HIRAGANA_TO_KATAKANA) if _KATAKANA_FIRST <= ord(ch) <= _KATAKANA_LAST else ch
        for ch in katakana
    )
    return {katakana, hiragana}


def _squeezed(column: Any) -> ColumnElement[str]:
    """A column as the query is compared: no spaces (ASCII or ideographic), lower-cased."""
    return func.lower(func.replace(func.replace(column, " ", ""), "\u3000", ""))


def _name_matches(form: str) -> ColumnElement[bool]:
    def has(column: Any) -> ColumnElement[bool]:
        return _squeezed(column).contains(form, autoescape=True)

    return or_(
        has(Member.real_name),
        has(Member.display_name),
        exists().where(Application.slack_user_id == Member.slack_user_id, has(Application.name)),
        exists().where(
            Organisation.id == Member.organisation_id,
            or_(has(Organisation.name), has(Organisation.name_kana)),
        ),
    )


def member_card(session: Session, *, slack_user_id: str) -> MemberCard | None:
    """Everything the secretariat asks about one member, or None for an unknown user."""
    member = session.scalar(select(Member).where(Member.slack_user_id == slack_user_id))
    if member is None:
        return None
    organisation = (
        session.get(Organisation, member.organisation_id) if member.organisation_id else None
    )
    cycle = open_cycle_of(session, slack_user_id)
    return MemberCard(
        slack_user_id=member.slack_user_id,
        real_name=member.real_name,
        display_name=member.display_name,
        email=member.email,
        organisation=organisation_label(organisation),
        status=member.status.value,
        roles=tuple(sorted(r.role.value for r in member.roles)),
        joined_at=member.joined_at,
        last_seen_at=member.last_seen_at,
        rules_version=member.rules_version,
        rules_accepted_at=member.rules_accepted_at,
        inactivity_exempt=member.inactivity_exempt,
        application=_application(session, member),
        cases=_cases(session, slack_user_id),
        cycle_id=cycle.id if cycle else None,
        cycle_status=cycle.status.value if cycle else None,
        restorable=cycle is not None and cycle.status in _RESTORABLE,
        audit=_audit(session, slack_user_id),
    )


def _application(session: Session, member: Member) -> ApplicationSummary | None:
    """The member's latest application: by their Slack user, else by their address."""
    mine = Application.slack_user_id == member.slack_user_id
    if member.email_normalized:
        mine = or_(mine, Application.email_normalized == member.email_normalized)
    application = session.scalar(
        select(Application)
        .where(mine)
        .order_by(Application.submitted_at.desc(), Application.id.desc())
        .limit(1)
    )
    if application is None:
        return None
    return ApplicationSummary(
        public_id=application.public_id,
        name=application.name,
        status=application.status.value,
        submitted_at=application.submitted_at,
        decided_at=application.decided_at,
        decided_by=application.decided_by,
        decision_reason=application.decision_reason,
    )


def _cases(session: Session, slack_user_id: str) -> CaseSummary:
    about = ModerationCase.author_id == slack_user_id
    count = session.scalar(select(func.count()).select_from(ModerationCase).where(about)) or 0
    latest = session.scalar(
        select(ModerationCase)
        .where(about)
        .order_by(ModerationCase.created_at.desc(), ModerationCase.id.desc())
        .limit(1)
    )
    return CaseSummary(
        count=count,
        latest_public_id=latest.public_id if latest else None,
        latest_status=latest.status.value if latest else None,
        latest_at=latest.created_at if latest else None,
    )


def _audit(session: Session, slack_user_id: str) -> tuple[AuditLine, ...]:
    entries = session.scalars(
        select(AuditEntry)
        .where(and_(AuditEntry.target_type == "member", AuditEntry.target_id == slack_user_id))
        .order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
        .limit(AUDIT_LINES)
    )
    return tuple(
        AuditLine(occurred_at=e.occurred_at, actor=e.actor, action=e.action) for e in entries
    )
