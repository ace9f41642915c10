"""Keep the shipped organisation master data (local governments, agencies) in the database."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.codes import is_valid_code
from models import Organisation, OrganisationKind, OrganisationSource


@dataclass(frozen=True)
class MasterRow:
    code: str | None
    slug: str | None
    kind: OrganisationKind
    name: str
    name_kana: str | None
    name_en: str | None
    prefecture: str | None
    prefecture_kana: str | None
    domain: str | None
    homepage: str | None


@dataclass(frozen=True)
class SyncResult:
    inserted: int
    updated: int
    unchanged: int
    kept: int = 0  # left as the secretariat's newer code-list release made them


# How recent local-governments.csv is (codes: 総務省's list, unchanged since 2018-10-01;
# homepages: localgovjp, 2026-07): bump it with the file.
# A row a later release changed (`kyoso orgs update`) is the release's until a shipped list
# newer than that release comes with an upgrade.
SHIPPED_LIST_AS_OF = datetime(2026, 7, 1, tzinfo=UTC)


def _read_csv(name: str) -> Iterator[dict[str, str]]:
    text = resources.files("bot.data").joinpath(name).read_text(encoding="utf-8")
    yield from csv.DictReader(text.splitlines())


# The columns of local-governments.csv a row is read from (lat and lng are not kept).
LOCAL_GOVERNMENT_COLUMNS = (
    "code",
    "kind",
    "prefecture",
    "name",
    "prefecture_kana",
    "name_kana",
    "name_en",
    "homepage",
)


def local_government_row(raw: Mapping[str, str]) -> MasterRow:
    """One line of local-governments.csv (or of a new release in its columns)."""
    kind = OrganisationKind(raw["kind"])
    is_prefecture = kind is OrganisationKind.PREFECTURE
    homepage = raw["homepage"] or None
    return MasterRow(
        code=raw["code"],
        slug=None,
        kind=kind,
        name=raw["prefecture"] if is_prefecture else raw["name"],
        name_kana=raw["prefecture_kana"] if is_prefecture else raw["name_kana"] or None,
        name_en=raw["name_en"] or None,
        prefecture=raw["prefecture"],
        prefecture_kana=raw["prefecture_kana"] or None,
        domain=(urlsplit(homepage).hostname or None) if homepage else None,
        homepage=homepage,
    )


def local_government_rows() -> list[MasterRow]:
    rows = []
    for raw in _read_csv("local-governments.csv"):
        if not is_valid_code(raw["code"]):
            raise ValueError(f"master data has an invalid code: {raw['code']}")
        rows.append(local_government_row(raw))
    return rows


def agency_rows() -> list[MasterRow]:
    return [
        MasterRow(
            code=None,
            slug=raw["slug"],
            kind=OrganisationKind.AGENCY,
            name=raw["name"],
            name_kana=None,
            name_en=raw["name_en"] or None,
            prefecture=None,
            prefecture_kana=None,
            domain=raw["mail_domain"] or None,
            homepage=None,
        )
        for raw in _read_csv("government-organizations.csv")
    ]


_FIELDS = (
    "kind",
    "name",
    "name_kana",
    "name_en",
    "prefecture",
    "prefecture_kana",
    "domain",
    "homepage",
)


def _kept_by_release(org: Organisation) -> bool:
    """Whether the secretariat's release owns the row: the shipped list must not undo it.

    A retired code (merged or removed by a release) is never brought back by the shipped
    data: its members moved on, and the secretariat can list it again with another release.
    A code a release added or changed stays as the release left it unless the shipped list
    is newer than that change."""
    if org.retired_at is not None:
        return True
    return org.source is OrganisationSource.RELEASE and org.updated_at >= SHIPPED_LIST_AS_OF


def sync_master_data(session: Session, *, clock: Clock) -> SyncResult:
    """Insert or update every shipped organisation; leaves manual entries, and what a newer
    code-list release decided (`_kept_by_release`), alone."""
    now = clock.now()
    existing_by_key: dict[tuple[str, str], Organisation] = {}
    for known in session.scalars(select(Organisation)):
        if known.code:
            existing_by_key[("code", known.code)] = known
        if known.slug:
            existing_by_key[("slug", known.slug)] = known
    inserted = updated = unchanged = kept = 0
    for row in [*local_government_rows(), *agency_rows()]:
        key = ("code", row.code) if row.code else ("slug", row.slug or "")
        org = existing_by_key.get(key)
        if org is None:
            session.add(
                Organisation(
                    code=row.code,
                    slug=row.slug,
                    source=OrganisationSource.MASTER,
                    created_at=now,
                    updated_at=now,
                    **{f: getattr(row, f) for f in _FIELDS},
                )
            )
            inserted += 1
            continue
        if _kept_by_release(org):
            kept += 1
            continue
        changed = False
        for field in _FIELDS:
            if getattr(org, field) != getattr(row, field):
                setattr(org, field, getattr(row, field))
                changed = True
        if org.source is not OrganisationSource.MASTER:
            org.source = OrganisationSource.MASTER  # a manual entry the master now lists
            changed = True
        if changed:
            org.updated_at = now
            updated += 1
        else:
            unchanged += 1
    session.flush()
    return SyncResult(inserted=inserted, updated=updated, unchanged=unchanged, kept=kept)
