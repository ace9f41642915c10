"""What onboarding's use cases return and its views show: the rules, the welcome, a joiner
the secretariat is told about, a member's record. Plain data, no Slack, no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.i18n import Language
from models import ApplicationStatus

# A Block Kit section holds 3,000 characters: the rules are shown a section per piece.
SECTION_LIMIT = 3000


# --- the usage rules -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Rules:
    version: str
    text_ja: str
    text_en: str
    published_at: datetime | None  # None for the built-in version

    def text(self, language: Language) -> str:
        return self.text_ja if language == "ja" else self.text_en


@dataclass(frozen=True)
class AcceptedState:
    """The version a member accepted, and when."""

    version: str
    at: datetime


def sections(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Split the text at line breaks into pieces that each fit one section block."""
    pieces: list[str] = []
    current_piece = ""
    for line in text.strip().splitlines():
        while len(line) > limit:  # a single overlong line is cut where it must be
            if current_piece:
                pieces.append(current_piece)
                current_piece = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current_piece}\n{line}" if current_piece else line
        if len(candidate) > limit:
            pieces.append(current_piece)
            current_piece = line
        else:
            current_piece = candidate
    if current_piece.strip():
        pieces.append(current_piece)
    return pieces


# --- the welcome DM and its channel suggestions ---------------------------------------------------


@dataclass(frozen=True)
class ChannelRef:
    slack_channel_id: str
    name: str
    prefecture: str | None = None


@dataclass(frozen=True)
class Suggestions:
    main: tuple[ChannelRef, ...]
    regional: tuple[ChannelRef, ...]
    themes: tuple[ChannelRef, ...]


@dataclass(frozen=True)
class Welcome:
    slack_user_id: str
    name: str | None
    rules: Rules
    suggestions: Suggestions
    # The prefecture's ambassadors (its region's when it has none), named from the start.
    prefecture: str | None = None
    ambassadors: tuple[str, ...] = ()


@dataclass(frozen=True)
class UnmatchedJoin:
    """A newcomer Kyoso has no approved application for: the secretariat is told."""

    slack_user_id: str
    name: str | None
    email: str | None
    application_status: ApplicationStatus | None  # of the latest application, if any


# --- self-introduction ---------------------------------------------------------------------------


@dataclass(frozen=True)
class IntroDraft:
    name: str
    organisation: str
    department: str


@dataclass(frozen=True)
class Introduction:
    slack_user_id: str
    name: str
    organisation: str
    department: str
    interests: str


# --- nudges and the secretariat's list -----------------------------------------------------------


@dataclass(frozen=True)
class ProfileProblems:
    no_photo: bool
    organisation_like_name: str | None  # the display name, when it reads as an organisation

    def __bool__(self) -> bool:
        return self.no_photo or self.organisation_like_name is not None


@dataclass(frozen=True)
class StuckMember:
    slack_user_id: str
    name: str | None
    email: str | None
    organisation: str | None
    joined_at: datetime
    business_days: int


# --- what Kyoso holds about a member -------------------------------------------------------------


class RulesState(StrEnum):
    CURRENT = "current"
    OUTDATED = "outdated"
    NONE = "none"


@dataclass(frozen=True)
class MemberRecord:
    slack_user_id: str
    real_name: str | None
    display_name: str | None
    email: str | None
    organisation: str | None
    department: str | None
    status: str
    roles: tuple[str, ...]
    locale: str | None  # the member's own choice; None follows Slack
    rules_version: str | None
    rules_accepted_at: datetime | None
    rules_state: RulesState
    current_rules_version: str
    joined_at: datetime | None
    introduced_at: datetime | None
