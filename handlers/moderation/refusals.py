"""What the secretariat is told when a case cannot be acted on: someone decided first, or
the case is not there."""

from __future__ import annotations

from bot.decided import AlreadyDecided
from bot.i18n import Language, t
from bot.services.moderation.cases import UnknownCase
from bot.views.moderation.words import already_decided

# The refusals a case's listener explains; anything else is a bug for the error handler.
CASE_REFUSED = (AlreadyDecided, UnknownCase)


def refusal(exc: AlreadyDecided | UnknownCase, language: Language) -> str:
    if isinstance(exc, AlreadyDecided):
        return already_decided(exc.status, language)
    return t("moderation.unknown_case", language)
