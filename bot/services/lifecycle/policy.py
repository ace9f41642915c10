"""The lifecycle's terms: how long each step waits, which attempt is which, when contacts may
go out, and the keys that make every contact idempotent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

from bot.business_days import is_business_day
from bot.domain.lifecycle import ContactTerms, ListTerms
from bot.settings import CoreSettings
from models import Role


@dataclass(frozen=True)
class Policy:
    """How long each step waits (KYOSO_INACTIVE_DAYS, _EMAIL_AFTER_DAYS, _GRACE_DAYS, …)."""

    inactive_days: int = 180
    email_after_days: int = 14
    grace_days: int = 30
    retention_days: int = 365

    @classmethod
    def from_settings(cls, settings: CoreSettings) -> Policy:
        return cls(
            inactive_days=settings.inactive_days,
            email_after_days=settings.email_after_days,
            grace_days=settings.grace_days,
            retention_days=settings.retention_days,
        )

    @property
    def contact_terms(self) -> ContactTerms:
        return ContactTerms(
            inactive_days=self.inactive_days,
            email_after_days=self.email_after_days,
            grace_days=self.grace_days,
        )

    @property
    def list_terms(self) -> ListTerms:
        return ListTerms(inactive_days=self.inactive_days, grace_days=self.grace_days)


# Attempt numbers: 1 is the DM, 2 the email (the last), 0 the thank-you DM sent when
# activity ended a round in which the member had been contacted.
THANKS = 0
DM_ATTEMPT = 1
EMAIL_ATTEMPT = 2
LAST_ATTEMPT = EMAIL_ATTEMPT
DM = "dm"
EMAIL = "email"
OUTBOX_PREFIX = "lifecycle:"
# A claimed DM whose result was never recorded is checked against Slack after this long.
CLAIM_LEASE = timedelta(minutes=10)
# Activity that ended a round this recently still earns the member a thank-you DM.
THANKS_WINDOW = timedelta(days=7)
# Roles whose members are never contacted for inactivity.
EXEMPT_ROLES = (Role.SECRETARIAT, Role.FACILITATOR)
SLACKBOT = "USLACKBOT"
MAX_ERROR_CHARS = 500
# Contacts go out on 開庁日 (no weekends, holidays or 12/29–1/3), 9:00 to 17:00 local time.
CONTACT_HOURS = (clock_time(9, 0), clock_time(17, 0))


def in_contact_hours(at: datetime, zone: ZoneInfo) -> bool:
    local = at.astimezone(zone)
    start, end = CONTACT_HOURS
    return is_business_day(local.date()) and start <= local.time() < end


def cycle_id_of(key: str) -> int:
    """The cycle an attempt key (or a keep button's value) belongs to; ValueError if malformed."""
    head, sep, _ = key.partition(":")
    if not sep or not head.isdigit():
        raise ValueError(f"not an attempt key: {key!r}")
    return int(head)


def outbox_key(key: str) -> str:
    return OUTBOX_PREFIX + key
