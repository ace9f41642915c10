"""Find an organisation the way applicants know it: by prefecture and (part of) its name;
and name one the way the secretariat reads it.

Read-only SQL over the `organisations` table (master data and the secretariat's manual
entries). What people type is normalised first: NFKC (full-width letters and digits,
half-width katakana), spaces dropped, hiragana read as katakana so that `さっぽろ` finds
`サッポロシ`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.codes import normalise_code
from bot.eligibility.directory import OrganisationDirectory
from bot.text import nfkc
from models import Organisation, OrganisationKind

# A page lists at most this many matches of a name search across all prefectures.
SEARCH_LIMIT = 60

_LOCAL_KINDS = tuple(kind for kind in OrganisationKind if kind is not OrganisationKind.AGENCY)
_HIRAGANA_FIRST, _HIRAGANA_LAST = 0x3041, 0x3096
_KATAKANA_OFFSET = 0x60


@dataclass(frozen=True)
class Prefecture:
    name: str  # 北海道
    code: str  # the prefectural government's own code, 010006
    name_kana: str | None
    name_en: str | None


@dataclass(frozen=True)
class LocalGovernmentOption:
    code: str
    name: str
    kind: OrganisationKind
    prefecture: str | None
    name_kana: str | None

    @property
    def is_prefecture(self) -> bool:
        return self.kind is OrganisationKind.PREFECTURE


@dataclass(frozen=True)
class AgencyOption:
    slug: str
    name: str
    name_en: str | None


def normalise_fragment(value: str) -> str:
    """What a name search compares: NFKC, no spaces, hiragana as katakana."""
    folded = nfkc(value).replace(" ", "").replace("\u3000", "")
    return "".join(
        chr(ord(ch) + _KATAKANA_OFFSET) if _HIRAGANA_FIRST <= ord(ch) <= _HIRAGANA_LAST else ch
        for ch in folded
    )


def prefectures(session: Session) -> list[Prefecture]:
    """The 47 prefectures in the national code order (北海道 first, 沖縄県 last)."""
    rows = session.scalars(
        select(Organisation)
        .where(Organisation.kind == OrganisationKind.PREFECTURE, Organisation.code.is_not(None))
        .order_by(Organisation.code)
    )
    return [
        Prefecture(name=o.name, code=o.code or "", name_kana=o.name_kana, name_en=o.name_en)
        for o in rows
    ]


def _option(o: Organisation) -> LocalGovernmentOption:
    return LocalGovernmentOption(
        code=o.code or "", name=o.name, kind=o.kind, prefecture=o.prefecture, name_kana=o.name_kana
    )


def local_governments(
    session: Session, *, prefecture: str | None, fragment: str | None = None
) -> list[LocalGovernmentOption]:
    """The prefecture's own government and every municipality (and union) in it, in code
    order; with a fragment, only those whose name or reading contains it. Without a
    prefecture, a fragment searches the whole country (at most `SEARCH_LIMIT` matches);
    with neither, nothing (1,788 options help no one)."""
    query = select(Organisation).where(
        Organisation.kind.in_(_LOCAL_KINDS), Organisation.code.is_not(None)
    )
    wanted = normalise_fragment(fragment) if fragment else ""
    if prefecture:
        query = query.where(Organisation.prefecture == nfkc(prefecture))
    elif not wanted:
        return []
    if wanted:
        matches = [
            Organisation.name.contains(wanted, autoescape=True),
            Organisation.name_kana.contains(wanted, autoescape=True),
        ]
        if not prefecture:  # `北海道` alone lists the prefecture's organisations
            matches.append(Organisation.prefecture.contains(wanted, autoescape=True))
        query = query.where(or_(*matches))
    query = query.order_by(Organisation.code)
    if not prefecture:
        query = query.limit(SEARCH_LIMIT)
    return [_option(o) for o in session.scalars(query)]


def local_government(session: Session, code: str) -> LocalGovernmentOption | None:
    """The local government with this code (full-width digits and hyphens are fine)."""
    normalised = normalise_code(code)
    if not normalised:
        return None
    found = session.scalar(
        select(Organisation).where(
            Organisation.code == normalised, Organisation.kind.in_(_LOCAL_KINDS)
        )
    )
    return _option(found) if found is not None else None


def local_governments_named(
    session: Session, name: str, *, prefecture: str | None = None
) -> list[LocalGovernmentOption]:
    """Exact matches for an organisation's name as forms collect it: `札幌市`, `北海道札幌市`,
    `北海道 札幌市`, or a prefecture's own name (`北海道`, `東京都庁`)."""
    wanted = normalise_fragment(name)
    if not wanted:
        return []
    pref = normalise_fragment(prefecture) if prefecture else None
    rows = list(
        session.scalars(
            select(Organisation)
            .where(Organisation.kind.in_(_LOCAL_KINDS), Organisation.code.is_not(None))
            .order_by(Organisation.code)
        )
    )
    matches = []
    for o in rows:
        if pref and normalise_fragment(o.prefecture or "") != pref:
            continue
        own = normalise_fragment(o.name)
        full = normalise_fragment(f"{o.prefecture or ''}{o.name}")
        if o.kind is OrganisationKind.PREFECTURE:
            names = {own, own + "庁", own + "役所"}  # 北海道庁, 東京都庁
        else:
            names = {own, full}
        if wanted in names:
            matches.append(_option(o))
    return matches


