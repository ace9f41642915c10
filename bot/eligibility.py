"""Who may join: one pure function deciding an application's eligibility, with reasons.

`decide()` never raises on what an applicant typed and never looks anything up itself: the
organisation directory and the email history are handed in. Every verdict carries at least
one `Reason`; a reason has a stable code (a key for the ja/en catalogues), string params and
a severity. The outcome follows from the severities: any REFUSE reason refuses, otherwise
any FLAG reason sends the application to the secretariat, otherwise it is eligible.

Rules (issue 3, "Eligibility"):
- normalise first: NFKC (full-width ＠, letters and digits), trim, lowercase;
- `*.lg.jp` → local government; `*.go.jp` of a listed agency (or a subdomain of its mail
  domain) → government organisation; any other `go.jp` → manual review;
- a regional JP domain (`city.<name>.<pref>.jp`, `pref.<pref>.jp`, `city.sapporo.jp`, …) only
  when it is, or is under, a known local government's domain; everything else → manual
  review, never a silent rejection;
- look-alikes and address games are refused;
- the local-government code must pass its check digit; a valid unknown code (unions and
  wide-area associations hold codes too) → manual review; the organisation is suggested from
  the domain and a mismatch with the code entered is flagged;
- one account per address; a re-application after rejection or deletion is marked;
- a name that reads like an organisation rather than a person is flagged.

Sub-addressing: a `+` in the local part is REFUSED (reason `email.subaddress`), for every
domain. Addresses are compared as strings for "one account per address", so `taro+1@…` and
`taro+2@…` would each pass as a fresh address while reaching one mailbox. Stripping the tag
instead would silently change what the applicant typed and would merge distinct mailboxes
on servers where `+` is an ordinary character. Government mail systems issue plain
addresses, so refusing costs a real applicant nothing but retyping, and the reason says why.
The plain address is still checked against the history so a duplicate is reported too.
Source routing (`%`, `!`), quoted local parts and several `@` are refused for the same
reason; other rare RFC 5322 characters (`#`, `&`, `'`, …) only flag for review.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from types import MappingProxyType
from typing import Literal, Protocol

from bot.codes import check_digit, normalise_code
from bot.services.master_data import agency_rows, local_government_rows
from bot.text import nfkc, normalise_email
from models.organisation import OrganisationKind

# --------------------------------------------------------------------------------------
# Verdict types


class Outcome(StrEnum):
    ELIGIBLE_LOCAL = "eligible_local"
    ELIGIBLE_AGENCY = "eligible_agency"
    MANUAL_REVIEW = "manual_review"
    REFUSED = "refused"


class Severity(StrEnum):
    INFO = "info"  # recorded, does not change the outcome
    FLAG = "flag"  # a person (the secretariat) must look: MANUAL_REVIEW
    REFUSE = "refuse"  # the application cannot go on as typed: REFUSED


class ReasonCode(StrEnum):
    """Stable keys for the message catalogues; the params each one carries are noted."""

    # email address as a whole
    EMAIL_INVALID = "email.invalid"  # problem: empty|missing_at|empty_local|empty_domain|
    #                                  too_long|characters|dots|whitespace
    EMAIL_NON_ASCII = "email.non_ascii"  # characters: "U+3042 U+200B"
    EMAIL_QUOTED_LOCAL = "email.quoted_local"
    EMAIL_MULTIPLE_AT = "email.multiple_at"
    EMAIL_SUBADDRESS = "email.subaddress"  # separator: "+", plain: the address without tag
    EMAIL_ROUTING = "email.routing"  # character: "%" or "!"
    EMAIL_UNUSUAL_LOCAL_PART = "email.unusual_local_part"  # characters
    EMAIL_DUPLICATE = "email.duplicate"  # status: pending|approved|member, email
    REAPPLICATION_AFTER_REJECTION = "reapplication.after_rejection"
    REAPPLICATION_AFTER_DELETION = "reapplication.after_deletion"
    # domain shape and look-alikes
    DOMAIN_TRAILING_DOT = "domain.trailing_dot"
    DOMAIN_EMPTY_LABEL = "domain.empty_label"
    DOMAIN_IP_LITERAL = "domain.ip_literal"
    DOMAIN_NON_ASCII = "domain.non_ascii"  # characters
    DOMAIN_PUNYCODE = "domain.punycode"  # label
    DOMAIN_INVALID = "domain.invalid"  # label
    DOMAIN_LOOKALIKE = "domain.lookalike"  # imitates: "lg.jp"|"go.jp"|"<regional>.jp"
    # domain kinds
    DOMAIN_LG_JP = "domain.lg_jp"  # domain
    DOMAIN_GO_JP_AGENCY = "domain.go_jp_agency"  # domain, agency
    DOMAIN_GO_JP_UNLISTED = "domain.go_jp_unlisted"  # domain
    DOMAIN_REGIONAL_KNOWN = "domain.regional_known"  # domain, code
    DOMAIN_REGIONAL_UNKNOWN = "domain.regional_unknown"  # domain
    DOMAIN_HOMEPAGE_MATCH = "domain.homepage_match"  # domain, codes
    DOMAIN_OTHER = "domain.other"  # domain
    # organisation
    CODE_FORMAT = "code.format"  # entered, did_you_mean (optional)
    CODE_CHECK_DIGIT = "code.check_digit"  # entered, did_you_mean (optional)
    CODE_UNKNOWN_VALID = "code.unknown_valid"  # code, prefecture (optional)
    CODE_DOMAIN_MISMATCH = "code.domain_mismatch"  # entered, suggested, basis: exact|inferred
    ORGANISATION_FROM_DOMAIN = "organisation.from_domain"  # code or agency
    ORGANISATION_MISSING = "organisation.missing"  # suggested (may be empty)
    ORGANISATION_KIND_MISMATCH = "organisation.kind_mismatch"  # entered: code|agency, domain
    ORGANISATION_AMBIGUOUS = "organisation.ambiguous"  # both a code and an agency entered
    AGENCY_UNKNOWN = "agency.unknown"  # entered
    AGENCY_DOMAIN_MISMATCH = "agency.domain_mismatch"  # entered, suggested
    # name
    NAME_MISSING = "name.missing"
    NAME_LOOKS_LIKE_ORGANISATION = "name.looks_like_organisation"  # matched


@dataclass(frozen=True)
class Reason:
    code: ReasonCode
    severity: Severity
    params: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        # frozen all the way down: a verdict is a record, not a scratchpad
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))


@dataclass(frozen=True)
class ApplicationInput:
    """What the applicant typed, unnormalised."""

    email: str
    name: str
    organisation_code: str | None = None
    agency_slug: str | None = None
    department: str | None = None


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reasons: tuple[Reason, ...]
    normalised_email: str
    organisation_code: str | None
    agency_slug: str | None
    suggested: tuple[str, ...]  # codes (local governments) or slugs (agencies) from the domain
    is_reapplication: bool

    def has(self, code: ReasonCode) -> bool:
        return any(reason.code is code for reason in self.reasons)

    @property
    def codes(self) -> tuple[ReasonCode, ...]:
        return tuple(reason.code for reason in self.reasons)


PreviousStatus = Literal["pending", "approved", "member", "rejected", "deleted"]

_BLOCKING_STATUSES: frozenset[str] = frozenset({"pending", "approved", "member"})


class EmailHistory(Protocol):
    """The previous status of a normalised address, or None if it was never seen."""

    def __call__(self, normalised_email: str, /) -> PreviousStatus | None: ...


def no_history(normalised_email: str, /) -> PreviousStatus | None:
    return None


# --------------------------------------------------------------------------------------
# Domain facts

# The 47 prefecture labels of JP geographic domains (`<pref>.jp`); a test checks them
# against the prefectures' English names in the master data.
PREFECTURE_LABELS: frozenset[str] = frozenset(
    [
        "hokkaido",
        "aomori",
        "iwate",
        "miyagi",
        "akita",
        "yamagata",
        "fukushima",
        "ibaraki",
        "tochigi",
        "gunma",
        "saitama",
        "chiba",
        "tokyo",
        "kanagawa",
        "niigata",
        "toyama",
        "ishikawa",
        "fukui",
        "yamanashi",
        "nagano",
        "gifu",
        "shizuoka",
        "aichi",
        "mie",
        "shiga",
        "kyoto",
        "osaka",
        "hyogo",
        "nara",
        "wakayama",
        "tottori",
        "shimane",
        "okayama",
        "hiroshima",
        "yamaguchi",
        "tokushima",
        "kagawa",
        "ehime",
        "kochi",
        "fukuoka",
        "saga",
        "nagasaki",
        "kumamoto",
        "oita",
        "miyazaki",
        "kagoshima",
        "okinawa",
    ]
)
# Designated cities with their own geographic label (`city.sapporo.jp`); every other name
# under these labels is a public namespace (the Public Suffix List has `*.sapporo.jp`).
DESIGNATED_CITY_LABELS: frozenset[str] = frozenset(
    {"kawasaki", "kitakyushu", "kobe", "nagoya", "sapporo", "sendai", "yokohama"}
)
_MUNICIPAL_TYPE_LABELS = frozenset({"city", "town", "vill", "village"})
_LG_TYPE_LABELS = _MUNICIPAL_TYPE_LABELS | {"pref", "metro"}
# Organisational second-level JP domains: `<name>.or.jp` etc.
_SECOND_LEVEL_JP = frozenset({"ac", "ad", "co", "ed", "go", "gr", "lg", "ne", "or"})
_WWW = re.compile(r"www\d*")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
# ASCII stand-ins for `lg` / `go` used as a parent of `.jp` (`city.x.1g.jp`)
_LG_CONFUSABLES = frozenset({"1g", "ig", "l9", "lq", "1q", "i9", "iq"})
_GO_CONFUSABLES = frozenset({"g0", "qo", "q0", "9o", "90"})
_LG_GO_JOINED = re.compile(r"(lg|go)[-_]?jp")


def _is_regional(labels: list[str]) -> bool:
    return (
        len(labels) >= 3
        and labels[-1] == "jp"
        and (labels[-2] in PREFECTURE_LABELS or labels[-2] in DESIGNATED_CITY_LABELS)
    )


def is_public_suffix(domain: str) -> bool:
    """Names under which anyone may register (`jp`, `lg.jp`, `hokkaido.jp`, `co.jp`, `com`):
    never a hint for one organisation."""
    labels = domain.split(".")
    if len(labels) == 1:
        return True
    return (
        len(labels) == 2
        and labels[1] == "jp"
        and (
            labels[0] in PREFECTURE_LABELS
            or labels[0] in DESIGNATED_CITY_LABELS
            or labels[0] in _SECOND_LEVEL_JP
        )
    )


def organisation_domain(host: str) -> str | None:
    """The mail-domain hint a local government's homepage host gives.

    `www.city.sapporo.jp` → `city.sapporo.jp`, `web.pref.hyogo.lg.jp` → `pref.hyogo.lg.jp`,
    `www.info.city.tsu.mie.jp` → `city.tsu.mie.jp`. Never shorter than what one organisation
    can register: `www.kesennuma.miyagi.jp` stays whole because `kesennuma.miyagi.jp` is a
    geographic namespace shared by everyone in that city.
    """
    labels = host.lower().split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        return None
    if labels[-2:] == ["lg", "jp"]:
        if len(labels) >= 4 and labels[-4] in _LG_TYPE_LABELS:
            return ".".join(labels[-4:])
        min_len = 3
    elif _is_regional(labels):
        if labels[-2] in PREFECTURE_LABELS:
            if len(labels) >= 4 and labels[-4] in _MUNICIPAL_TYPE_LABELS:
                return ".".join(labels[-4:])
            # `pref.iwate.jp`, `metro.tokyo.jp`, and designated cities named like their
            # prefecture: `city.chiba.jp`, `city.saitama.jp`
            if labels[-3] in ("pref", "metro", "city"):
                return ".".join(labels[-3:])
        elif labels[-3] == "city":
            return ".".join(labels[-3:])
        min_len = 4
    elif labels[-1] == "jp" and labels[-2] in _SECOND_LEVEL_JP:
        min_len = 3
    else:
        min_len = 2
    while len(labels) > min_len and _WWW.fullmatch(labels[0]):
        labels = labels[1:]
    domain = ".".join(labels)
    return domain if len(labels) >= min_len and not is_public_suffix(domain) else None


def _inferred_lg_domain(domain: str) -> str | None:
    """The lg.jp name a regional LG domain suggests: `city.hakodate.hokkaido.jp` →
    `city.hakodate.lg.jp`. Many LGs publish a regional homepage but mail from lg.jp."""
    labels = domain.split(".")
    if not _is_regional(labels):
        return None
    if len(labels) == 4 and labels[0] in _MUNICIPAL_TYPE_LABELS:
        kind = "vill" if labels[0] == "village" else labels[0]
        return f"{kind}.{labels[1]}.lg.jp"
    if len(labels) == 3 and labels[0] in ("pref", "metro", "city"):
        return f"{labels[0]}.{labels[1]}.lg.jp"
    return None


class DomainKind(StrEnum):
    LG_JP = "lg_jp"
    GO_JP = "go_jp"
    REGIONAL = "regional"  # geographic JP: `*.<pref>.jp`, `*.<designated city>.jp`
    OTHER = "other"


def domain_kind(domain: str) -> DomainKind:
    labels = domain.split(".")
    if len(labels) >= 3 and labels[-2:] == ["lg", "jp"]:
        return DomainKind.LG_JP
    if len(labels) >= 3 and labels[-2:] == ["go", "jp"]:
        return DomainKind.GO_JP
    if _is_regional(labels):
        return DomainKind.REGIONAL
    return DomainKind.OTHER


# --------------------------------------------------------------------------------------
# Organisation directory


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
            inferred = _inferred_lg_domain(domain) if domain else None
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
        for suffix in _suffixes(domain):
            if suffix in self._exact:
                return DomainMatch(codes=tuple(self._exact[suffix]), basis="exact")
        for suffix in _suffixes(domain):
            if suffix in self._inferred:
                return DomainMatch(codes=tuple(self._inferred[suffix]), basis="inferred")
        return None

    def agency_for_domain(self, domain: str) -> Agency | None:
        for suffix in _suffixes(domain):
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


def _suffixes(domain: str) -> Iterable[str]:
    """`a.b.c.jp` → `a.b.c.jp`, `b.c.jp`, `c.jp`: most specific first."""
    labels = domain.split(".")
    for i in range(len(labels) - 1):
        yield ".".join(labels[i:])


@cache
def _master_directory() -> OrganisationDirectory:
    return OrganisationDirectory([*local_government_rows(), *agency_rows()])


# --------------------------------------------------------------------------------------
# Email checks

# RFC 5322 atext beyond letters, digits, "." "_" "-": legal but rare in work addresses.
_UNUSUAL_LOCAL = frozenset("#$&'*/=?^`{|}~")
_ROUTING = frozenset("%!")
_PLAIN_LOCAL = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")


def _codepoints(text: str) -> str:
    seen = dict.fromkeys(ch for ch in text if not ch.isascii())
    return " ".join(f"U+{ord(ch):04X}" for ch in list(seen)[:8])


def _refuse(reason: ReasonCode, /, **params: str) -> Reason:
    return Reason(reason, Severity.REFUSE, params)


def _flag(reason: ReasonCode, /, **params: str) -> Reason:
    return Reason(reason, Severity.FLAG, params)


def _info(reason: ReasonCode, /, **params: str) -> Reason:
    return Reason(reason, Severity.INFO, params)


def normalise_application_email(raw: str) -> str:
    """NFKC + trim + lowercase (as everywhere else), and the ideographic full stop as a
    dot: IDNA (UTS #46) maps `。` to `.`, and Japanese IMEs type it for `.`."""
    return normalise_email(raw).replace("\u3002", ".")


@dataclass
class _Email:
    normalised: str
    local: str | None = None
    domain: str | None = None  # set only when the domain is well formed
    plain: str | None = None  # the address without a `+tag`, for the duplicate check
    reasons: list[Reason] = field(default_factory=list)


def _check_email(raw: str) -> _Email:
    email = _Email(normalised=normalise_application_email(raw))
    text = email.normalised
    if not text:
        email.reasons.append(_refuse(ReasonCode.EMAIL_INVALID, problem="empty"))
        return email
    if '"' in text:
        email.reasons.append(_refuse(ReasonCode.EMAIL_QUOTED_LOCAL))
        return email
    at_count = text.count("@")
    if at_count == 0:
        email.reasons.append(_refuse(ReasonCode.EMAIL_INVALID, problem="missing_at"))
        return email
    if at_count > 1:
        email.reasons.append(_refuse(ReasonCode.EMAIL_MULTIPLE_AT))
        return email
    local, domain = text.split("@")
    if any(ch.isspace() for ch in text):
        email.reasons.append(_refuse(ReasonCode.EMAIL_INVALID, problem="whitespace"))
        return email
    if not local:
        email.reasons.append(_refuse(ReasonCode.EMAIL_INVALID, problem="empty_local"))
        return email
    if not domain:
        email.reasons.append(_refuse(ReasonCode.EMAIL_INVALID, problem="empty_domain"))
        return email
    if len(local) > 64 or len(text) > 254:
        email.reasons.append(_refuse(ReasonCode.EMAIL_INVALID, problem="too_long"))
        return email
    email.local = local
    email.reasons.extend(_check_local(local))
    plain_local = local.split("+", 1)[0]
    if plain_local != local and plain_local:
        email.plain = f"{plain_local}@{domain}"
    domain_reasons = _check_domain_shape(domain)
    email.reasons.extend(domain_reasons)
    if not domain_reasons:
        email.domain = domain
    return email


def _check_local(local: str) -> list[Reason]:
    if not local.isascii():
        return [_refuse(ReasonCode.EMAIL_NON_ASCII, characters=_codepoints(local))]
    reasons: list[Reason] = []
    if local.startswith(".") or local.endswith(".") or ".." in local:
        reasons.append(_refuse(ReasonCode.EMAIL_INVALID, problem="dots"))
    if "+" in local:
        plain = local.split("+", 1)[0]
        reasons.append(_refuse(ReasonCode.EMAIL_SUBADDRESS, separator="+", plain=plain))
    routing = sorted(_ROUTING.intersection(local))
    if routing:
        reasons.append(_refuse(ReasonCode.EMAIL_ROUTING, character="".join(routing)))
    unusual = sorted(_UNUSUAL_LOCAL.intersection(local))
    other = sorted(set(local) - _PLAIN_LOCAL - _UNUSUAL_LOCAL - _ROUTING - {"+"})
    if other:
        reasons.append(_refuse(ReasonCode.EMAIL_INVALID, problem="characters"))
    elif unusual:
        reasons.append(_flag(ReasonCode.EMAIL_UNUSUAL_LOCAL_PART, characters="".join(unusual)))
    return reasons


def _check_domain_shape(domain: str) -> list[Reason]:
    """Structural problems and look-alikes; empty when the domain may be classified."""
    if domain.startswith("["):
        return [_refuse(ReasonCode.DOMAIN_IP_LITERAL)]
    if not domain.isascii():
        return [_refuse(ReasonCode.DOMAIN_NON_ASCII, characters=_codepoints(domain))]
    reasons: list[Reason] = []
    if domain.endswith("."):
        reasons.append(_refuse(ReasonCode.DOMAIN_TRAILING_DOT))
    body = domain.rstrip(".")
    labels = body.split(".")
    if not body or any(not label for label in labels):
        reasons.append(_refuse(ReasonCode.DOMAIN_EMPTY_LABEL))
    labels = [label for label in labels if label]
    if labels and all(label.isdigit() for label in labels):
        return [*reasons, _refuse(ReasonCode.DOMAIN_IP_LITERAL)]
    punycode = [label for label in labels if label.startswith("xn--")]
    if punycode:
        reasons.append(_refuse(ReasonCode.DOMAIN_PUNYCODE, label=punycode[0]))
    bad = [label for label in labels if not _LABEL.fullmatch(label)]
    if bad:
        reasons.append(_refuse(ReasonCode.DOMAIN_INVALID, label=bad[0][:63]))
    elif len(labels) < 2 or not labels[-1].isalpha():
        reasons.append(_refuse(ReasonCode.DOMAIN_INVALID, label=labels[-1] if labels else ""))
    imitates = _imitates(labels)
    if imitates:
        reasons.append(_refuse(ReasonCode.DOMAIN_LOOKALIKE, imitates=imitates))
    return reasons


def _imitates(labels: list[str]) -> str | None:
    """What trusted suffix a domain dresses up as, if any.

    Catches `lg.jp.example.com`, `city.x.lg.jp.evil.com`, `example-lg.jp`, `lg-jp.com`,
    `city.x.1g.jp`, `city.x.hokkaido.jp.example.com` and the bare `lg.jp` / `go.jp`.
    """
    n = len(labels)
    if labels in (["lg", "jp"], ["go", "jp"]):
        return f"{labels[0]}.jp"
    for i, label in enumerate(labels):
        nxt = labels[i + 1] if i + 1 < n else None
        last_pair = i == n - 2
        # `lg.jp` / `go.jp` anywhere but at the end, or followed by `jpn`, `jp-x`, …
        if label in ("lg", "go") and nxt is not None and nxt.startswith("jp") and not last_pair:
            return f"{label}.jp"
        match = _LG_GO_JOINED.search(label)
        if match:
            return f"{match.group(1)}.jp"
        if label.endswith("-lg") or label.endswith("_lg"):
            return "lg.jp"
        if nxt == "jp" and last_pair and n >= 2 and label.endswith("-go"):
            return "go.jp"
        if nxt == "jp" and last_pair and n >= 3:
            if label in _LG_CONFUSABLES:
                return "lg.jp"
            if label in _GO_CONFUSABLES:
                return "go.jp"
        # a regional JP name (`hokkaido.jp`) used as a mere subdomain elsewhere
        if (
            nxt == "jp"
            and not last_pair
            and (label in PREFECTURE_LABELS or label in DESIGNATED_CITY_LABELS)
        ):
            return f"{label}.jp"
    return None


# --------------------------------------------------------------------------------------
# Organisation-name heuristic

# Titles are not organisations: "山田係長" is a person. Stripped before the checks, longest
# first, so "係長" never trips "係" and "部長" never trips "部".
_TITLES = tuple(
    sorted(
        [
            "担当課長",
            "担当部長",
            "担当係長",
            "課長補佐",
            "課長代理",
            "センター長",
            "事務局長",
            "係長",
            "課長",
            "室長",
            "部長",
            "局長",
            "次長",
            "所長",
            "班長",
            "主任",
            "主査",
            "主事",
            "主幹",
            "参事",
            "技師",
        ],
        key=len,
        reverse=True,
    )
)
# Words no personal name contains, including the themes units are named after (政策, 企画;
# not 行政, which is also a given name, Yukimasa):
# "情報政策課長" minus its title is still no one's name. Single kanji 課, 係, 局 are here
# because names with them are vanishingly rare (局 is a surname, rare enough for a flag).
_ORGANISATION_TERMS = tuple(
    [
        "担当",
        "センター",
        "事務局",
        "事務所",
        "市役所",
        "区役所",
        "町役場",
        "村役場",
        "役所",
        "役場",
        "県庁",
        "都庁",
        "府庁",
        "道庁",
        "協議会",
        "委員会",
        "推進",
        "グループ",
        "チーム",
        "窓口",
        "支所",
        "出張所",
        "組合",
        "広域連合",
        "機構",
        "株式会社",
        "課",
        "係",
        "局",
        "政策",
        "企画",
        "総務",
        "財政",
        "広報",
        "情報",
        "改革",
        "戦略",
        "デジタル",
    ]
)
# Kanji that end unit names (総務部, 秘書室, 企画班) but also common surnames (阿部, 服部,
# 小室, 氷室): only a token of three or more characters ending in one counts, and the
# three-character surnames below never do. 室井/室田 do not end in 室 and never match.
_UNIT_SUFFIXES = ("部", "室", "班")
_SURNAMES_ENDING_IN_UNIT = frozenset(
    ["長谷部", "日下部", "曽我部", "曾我部", "宗我部", "長曽我部", "長宗我部", "五十部"]
)
_ENGLISH_ORGANISATION = re.compile(
    r"\b(section|division|department|dept|office|team|group|bureau|center|centre|"
    r"secretariat|committee|council|ministry|agency|city hall|government|prefecture|dx)\b",
    re.IGNORECASE,
)


def organisation_like(name: str, directory: OrganisationDirectory) -> str | None:
    """The part of `name` that reads as an organisation rather than a person, if any."""
    text = nfkc(name)
    english = _ENGLISH_ORGANISATION.search(text)
    if english:
        return english.group(0)
    for title in _TITLES:
        text = text.replace(title, " ")
    tokens = text.split()
    joined = "".join(tokens)
    for term in _ORGANISATION_TERMS:
        if term in joined:
            return term
    agency = directory.contained_agency_name(joined)
    if agency:
        return agency
    for token in [*tokens, joined]:
        if directory.is_organisation_name(token):
            return token
    for token in tokens:
        if (
            len(token) >= 3
            and token.endswith(_UNIT_SUFFIXES)
            and token not in _SURNAMES_ENDING_IN_UNIT
        ):
            return token
    return None


# --------------------------------------------------------------------------------------
# The decision


@dataclass
class _Organisation:
    code: str | None = None
    slug: str | None = None
    suggested: tuple[str, ...] = ()
    eligible: Outcome | None = None
    reasons: list[Reason] = field(default_factory=list)


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = nfkc(value)
    return cleaned or None


def _check_code(raw: str, directory: OrganisationDirectory) -> tuple[str | None, list[Reason]]:
    """The normalised code if it is well formed, with what is known about it."""
    code = normalise_code(raw)
    digits = code.isascii() and code.isdigit()
    if digits and len(code) == 5:
        # the five-digit form omits the check digit; offer the full code, do not assume it
        full = code + str(check_digit(code))
        return None, [_refuse(ReasonCode.CODE_FORMAT, entered=code[:12], did_you_mean=full)]
    if not digits or len(code) != 6:
        return None, [_refuse(ReasonCode.CODE_FORMAT, entered=code[:12])]
    if check_digit(code[:5]) != int(code[5]):
        known = [lg.code for lg in directory.local_governments() if lg.code.startswith(code[:5])]
        params = {"entered": code}
        if known:
            params["did_you_mean"] = known[0]
        return None, [_refuse(ReasonCode.CODE_CHECK_DIGIT, **params)]
    if directory.local_government(code) is None:
        params = {"code": code}
        prefecture = directory.prefecture_of(code)
        if prefecture:
            params["prefecture"] = prefecture
        return code, [_flag(ReasonCode.CODE_UNKNOWN_VALID, **params)]
    return code, []


def _check_organisation(
    domain: str | None,
    raw_code: str | None,
    raw_slug: str | None,
    directory: OrganisationDirectory,
) -> _Organisation:
    org = _Organisation()
    code_known = False
    if raw_code is not None:
        org.code, code_reasons = _check_code(raw_code, directory)
        org.reasons.extend(code_reasons)
        code_known = org.code is not None and not code_reasons
    slug = raw_slug.lower() if raw_slug is not None else None
    slug_known = slug is not None and directory.agency(slug) is not None
    if slug is not None:
        if slug_known:
            org.slug = slug
        else:
            org.reasons.append(_flag(ReasonCode.AGENCY_UNKNOWN, entered=slug[:32]))
    if raw_code is not None and slug is not None:
        org.reasons.append(_flag(ReasonCode.ORGANISATION_AMBIGUOUS))
    if domain is None:
        return org

    kind = domain_kind(domain)
    if kind is DomainKind.GO_JP:
        agency = directory.agency_for_domain(domain)
        if agency is None:
            org.reasons.append(_flag(ReasonCode.DOMAIN_GO_JP_UNLISTED, domain=domain))
            return org
        org.suggested = (agency.slug,)
        org.reasons.append(_info(ReasonCode.DOMAIN_GO_JP_AGENCY, domain=domain, agency=agency.slug))
        if raw_code is not None and slug is None:
            org.reasons.append(
                _flag(ReasonCode.ORGANISATION_KIND_MISMATCH, entered="code", domain=domain)
            )
        elif slug is None:
            org.slug = agency.slug
            org.reasons.append(_info(ReasonCode.ORGANISATION_FROM_DOMAIN, agency=agency.slug))
        elif slug_known and slug != agency.slug:
            org.reasons.append(
                _flag(ReasonCode.AGENCY_DOMAIN_MISMATCH, entered=slug, suggested=agency.slug)
            )
        org.eligible = Outcome.ELIGIBLE_AGENCY
        return org

    match = directory.local_governments_for_domain(domain)
    if match is not None:
        org.suggested = match.codes
    if kind is DomainKind.LG_JP:
        org.reasons.append(_info(ReasonCode.DOMAIN_LG_JP, domain=domain))
    elif kind is DomainKind.REGIONAL and match is not None and match.basis == "exact":
        org.reasons.append(
            _info(ReasonCode.DOMAIN_REGIONAL_KNOWN, domain=domain, code=" ".join(match.codes))
        )
    elif kind is DomainKind.REGIONAL:
        org.reasons.append(_flag(ReasonCode.DOMAIN_REGIONAL_UNKNOWN, domain=domain))
        return org
    elif match is not None and match.basis == "exact":
        # a generic .jp/.com an LG uses for its homepage: anyone could hold it after it
        # lapses, so it is a suggestion for the secretariat, not a proof
        org.reasons.append(
            _flag(ReasonCode.DOMAIN_HOMEPAGE_MATCH, domain=domain, codes=" ".join(match.codes))
        )
        return org
    else:
        org.reasons.append(_flag(ReasonCode.DOMAIN_OTHER, domain=domain))
        return org

    # an LG domain (lg.jp, or a regional one a known LG uses)
    if slug is not None and raw_code is None:
        org.reasons.append(
            _flag(ReasonCode.ORGANISATION_KIND_MISMATCH, entered="agency", domain=domain)
        )
    elif raw_code is None:
        if match is not None and len(match.codes) == 1:
            org.code = match.codes[0]
            org.reasons.append(_info(ReasonCode.ORGANISATION_FROM_DOMAIN, code=org.code))
        else:
            org.reasons.append(
                _flag(ReasonCode.ORGANISATION_MISSING, suggested=" ".join(org.suggested))
            )
    elif code_known and match is not None and org.code not in match.codes:
        org.reasons.append(
            _flag(
                ReasonCode.CODE_DOMAIN_MISMATCH,
                entered=org.code or "",
                suggested=" ".join(match.codes),
                basis=match.basis,
            )
        )
    org.eligible = Outcome.ELIGIBLE_LOCAL
    return org


def _check_history(email: _Email, history: EmailHistory) -> tuple[list[Reason], bool]:
    if email.local is None:  # no usable address to look up
        return [], False
    reasons: list[Reason] = []
    reapplication = False
    for address in dict.fromkeys(a for a in (email.normalised, email.plain) if a):
        status = history(address)
        if status in _BLOCKING_STATUSES:
            reasons.append(_refuse(ReasonCode.EMAIL_DUPLICATE, status=str(status), email=address))
        elif status == "rejected" and address == email.normalised:
            reapplication = True
            reasons.append(_info(ReasonCode.REAPPLICATION_AFTER_REJECTION))
        elif status == "deleted" and address == email.normalised:
            reapplication = True
            reasons.append(_info(ReasonCode.REAPPLICATION_AFTER_DELETION))
    return reasons, reapplication


def decide(
    application: ApplicationInput,
    directory: OrganisationDirectory,
    history: EmailHistory,
) -> Verdict:
    """The eligibility of one application, with every reason that led there."""
    email = _check_email(application.email)
    reasons = list(email.reasons)
    history_reasons, reapplication = _check_history(email, history)
    reasons.extend(history_reasons)

    org = _check_organisation(
        email.domain,
        _clean(application.organisation_code),
        _clean(application.agency_slug),
        directory,
    )
    reasons.extend(org.reasons)

    name = nfkc(application.name)
    if not name:
        reasons.append(_refuse(ReasonCode.NAME_MISSING))
    else:
        matched = organisation_like(name, directory)
        if matched:
            reasons.append(_flag(ReasonCode.NAME_LOOKS_LIKE_ORGANISATION, matched=matched))

    severities = {reason.severity for reason in reasons}
    if Severity.REFUSE in severities:
        outcome = Outcome.REFUSED
    elif Severity.FLAG in severities or org.eligible is None:
        outcome = Outcome.MANUAL_REVIEW
    else:
        outcome = org.eligible
    if not reasons:  # cannot happen (every domain path adds one); kept as a safety net
        reasons.append(_flag(ReasonCode.DOMAIN_OTHER, domain=email.domain or ""))
    return Verdict(
        outcome=outcome,
        reasons=tuple(reasons),
        normalised_email=email.normalised,
        organisation_code=org.code,
        agency_slug=org.slug,
        suggested=org.suggested,
        is_reapplication=reapplication,
    )
