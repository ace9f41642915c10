"""How a member's organisation reads in a message, in one language."""

from __future__ import annotations

from bot.i18n import Language
from models import Organisation, OrganisationKind


def organisation_name(organisation: Organisation | None, language: Language) -> str | None:
    """北海道 札幌市, デジタル庁; the English name where there is one."""
    if organisation is None:
        return None
    if language == "en" and organisation.name_en:
        return organisation.name_en
    if (
        organisation.kind is not OrganisationKind.AGENCY
        and organisation.prefecture
        and organisation.prefecture != organisation.name
    ):
        return f"{organisation.prefecture} {organisation.name}"
    return organisation.name
