"""Reference data and demo data from seeds/*.json.

Both loaders only create rows that are missing, found by their natural keys, and never change a row
that exists: whatever an admin or coordinator edited survives a re-run. They flush (so ids exist and
errors surface) but never commit; the caller commits.

Link rows (base memberships, service areas, roles) are only seeded together with their parent row.
A link missing under an existing parent was most likely removed on purpose, so a re-run leaves it out.
"""

import json
from datetime import date, time
from pathlib import Path

from sqlmodel import Session, select

from nettverk.accounts.models import RoleAssignment, User
from nettverk.accounts.operations import hash_password
from nettverk.competence.catalogue import seed_areas
from nettverk.networks.models import MEMBER_KINDS, NETWORK_KINDS, Network, NetworkBase, NetworkMember
from nettverk.policy import ROLE_SCOPES, ROLES
from nettverk.referrals.models import Intervention, InterventionStatus
from nettverk.referrals.operations import InterventionData, save_intervention
from nettverk.registry.models import (
    SERVICE_KINDS,
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
from nettverk.text import slugify

# seeds/ lives beside the package in the repository (found from a checkout or an editable install).
SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"


def _load(name: str) -> dict:
    path = SEEDS_DIR / name
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: seed data ships with the repository, run from a checkout (pip install -e .)"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def seed_reference(session: Session) -> dict[str, int]:
    """Create missing counties, municipalities, history edges, bases and (demo) memberships.
    Returns how many rows of each kind were created; a second run returns only zeros."""
    data = _load("reference.json")
    created = dict.fromkeys(("counties", "municipalities", "changes", "bases", "memberships"), 0)

    counties = {c.number: c for c in session.exec(select(County))}
    for row in data["counties"]:
        if row["number"] not in counties:
            counties[row["number"]] = County(number=row["number"], name=row["name"])
            session.add(counties[row["number"]])
            created["counties"] += 1
    session.flush()

    municipalities = {m.number: m for m in session.exec(select(Municipality))}
    for row in data["municipalities"]:
        if row["number"] in municipalities:
            continue
        valid_to = row.get("valid_to")
        municipality = Municipality(
            number=row["number"],
            name=row["name"],
            sami_name=row.get("sami_name"),
            county_id=counties[row["county"]].id,
            valid_to=date.fromisoformat(valid_to) if valid_to else None,
        )
        session.add(municipality)
        municipalities[row["number"]] = municipality
        created["municipalities"] += 1
    session.flush()

    edges = set(session.exec(select(MunicipalityChange.predecessor_id, MunicipalityChange.successor_id)))
    for row in data["changes"]:
        edge = (municipalities[row["predecessor"]].id, municipalities[row["successor"]].id)
        if edge in edges:
            continue
        session.add(
            MunicipalityChange(
                predecessor_id=edge[0],
                successor_id=edge[1],
                effective_date=date.fromisoformat(row["effective_date"]),
                partial=row.get("partial", False),
            )
        )
        edges.add(edge)
        created["changes"] += 1

    existing_bases = list(session.exec(select(CompetenceBase)))
    taken = {b.slug for b in existing_bases} | {b.name for b in existing_bases}
    for row in data["bases"]:
        slug = slugify(row["name"])
        # A renamed base keeps its slug; a base an admin made by hand may have the name. Either way
        # it exists, and its members are the coordinators' business.
        if slug in taken or row["name"] in taken:
            continue
        base = CompetenceBase(slug=slug, name=row["name"], description=row["description"])
        session.add(base)
        session.flush()
        taken |= {slug, row["name"]}
        created["bases"] += 1
        # The material gives no exact memberships: these are a plausible guess, marked as demo data.
        for number in dict.fromkeys(row["members"]):
            session.add(BaseMembership(base_id=base.id, municipality_id=municipalities[number].id, is_demo=True))
            created["memberships"] += 1
    session.flush()
    created["competence_areas"] = seed_areas(session)
    return created


def load_demo(session: Session) -> list[tuple[str, str, str]]:
    """Create the demo services, units, contacts and users (reference data first, if missing).
    Returns (role label, e-mail, password) for every demo user, also for users that already
    existed, so `make run` can print the logins. Existing users are not touched."""
    seed_reference(session)
    data = _load("demo.json")
    municipalities = {m.number: m for m in session.exec(select(Municipality))}
    bases = {b.slug: b for b in session.exec(select(CompetenceBase))}
    services = {s.slug: s for s in session.exec(select(Service))}

    for row in data["services"]:
        if row["slug"] in services:
            continue
        if row["kind"] not in SERVICE_KINDS:
            raise ValueError(f"demo service {row['slug']}: unknown kind {row['kind']!r}")
        service = Service(
            slug=row["slug"],
            name=row["name"],
            kind=row["kind"],
            host_municipality_id=municipalities[row["host"]].id,
            email=row.get("email"),
            description=row.get("description", ""),
        )
        session.add(service)
        session.flush()
        services[row["slug"]] = service
        # The host municipality is always served by its own service.
        for number in dict.fromkeys([row["host"], *row["area"]]):
            session.add(ServiceArea(service_id=service.id, municipality_id=municipalities[number].id))

    units = set(session.exec(select(Unit.service_id, Unit.name)))
    for row in data["units"]:
        key = (services[row["service"]].id, row["name"])
        if key not in units:
            session.add(
                Unit(service_id=key[0], name=row["name"], municipality_id=municipalities[row["municipality"]].id)
            )
            units.add(key)

    contacts = set(session.exec(select(Contact.municipality_id, Contact.name)))
    for row in data["contacts"]:
        key = (municipalities[row["municipality"]].id, row["name"])
        if key not in contacts:
            service_id = services[row["service"]].id if row.get("service") else None
            session.add(
                Contact(
                    municipality_id=key[0],
                    service_id=service_id,
                    name=row["name"],
                    role=row.get("role", ""),
                    email=row.get("email", "").lower() or None,
                )
            )
            contacts.add(key)

    password = data["password"]
    users = {u.email: u for u in session.exec(select(User))}
    logins = []
    for row in data["users"]:
        email = row["email"].strip().lower()
        scoped = [(r["role"], _scope(r, bases, municipalities, services)) for r in row["roles"]]
        if email not in users:
            user = User(email=email, name=row["name"], password_hash=hash_password(password))
            session.add(user)
            session.flush()
            users[email] = user
            for role, scope in scoped:
                ids = {f"{ROLE_SCOPES[role]}_id": scope.id} if scope else {}
                session.add(RoleAssignment(user_id=user.id, role=role, **ids))
        label = ", ".join(f"{ROLES[role]} ({_scope_name(scope)})" if scope else ROLES[role] for role, scope in scoped)
        logins.append((label, email, password))
    session.flush()
    _seed_networks(session, data.get("networks", []), bases, municipalities, services, users)
    _seed_interventions(session, data.get("interventions", []), bases, municipalities, services)
    return logins


def _seed_networks(
    session: Session, rows: list[dict], bases: dict, municipalities: dict, services: dict, users: dict
) -> None:
    """Demo networks, found by slug; their bases and members are only seeded with the network. A member
    who is not a demo user becomes a user without a password (a member need not log in)."""
    existing = set(session.exec(select(Network.slug)))
    units = {(u.service_id, u.name): u for u in session.exec(select(Unit))}
    for row in rows:
        if row["slug"] in existing:
            continue
        if row["kind"] not in NETWORK_KINDS:
            raise ValueError(f"demo network {row['slug']}: unknown kind {row['kind']!r}")
        network = Network(
            slug=row["slug"],
            name=row["name"],
            kind=row["kind"],
            description=row.get("description", ""),
            cadence=row.get("cadence", ""),
            cadence_start=date.fromisoformat(row["cadence_start"]) if row.get("cadence_start") else None,
            meeting_start=time.fromisoformat(row.get("meeting_start", "09:00")),
            meeting_minutes=row.get("meeting_minutes", 180),
            venue_name=row.get("venue_name", ""),
            venue_address=row.get("venue_address", ""),
            host_municipality_id=municipalities[row["host"]].id if row.get("host") else None,
        )
        session.add(network)
        session.flush()
        existing.add(row["slug"])
        for slug in dict.fromkeys(row["bases"]):
            session.add(NetworkBase(network_id=network.id, base_id=bases[slug].id))
        for member in row.get("members", []):
            email = member["email"].strip().lower()
            if email not in users:
                users[email] = User(email=email, name=member["name"])
                session.add(users[email])
                session.flush()
            if member["kind"] not in MEMBER_KINDS:
                raise ValueError(f"demo network {row['slug']}: unknown member kind {member['kind']!r}")
            unit = units[(services[member["unit"][0]].id, member["unit"][1])] if member.get("unit") else None
            session.add(
                NetworkMember(
                    network_id=network.id,
                    user_id=users[email].id,
                    unit_id=unit.id if unit else None,
                    kind=member["kind"],
                    joined_on=date.fromisoformat(member["joined_on"]),
                )
            )
    session.flush()


def _seed_interventions(session: Session, rows: list[dict], bases: dict, municipalities: dict, services: dict) -> None:
    """The demo catalog of shared tiltak, found by slug and made by the same operation as the form. The
    municipalities that may request one are the base's members unless the row lists them."""
    existing = set(session.exec(select(Intervention.slug)))
    for row in rows:
        if row["slug"] in existing:
            continue
        contact_name, contact_email = row.get("contact", ["", ""])
        numbers = row.get("municipalities")
        intervention = save_intervention(
            session,
            None,
            InterventionData(
                name=row["name"],
                method=row["method"],
                base_id=bases[row["base"]].id,
                provider_service_id=services[row["provider"]].id,
                description=row.get("description", ""),
                age_from=row["age"][0],
                age_to=row["age"][1],
                bti_level=row["bti_level"],
                capacity=row["capacity"],
                typical_weeks=row["typical_weeks"],
                contact_name=contact_name,
                contact_email=contact_email,
                status=row.get("status", InterventionStatus.ACTIVE),
                municipality_ids={municipalities[n].id for n in numbers} if numbers else None,
            ),
        )
        intervention.slug = row["slug"]
        session.add(intervention)
        existing.add(row["slug"])
    session.flush()


def _scope(role_row: dict, bases: dict, municipalities: dict, services: dict):
    """The base, municipality or service a demo role is scoped to, by natural key (None if platform-wide)."""
    role = role_row["role"]
    if role not in ROLES:
        raise ValueError(f"demo user: unknown role {role!r}")
    field = ROLE_SCOPES[role]
    if field is None:
        return None
    lookup = {"base": bases, "municipality": municipalities, "service": services}[field]
    return lookup[role_row[field]]


def _scope_name(scope) -> str:
    return scope.display_name if isinstance(scope, Municipality) else scope.name
