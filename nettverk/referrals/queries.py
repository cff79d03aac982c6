"""Read side of the catalog and of referrals. Lists are a fixed number of queries; what a caller
may see is decided by policy before these are called, and they are given only the service ids the
reader stands in."""

import math
from dataclasses import dataclass

from sqlalchemy import and_, case, func, or_
from sqlmodel import Session, select

from nettverk.accounts.models import User
from nettverk.referrals.models import (
    METHODS,
    Intervention,
    InterventionMunicipality,
    InterventionStatus,
    Referral,
    ReferralAudit,
    ReferralMessage,
    ReferralStatus,
    ReferralTransition,
)
from nettverk.registry.models import BaseMembership, CompetenceBase, Municipality, Service, ServiceArea
from nettverk.text import norwegian_key


@dataclass
class CatalogRow:
    intervention: Intervention
    base: CompetenceBase
    provider: Service
    load: int  # families in progress now
    waiting: int  # accepted, waiting to start

    @property
    def free(self) -> int:
        return max(self.intervention.capacity - self.load, 0)

    @property
    def waiting_weeks(self) -> int:
        """Estimated weeks until a new family can start: 0 with a free place; otherwise each family
        ahead waits for one of `capacity` places, each freed after about `typical_weeks`."""
        ahead = self.waiting - self.free
        if ahead < 0:
            return 0
        i = self.intervention
        return math.ceil((ahead + 1) * i.typical_weeks / max(i.capacity, 1))


def load_counts(session: Session, intervention_ids: list[int]) -> dict[int, tuple[int, int]]:
    """{intervention id: (in progress, waiting)} in one grouped query."""
    if not intervention_ids:
        return {}
    rows = session.exec(
        select(
            Referral.intervention_id,
            func.sum(case((Referral.status == ReferralStatus.IN_PROGRESS, 1), else_=0)),
            func.sum(case((Referral.status == ReferralStatus.ACCEPTED, 1), else_=0)),
        )
        .where(
            Referral.intervention_id.in_(intervention_ids),
            Referral.status.in_((ReferralStatus.IN_PROGRESS, ReferralStatus.ACCEPTED)),
        )
        .group_by(Referral.intervention_id)
    )
    return {iid: (int(load or 0), int(waiting or 0)) for iid, load, waiting in rows}


def catalog_row(session: Session, intervention: Intervention) -> CatalogRow:
    """One tiltak as the catalog shows it."""
    load, waiting = load_counts(session, [intervention.id]).get(intervention.id, (0, 0))
    base = session.get(CompetenceBase, intervention.base_id)
    return CatalogRow(intervention, base, session.get(Service, intervention.provider_service_id), load, waiting)


def catalog(
    session: Session, base_ids: set[int] | None = None, search: str = "", method: str = "", include_ended: bool = False
) -> list[CatalogRow]:
    """The tiltak of these bases (all with None), searchable by name, description and method; two queries."""
    query = (
        select(Intervention, CompetenceBase, Service)
        .join(CompetenceBase, CompetenceBase.id == Intervention.base_id)
        .join(Service, Service.id == Intervention.provider_service_id)
    )
    if base_ids is not None:
        query = query.where(Intervention.base_id.in_(base_ids))
    if not include_ended:
        query = query.where(Intervention.status != InterventionStatus.ENDED)
    if method:
        query = query.where(Intervention.method == method)
    if search := search.strip():
        pattern = f"%{search.lower()}%"
        # The method is stored as a key ("cos"); a search for its name ("Circle of Security") finds it too.
        methods = [key for key, label in METHODS.items() if search.lower() in label.lower()]
        query = query.where(
            or_(
                func.lower(Intervention.name).like(pattern),
                func.lower(Intervention.description).like(pattern),
                func.lower(Service.name).like(pattern),
                Intervention.method.in_(methods or [""]),
            )
        )
    rows = list(session.exec(query))
    counts = load_counts(session, [i.id for i, _, _ in rows])
    result = [CatalogRow(i, b, s, *counts.get(i.id, (0, 0))) for i, b, s in rows]
    return sorted(result, key=lambda r: (norwegian_key(r.base.name), norwegian_key(r.intervention.name)))


def bases_of_user_services(session: Session, service_ids: set[int], municipality_ids: set[int]) -> set[int]:
    """The bases a person belongs to through the municipalities their services serve (or they work for)."""
    served = select(ServiceArea.municipality_id).where(ServiceArea.service_id.in_(service_ids or {0}))
    return set(
        session.exec(
            select(BaseMembership.base_id).where(
                or_(
                    BaseMembership.municipality_id.in_(served),
                    BaseMembership.municipality_id.in_(municipality_ids or {0}),
                )
            )
        )
    )


def served_municipality_ids(session: Session, service_ids: set[int]) -> set[int]:
    """The municipalities these services serve."""
    if not service_ids:
        return set()
    return set(session.exec(select(ServiceArea.municipality_id).where(ServiceArea.service_id.in_(service_ids))))


def sendable_interventions(session: Session, service_ids: set[int]) -> list[Intervention]:
    """Active tiltak that may be requested for a family in a municipality one of these services serves."""
    if not service_ids:
        return []
    served = select(ServiceArea.municipality_id).where(ServiceArea.service_id.in_(service_ids))
    allowed = select(InterventionMunicipality.intervention_id).where(
        InterventionMunicipality.municipality_id.in_(served)
    )
    rows = session.exec(
        select(Intervention).where(Intervention.status == InterventionStatus.ACTIVE, Intervention.id.in_(allowed))
    )
    return sorted(rows, key=lambda i: norwegian_key(i.name))


