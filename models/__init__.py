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
from models.channel_request import (
    ChannelRequest,
    ChannelRequestStatus,
    ChannelSummary,
    DormancyOutcome,
    DormancyReview,
)
from models.event import InboxEvent, InboxStatus, ProcessedEvent, SchedulerLease, SeenRequest
from models.knowledge import (
    EntryKind,
    EntryStatus,
    KnowledgeChannelSetting,
    KnowledgeEntry,
    KnowledgeGap,
    KnowledgeHelpful,
    KnowledgeSynonymGroup,
    KnowledgeTerm,
    KnowledgeVector,
)
from models.lifecycle import (
    OPEN_CYCLE_STATUSES,
    AttemptStatus,
    ContactAttempt,
    CycleStatus,
    InactivityCycle,
)
from models.member import Member, MemberRole, MemberStatus, Role
from models.moderation import CaseReport, CaseSource, CaseStatus, Detection, ModerationCase
from models.onboarding import EmailStatus, OutboundEmail, RulesVersion
from models.organisation import Organisation, OrganisationKind, OrganisationSource

__all__ = [
    "OPEN_CYCLE_STATUSES",
    "OPEN_STATUSES",
    "Application",
    "ApplicationSource",
    "ApplicationStatus",
    "AttemptStatus",
    "AuditEntry",
    "Base",
    "CaseReport",
    "CaseSource",
    "CaseStatus",
    "Channel",
    "ChannelCategory",
    "ChannelFacilitator",
    "ChannelRequest",
    "ChannelRequestStatus",
    "ChannelStatus",
    "ChannelSummary",
    "ContactAttempt",
    "CycleStatus",
    "Detection",
    "DormancyOutcome",
    "DormancyReview",
    "EmailStatus",
    "EntryKind",
    "EntryStatus",
    "InactivityCycle",
    "InboxEvent",
    "InboxStatus",
    "KnowledgeChannelSetting",
    "KnowledgeEntry",
    "KnowledgeGap",
    "KnowledgeHelpful",
    "KnowledgeSynonymGroup",
    "KnowledgeTerm",
    "KnowledgeVector",
    "Member",
    "MemberRole",
    "MemberStatus",
    "ModerationCase",
    "Organisation",
    "OrganisationKind",
    "OrganisationSource",
    "OutboundEmail",
    "ProcessedEvent",
    "Role",
    "RulesVersion",
    "SchedulerLease",
    "SeenRequest",
]
