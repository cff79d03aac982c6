"""Who may do what: the one place permissions are decided.

Deny by default. Every view declares its rule with @requires(rule, load=...): the decorator loads
the object named in the URL (missing -> 404), then checks the rule (anonymous -> login, refused ->
403). A test walks the route map and fails for any view without a declared rule.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from inspect import signature

from flask import abort, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import false, or_, true
from sqlmodel import select

from nettverk.accounts.models import RoleAssignment
from nettverk.competence.models import CompetenceProfile
from nettverk.db import get_session
from nettverk.events.models import Event, EventStatus
from nettverk.materials.models import MaterialAudience
from nettverk.networks.models import NetworkBase, NetworkMember
from nettverk.referrals.models import Intervention, ReferralStatus
from nettverk.registry.models import BaseMembership, CompetenceBase, Municipality, Service, ServiceArea

ROLES = {
    "admin": "Administrator",
    "coordinator": "Koordinator",
    "municipality_contact": "Kontaktperson i kommunen",
    "service_staff": "Ansatt i tjeneste",
    "service_leader": "Leder for tjeneste",
    "provider": "Tiltaksteam",
    "participant": "Deltaker",
}
# What each role is scoped to; None means platform-wide.
ROLE_SCOPES = {
    "admin": None,
    "coordinator": "base",
    "municipality_contact": "municipality",
    "service_staff": "service",
    "service_leader": "service",
    "provider": "service",
    "participant": None,
}


def roles_of(user) -> list[RoleAssignment]:
    """The user's role rows, read once per request."""
    if not getattr(user, "is_authenticated", False):
        return []
    cache = g.setdefault("roles_by_user", {})
    if user.id not in cache:
        cache[user.id] = list(get_session().exec(select(RoleAssignment).where(RoleAssignment.user_id == user.id)))
    return cache[user.id]


def has_role(user, role: str) -> bool:
    return any(r.role == role for r in roles_of(user))


def is_admin(user) -> bool:
    return has_role(user, "admin")


def scope_ids(user, role: str) -> set[int]:
    """The ids of the bases, municipalities or services in which the user holds this role."""
    field = f"{ROLE_SCOPES[role]}_id"
    return {getattr(r, field) for r in roles_of(user) if r.role == role}


def coordinated_base_ids(user) -> set[int] | None:
    """The bases the user plans for: None for the admin (every base), else those they coordinate."""
    return None if is_admin(user) else scope_ids(user, "coordinator")


def _coordinates(user, base: CompetenceBase) -> bool:
    return is_admin(user) or base.id in scope_ids(user, "coordinator")


def _keeps_contacts(user, municipality: Municipality) -> bool:
    return is_admin(user) or municipality.id in scope_ids(user, "municipality_contact")


def _leads(user, service: Service) -> bool:
    return is_admin(user) or service.id in scope_ids(user, "service_leader")


def network_base_ids(network_id: int | None) -> set[int]:
    """The bases a network belongs to."""
    if network_id is None:
        return set()
    return set(get_session().exec(select(NetworkBase.base_id).where(NetworkBase.network_id == network_id)))


def event_base_ids(event) -> set[int]:
    """The bases whose coordinators plan this event: its own base, and the bases of its network."""
    return ({event.base_id} if event.base_id else set()) | network_base_ids(event.network_id)


def events_of_bases(base_ids: set[int] | None):
    """event_base_ids as a SQL condition: the events of these bases, their own and their networks' meetings
    (None: every event)."""
    if base_ids is None:
        return true()
    if not base_ids:
        return false()
    return or_(
        Event.base_id.in_(base_ids),
        Event.network_id.in_(select(NetworkBase.network_id).where(NetworkBase.base_id.in_(base_ids))),
    )


def _manages_event(user, event) -> bool:
    return is_admin(user) or bool(event_base_ids(event) & scope_ids(user, "coordinator"))


# Who sees which events: the one rule, for one event and as a SQL condition, side by side so they cannot drift.
# A draft is seen only by those who plan it (the admin and the coordinators of its bases); a published, cancelled
# or held event by everyone, whatever its audience (the audience limits who may register, not who may look).
# Public feeds show what everyone sees; a personal feed adds its owner's coordinated drafts (personal_drafts).
EVERYONE_SEES = Event.status != EventStatus.DRAFT


def can_see_event(user, event) -> bool:
    return event.status != EventStatus.DRAFT or (user.is_authenticated and _manages_event(user, event))


def visible_events(user):
    """SQL condition on Event: the events `user` may see, as can_see_event decides for one."""
    return or_(EVERYONE_SEES, events_of_bases(coordinated_base_ids(user)))


def personal_drafts(coordinated_base_ids: set[int]):
    """SQL condition on Event: the drafts a personal feed shows (as TENTATIVE), those of the bases its owner
    coordinates; the admin's feed holds no drafts beyond their own bases."""
    return (Event.status == EventStatus.DRAFT) & events_of_bases(coordinated_base_ids)


def _manages_network(user, network) -> bool:
    return is_admin(user) or bool(network_base_ids(network.id) & scope_ids(user, "coordinator"))


