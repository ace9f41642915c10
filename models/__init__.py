"""SQLAlchemy 2 mapped classes. Importing this package registers every table."""

from models.application import (
    OPEN_STATUSES,
    Application,
    ApplicationSource,
    ApplicationStatus,
)
from models.audit import AuditEntry
from models.base import Base
from models.channel import Channel, ChannelCategory, ChannelFacilitator, ChannelStatus
from models.event import ProcessedEvent, SchedulerLease
from models.member import Member, MemberRole, MemberStatus, Role
from models.onboarding import EmailStatus, OutboundEmail, RulesVersion
from models.organisation import Organisation, OrganisationKind, OrganisationSource

__all__ = [
    "OPEN_STATUSES",
    "Application",
    "ApplicationSource",
    "ApplicationStatus",
    "AuditEntry",
    "Base",
    "Channel",
    "ChannelCategory",
    "ChannelFacilitator",
    "ChannelStatus",
    "EmailStatus",
    "Member",
    "MemberRole",
    "MemberStatus",
    "Organisation",
    "OrganisationKind",
    "OrganisationSource",
    "OutboundEmail",
    "ProcessedEvent",
    "Role",
    "RulesVersion",
    "SchedulerLease",
]
