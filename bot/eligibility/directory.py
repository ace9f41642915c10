"""The organisation master data, indexed for eligibility: by local-government code, agency
slug and mail domain."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Literal, Protocol

from bot.codes import normalise_code
from bot.eligibility.domains import (
    inferred_lg_domain,
    is_public_suffix,
    organisation_domain,
    suffixes,
)
from bot.services.applications.master_data import agency_rows, local_government_rows
from bot.text import nfkc, normalise_email
from models.organisation import OrganisationKind


class OrganisationRow(Protocol):
    """What the directory reads from a row: `MasterRow` fits, so does a database row."""

    @property
    def code(self) -> str | None: ...
    @property
    def slug(self) -> str | None: ...
    @property
    def kind(self) -> OrganisationKind: ...
    @property
    def name(self) -> str: ...
    @property
    def prefecture(self) -> str | None: ...
    @property
    def domain(self) -> str | None: ...


@dataclass(frozen=True)
class LocalGovernment:
    code: str
    name: str
    kind: OrganisationKind
    prefecture: str | None
    domain: str | None  # derived from the homepage host: a hint, not a proof
    inferred_lg_domain: str | None  # `city.x.lg.jp` guessed from a regional `city.x.<pref>.jp`

    @property
    def domains(self) -> tuple[str, ...]:
        return tuple(d for d in (self.domain, self.inferred_lg_domain) if d)


@dataclass(frozen=True)
class Agency:
    slug: str
    name: str
    mail_domain: str | None


@dataclass(frozen=True)
class DomainMatch:
    """Local governments a mail domain points at; `inferred` when only via an lg.jp guess."""

    codes: tuple[str, ...]
    basis: Literal["exact", "inferred"]


class OrganisationDirectory:
    """Master data indexed for eligibility: by code, agency slug and mail domain."""

    def __init__(self, rows: Iterable[OrganisationRow]) -> None:
        self._by_code: dict[str, LocalGovernment] = {}
        self._by_slug: dict[str, Agency] = {}
        self._exact: dict[str, list[str]] = {}
        self._inferred: dict[str, list[str]] = {}
        self._agency_domains: dict[str, str] = {}
        self._prefecture_by_prefix: dict[str, str] = {}
        names: set[str] = set()
        for row in rows:
            if row.kind is OrganisationKind.AGENCY:
                if not row.slug:
                    continue
                slug = nfkc(row.slug).lower()
                mail = normalise_email(row.domain).strip(".") if row.domain else None
                if mail and is_public_suffix(mail):
                    mail = None  # a hand-entered `go.jp` must not vouch for all of go.jp
                self._by_slug[slug] = Agency(slug=slug, name=row.name, mail_domain=mail or None)
                if mail:
                    self._agency_domains[mail] = slug
                names.add(nfkc(row.name).replace(" ", ""))
                continue
            if not row.code:
                continue
            code = normalise_code(row.code)
            host = normalise_email(row.domain).strip(".") if row.domain else None
            domain = organisation_domain(host) if host else None
            inferred = inferred_lg_domain(domain) if domain else None
            self._by_code[code] = LocalGovernment(
                code=code,
                name=row.name,
                kind=row.kind,
                prefecture=row.prefecture,
                domain=domain,
                inferred_lg_domain=inferred,
            )
            if domain:
                self._exact.setdefault(domain, []).append(code)
            if inferred:
                self._inferred.setdefault(inferred, []).append(code)
            if row.kind is OrganisationKind.PREFECTURE and row.prefecture:
                self._prefecture_by_prefix[code[:2]] = row.prefecture
            names.add(nfkc(row.name).replace(" ", ""))
        # short names (東村, 森町) double as surnames; only longer ones mark an organisation
        self._organisation_names = frozenset(n for n in names if len(n) >= 3)
        self._agency_names = tuple(
            sorted((nfkc(a.name).replace(" ", "") for a in self._by_slug.values()), key=len)[::-1]
        )

    @classmethod
    def from_master_data(cls) -> OrganisationDirectory:
        """The shipped master data, read once per process."""
        return _master_directory()

    def __len__(self) -> int:
        return len(self._by_code) + len(self._by_slug)

    def local_government(self, code: str) -> LocalGovernment | None:
        return self._by_code.get(code)

    def local_governments(self) -> tuple[LocalGovernment, ...]:
        return tuple(self._by_code.values())

    def agency(self, slug: str) -> Agency | None:
        return self._by_slug.get(slug)

    def prefecture_of(self, code: str) -> str | None:
        return self._prefecture_by_prefix.get(code[:2])

    def local_governments_for_domain(self, domain: str) -> DomainMatch | None:
        """Known LGs whose domain is `domain` or a parent of it; exact hints before guesses."""
        for suffix in suffixes(domain):
            if suffix in self._exact:
                return DomainMatch(codes=tuple(self._exact[suffix]), basis="exact")
        for suffix in suffixes(domain):
            if suffix in self._inferred:
                return DomainMatch(codes=tuple(self._inferred[suffix]), basis="inferred")
        return None

    def agency_for_domain(self, domain: str) -> Agency | None:
        for suffix in suffixes(domain):
            slug = self._agency_domains.get(suffix)
            if slug:
                return self._by_slug[slug]
        return None

    def is_organisation_name(self, text: str) -> bool:
        return text in self._organisation_names

    def contained_agency_name(self, text: str) -> str | None:
        """An agency's full name inside `text` (総務省, デジタル庁), if any."""
        for name in self._agency_names:
            if name in text:
                return name
        return None


@cache
def _master_directory() -> OrganisationDirectory:
    return OrganisationDirectory([*local_government_rows(), *agency_rows()])
