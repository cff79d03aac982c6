"""Imports every table module, so SQLModel.metadata knows the whole schema (Alembic, tests)."""

from nettverk.accounts.models import AccountToken, LoginAttempt, RoleAssignment, User
from nettverk.activity import ActivityLog
from nettverk.mail.models import OutboxMessage
from nettverk.registry.models import (
    BaseMembership,
    CompetenceBase,
    Contact,
    County,
    Municipality,
    MunicipalityChange,
    Service,
    ServiceArea,
    Unit,
)

__all__ = ["AccountToken", "ActivityLog", "BaseMembership", "CompetenceBase", "Contact", "County", "LoginAttempt",
           "Municipality", "MunicipalityChange", "OutboxMessage", "RoleAssignment", "Service", "ServiceArea", "Unit",
           "User"]
