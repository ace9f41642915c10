"""What a mail domain is: lg.jp, go.jp, a JP geographic name, something else, or a
look-alike of one of these. Pure functions of the text."""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

from bot.eligibility.verdict import Reason, ReasonCode, codepoints, refuse

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


def inferred_lg_domain(domain: str) -> str | None:
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


def suffixes(domain: str) -> Iterable[str]:
    """`a.b.c.jp` → `a.b.c.jp`, `b.c.jp`, `c.jp`: most specific first."""
    labels = domain.split(".")
    for i in range(len(labels) - 1):
        yield ".".join(labels[i:])


def domain_shape_problems(domain: str) -> list[Reason]:
    """Structural problems and look-alikes; empty when the domain may be classified."""
    if domain.startswith("["):
        return [refuse(ReasonCode.DOMAIN_IP_LITERAL)]
    if not domain.isascii():
        return [refuse(ReasonCode.DOMAIN_NON_ASCII, characters=codepoints(domain))]
    reasons: list[Reason] = []
    if domain.endswith("."):
        reasons.append(refuse(ReasonCode.DOMAIN_TRAILING_DOT))
    body = domain.rstrip(".")
    labels = body.split(".")
    if not body or any(not label for label in labels):
        reasons.append(refuse(ReasonCode.DOMAIN_EMPTY_LABEL))
    labels = [label for label in labels if label]
    if labels and all(label.isdigit() for label in labels):
        return [*reasons, refuse(ReasonCode.DOMAIN_IP_LITERAL)]
    punycode = [label for label in labels if label.startswith("xn--")]
    if punycode:
        reasons.append(refuse(ReasonCode.DOMAIN_PUNYCODE, label=punycode[0]))
    bad = [label for label in labels if not _LABEL.fullmatch(label)]
    if bad:
        reasons.append(refuse(ReasonCode.DOMAIN_INVALID, label=bad[0][:63]))
    elif len(labels) < 2 or not labels[-1].isalpha():
        reasons.append(refuse(ReasonCode.DOMAIN_INVALID, label=labels[-1] if labels else ""))
    imitates = _imitates(labels)
    if imitates:
        reasons.append(refuse(ReasonCode.DOMAIN_LOOKALIKE, imitates=imitates))
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
