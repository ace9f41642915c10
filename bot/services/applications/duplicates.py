"""One person, one account: what makes an application look like an existing member's.

Only hints for the reviewer, never a refusal: two public servants may share a name, and an
address the applicant remembers may be mistyped. Names compare after NFKC, without spaces,
with hiragana read as katakana and Latin letters in lower case (`山田 花子` = `山田花子`,
`やまだ` = `ヤマダ`), against members who have not been deleted (a deactivated one coming
back is exactly what the reviewer wants to know)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.eligibility.addresses import normalise_application_email
from bot.services.applications.organisations import normalise_fragment
from models import Application, Member, MemberStatus, Organisation, OrganisationKind


class DuplicateHint(StrEnum):
    PREVIOUS_EMAIL = "previous_email"  # the earlier address is a member's
    PREVIOUS_APPLICATION = "previous_application"  # the earlier address applied before
    NAME_ORGANISATION = "name_organisation"  # same name, same organisation or its family
    NAME_PREFECTURE = "name_prefecture"  # same name, same prefecture
    DECLARED = "declared"  # the applicant said they had an account; nothing matched


# Members the active-account rule reaches: a move, not a second account.
ACTIVE_STATUSES = (MemberStatus.ACTIVE, MemberStatus.INACTIVE, MemberStatus.FLAGGED)


@dataclass(frozen=True)
class Duplicates:
    hints: tuple[DuplicateHint, ...]
    member_id: int | None  # the member the application may duplicate


def normalise_name(name: str) -> str:
    return normalise_fragment(name).lower()


def active_member_by_email(session: Session, email: str) -> Member | None:
    """The active (or inactive, or flagged) member whose address this is, if any."""
    normalised = normalise_application_email(email)
    if not normalised:
        return None
    return session.scalar(
        select(Member).where(
            Member.email_normalized == normalised, Member.status.in_(ACTIVE_STATUSES)
        )
    )


def find_duplicates(
    session: Session,
    *,
    name: str,
    organisation_id: int | None,
    previous_email: str | None,
    declared: bool,
) -> Duplicates:
    """Why an application (not stored yet) may be an existing member's second account."""
    hints: list[DuplicateHint] = []
    member_id: int | None = None
    previous = normalise_application_email(previous_email or "")
    if previous:
        member_id = session.scalar(
            select(Member.id).where(
                Member.email_normalized == previous, Member.status != MemberStatus.DELETED
            )
        )
        if member_id is not None:
            hints.append(DuplicateHint.PREVIOUS_EMAIL)
        earlier = select(Application.id).where(Application.email_normalized == previous)
        if session.scalar(earlier.limit(1)) is not None:
            hints.append(DuplicateHint.PREVIOUS_APPLICATION)
    named = _same_name(session, name=name, organisation_id=organisation_id)
    if named is not None:
        hint, named_member = named
        hints.append(hint)
        member_id = member_id or named_member
    if declared and not hints:
        hints.append(DuplicateHint.DECLARED)
    return Duplicates(hints=tuple(hints), member_id=member_id)


def _same_name(
    session: Session, *, name: str, organisation_id: int | None
) -> tuple[DuplicateHint, int] | None:
    """A member of the same name in the organisation's family (the organisation itself, or
    a prefecture and its municipalities), else in the same prefecture."""
    wanted = normalise_name(name)
    organisation = session.get(Organisation, organisation_id) if organisation_id else None
    if not wanted or organisation is None:
        return None
    family = [Organisation.id == organisation.id]
    if organisation.kind is not OrganisationKind.AGENCY and organisation.prefecture:
        family.append(Organisation.prefecture == organisation.prefecture)
    rows = session.execute(
        select(Member.id, Member.real_name, Member.display_name, Organisation)
        .join(Organisation, Organisation.id == Member.organisation_id)
        .where(Member.status != MemberStatus.DELETED, Member.is_bot.is_(False), or_(*family))
        .order_by(Member.id)
    ).all()
    best: tuple[DuplicateHint, int] | None = None
    for member_id, real_name, display_name, theirs in rows:
        names = {normalise_name(n) for n in (real_name, display_name) if n}
        if wanted not in names:
            continue
        if _in_family(organisation, theirs):
            return DuplicateHint.NAME_ORGANISATION, member_id
        best = best or (DuplicateHint.NAME_PREFECTURE, member_id)
    return best


def _in_family(ours: Organisation, theirs: Organisation) -> bool:
    if ours.id == theirs.id:
        return True
    if ours.kind is OrganisationKind.AGENCY or ours.prefecture != theirs.prefecture:
        return False
    # a prefecture and its municipalities are one family, two municipalities are not
    return OrganisationKind.PREFECTURE in (ours.kind, theirs.kind)
