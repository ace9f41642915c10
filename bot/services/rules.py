"""The usage rules (利用規約): a built-in first version, then versions the secretariat publishes.

The current version is the most recently published row of `rules_versions`; with none
published it is the built-in version, whose text lives in the onboarding catalogue. Members
accept one version; publishing a newer one asks them again (see scheduler/onboarding_jobs.py).
The `Rules` themselves are plain data (bot/domain/onboarding.py), shown by the views.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain.onboarding import SECTION_LIMIT, AcceptedState, Rules, sections
from bot.i18n import t
from bot.services import audit, members
from bot.text import nfkc
from models import AuditEntry, Member, MemberStatus, RulesVersion

BUILTIN_VERSION = "1"
# The rules take at most this many section blocks.
MAX_SECTIONS = 5
# Members Kyoso may still write to (not flagged for deletion, deactivated or deleted).
REACHABLE_STATUSES = (MemberStatus.ACTIVE, MemberStatus.INACTIVE)
_VERSION_SHAPE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$")


class RulesError(ValueError):
    """A publication that cannot go ahead; the message says why, in Japanese and English.
    `field` names what is wrong (version, ja, en, clock): a modal shows it under that input."""

    def __init__(self, message: str, *, field: str = "version") -> None:
        super().__init__(message)
        self.field = field


def builtin() -> Rules:
    return Rules(
        version=BUILTIN_VERSION,
        text_ja=t("onboarding.rules.builtin", "ja"),
        text_en=t("onboarding.rules.builtin", "en"),
        published_at=None,
    )


def current(session: Session) -> Rules:
    row = session.scalar(
        select(RulesVersion)
        .order_by(RulesVersion.published_at.desc(), RulesVersion.version.desc())
        .limit(1)
    )
    if row is None:
        return builtin()
    return Rules(
        version=row.version,
        text_ja=row.text_ja,
        text_en=row.text_en,
        published_at=row.published_at,
    )


def current_version(session: Session) -> str:
    """What a registration form records as the rules the applicant confirmed."""
    return current(session).version


def published(session: Session) -> list[Rules]:
    rows = session.scalars(select(RulesVersion).order_by(RulesVersion.published_at))
    return [builtin()] + [
        Rules(version=r.version, text_ja=r.text_ja, text_en=r.text_en, published_at=r.published_at)
        for r in rows
    ]


def _check_text(text: str, language: str) -> str:
    cleaned = text.replace("\r\n", "\n").strip()
    if not cleaned:
        raise RulesError(
            f"{language} の本文が空です / the {language} text is empty", field=language
        )
    if len(sections(cleaned)) > MAX_SECTIONS:
        raise RulesError(
            f"{language} の本文が長すぎます（{SECTION_LIMIT * MAX_SECTIONS} 字程度まで）"
            f" / the {language} text is too long (about {SECTION_LIMIT * MAX_SECTIONS} characters)",
            field=language,
        )
    return cleaned


@dataclass(frozen=True)
class Draft:
    """A new version as it will be published: checked, cleaned, not yet stored."""

    version: str
    text_ja: str
    text_en: str


def check_draft(
    session: Session, *, clock: Clock, version: str, text_ja: str, text_en: str
) -> Draft:
    """Everything `publish` checks, without publishing: a modal asks before its preview."""
    version = nfkc(version)
    if not _VERSION_SHAPE.match(version):
        raise RulesError(
            f"版の名前 {version!r} は使えません（英数字と . _ -、32 字まで）"
            f" / version {version!r} is not valid (letters, digits, . _ -; up to 32)"
        )
    exists_already = version == BUILTIN_VERSION or session.get(RulesVersion, version) is not None
    if exists_already:
        raise RulesError(f"第{version}版はすでにあります / version {version} already exists")
    latest = current(session)
    if latest.published_at is not None and latest.published_at >= clock.now():
        raise RulesError(
            "現在の版より後の時刻でなければ公開できません / the clock is behind the current version",
            field="clock",
        )
    return Draft(
        version=version, text_ja=_check_text(text_ja, "ja"), text_en=_check_text(text_en, "en")
    )


def publish(
    session: Session,
    *,
    clock: Clock,
    version: str,
    text_ja: str,
    text_en: str,
    actor: str,
    summary: str = "",
) -> Rules:
    """Publish a new version; it becomes current at once and members are asked again.
    `summary` (what changed, from the secretariat's modal) is kept in the audit entry."""
    draft = check_draft(session, clock=clock, version=version, text_ja=text_ja, text_en=text_en)
    previous = current(session).version
    row = RulesVersion(
        version=draft.version,
        text_ja=draft.text_ja,
        text_en=draft.text_en,
        published_at=clock.now(),
        published_by=actor,
    )
    session.add(row)
    session.flush()
    details = {"previous": previous, **({"summary": summary} if summary else {})}
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="rules.published",
        target_type="rules_version",
        target_id=draft.version,
        details=details,
    )
    return current(session)