def _owns_registration(user, registration) -> bool:
    return registration.user_id == user.id or registration.email == user.email


# Referrals: who stands on which side of a referral. Admins and coordinators stand on neither: they
# never see referral content (coordinators see only the statistics of their bases).
SENDER, PROVIDER = "sender", "provider"


def sending_service_ids(user) -> set[int]:
    """The services from which the user may send and follow referrals."""
    return scope_ids(user, "service_staff") | scope_ids(user, "service_leader")


def referral_sides(user, referral) -> set[str]:
    """SENDER if the user works in the sending service; PROVIDER if they are on the team that delivers
    the tiltak (drafts are the sender's alone)."""
    if not getattr(user, "is_authenticated", False):
        return set()
    sides = set()
    if referral.sending_service_id in sending_service_ids(user):
        sides.add(SENDER)
    if referral.status != ReferralStatus.DRAFT:
        intervention = get_session().get(Intervention, referral.intervention_id)
        if intervention is not None and intervention.provider_service_id in scope_ids(user, "provider"):
            sides.add(PROVIDER)
    return sides


def _keeps_catalog(user, intervention) -> bool:
    """Coordinators of the tiltak's base, and its providing team, keep its catalog entry."""
    if is_admin(user):
        return True
    if intervention is None:  # a new tiltak: anyone who could keep one somewhere
        return has_role(user, "coordinator") or has_role(user, "provider")
    return intervention.base_id in scope_ids(user, "coordinator") or intervention.provider_service_id in scope_ids(
        user, "provider"
    )


def _sees_statistics(user, base) -> bool:
    return is_admin(user) or base.id in scope_ids(user, "coordinator")


# Materials library: who belongs to a base, and who sees a material.


def member_base_ids(user) -> set[int]:
    """The bases a person belongs to: the ones they coordinate; the ones of the municipality they keep
    contacts for, of the municipalities their services serve, of the municipality their competence profile
    names; and the bases of the networks they are a member of."""
    if not getattr(user, "is_authenticated", False):
        return set()
    cache = g.setdefault("member_bases_by_user", {})
    if user.id not in cache:
        session = get_session()
        municipalities = scope_ids(user, "municipality_contact")
        services = sending_service_ids(user) | scope_ids(user, "provider")
        if services:
            municipalities |= set(
                session.exec(select(ServiceArea.municipality_id).where(ServiceArea.service_id.in_(services)))
            )
            municipalities |= set(session.exec(select(Service.host_municipality_id).where(Service.id.in_(services))))
        profile = session.get(CompetenceProfile, user.id)
        if profile is not None and profile.municipality_id is not None:
            municipalities.add(profile.municipality_id)
        ids = scope_ids(user, "coordinator")
        if municipalities:
            ids |= set(
                session.exec(select(BaseMembership.base_id).where(BaseMembership.municipality_id.in_(municipalities)))
            )
        ids |= set(
            session.exec(
                select(NetworkBase.base_id)
                .join(NetworkMember, NetworkMember.network_id == NetworkBase.network_id)
                .where(NetworkMember.user_id == user.id)
            )
        )
        cache[user.id] = ids
    return cache[user.id]


@dataclass(frozen=True)
class MaterialAccess:
    """What a person may see in the materials library (materials.queries turns it into SQL)."""

    everything: bool  # the admin
    user_id: int | None  # owners see their own materials
    kept: frozenset[int]  # bases whose coordinator the person is: every material of them
    member_of: frozenset[int]  # bases whose «members of the base» materials the person sees
    networks: frozenset[int]  # networks whose «members of the network» materials the person sees


def material_access(user) -> MaterialAccess:
    if not getattr(user, "is_authenticated", False):
        return MaterialAccess(False, None, frozenset(), frozenset(), frozenset())
    if is_admin(user):
        return MaterialAccess(True, user.id, frozenset(), frozenset(), frozenset())
    session = get_session()
    kept = scope_ids(user, "coordinator")
    networks = set(session.exec(select(NetworkMember.network_id).where(NetworkMember.user_id == user.id)))
    if kept:  # a network's coordinators are those of its bases
        networks |= set(session.exec(select(NetworkBase.network_id).where(NetworkBase.base_id.in_(kept))))
    return MaterialAccess(False, user.id, frozenset(kept), frozenset(member_base_ids(user)), frozenset(networks))


def sees_material(user, material) -> bool:
    """Audience: «everyone» is everyone logged in; «base» the members of the material's base; «network» the
    members of its network. The base's coordinators, the admin and the owner always see it."""
    access = material_access(user)
    return (
        access.everything
        or material.base_id in access.kept
        or (access.user_id is not None and material.owner_id == access.user_id)
        or material.audience == MaterialAudience.EVERYONE
        or (material.audience == MaterialAudience.BASE and material.base_id in access.member_of)
        or (material.audience == MaterialAudience.NETWORK and material.network_id in access.networks)
    )


def _keeps_material(user, material) -> bool:
    return is_admin(user) or material.base_id in scope_ids(user, "coordinator")


