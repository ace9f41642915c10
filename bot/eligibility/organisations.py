"""Which organisation an application is for: the code or agency entered, checked against
the directory and against what the mail domain suggests."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.codes import check_digit, normalise_code
from bot.eligibility.directory import OrganisationDirectory
from bot.eligibility.domains import DomainKind, domain_kind
from bot.eligibility.verdict import Outcome, Reason, ReasonCode, flag, info, refuse


@dataclass
class OrganisationCheck:
    code: str | None = None
    slug: str | None = None
    suggested: tuple[str, ...] = ()
    eligible: Outcome | None = None
    reasons: list[Reason] = field(default_factory=list)


def _check_code(raw: str, directory: OrganisationDirectory) -> tuple[str | None, list[Reason]]:
    """The normalised code if it is well formed, with what is known about it."""
    code = normalise_code(raw)
    digits = code.isascii() and code.isdigit()
    if digits and len(code) == 5:
        # the five-digit form omits the check digit; offer the full code, do not assume it
        full = code + str(check_digit(code))
        return None, [refuse(ReasonCode.CODE_FORMAT, entered=code[:12], did_you_mean=full)]
    if not digits or len(code) != 6:
        return None, [refuse(ReasonCode.CODE_FORMAT, entered=code[:12])]
    if check_digit(code[:5]) != int(code[5]):
        known = [lg.code for lg in directory.local_governments() if lg.code.startswith(code[:5])]
        params = {"entered": code}
        if known:
            params["did_you_mean"] = known[0]
        return None, [refuse(ReasonCode.CODE_CHECK_DIGIT, **params)]
    if directory.local_government(code) is None:
        params = {"code": code}
        prefecture = directory.prefecture_of(code)
        if prefecture:
            params["prefecture"] = prefecture
        return code, [flag(ReasonCode.CODE_UNKNOWN_VALID, **params)]
    return code, []


def check_organisation(
    domain: str | None,
    raw_code: str | None,
    raw_slug: str | None,
    directory: OrganisationDirectory,
) -> OrganisationCheck:
    org = OrganisationCheck()
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
            org.reasons.append(flag(ReasonCode.AGENCY_UNKNOWN, entered=slug[:32]))
    if raw_code is not None and slug is not None:
        org.reasons.append(flag(ReasonCode.ORGANISATION_AMBIGUOUS))
    if domain is None:
        return org

    kind = domain_kind(domain)
    if kind is DomainKind.GO_JP:
        agency = directory.agency_for_domain(domain)
        if agency is None:
            org.reasons.append(flag(ReasonCode.DOMAIN_GO_JP_UNLISTED, domain=domain))
            return org
        org.suggested = (agency.slug,)
        org.reasons.append(info(ReasonCode.DOMAIN_GO_JP_AGENCY, domain=domain, agency=agency.slug))
        if raw_code is not None and slug is None:
            org.reasons.append(
                flag(ReasonCode.ORGANISATION_KIND_MISMATCH, entered="code", domain=domain)
            )
        elif slug is None:
            org.slug = agency.slug
            org.reasons.append(info(ReasonCode.ORGANISATION_FROM_DOMAIN, agency=agency.slug))
        elif slug_known and slug != agency.slug:
            org.reasons.append(
                flag(ReasonCode.AGENCY_DOMAIN_MISMATCH, entered=slug, suggested=agency.slug)
            )
        org.eligible = Outcome.ELIGIBLE_AGENCY
        return org

    match = directory.local_governments_for_domain(domain)
    if match is not None:
        org.suggested = match.codes
    if kind is DomainKind.LG_JP:
        org.reasons.append(info(ReasonCode.DOMAIN_LG_JP, domain=domain))
    elif kind is DomainKind.REGIONAL and match is not None and match.basis == "exact":
        org.reasons.append(
            info(ReasonCode.DOMAIN_REGIONAL_KNOWN, domain=domain, code=" ".join(match.codes))
        )
    elif kind is DomainKind.REGIONAL:
        org.reasons.append(flag(ReasonCode.DOMAIN_REGIONAL_UNKNOWN, domain=domain))
        return org
    elif match is not None and match.basis == "exact":
        # a generic .jp/.com an LG uses for its homepage: anyone could hold it after it
        # lapses, so it is a suggestion for the secretariat, not a proof
        org.reasons.append(
            flag(ReasonCode.DOMAIN_HOMEPAGE_MATCH, domain=domain, codes=" ".join(match.codes))
        )
        return org
    else:
        org.reasons.append(flag(ReasonCode.DOMAIN_OTHER, domain=domain))
        return org

    # an LG domain (lg.jp, or a regional one a known LG uses)
    if slug is not None and raw_code is None:
        org.reasons.append(
            flag(ReasonCode.ORGANISATION_KIND_MISMATCH, entered="agency", domain=domain)
        )
    elif raw_code is None:
        if match is not None and len(match.codes) == 1:
            org.code = match.codes[0]
            org.reasons.append(info(ReasonCode.ORGANISATION_FROM_DOMAIN, code=org.code))
        else:
            org.reasons.append(
                flag(ReasonCode.ORGANISATION_MISSING, suggested=" ".join(org.suggested))
            )
    elif code_known and match is not None and org.code not in match.codes:
        org.reasons.append(
            flag(
                ReasonCode.CODE_DOMAIN_MISMATCH,
                entered=org.code or "",
                suggested=" ".join(match.codes),
                basis=match.basis,
            )
        )
    org.eligible = Outcome.ELIGIBLE_LOCAL
    return org