def agencies(session: Session) -> list[AgencyOption]:
    """National government organisations in the order of the master list."""
    rows = session.scalars(
        select(Organisation)
        .where(Organisation.kind == OrganisationKind.AGENCY, Organisation.slug.is_not(None))
        .order_by(Organisation.id)
    )
    return [AgencyOption(slug=o.slug or "", name=o.name, name_en=o.name_en) for o in rows]


def agency(session: Session, slug: str) -> AgencyOption | None:
    found = session.scalar(
        select(Organisation).where(
            Organisation.kind == OrganisationKind.AGENCY, Organisation.slug == nfkc(slug).lower()
        )
    )
    if found is None or found.slug is None:
        return None
    return AgencyOption(slug=found.slug, name=found.name, name_en=found.name_en)


def agencies_named(session: Session, name: str) -> list[AgencyOption]:
    """Agencies whose Japanese or English name (or slug) is exactly `name`, after NFKC."""
    wanted = normalise_fragment(name).lower()
    if not wanted:
        return []
    return [
        a
        for a in agencies(session)
        if wanted
        in {
            normalise_fragment(a.name).lower(),
            normalise_fragment(a.name_en or "").lower(),
            a.slug.lower(),
        }
    ]


def organisation_label(organisation: Organisation | None) -> str | None:
    """`北海道 札幌市（011002）`: how review messages, reminders and exports name it."""
    if organisation is None:
        return None
    if organisation.code is None:
        return organisation.name
    place = f"{organisation.prefecture} " if organisation.prefecture != organisation.name else ""
    return f"{place}{organisation.name}（{organisation.code}）"


def label_of(session: Session, organisation_id: int | None) -> str | None:
    """The label of an application's linked organisation, if it has one."""
    return organisation_label(
        session.get(Organisation, organisation_id) if organisation_id else None
    )


@dataclass(frozen=True)
class _CachedDirectory:
    fingerprint: tuple[object, ...]
    directory: OrganisationDirectory


# One per process: rebuilt only when the table's fingerprint changes (an `orgs update`, a
# master-data sync, a manual entry), so a page view costs one aggregate query.
_cached: list[_CachedDirectory] = []


def current_directory(session: Session) -> OrganisationDirectory:
    """The organisation directory eligibility decides against: the organisations table as
    the secretariat's latest code-list release left it (retired codes excluded), or the
    shipped master data while the table is still empty."""
    fingerprint = tuple(
        session.execute(
            select(
                func.count(Organisation.id),
                func.count(Organisation.retired_at),
                func.max(Organisation.id),
                func.max(Organisation.updated_at),
            )
        ).one()
    )
    if not fingerprint[0]:
        return OrganisationDirectory.from_master_data()
    if _cached and _cached[0].fingerprint == fingerprint:
        return _cached[0].directory
    rows = session.scalars(
        select(Organisation).where(Organisation.retired_at.is_(None)).order_by(Organisation.id)
    ).all()
    directory = OrganisationDirectory(rows)
    _cached[:] = [_CachedDirectory(fingerprint=fingerprint, directory=directory)]
    return directory
