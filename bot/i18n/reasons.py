"""Eligibility reasons as sentences, from the `eligibility` catalogues.

Every `ReasonCode` has a base text `eligibility.<code>` that formats with the params the code
always carries, so `t(f"eligibility.{code}", language, **params)` never fails. Some codes
have more precise twins, picked here when the reason allows:

- `eligibility.<code>.<value>` for a param that names a case (`email.invalid` → `problem`,
  `email.duplicate` → `status`, `organisation.kind_mismatch` → `entered`);
- `eligibility.<code>.with_<param>` when an optional param is present and not empty
  (`code.format` → `did_you_mean`, `organisation.missing` → `suggested`, …).
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.eligibility.verdict import ReasonCode
from bot.i18n import Language, catalogue, t

# A param whose value selects a more precise text.
CASE_PARAMS: Mapping[ReasonCode, str] = {
    ReasonCode.EMAIL_INVALID: "problem",
    ReasonCode.EMAIL_DUPLICATE: "status",
    ReasonCode.ORGANISATION_KIND_MISMATCH: "entered",
}
# Params a code carries only sometimes; present, they select `with_<param>`.
OPTIONAL_PARAMS: Mapping[ReasonCode, tuple[str, ...]] = {
    ReasonCode.CODE_FORMAT: ("did_you_mean",),
    ReasonCode.CODE_CHECK_DIGIT: ("did_you_mean",),
    ReasonCode.CODE_UNKNOWN_VALID: ("prefecture",),
    ReasonCode.ORGANISATION_FROM_DOMAIN: ("code", "agency"),
    ReasonCode.ORGANISATION_MISSING: ("suggested",),
}


def reason_key(code: ReasonCode | str, params: Mapping[str, object], language: Language) -> str:
    """The most precise catalogue key for this reason."""
    code = ReasonCode(code)
    base = f"eligibility.{code.value}"
    known = catalogue(language)
    case = CASE_PARAMS.get(code)
    if case is not None:
        value = str(params.get(case) or "")
        if f"{base}.{value}" in known:
            return f"{base}.{value}"
    for name in OPTIONAL_PARAMS.get(code, ()):
        if params.get(name) and f"{base}.with_{name}" in known:
            return f"{base}.with_{name}"
    return base


def reason_text(code: ReasonCode | str, params: Mapping[str, object], language: Language) -> str:
    """One reason as a sentence in `language`; params are shown as given (escape for HTML
    or mrkdwn where they are put)."""
    values = {name: str(value) for name, value in params.items()}
    return t(reason_key(code, values, language), language, **values)


def stored_reason_text(reason: Mapping[str, object], language: Language) -> str:
    """The same for a reason as `submission.reason_to_json` stored it."""
    params = reason.get("params")
    return reason_text(str(reason["code"]), params if isinstance(params, Mapping) else {}, language)
