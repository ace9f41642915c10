"""What the move form's organisation select offers as the member types: a local-government
code, a prefecture and (part of) a municipality's name (`北海道 札幌`, `北海道札幌`), or any
name or reading across the country and the agencies. Slack shows at most 100 options."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.domain.transfers_moves import OrganisationChoice
from bot.services.applications.organisations import (
    LocalGovernmentOption,
    agencies,
    local_government,
    local_governments,
    normalise_fragment,
    prefectures,
)
from bot.text import nfkc

MAX_OPTIONS = 100  # Block Kit's limit for an external select's answer
OPTION_TEXT_MAX = 75
LOCAL_PREFIX, AGENCY_PREFIX = "lg:", "agency:"
_PREFECTURE_SUFFIXES = ("都", "道", "府", "県")


def _local_choice(option: LocalGovernmentOption) -> OrganisationChoice:
    place = "" if option.is_prefecture or not option.prefecture else f"{option.prefecture} "
    label = f"{place}{option.name}（{option.code}）"
    return OrganisationChoice(LOCAL_PREFIX + option.code, label[:OPTION_TEXT_MAX])


def _split_prefecture(session: Session, query: str) -> tuple[str | None, str]:
    """`北海道 札幌` / `北海道札幌` / `東京 千代田` → (prefecture, the rest)."""
    for prefecture in prefectures(session):
        short = prefecture.name.rstrip("".join(_PREFECTURE_SUFFIXES)) or prefecture.name
        for name in (prefecture.name, short):
            if query.startswith(name) and len(name) >= 2:
                return prefecture.name, query[len(name) :].strip()
    return None, query


def organisation_choices(session: Session, query: str) -> list[OrganisationChoice]:
    typed = nfkc(query).replace("\u3000", " ").strip()
    if not typed:
        return []
    compact = typed.replace(" ", "").replace("-", "")
    if compact.isdigit():
        found = local_government(session, compact)
        return [_local_choice(found)] if found is not None else []
    prefecture, rest = _split_prefecture(session, typed)
    if prefecture is not None:
        locals_ = local_governments(session, prefecture=prefecture, fragment=rest or None)
        return [_local_choice(o) for o in locals_][:MAX_OPTIONS]
    choices = [
        _local_choice(o) for o in local_governments(session, prefecture=None, fragment=typed)
    ]
    wanted = normalise_fragment(typed).lower()
    for agency in agencies(session):
        names = (agency.name, agency.name_en or "", agency.slug)
        if any(wanted in normalise_fragment(name).lower() for name in names):
            label = agency.name if not agency.name_en else f"{agency.name} / {agency.name_en}"
            choices.append(OrganisationChoice(AGENCY_PREFIX + agency.slug, label[:OPTION_TEXT_MAX]))
    return choices[:MAX_OPTIONS]


def parse_choice(value: str | None) -> tuple[str | None, str | None]:
    """An option's value → (organisation code, agency slug)."""
    if not value:
        return None, None
    if value.startswith(LOCAL_PREFIX):
        return value[len(LOCAL_PREFIX) :] or None, None
    if value.startswith(AGENCY_PREFIX):
        return None, value[len(AGENCY_PREFIX) :] or None
    return None, None
