"""What the registration form holds, what it offers to choose from, and what is wrong with
what was typed: every message is placed next to its field.

Every field and query parameter goes through bot.text's input hygiene first: NUL (which
PostgreSQL refuses) and other controls never reach the database."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from sqlalchemy.orm import Session

from bot.codes import normalise_code
from bot.eligibility.addresses import check_email
from bot.eligibility.verdict import Reason, Severity
from bot.i18n import Language, t
from bot.i18n.reasons import reason_text
from bot.services import rules
from bot.services.applications import organisations as lookup
from bot.services.applications.submission import ApplicationForm
from bot.text import clean_line

MAX_NAME = 100
MAX_EMAIL = 254
MAX_DEPARTMENT = 100
MAX_CODE = 16
_MAX_FIELD = 300  # anything longer is cut before it is echoed back into the page


@dataclass
class FormValues:
    """What the applicant typed, as typed (cut to a sane length), for validation and for
    showing the form again."""

    name: str = ""
    email: str = ""
    org_kind: str = "lg"
    prefecture: str = ""
    org_query: str = ""
    lg_code: str = ""
    code: str = ""
    agency: str = ""
    department: str = ""
    rules: bool = False
    rules_version: str = ""
    had_account: str = "no"  # one person, one account: "yes" when they had one before
    previous_email: str = ""

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> FormValues:
        def get(name: str) -> str:
            return clean_field(form.get(name))

        kind = get("org_kind")
        return cls(
            name=get("name"),
            email=get("email"),
            org_kind=kind if kind in ("lg", "agency") else "",
            prefecture=get("prefecture"),
            org_query=get("org_query"),
            lg_code=get("lg_code"),
            code=get("code"),
            agency=get("agency"),
            department=get("department"),
            rules=get("rules") == "yes",
            rules_version=get("rules_version")[:32],
            had_account="yes" if get("had_account") == "yes" else "no",
            previous_email=get("previous_email"),
        )

    def application_form(self, language: Language) -> ApplicationForm:
        """What the use case takes: the organisation as its kind says (code or agency)."""
        local = self.org_kind == "lg"
        return ApplicationForm(
            email=self.email,
            name=self.name,
            organisation_code=(self.code or self.lg_code) if local else None,
            agency_slug=self.agency if self.org_kind == "agency" else None,
            department=self.department,
            language=language,
            rules_version=self.rules_version,
            had_account=self.had_account == "yes",
            previous_email=self.previous_email if self.had_account == "yes" else None,
        )


def clean_field(value: str | None) -> str:
    """One single-line value from the form or the query string, clean and cut."""
    return clean_line(value or "")[:_MAX_FIELD]


@dataclass
class Problems:
    """Messages by field (shown next to it) and in order (shown in the summary)."""

    by_field: dict[str, list[str]] = field(default_factory=dict)
    summary: list[tuple[str, str]] = field(default_factory=list)  # (field id, message)
    refused: bool = False

    def add(self, field_id: str, message: str) -> None:
        self.by_field.setdefault(field_id, []).append(message)
        self.summary.append((field_id, message))

    def __bool__(self) -> bool:
        return bool(self.summary)


def language_of(value: str | None) -> Language:
    return "en" if value == "en" else "ja"


def other_language(language: Language) -> Language:
    return "en" if language == "ja" else "ja"


def _organisation_field(values: FormValues) -> str:
    if values.org_kind == "agency":
        return "agency"
    return "code" if values.code else "lg_code"


def validate(session: Session, values: FormValues, language: Language) -> Problems:
    """What is missing or malformed, in the order the form asks for it."""
    problems = Problems()

    def msg(key: str, **params: object) -> str:
        return t(f"registration.error.{key}", language, **params)

    _text(problems, msg, "name", values.name, MAX_NAME)
    _text(problems, msg, "email", values.email, MAX_EMAIL)
    _previous_email(problems, msg, values)
    if values.org_kind == "lg":
        _local_government(session, problems, msg, values, language)
    elif values.org_kind == "agency":
        if not values.agency or lookup.agency(session, values.agency) is None:
            problems.add("agency", msg("agency_required"))
    else:
        problems.add("org_kind_lg", msg("org_kind_required"))
    _text(problems, msg, "department", values.department, MAX_DEPARTMENT)
    if not values.rules:
        problems.add("rules", msg("rules_required"))
    return problems


def _text(
    problems: Problems, msg: Callable[..., str], field_id: str, value: str, limit: int
) -> None:
    if not value:
        problems.add(field_id, msg(f"{field_id}_required"))
    elif len(value) > limit:
        problems.add(field_id, msg(f"{field_id}_too_long", max=limit))


def _previous_email(problems: Problems, msg: Callable[..., str], values: FormValues) -> None:
    """Optional, and read only after "yes"; when given, it must be an address."""
    if values.had_account != "yes" or not values.previous_email:
        return
    if len(values.previous_email) > MAX_EMAIL:
        problems.add("previous_email", msg("previous_email_too_long", max=MAX_EMAIL))
    elif any(r.severity is Severity.REFUSE for r in check_email(values.previous_email).reasons):
        problems.add("previous_email", msg("previous_email_invalid"))


def _local_government(
    session: Session,
    problems: Problems,
    msg: Callable[..., str],
    values: FormValues,
    language: Language,
) -> None:
    selected, entered = values.lg_code, values.code
    if not selected and not entered:
        problems.add("lg_code", msg("organisation_required"))
    elif selected and entered and normalise_code(selected) != normalise_code(entered):
        option = lookup.local_government(session, selected)
        label = option_label(option, language) if option else selected
        problems.add("code", msg("code_conflict", selected=label, entered=entered))
    elif len(entered) > MAX_CODE:
        problems.add("code", t("eligibility.code.format", language, entered=entered[:12]))


_REASON_FIELDS = (
    ("email.", "email"),
    ("domain.", "email"),
    ("reapplication.", "email"),
    ("name.", "name"),
)


def refusal_problems(
    session: Session, values: FormValues, reasons: tuple[Reason, ...], language: Language
) -> Problems:
    """The reasons an application was refused, as polite messages next to their fields."""
    problems = Problems(refused=True)
    for reason in reasons:
        if reason.severity is not Severity.REFUSE:
            continue  # flags and notes are for the secretariat, not a reason to retype
        params = dict(reason.params)
        suggestion = params.get("did_you_mean")
        if suggestion:
            option = lookup.local_government(session, suggestion)
            if option is not None:
                params["did_you_mean"] = t(
                    "registration.error.did_you_mean_label",
                    language,
                    code=option.code,
                    name=place_name(option),
                )
        target = next(
            (f for prefix, f in _REASON_FIELDS if reason.code.value.startswith(prefix)),
            _organisation_field(values),
        )
        problems.add(target, reason_text(reason.code, params, language))
    return problems


def place_name(option: lookup.LocalGovernmentOption) -> str:
    if option.is_prefecture or not option.prefecture:
        return option.name
    return f"{option.prefecture}{option.name}"


def option_label(option: lookup.LocalGovernmentOption, language: Language) -> str:
    if option.is_prefecture:
        name = t("registration.lg.prefecture_office", language, name=option.name)
    else:
        name = option.name
    return f"{name}（{option.code}）" if language == "ja" else f"{name} ({option.code})"


@dataclass(frozen=True)
class FormChoices:
    """What the form offers, and the values adjusted to it (an unknown prefecture, or a
    local government outside the chosen prefecture, is dropped)."""

    values: FormValues
    prefectures: list[lookup.Prefecture]
    local_governments: list[tuple[str, str]]  # (code, label)
    agencies: list[tuple[str, str]]  # (slug, label)
    rules_version: str


def form_choices(session: Session, values: FormValues, language: Language) -> FormChoices:
    prefectures = lookup.prefectures(session)
    names = {p.name for p in prefectures}
    values = replace(values, prefecture=values.prefecture if values.prefecture in names else "")
    chosen = lookup.local_government(session, values.lg_code) if values.lg_code else None
    if chosen is not None and not values.prefecture and chosen.prefecture:
        values = replace(values, prefecture=chosen.prefecture)
    if chosen is None or chosen.prefecture != values.prefecture:
        values = replace(values, lg_code="")
        chosen = None
    options = lookup.local_governments(
        session, prefecture=values.prefecture or None, fragment=values.org_query or None
    )
    if chosen is not None and all(o.code != chosen.code for o in options):
        options.insert(0, chosen)
    agencies = [
        (a.slug, a.name if language == "ja" or not a.name_en else f"{a.name_en}（{a.name}）")
        for a in lookup.agencies(session)
    ]
    return FormChoices(
        values=values,
        prefectures=prefectures,
        local_governments=[(o.code, option_label(o, language)) for o in options],
        agencies=agencies,
        # the version the applicant reads now is the one they confirm on submitting
        rules_version=values.rules_version or rules.current_version(session),
    )