RULES: dict[str, Callable] = {
    "public": lambda user, target: True,
    "authenticated": lambda user, target: user.is_authenticated,
    "admin": lambda user, target: is_admin(user),
    "base.manage": _coordinates,
    "municipality.contacts": _keeps_contacts,
    "service.lead": _leads,
    "coordinator": lambda user, target: is_admin(user) or has_role(user, "coordinator"),
    "event.view": can_see_event,
    "event.manage": _manages_event,
    "network.manage": _manages_network,
    "registration.own": _owns_registration,
    "catalog.view": lambda user, target: user.is_authenticated,
    "catalog.manage": _keeps_catalog,
    "referral.send": lambda user, target: bool(sending_service_ids(user)),
    "referral.list": lambda user, target: bool(sending_service_ids(user) or scope_ids(user, "provider")),
    "referral.view": lambda user, target: bool(referral_sides(user, target)),
    # The leader of a service reads the audit log of its referrals; nobody else, not even the admin.
    "referral.audit": lambda user, service: service.id in scope_ids(user, "service_leader"),
    "referral.statistics": _sees_statistics,
    # The materials library: coordinators of a base upload and keep its materials; the audience sees them.
    "material.upload": _coordinates,
    "material.view": lambda user, material: sees_material(user, material),
    "material.manage": _keeps_material,
    # The evaluation results of a gathering: the coordinators of its bases (policy.event_base_ids).
    "evaluation.results": _manages_event,
    # Competence: coordinators keep the catalogue of areas (shared by every base); a record is its owner's.
    "competence.catalog": lambda user, target: is_admin(user) or has_role(user, "coordinator"),
    "competence.own_record": lambda user, record: record.user_id == user.id,
    "users.invite": lambda user, target: any(
        r.role in ("admin", "coordinator", "service_leader") for r in roles_of(user)
    ),
}


# Rules an anonymous visitor can pass (their checks handle a user who is not logged in).
OPEN_TO_ANONYMOUS = {"public", "event.view"}


def can(user, rule: str, target=None) -> bool:
    check = RULES.get(rule)
    if check is None:  # an unknown rule never grants anything
        return False
    if rule not in OPEN_TO_ANONYMOUS and not user.is_authenticated:
        return False
    return bool(check(user, target))


def grantable_roles(user) -> list[str]:
    """Roles this user may hand out in an invitation (the scope is checked by can_grant)."""
    if is_admin(user):
        return list(ROLES)
    roles = []
    if has_role(user, "coordinator"):
        roles += ["participant", "coordinator", "municipality_contact"]
    if has_role(user, "service_leader"):
        roles += ["participant", "service_staff", "service_leader", "provider"]
    return list(dict.fromkeys(roles))


def can_grant(user, role: str, base_id=None, municipality_id=None, service_id=None) -> bool:
    """May this user give someone `role` in that scope? Coordinators within their bases,
    service leaders within their service, admins anything."""
    if role not in ROLES or role not in grantable_roles(user):
        return False
    if is_admin(user):
        return True
    scope = ROLE_SCOPES[role]
    if scope is None:
        return True
    if scope == "base":
        return base_id in scope_ids(user, "coordinator")
    if scope == "municipality":
        bases = scope_ids(user, "coordinator")
        return (
            bool(bases)
            and get_session()
            .exec(
                select(BaseMembership).where(
                    BaseMembership.municipality_id == municipality_id, BaseMembership.base_id.in_(bases)
                )
            )
            .first()
            is not None
        )
    return service_id in scope_ids(user, "service_leader")


def hidden_from(user, target) -> bool:
    """Is the object itself secret from this user? Then any refusal for it is a 404, the answer for an id that
    does not exist, so its pages cannot be probed to learn that it exists (a draft event, on all its pages)."""
    return isinstance(target, Event) and not can_see_event(user, target)


def requires(rule: str, load: Callable | None = None, hide: bool = False):
    """Declare and enforce a view's rule. With `load` (see nettverk.loaders), the loaded object is passed to
    the view as its first argument, in place of the URL arguments load takes (a view that needs one of them
    as well names it); load aborts with 404 when the object does not exist. With hide=True a refusal is 404
    too, so existence is not revealed; so is every refusal for an object hidden from the user (hidden_from)."""
    if rule not in RULES:
        raise ValueError(f"unknown permission rule {rule!r}")

    wanted = set(signature(load).parameters) if load else set()

    def decorate(view):
        named = set(signature(view).parameters)

        @wraps(view)
        def guarded(**kwargs):
            target = load(**{k: v for k, v in kwargs.items() if k in wanted}) if load else None
            if not can(current_user, rule, target):
                if hide or hidden_from(current_user, target):
                    abort(404)
                if not current_user.is_authenticated:
                    if request.path.startswith("/api/"):
                        abort(401)
                    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
                abort(403)
            if not load:
                return view(**kwargs)
            return view(target, **{k: v for k, v in kwargs.items() if k not in wanted or k in named})

        guarded.permission = rule
        return guarded

    return decorate
