from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum


class OrganisationKind(StrEnum):
    PREFECTURE = "prefecture"
    CITY = "city"
    TOWN = "town"
    VILLAGE = "village"
    SPECIAL_WARD = "special_ward"
    UNION = "union"  # unions and wide-area associations holding a local-government code
    AGENCY = "agency"


class OrganisationSource(StrEnum):
    MASTER = "master"  # shipped master data, kept in sync on every upgrade
    MANUAL = "manual"  # added by the secretariat (e.g. a union's code)
    RELEASE = "release"  # added or changed by a newer code list (`kyoso orgs update`)


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    # National local-government code (6 digits with check digit); agencies have none.
    code: Mapped[str | None] = mapped_column(String(6), unique=True)
    # Short stable key for agencies (e.g. "digital"); local governments have none.
    slug: Mapped[str | None] = mapped_column(String(32), unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(str_enum(OrganisationKind))
    name: Mapped[str] = mapped_column(String(100))
    name_kana: Mapped[str | None] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    prefecture: Mapped[str | None] = mapped_column(String(8), index=True)
    prefecture_kana: Mapped[str | None] = mapped_column(String(32))
    # Mail domain for agencies, homepage host for local governments: a hint, not a proof.
    domain: Mapped[str | None] = mapped_column(String(253), index=True)
    homepage: Mapped[str | None] = mapped_column(String(300))
    source: Mapped[OrganisationSource] = mapped_column(str_enum(OrganisationSource))
    # A code the new release no longer lists: merged into another (its members follow), or
    # removed. Kept, never deleted: members, applications and history point at it.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    retired_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
