"""A new release of the local-government code list applied to the organisations table.

Compared code by code with what the table holds (local governments only; agencies are not
in the code list, and the secretariat's manual entries are theirs):
- added: a code the table does not know (or one a release retired, listed again);
- renamed: the same code with another name, reading, English name, kind or prefecture;
- domain: the same code with another homepage (the mail-domain hint);
- merged: a code that disappears with a successor (`merged_into`): it is retired and points
  at the successor, and its members, open applications and channels move there, audited;
- removed: a code that disappears without one: retired, its members listed for the
  secretariat to look at (they keep their organisation until someone decides).
Nothing is deleted: members, applications and history point at retired codes. Rows a
release touches become the release's (`OrganisationSource.RELEASE`), so that the shipped
master data does not undo them (bot/services/applications/master_data.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningUpdate

from bot.clock import Clock
from bot.services import audit
from bot.services.applications.master_data import MasterRow
from bot.services.transfers.org_release_file import Release
from models import (
    Application,
    Channel,
    ChannelRequest,
    Member,
    MemberStatus,
    Organisation,
    OrganisationKind,
    OrganisationSource,
)
from models.application import OPEN_STATUSES

_NAMING = ("kind", "name", "name_kana", "name_en", "prefecture", "prefecture_kana")
_WEB = ("domain", "homepage")
_GONE = (MemberStatus.DEACTIVATED, MemberStatus.DELETED)


@dataclass(frozen=True)
class OrgChange:
    code: str
    name: str  # as the release names it (as it was, for a code that disappears)
    before: str | None = None  # renamed: the old name; domain: the old homepage
    after: str | None = None  # merged: the successor; domain: the new homepage


@dataclass(frozen=True)
class MemberToCheck:
    slack_user_id: str
    name: str
    code: str  # the removed organisation's code


@dataclass
class ReleaseReport:
    added: list[OrgChange] = field(default_factory=list)
    renamed: list[OrgChange] = field(default_factory=list)
    domain: list[OrgChange] = field(default_factory=list)
    merged: list[OrgChange] = field(default_factory=list)
    removed: list[OrgChange] = field(default_factory=list)
    moved_members: int = 0
    moved_applications: int = 0
    moved_channels: int = 0
    members_to_check: list[MemberToCheck] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any((self.added, self.renamed, self.domain, self.merged, self.removed))


def apply_release(session: Session, *, clock: Clock, release: Release, actor: str) -> ReleaseReport:
    """Apply the release in the caller's transaction (a dry run rolls it back) and say what
    changed; never commits."""
    report = ReleaseReport()
    known = {
        o.code: o
        for o in session.scalars(
            select(Organisation).where(
                Organisation.code.is_not(None), Organisation.kind != OrganisationKind.AGENCY
            )
        )
        if o.code
    }
    for code, row in release.live.items():
        _list(session, clock=clock, report=report, org=known.get(code), row=row, actor=actor)
    session.flush()  # added codes get their ids: a merger may point at one
    successors = {
        o.code: o
        for o in session.scalars(
            select(Organisation).where(Organisation.code.in_(set(release.merged.values())))
        )
    }
    for code, successor_code in sorted(release.merged.items()):
        org = known.get(code)
        if org is not None and org.retired_at is None:
            _merge(
                session,
                clock=clock,
                report=report,
                org=org,
                successor=successors[successor_code],
                actor=actor,
            )
    for code, org in sorted(known.items()):
        listed = code in release.live or code in release.merged
        if listed or org.retired_at is not None or org.source is OrganisationSource.MANUAL:
            continue
        _remove(session, clock=clock, report=report, org=org, actor=actor)
    session.flush()
    return report


def _list(
    session: Session,
    *,
    clock: Clock,
    report: ReleaseReport,
    org: Organisation | None,
    row: MasterRow,
    actor: str,
) -> None:
    now = clock.now()
    code = row.code or ""
    if org is None:
        session.add(
            Organisation(
                code=code,
                slug=None,
                source=OrganisationSource.RELEASE,
                created_at=now,
                updated_at=now,
                **{f: getattr(row, f) for f in (*_NAMING, *_WEB)},
            )
        )
        report.added.append(OrgChange(code=code, name=_label(row)))
        _audit(session, clock=clock, actor=actor, action="organisation.added", code=code)
        return
    restored = org.retired_at is not None
    renamed = any(getattr(org, f) != getattr(row, f) for f in _NAMING)
    moved_web = any(getattr(org, f) != getattr(row, f) for f in _WEB)
    if not (restored or renamed or moved_web):
        return
    if restored:
        report.added.append(OrgChange(code=code, name=_label(row)))
    elif renamed:
        report.renamed.append(OrgChange(code=code, name=_label(row), before=_label(org)))
    if moved_web and not restored:
        report.domain.append(
            OrgChange(code=code, name=_label(row), before=org.homepage, after=row.homepage)
        )
    changed: dict[str, object] = {
        f: [getattr(org, f), getattr(row, f)]
        for f in (*_NAMING, *_WEB)
        if getattr(org, f) != getattr(row, f)
    }
    for f in (*_NAMING, *_WEB):
        setattr(org, f, getattr(row, f))
    org.retired_at = None
    org.merged_into_id = None
    org.source = OrganisationSource.RELEASE
    org.updated_at = now
    action = "organisation.restored" if restored else "organisation.changed"
    _audit(session, clock=clock, actor=actor, action=action, code=code, details=changed)


def _merge(
    session: Session,
    *,
    clock: Clock,
    report: ReleaseReport,
    org: Organisation,
    successor: Organisation,
    actor: str,
) -> None:
    now = clock.now()
    code = org.code or ""
    members = list(
        session.scalars(select(Member).where(Member.organisation_id == org.id).order_by(Member.id))
    )
    for member in members:
        member.organisation_id = successor.id
        member.updated_at = now
        audit.record(
            session,
            clock=clock,
            actor=actor,
            action="member.organisation_merged",
            target_type="member",
            target_id=member.slack_user_id,
            details={"from": code, "to": successor.code},
        )
    applications = _count(
        session,
        update(Application)
        .where(Application.organisation_id == org.id, Application.status.in_(OPEN_STATUSES))
        .values(organisation_id=successor.id)
        .returning(Application.id),
    )
    channels = _count(
        session,
        update(Channel)
        .where(Channel.facilitating_organisation_id == org.id)
        .values(facilitating_organisation_id=successor.id)
        .returning(Channel.id),
    ) + _count(
        session,
        update(ChannelRequest)
        .where(ChannelRequest.facilitating_organisation_id == org.id)
        .values(facilitating_organisation_id=successor.id)
        .returning(ChannelRequest.id),
    )
    org.merged_into_id = successor.id
    org.retired_at = now
    org.source = OrganisationSource.RELEASE
    org.updated_at = now
    report.merged.append(OrgChange(code=code, name=_label(org), after=_label(successor)))
    report.moved_members += len(members)
    report.moved_applications += applications
    report.moved_channels += channels
    _audit(
        session,
        clock=clock,
        actor=actor,
        action="organisation.merged",
        code=code,
        details={
            "into": successor.code,
            "members": len(members),
            "applications": applications,
            "channels": channels,
        },
    )


def _remove(
    session: Session, *, clock: Clock, report: ReleaseReport, org: Organisation, actor: str
) -> None:
    now = clock.now()
    code = org.code or ""
    org.retired_at = now
    org.source = OrganisationSource.RELEASE
    org.updated_at = now
    report.removed.append(OrgChange(code=code, name=_label(org)))
    members = session.scalars(
        select(Member)
        .where(Member.organisation_id == org.id, Member.status.not_in(_GONE))
        .order_by(Member.id)
    )
    report.members_to_check += [
        MemberToCheck(
            slack_user_id=m.slack_user_id,
            name=m.real_name or m.display_name or "",
            code=code,
        )
        for m in members
    ]
    _audit(session, clock=clock, actor=actor, action="organisation.removed", code=code)


def _count(session: Session, statement: ReturningUpdate[tuple[int]]) -> int:
    """Rows an UPDATE … RETURNING changed (rowcount is not reliable across drivers)."""
    return len(session.execute(statement).all())


def _label(org: Organisation | MasterRow) -> str:
    if org.kind is OrganisationKind.PREFECTURE or not org.prefecture:
        return org.name
    return f"{org.prefecture}{org.name}"


def _audit(
    session: Session,
    *,
    clock: Clock,
    actor: str,
    action: str,
    code: str,
    details: dict[str, object] | None = None,
) -> None:
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action=action,
        target_type="organisation",
        target_id=code,
        details=details,
    )