def allowed_municipalities(session: Session, intervention_id: int) -> list[Municipality]:
    return sorted(
        session.exec(
            select(Municipality)
            .join(InterventionMunicipality, InterventionMunicipality.municipality_id == Municipality.id)
            .where(InterventionMunicipality.intervention_id == intervention_id)
        ),
        key=lambda m: norwegian_key(m.name),
    )


def family_municipality_choices(session: Session, service_id: int, intervention_id: int) -> list[Municipality]:
    """Municipalities the sending service serves and the tiltak may be requested for."""
    return sorted(
        session.exec(
            select(Municipality)
            .join(ServiceArea, ServiceArea.municipality_id == Municipality.id)
            .join(InterventionMunicipality, InterventionMunicipality.municipality_id == Municipality.id)
            .where(ServiceArea.service_id == service_id, InterventionMunicipality.intervention_id == intervention_id)
        ),
        key=lambda m: norwegian_key(m.name),
    )


@dataclass
class ReferralRow:
    referral: Referral
    intervention: Intervention
    sender: Service
    municipality: Municipality


PER_PAGE = 50  # a service sends hundreds of referrals a year: the list is read a page at a time


def _visible_referrals(sending_ids: set[int], provider_ids: set[int], status: str):
    """The condition: sent from the reader's services, or (not drafts) to tiltak their teams deliver."""
    condition = or_(
        Referral.sending_service_id.in_(sending_ids or {0}),
        Referral.intervention_id.in_(
            select(Intervention.id).where(Intervention.provider_service_id.in_(provider_ids or {0}))
        )
        & (Referral.status != ReferralStatus.DRAFT),
    )
    return condition & (Referral.status == status) if status else condition


def referrals_for(
    session: Session,
    sending_ids: set[int],
    provider_ids: set[int],
    status: str = "",
    page: int = 1,
    per_page: int | None = PER_PAGE,
) -> list[ReferralRow]:
    """Referrals sent from the reader's services, and (not drafts) those to tiltak their teams deliver,
    newest change first: one page of them (all with per_page=None)."""
    if not sending_ids and not provider_ids:
        return []
    query = (
        select(Referral, Intervention, Service, Municipality)
        .join(Intervention, Intervention.id == Referral.intervention_id)
        .join(Service, Service.id == Referral.sending_service_id)
        .join(Municipality, Municipality.id == Referral.family_municipality_id)
        .where(_visible_referrals(sending_ids, provider_ids, status))
        .order_by(Referral.updated_at.desc(), Referral.id.desc())
    )
    if per_page is not None:
        query = query.limit(per_page).offset((max(page, 1) - 1) * per_page)
    return [ReferralRow(*row) for row in session.exec(query)]


def count_referrals_for(session: Session, sending_ids: set[int], provider_ids: set[int], status: str = "") -> int:
    """How many referrals referrals_for would list over all its pages (one query)."""
    if not sending_ids and not provider_ids:
        return 0
    return session.exec(
        select(func.count()).select_from(Referral).where(_visible_referrals(sending_ids, provider_ids, status))
    ).one()


@dataclass
class ReferralPage:
    referral: Referral
    intervention: Intervention
    sender: Service
    provider: Service
    municipality: Municipality
    transitions: list[tuple[ReferralTransition, User | None]]
    messages: list[tuple[ReferralMessage, User | None, Service | None]]


def referral_page(session: Session, referral: Referral) -> ReferralPage:
    intervention = session.get(Intervention, referral.intervention_id)
    transitions = list(
        session.exec(
            select(ReferralTransition, User)
            .join(User, User.id == ReferralTransition.actor_id, isouter=True)
            .where(ReferralTransition.referral_id == referral.id)
            .order_by(ReferralTransition.at, ReferralTransition.id)
        )
    )
    messages = list(
        session.exec(
            select(ReferralMessage, User, Service)
            .join(User, User.id == ReferralMessage.author_id, isouter=True)
            .join(Service, Service.id == ReferralMessage.author_service_id, isouter=True)
            .where(ReferralMessage.referral_id == referral.id)
            .order_by(ReferralMessage.at, ReferralMessage.id)
        )
    )
    return ReferralPage(
        referral,
        intervention,
        session.get(Service, referral.sending_service_id),
        session.get(Service, intervention.provider_service_id),
        session.get(Municipality, referral.family_municipality_id),
        transitions,
        messages,
    )


def transitions(session: Session, referral_id: int) -> list[ReferralTransition]:
    """A referral's history of statuses, oldest first."""
    query = select(ReferralTransition).where(ReferralTransition.referral_id == referral_id)
    return list(session.exec(query.order_by(ReferralTransition.at, ReferralTransition.id)))


def audit_log(
    session: Session, service_id: int, limit: int = 500
) -> list[tuple[ReferralAudit, Referral, User | None, Service | None]]:
    """The audit rows of every referral sent from, or to a tiltak delivered by, this service, newest first.
    A draft belongs to its sender until it is sent: the providing side sees a referral's rows only from its
    "sent" row on (the rows before it, such as "created" in the same moment, are the sender's)."""
    provided = select(Intervention.id).where(Intervention.provider_service_id == service_id)
    since_sent = and_(
        Referral.sent_at.is_not(None),
        or_(ReferralAudit.action == ReferralStatus.SENT, ReferralAudit.at > Referral.sent_at),
    )
    return list(
        session.exec(
            select(ReferralAudit, Referral, User, Service)
            .join(Referral, Referral.id == ReferralAudit.referral_id)
            .join(User, User.id == ReferralAudit.actor_id, isouter=True)
            .join(Service, Service.id == ReferralAudit.actor_service_id, isouter=True)
            .where(
                or_(Referral.sending_service_id == service_id, and_(Referral.intervention_id.in_(provided), since_sent))
            )
            .order_by(ReferralAudit.at.desc(), ReferralAudit.id.desc())
            .limit(limit)
        )
    )
