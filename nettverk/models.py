"""Imports every table module, so SQLModel.metadata knows the whole schema (Alembic, tests)."""

from nettverk.accounts.models import AccountToken, LoginAttempt, RoleAssignment, User
from nettverk.activity import ActivityLog
from nettverk.calendars.models import CalendarToken
from nettverk.competence.models import CompetenceArea, CompetenceProfile, CompetenceRecord
from nettverk.evaluations.models import Evaluation, EvaluationInvitation
from nettverk.events.models import Event, ProgrammeItem, Registration
from nettverk.mail.models import OutboxMessage
from nettverk.materials.models import Material, MaterialArea, MaterialEvent, MaterialVersion
from nettverk.networks.models import Network, NetworkBase, NetworkMember
from nettverk.referrals.models import (
    Intervention,
    InterventionMunicipality,
    Referral,
    ReferralAudit,
    ReferralMessage,
    ReferralTransition,
)
from nettverk.registry.models import (
    BaseMembership,
    CompetenceBase,
    Contact,
    County,
    Municipality,
    MunicipalityChange,
    PlannedMerger,
    PlannedMergerPart,
    Service,
    ServiceArea,
    Unit,
)
from nettverk.scheduler.models import JobRun, Notification, NotificationSetting, SchedulerLease

__all__ = [
    "AccountToken",
    "ActivityLog",
    "BaseMembership",
    "CalendarToken",
    "CompetenceBase",
    "Contact",
    "County",
    "Event",
    "Intervention",
    "InterventionMunicipality",
    "LoginAttempt",
    "Municipality",
    "MunicipalityChange",
    "Network",
    "NetworkBase",
    "NetworkMember",
    "OutboxMessage",
    "ProgrammeItem",
    "Referral",
    "ReferralAudit",
    "ReferralMessage",
    "ReferralTransition",
    "Registration",
    "RoleAssignment",
    "Service",
    "ServiceArea",
    "Unit",
    "User",
    "JobRun",
    "Notification",
    "NotificationSetting",
    "SchedulerLease",
    "CompetenceArea",
    "CompetenceProfile",
    "CompetenceRecord",
    "Material",
    "MaterialArea",
    "MaterialEvent",
    "MaterialVersion",
    "Evaluation",
    "EvaluationInvitation",
    "PlannedMerger",
    "PlannedMergerPart",
]
