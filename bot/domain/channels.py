"""Channels' plain data: what a request form holds, what the registry keeps of a Slack
channel, what a review message, a listing or a dormancy question shows, and the errors the
use cases raise. No database and no Slack here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from bot.channel_names import Likeness
from models import ChannelCategory

PURPOSE_MAX = 250  # Slack's limit for a channel's purpose and topic
REASON_MAX = 2000
MAX_FACILITATORS = 10
KIND_ORDER = (ChannelCategory.ALL, ChannelCategory.PJ, ChannelCategory.RE, ChannelCategory.OTHER)
LIST_PAGE_SIZE = 60  # channels per page of `/kyoso channels`


class UnknownRequest(LookupError):
    pass


class UnknownChannel(LookupError):
    pass


class NotYours(Exception):
    """A member acting on someone else's request or a channel they do not facilitate."""


# --- requests ------------------------------------------------------------------------------------


class FormField(StrEnum):
    KIND = "kind"
    NAME = "name"
    PURPOSE = "purpose"
    ORGANISATION = "organisation"
    FACILITATORS = "facilitators"
    PREFECTURE = "prefecture"
    REASON = "reason"
    END_DATE = "end_date"


@dataclass(frozen=True)
class RequestForm:
    """What the member typed in the request modal (unchecked)."""

    category: ChannelCategory | None
    suffix: str
    purpose: str
    reason: str
    prefecture: str | None = None
    organisation_id: int | None = None
    facilitator_ids: tuple[str, ...] = ()
    end_date: date | None = None
    # "I have seen the similar channels; this one is different."
    confirmed_distinct: bool = False


@dataclass(frozen=True)
class Similar:
    """An existing channel (or an open request) resembling the requested name."""

    name: str
    likeness: Likeness
    slack_channel_id: str | None = None  # None: another member's open request
    archived: bool = False


@dataclass(frozen=True)
class FormProblem:
    target: FormField
    code: str  # the catalogue key after "channels.form.error."
    params: Mapping[str, str] = field(default_factory=dict)
    similar: tuple[Similar, ...] = ()


class RequestInvalid(Exception):
    def __init__(self, problems: Sequence[FormProblem]) -> None:
        super().__init__(", ".join(f"{p.target}:{p.code}" for p in problems))
        self.problems = tuple(problems)

    @property
    def similar(self) -> tuple[Similar, ...]:
        """The resemblances behind the first name problem that has any."""
        return next((p.similar for p in self.problems if p.similar), ())


@dataclass(frozen=True)
class RequestDraft:
    """Values to prefill the modal with (a returned request being edited)."""

    category: ChannelCategory | None = None
    suffix: str = ""
    purpose: str = ""
    reason: str = ""
    prefecture: str | None = None
    organisation_id: int | None = None
    facilitator_ids: tuple[str, ...] = ()
    end_date: date | None = None


@dataclass(frozen=True)
class Submitted:
    public_id: str
    name: str
    resubmitted: bool


class Step(StrEnum):
    """Provisioning steps, each recorded once Slack confirmed it."""

    CREATE = "create"
    PURPOSE = "purpose"
    INVITE = "invite"
    WELCOME = "welcome"
    ANNOUNCE = "announce"


@dataclass(frozen=True)
class RequestItem:
    """A request as the secretariat's review message shows it."""

    public_id: str
    requester: str
    name: str
    category: ChannelCategory
    purpose: str
    reason: str | None
    prefecture: str | None
    organisation: str | None
    facilitators: tuple[str, ...]
    end_date: date | None
    created_at: datetime
    status: str
    slack_channel_id: str | None = None
    done: frozenset[Step] = frozenset()
    failure: tuple[str, str] | None = None  # (step, Slack error)
    announce: bool = True  # an announcements channel is configured
    similar: tuple[Similar, ...] = ()


@dataclass(frozen=True)
class HistoryLine:
    kind: str  # resubmitted | approved | returned | rejected | provisioned
    actor: str
    at: datetime
    reason: str | None = None


# Slack errors in provisioning that a person must clear first (a name, a scope, the app's
# place in a channel); the review message explains each and offers a retry.
CLEARED_BY_A_PERSON = frozenset(
    {
        "name_taken",
        "restricted_action",
        "missing_scope",
        "not_in_channel",
        "is_archived",
        "channel_not_found",
        "invalid_name_specials",
        "invalid_name_maxlength",
        "invalid_name_punctuation",
        "invalid_name_required",
        "too_long",
    }
)


@dataclass(frozen=True)
class ProvisionResult:
    status: str  # provisioned | failed | busy | not_approved
    step: Step | None = None
    error: str | None = None
    newly: bool = False  # this run completed it (the requester is told once)


# --- the registry --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlackChannel:
    """The parts of a Slack conversation object the registry keeps."""

    id: str
    name: str
    created: datetime | None = None
    is_archived: bool = False
    is_general: bool = False
    is_private: bool = False
    purpose: str | None = None  # None: not in the payload (leave the stored one)
    creator: str | None = None

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> SlackChannel:
        created = data.get("created")
        purpose = data.get("purpose")
        return cls(
            id=str(data["id"]),
            name=str(data.get("name") or data.get("name_normalized") or ""),
            created=datetime.fromtimestamp(int(created), UTC) if created else None,
            is_archived=bool(data.get("is_archived")),
            is_general=bool(data.get("is_general")),
            is_private=bool(data.get("is_private")),
            purpose=str(purpose.get("value") or "") if isinstance(purpose, dict) else None,
            creator=str(data["creator"]) if data.get("creator") else None,
        )


class Change(StrEnum):
    NEW = "new"
    RENAMED = "renamed"
    ARCHIVED = "archived"
    UNARCHIVED = "unarchived"
    PURPOSE = "purpose"


# --- listing and editing -------------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    slack_channel_id: str
    name: str
    category: ChannelCategory
    purpose: str | None
    prefecture: str | None


@dataclass(frozen=True)
class ListingPage:
    word: str
    offset: int
    total: int
    channels: Sequence[Listed]  # this page only
    counts: Mapping[ChannelCategory, int] = field(default_factory=dict)  # over all matches
    managed: Sequence[Listed] = ()  # channels the viewer facilitates (edit buttons)


@dataclass(frozen=True)
class EditTarget:
    """A channel as its edit modal shows it."""

    slack_channel_id: str
    name: str
    purpose: str | None
    facilitators: tuple[str, ...]
    end_date: date | None


@dataclass(frozen=True)
class ChannelUpdate:
    channel_id: str
    purpose_changed: bool
    added: tuple[str, ...]
    removed: tuple[str, ...]
    purpose: str = ""  # as stored (trimmed, within Slack's limit)


# --- dormant and finished channels ---------------------------------------------------------------


@dataclass(frozen=True)
class DormantItem:
    review_id: int
    slack_channel_id: str
    name: str
    reason: str  # quiet | ended | unknown
    last_activity_at: datetime | None
    end_date: date | None
    dormant_days: int
    gone_facilitators: tuple[str, ...] = ()
    outcome: str = "asked"
    decided_by: str | None = None
    decided_at: datetime | None = None


@dataclass(frozen=True)
class ArchiveResult:
    status: str  # archived | refused | failed | decided
    error: str | None = None
    outcome: str | None = None  # when decided by someone else
    slack_channel_id: str | None = None
