"""The address itself: its syntax, sub-addressing and source routing (the domain's shape is
bot/eligibility/domains.py's)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.eligibility.domains import domain_shape_problems
from bot.eligibility.verdict import Reason, ReasonCode, codepoints, flag, refuse
from bot.text import normalise_email

# RFC 5322 atext beyond letters, digits, "." "_" "-": legal but rare in work addresses.
_UNUSUAL_LOCAL = frozenset("#$&'*/=?^`{|}~")
_ROUTING = frozenset("%!")
_PLAIN_LOCAL = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")


def normalise_application_email(raw: str) -> str:
    """NFKC + trim + lowercase (as everywhere else), and the ideographic full stop as a
    dot: IDNA (UTS #46) maps `。` to `.`, and Japanese IMEs type it for `.`."""
    return normalise_email(raw).replace("\u3002", ".")


@dataclass
class CheckedEmail:
    normalised: str
    local: str | None = None
    domain: str | None = None  # set only when the domain is well formed
    plain: str | None = None  # the address without a `+tag`, for the duplicate check
    reasons: list[Reason] = field(default_factory=list)


def check_email(raw: str) -> CheckedEmail:
    email = CheckedEmail(normalised=normalise_application_email(raw))
    text = email.normalised
    if not text:
        email.reasons.append(refuse(ReasonCode.EMAIL_INVALID, problem="empty"))
        return email
    if '"' in text:
        email.reasons.append(refuse(ReasonCode.EMAIL_QUOTED_LOCAL))
        return email
    at_count = text.count("@")
    if at_count == 0:
        email.reasons.append(refuse(ReasonCode.EMAIL_INVALID, problem="missing_at"))
        return email
    if at_count > 1:
        email.reasons.append(refuse(ReasonCode.EMAIL_MULTIPLE_AT))
        return email
    local, domain = text.split("@")
    if any(ch.isspace() for ch in text):
        email.reasons.append(refuse(ReasonCode.EMAIL_INVALID, problem="whitespace"))
        return email
    if not local:
        email.reasons.append(refuse(ReasonCode.EMAIL_INVALID, problem="empty_local"))
        return email
    if not domain:
        email.reasons.append(refuse(ReasonCode.EMAIL_INVALID, problem="empty_domain"))
        return email
    if len(local) > 64 or len(text) > 254:
        email.reasons.append(refuse(ReasonCode.EMAIL_INVALID, problem="too_long"))
        return email
    email.local = local
    email.reasons.extend(_check_local(local))
    plain_local = local.split("+", 1)[0]
    if plain_local != local and plain_local:
        email.plain = f"{plain_local}@{domain}"
    domain_reasons = domain_shape_problems(domain)
    email.reasons.extend(domain_reasons)
    if not domain_reasons:
        email.domain = domain
    return email


def _check_local(local: str) -> list[Reason]:
    if not local.isascii():
        return [refuse(ReasonCode.EMAIL_NON_ASCII, characters=codepoints(local))]
    reasons: list[Reason] = []
    if local.startswith(".") or local.endswith(".") or ".." in local:
        reasons.append(refuse(ReasonCode.EMAIL_INVALID, problem="dots"))
    if "+" in local:
        plain = local.split("+", 1)[0]
        reasons.append(refuse(ReasonCode.EMAIL_SUBADDRESS, separator="+", plain=plain))
    routing = sorted(_ROUTING.intersection(local))
    if routing:
        reasons.append(refuse(ReasonCode.EMAIL_ROUTING, character="".join(routing)))
    unusual = sorted(_UNUSUAL_LOCAL.intersection(local))
    other = sorted(set(local) - _PLAIN_LOCAL - _UNUSUAL_LOCAL - _ROUTING - {"+"})
    if other:
        reasons.append(refuse(ReasonCode.EMAIL_INVALID, problem="characters"))
    elif unusual:
        reasons.append(flag(ReasonCode.EMAIL_UNUSUAL_LOCAL_PART, characters="".join(unusual)))
    return reasons