class AcceptOutcome(StrEnum):
    ACCEPTED = "accepted"
    ALREADY = "already"  # this version was accepted before (a double click)
    OUTDATED = "outdated"  # the button was for a version that is no longer current


@dataclass(frozen=True)
class Acceptance:
    outcome: AcceptOutcome
    rules: Rules  # the current rules
    accepted: AcceptedState | None  # what the member has accepted now, if anything


def accepted_state(member: Member | None) -> AcceptedState | None:
    if member is None or not member.rules_version or member.rules_accepted_at is None:
        return None
    return AcceptedState(member.rules_version, member.rules_accepted_at)


def for_member(session: Session, slack_user_id: str) -> tuple[Rules, AcceptedState | None]:
    """The current rules, and what the member accepted (`/kyoso rules`)."""
    member = session.scalar(select(Member).where(Member.slack_user_id == slack_user_id))
    return current(session), accepted_state(member)


def accept(session: Session, *, clock: Clock, slack_user_id: str, version: str) -> Acceptance:
    """Record that the member accepted `version`; only the current version can be accepted.

    A guarded update: of two concurrent clicks exactly one changes the row and is audited.
    A member Kyoso has not met yet (`/kyoso rules` before any event) is recorded first."""
    members.ensure_member(session, clock=clock, slack_user_id=slack_user_id)
    rules = current(session)
    if version != rules.version:
        member = session.scalar(select(Member).where(Member.slack_user_id == slack_user_id))
        return Acceptance(AcceptOutcome.OUTDATED, rules, accepted_state(member))
    now = clock.now()
    changed = session.execute(
        update(Member)
        .where(
            Member.slack_user_id == slack_user_id,
            or_(Member.rules_version.is_(None), Member.rules_version != version),
        )
        .values(rules_version=version, rules_accepted_at=now, updated_at=now)
        .returning(Member.id)
    ).first()
    member = session.scalar(select(Member).where(Member.slack_user_id == slack_user_id))
    assert member is not None, "ensured above"
    session.refresh(member)
    if changed is None:
        return Acceptance(AcceptOutcome.ALREADY, rules, accepted_state(member))
    audit.record(
        session,
        clock=clock,
        actor=slack_user_id,
        action="member.rules_accepted",
        target_type="member",
        target_id=slack_user_id,
        details={"version": version},
    )
    return Acceptance(AcceptOutcome.ACCEPTED, rules, AcceptedState(version, now))


# --- asking members again after a new version -------------------------------------------------

ASKED_ACTION = "rules.asked_again"


def _asked_marker(version: str) -> str:
    return f"rules version {version}"


def members_to_ask_again(session: Session, *, limit: int) -> tuple[Rules, list[str]]:
    """Members who accepted an older version and have not yet been asked about the current one."""
    rules = current(session)
    if rules.published_at is None:
        return rules, []
    already_asked = exists().where(
        AuditEntry.action == ASKED_ACTION,
        AuditEntry.target_type == "member",
        AuditEntry.target_id == Member.slack_user_id,
        AuditEntry.reason == _asked_marker(rules.version),
    )
    user_ids = session.scalars(
        select(Member.slack_user_id)
        .where(
            Member.rules_version.is_not(None),
            Member.rules_version != rules.version,
            Member.is_bot.is_(False),
            Member.status.in_(REACHABLE_STATUSES),
            ~already_asked,
        )
        .order_by(Member.id)
        .limit(limit)
    )
    return rules, list(user_ids)


def claim_ask_again(session: Session, *, clock: Clock, slack_user_id: str, version: str) -> bool:
    """Record the contact before the DM goes out: a rerun skips whoever is recorded."""
    asked = session.scalar(
        select(AuditEntry.id).where(
            AuditEntry.action == ASKED_ACTION,
            AuditEntry.target_type == "member",
            AuditEntry.target_id == slack_user_id,
            AuditEntry.reason == _asked_marker(version),
        )
    )
    if asked is not None:
        return False
    audit.record(
        session,
        clock=clock,
        actor=audit.SYSTEM_ACTOR,
        action=ASKED_ACTION,
        target_type="member",
        target_id=slack_user_id,
        reason=_asked_marker(version),
        details={"version": version},
    )
    return True
