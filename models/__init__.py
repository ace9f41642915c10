"""SQLAlchemy 2 mapped classes. Importing this package registers every table."""

from models.audit import AuditEntry
from models.base import Base
from models.channel import Channel, ChannelCategory, ChannelFacilitator, ChannelStatus
from models.event import ProcessedEvent, SchedulerLease
from models.member import Member, MemberRole, MemberStatus, Role
from models.organisation import Organisation, OrganisationKind, OrganisationSource

__all__ = [
    "AuditEntry",
    "Base",
    "Channel",
    "ChannelCategory",
    "ChannelFacilitator",
    "ChannelStatus",
    "Member",
    "MemberRole",
    "MemberStatus",
    "Organisation",
    "OrganisationKind",
    "OrganisationSource",
    "ProcessedEvent",
    "Role",
    "SchedulerLease",
]
