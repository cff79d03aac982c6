"""A synthetic national dataset, reproducible from a seed: `nettverk demo --scale national [--seed N]`.

On top of the real reference data (Trøndelag, its mergers and bases) and the demo data, it adds the rest
of Norway as synthetic but Norwegian-looking data: counties, municipalities, kompetansebaser with
overlapping memberships, services, units, users with roles, BTI and leader networks with their
ressurspersoner, shared tiltak, ten years of events (fagdager, samlinger, kurs and the networks'
twice-yearly meetings) with their registrations, referrals in every state with their transitions,
messages and audit rows, competence profiles and records, and the bases' materials (version rows, no files).

Speed: rows are made in Python and written with SQLAlchemy Core executemany in batches (no ORM object per
row), with the ids given here (so nothing is read back), one password hash for every user, one
transaction. On PostgreSQL the id sequences are moved past the new ids at the end. Audit rows are only
inserted (the table is append-only).

Reproducible: the same seed, scale and anchor (the first day of the month the data is made in, unless
given) give the same rows. Times are spread around the anchor: `years` - 1 years back and one year ahead.
"""

import hashlib
import random
import time as clock
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection
from sqlmodel import Session

from nettverk.accounts.models import RoleAssignment, User
from nettverk.accounts.operations import hash_password
from nettverk.calendars.models import CalendarToken
from nettverk.competence.models import (
    CompetenceArea,
    CompetenceLevel,
    CompetenceProfile,
    CompetenceRecord,
    RecordSource,
)
from nettverk.events.models import (
    Event,
    EventAudience,
    EventKind,
    EventStatus,
    ProgrammeItem,
    Registration,
    RegistrationStatus,
)
from nettverk.materials.models import Material, MaterialArea, MaterialAudience, MaterialEvent, MaterialVersion
from nettverk.networks.models import MemberKind, Network, NetworkBase, NetworkKind, NetworkMember
from nettverk.referrals.models import (
    Intervention,
    InterventionMunicipality,
    InterventionStatus,
    Referral,
    ReferralAudit,
    ReferralMessage,
    ReferralStatus,
    ReferralTransition,
    Urgency,
)
from nettverk.registry.models import BaseMembership, CompetenceBase, County, Municipality, Service, ServiceArea, Unit
from nettverk.seeding import load_demo
from nettverk.text import slugify
from nettverk.timeutil import oslo_to_utc
from nettverk.tokens import hash_token

GENERATOR_VERSION = "3"  # raise when the rows made for a seed change (the benchmark caches by it)
PASSWORD = "demo-passord-2026"  # noqa: S105 - every synthetic user's password, as for the demo users
BATCH = 5000


@dataclass(frozen=True)
class Scale:
    municipalities: int  # current municipalities in all (the reference data's included)
    counties: int
    bases: int
    services: int
    units: int
    users: int
    years: int
    events: int
    registrations: int
    referrals: int
    competence_records: int = 0  # over the 17 areas, by people with a competence profile
    materials: int = 0  # in the bases' libraries, with one or two versions each (rows only, no files)


SCALES = {
    "tiny": Scale(
        municipalities=48,
        counties=4,
        bases=8,
        services=40,
        units=150,
        users=600,
        years=2,
        events=160,
        registrations=3000,
        referrals=300,
        competence_records=600,
        materials=24,
    ),
    "small": Scale(
        municipalities=90,
        counties=6,
        bases=14,
        services=100,
        units=500,
        users=2500,
        years=3,
        events=600,
        registrations=15000,
        referrals=2000,
        competence_records=2500,
        materials=60,
    ),
    "national": Scale(
        municipalities=357,
        counties=15,
        bases=60,
        services=600,
        units=5000,
        users=30000,
        years=10,
        events=10000,
        registrations=400000,
        referrals=90000,
        competence_records=30000,
        materials=360,
    ),
}

# The counties since 2024 (the reference data holds 15, 18 and 50).
COUNTIES = [
    ("50", "Trøndelag"),
    ("18", "Nordland"),
    ("15", "Møre og Romsdal"),
    ("46", "Vestland"),
    ("34", "Innlandet"),
    ("55", "Troms"),
    ("42", "Agder"),
    ("11", "Rogaland"),
    ("32", "Akershus"),
    ("33", "Buskerud"),
    ("40", "Telemark"),
    ("39", "Vestfold"),
    ("31", "Østfold"),
    ("56", "Finnmark"),
    ("03", "Oslo"),
]
PREFIXES = [
    "Aus",
    "Bjør",
    "Dal",
    "Eid",
    "Fjell",
    "Gran",
    "Hov",
    "Kvam",
    "Lund",
    "Mel",
    "Nord",
    "Os",
    "Rød",
    "Sand",
    "Sel",
    "Sol",
    "Stor",
    "Sul",
    "Tys",
    "Ulv",
    "Vang",
    "Ves",
    "Øy",
    "Ås",
    "Bø",
    "Hol",
    "Lom",
    "Nes",
    "Rau",
    "Sør",
    "Berg",
    "Bryn",
    "Eng",
    "Fos",
    "Gjer",
    "Hem",
    "Ler",
    "Moss",
    "Rin",
    "Skog",
    "Tin",
    "Vik",
    "Aur",
    "Bal",
    "Fla",
    "Hard",
    "Kval",
    "Lys",
    "Mjøs",
    "Nær",
    "Opp",
    "Rom",
    "Sta",
    "Tolg",
    "Val",
]
SUFFIXES = [
    "dal",
    "vik",
    "nes",
    "fjord",
    "berg",
    "øy",
    "land",
    "stad",
    "heim",
    "sund",
    "ås",
    "bø",
    "voll",
    "haug",
    "rud",
    "by",
    "set",
    "strand",
    "mo",
    "anger",
    "ey",
    "hamn",
    "fjell",
    "li",
]
FIRST_NAMES = [
    "Anne",
    "Kari",
    "Ingrid",
    "Marit",
    "Hanne",
    "Silje",
    "Ragnhild",
    "Tone",
    "Guro",
    "Sigrid",
    "Eli",
    "Hilde",
    "Randi",
    "Turid",
    "Astrid",
    "Ida",
    "Nora",
    "Maja",
    "Liv",
    "Solveig",
    "Berit",
    "Jorunn",
    "Kristin",
    "Mette",
    "Vigdis",
    "Åse",
    "Ola",
    "Per",
    "Jon",
    "Lars",
    "Eirik",
    "Knut",
    "Svein",
    "Arne",
    "Bjørn",
    "Geir",
    "Trond",
    "Rune",
    "Magnus",
    "Håkon",
    "Sindre",
    "Even",
    "Torbjørn",
    "Øystein",
    "Stian",
    "Jørgen",
    "Anders",
    "Espen",
    "Kjetil",
    "Vegard",
]
LAST_NAMES = [
    "Hansen",
    "Johansen",
    "Olsen",
    "Larsen",
    "Andersen",
    "Pedersen",
    "Nilsen",
    "Kristiansen",
    "Berg",
    "Haugen",
    "Hagen",
    "Bakken",
    "Lie",
    "Moen",
    "Dahl",
    "Lund",
    "Strand",
    "Solberg",
    "Aune",
    "Vik",
    "Brekke",
    "Myhre",
    "Rønning",
    "Hovde",
    "Grønli",
    "Sæther",
    "Eide",
    "Lien",
    "Holm",
    "Fjeld",
    "Aas",
    "Kvam",
    "Nygård",
    "Bjørgan",
    "Lysvold",
    "Skjelvik",
    "Otterstad",
    "Fevåg",
    "Vikstrand",
    "Aunøien",
    "Stene",
    "Furu",
    "Midtbø",
    "Ødegård",
    "Sandvik",
    "Tangen",
    "Engen",
    "Røed",
    "Hval",
    "Grande",
]
SERVICE_MIX = [
    ("barnevern", 25),
    ("ppt", 17),
    ("helsestasjon", 20),
    ("skole", 15),
    ("barnehage", 13),
    ("psykisk_helse_rus", 6),
    ("familievern", 2),
    ("annet", 2),
]
SERVICE_NAMES = {
    "barnevern": "Barneverntjenesten",
    "ppt": "PPT",
    "helsestasjon": "Helsestasjonen",
    "skole": "Oppvekst og skole",
    "barnehage": "Barnehagene",
    "psykisk_helse_rus": "Psykisk helse og rus",
    "familievern": "Familievernkontoret",
    "annet": "Familiesenteret",
}
UNIT_WEIGHT = {
    "skole": 30,
    "barnehage": 30,
    "helsestasjon": 6,
    "ppt": 1,
    "barnevern": 1,
    "psykisk_helse_rus": 1,
    "familievern": 1,
    "annet": 2,
}
UNIT_NAMES = {
    "skole": ["skole", "barneskole", "ungdomsskole", "oppvekstsenter"],
    "barnehage": ["barnehage"],
    "helsestasjon": ["helsestasjon", "skolehelsetjeneste"],
}
METHODS = [
    "foreldreveiledning",
    "fosterhjemsveiledning",
    "oppfolging_foreldre",
    "pmto",
    "icdp",
    "marte_meo",
    "cos",
    "familierad",
    "home_start",
]
METHOD_NAMES = {
    "foreldreveiledning": "Hjemmebasert foreldreveiledning",
    "fosterhjemsveiledning": "Fosterhjemsveiledning",
    "oppfolging_foreldre": "Oppfølging av foreldre som har mistet omsorgen",
    "pmto": "PMTO-behandling",
    "icdp": "ICDP-grupper",
    "marte_meo": "Marte Meo",
    "cos": "Circle of Security",
    "familierad": "Familieråd",
    "home_start": "Home-Start",
}
TOPICS = [
    "BTI og stafettloggen",
    "Tidlig inn",
    "Vold i nære relasjoner",
    "Barn som pårørende",
    "Traumebevisst omsorg",
    "Samtaler med barn",
    "Rus i familien",
    "Foreldreveiledning",
    "Skolefravær",
    "Psykisk helse hos unge",
    "Samarbeid barnehage og helsestasjon",
    "Handlingsveilederen i praksis",
    "Kvello-modellen",
    "ICDP",
    "Barnekonvensjonen",
    "Overganger barnehage–skole",
]
EVENT_MIX = [(EventKind.FAGDAG, 55), (EventKind.SAMLING, 25), (EventKind.KURS, 20)]
# Which state a referral ends in, by how long ago it was made (recent ones are still under way).
OLD_STATES = [
    (ReferralStatus.CLOSED, 62),
    (ReferralStatus.DECLINED, 16),
    (ReferralStatus.WITHDRAWN, 10),
    (ReferralStatus.IN_PROGRESS, 6),
    (ReferralStatus.ACCEPTED, 3),
    (ReferralStatus.RECEIVED, 3),
]
NEW_STATES = [
    (ReferralStatus.DRAFT, 10),
    (ReferralStatus.SENT, 14),
    (ReferralStatus.RECEIVED, 14),
    (ReferralStatus.ACCEPTED, 16),
    (ReferralStatus.IN_PROGRESS, 22),
    (ReferralStatus.CLOSED, 12),
    (ReferralStatus.DECLINED, 7),
    (ReferralStatus.WITHDRAWN, 5),
]
# The states a referral passes through to reach each state.
FORWARD = [
    ReferralStatus.DRAFT,
    ReferralStatus.SENT,
    ReferralStatus.RECEIVED,
    ReferralStatus.ACCEPTED,
    ReferralStatus.IN_PROGRESS,
    ReferralStatus.CLOSED,
]
PATHS = {state: FORWARD[: n + 1] for n, state in enumerate(FORWARD)} | {
    ReferralStatus.DECLINED: [*FORWARD[:3], ReferralStatus.DECLINED],
    ReferralStatus.WITHDRAWN: [*FORWARD[:2], ReferralStatus.WITHDRAWN],
}
OUTCOMES = ["completed", "completed", "partly", "ended_early"]
MESSAGES = [
    "Vi har mottatt henvendelsen og tar kontakt med tjenesten.",
    "Familien ønsker oppstart etter skoleferien.",
    "Kan dere sende oppdatert samtykke?",
    "Første møte er avtalt.",
    "Takk for oppdateringen.",
]
RETENTION = timedelta(days=365)


def personal_token(seed: int, user_id: int) -> str:
    """The personal calendar key made for a user (the benchmark recomputes it to poll the feed)."""
    return hashlib.sha256(f"nettverk-scale:{seed}:{user_id}".encode()).hexdigest()[:43]


def default_anchor() -> date:
    return date.today().replace(day=1)


class Writer:
    """Batched Core inserts with ids given here; reports progress."""

    def __init__(self, connection: Connection, progress: Callable[[str], None]):
        self.connection = connection
        self.progress = progress
        self.counts: dict[str, int] = defaultdict(int)
        self.next_ids: dict[str, int] = {}
        self.started = clock.monotonic()

    def new_id(self, model) -> int:
        name = model.__tablename__
        if name not in self.next_ids:
            top = self.connection.execute(select(func.max(model.__table__.c.id))).scalar()
            self.next_ids[name] = (top or 0) + 1
        self.next_ids[name] += 1
        return self.next_ids[name] - 1

    def insert(self, model, rows: list[dict], label: str | None = None) -> None:
        table = model.__table__
        for start in range(0, len(rows), BATCH):
            self.connection.execute(table.insert(), rows[start : start + BATCH])
            if label and len(rows) > BATCH:
                self.progress(f"  {label}: {min(start + BATCH, len(rows))}/{len(rows)}")
        self.counts[table.name] += len(rows)

    def step(self, message: str) -> None:
        self.progress(f"[{clock.monotonic() - self.started:6.1f} s] {message}")


def _weighted(rng: random.Random, mix: list[tuple[str, int]]) -> str:
    return rng.choices([k for k, _ in mix], weights=[w for _, w in mix])[0]


def _second_weekday(year: int, month: int, weekday: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7)


def generate(
    session: Session,
    scale: str | Scale = "national",
    seed: int = 1,
    anchor: date | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, int]:
    """Add the synthetic dataset to the database of `session` (reference and demo data are loaded first if
    missing). Commits. Returns the number of rows made per table."""
    spec = SCALES[scale] if isinstance(scale, str) else scale
    anchor = anchor or default_anchor()
    load_demo(session)
    session.commit()
    rng = random.Random(f"{seed}:{spec}")
    now = datetime.combine(anchor, time(0, 0), tzinfo=UTC)
    password_hash = hash_password(PASSWORD)  # once; every synthetic user shares it
    with session.get_bind().connect() as connection, connection.begin():
        if connection.execute(
            select(func.count()).select_from(User.__table__).where(User.__table__.c.email.like("%@scale.example"))
        ).scalar():
            raise ValueError("Databasen har allerede syntetiske data (…@scale.example). Bruk en tom database.")
        writer = Writer(connection, progress)
        _Builder(writer, rng, spec, seed, now, password_hash).run()
        if connection.dialect.name == "postgresql":
            for table in writer.next_ids:
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - our table names
                        f'(SELECT max(id) FROM "{table}"))'
                    )
                )
        writer.step("Ferdig, skriver til disken …")
    return dict(writer.counts)


class _Builder:
    def __init__(self, writer: Writer, rng: random.Random, spec: Scale, seed: int, now: datetime, password_hash: str):
        self.w, self.rng, self.spec, self.seed, self.now = writer, rng, spec, seed, now
        self.password_hash = password_hash
        self.c = writer.connection

    def run(self) -> None:
        self.registry()
        self.people()
        self.networks_and_tiltak()
        self.events()
        self.registrations()
        self.referrals()
        self.competence()
        self.materials()

    # Registry -------------------------------------------------------------------------------------

    def registry(self) -> None:
        w, rng, spec = self.w, self.rng, self.spec
        w.step("Fylker og kommuner")
        counties = dict(self.c.execute(select(County.number, County.id)).all())
        rows = []
        for number, name in COUNTIES[: spec.counties]:
            if number not in counties:
                counties[number] = w.new_id(County)
                rows.append({"id": counties[number], "number": number, "name": name})
        w.insert(County, rows)
        used_numbers = set(self.c.execute(select(Municipality.number)).scalars())
        current = [
            dict(r._mapping)
            for r in self.c.execute(
                select(Municipality.id, Municipality.name, Municipality.county_id)
                .where(Municipality.valid_to.is_(None))
                .order_by(Municipality.id)
            )
        ]
        names = {m["name"] for m in current}
        synthetic_counties = [number for number, _ in COUNTIES[1 : spec.counties]]
        rows = []
        for i in range(max(spec.municipalities - len(current), 0)):
            county = synthetic_counties[i % len(synthetic_counties)] if synthetic_counties else "50"
            number = next(f"{county}{n:02d}" for n in range(1, 100) if f"{county}{n:02d}" not in used_numbers)
            used_numbers.add(number)
            name = self._unique_name(names)
            row = {
                "id": w.new_id(Municipality),
                "number": number,
                "name": name,
                "sami_name": None,
                "county_id": counties[county],
                "valid_to": None,
            }
            rows.append(row)
            current.append({"id": row["id"], "name": name, "county_id": row["county_id"]})
        w.insert(Municipality, rows)
        self.municipalities = current
        self.municipality_name = {m["id"]: m["name"] for m in current}

        w.step("Kompetansebaser og medlemskap")
        bases = [
            dict(r._mapping)
            for r in self.c.execute(
                select(CompetenceBase.id, CompetenceBase.name, CompetenceBase.slug).order_by(CompetenceBase.id)
            )
        ]
        members = defaultdict(set)
        for base_id, municipality_id in self.c.execute(select(BaseMembership.base_id, BaseMembership.municipality_id)):
            members[base_id].add(municipality_id)
        in_a_base = set().union(*members.values()) if members else set()
        # The municipalities that have no base yet, by county, are cut into new bases of neighbours.
        by_county = defaultdict(list)
        for m in current:
            if m["id"] not in in_a_base:
                by_county[m["county_id"]].append(m["id"])
        new_count = max(spec.bases - len(bases), 0)
        pool = [ids for _, ids in sorted(by_county.items())]
        total = sum(len(ids) for ids in pool) or 1
        groups = []
        for ids in pool:
            share = max(1, round(new_count * len(ids) / total))
            size = max(1, -(-len(ids) // share))
            groups += [ids[i : i + size] for i in range(0, len(ids), size)]
        taken = {b["name"] for b in bases} | {b["slug"] for b in bases}
        base_rows, membership_rows = [], []
        for group in groups[:new_count] if len(groups) >= new_count else groups:
            name = f"{self.municipality_name[group[0]]}regionen"
            while name in taken or slugify(name) in taken:
                name = f"{self._unique_name(set())}regionen"
            taken |= {name, slugify(name)}
            base = {
                "id": w.new_id(CompetenceBase),
                "slug": slugify(name),
                "name": name,
                "description": f"Syntetisk kompetansebase for {len(group)} kommuner (skaleringsdata).",
            }
            base_rows.append(base)
            bases.append(base)
            members[base["id"]] = set(group)
        # Leftover groups (rounding) join the last base.
        for group in groups[new_count:]:
            members[bases[-1]["id"]] |= set(group)
        # Overlap: about one municipality in five is also in a neighbouring base, as Indre Fosen is.
        base_ids = [b["id"] for b in bases]
        for position, base_id in enumerate(base_ids):
            neighbour = base_ids[(position + 1) % len(base_ids)]
            for municipality_id in sorted(members[neighbour]):
                if rng.random() < 0.2:
                    members[base_id].add(municipality_id)
        existing = set(self.c.execute(select(BaseMembership.base_id, BaseMembership.municipality_id)).all())
        for base_id, ids in members.items():
            membership_rows += [
                {"base_id": base_id, "municipality_id": m, "is_demo": True}
                for m in sorted(ids)
                if (base_id, m) not in existing
            ]
        w.insert(CompetenceBase, base_rows)
        w.insert(BaseMembership, membership_rows)
        self.bases = bases
        self.members = {b: sorted(ids) for b, ids in members.items()}
        self.bases_of = defaultdict(list)
        for base_id, ids in self.members.items():
            for m in ids:
                self.bases_of[m].append(base_id)

        w.step("Tjenester og enheter")
        services = [
            dict(r._mapping)
            for r in self.c.execute(select(Service.id, Service.kind, Service.host_municipality_id, Service.slug))
        ]
        slugs = {s["slug"] for s in services}
        area = defaultdict(set)
        for service_id, municipality_id in self.c.execute(select(ServiceArea.service_id, ServiceArea.municipality_id)):
            area[service_id].add(municipality_id)
        service_rows, area_rows = [], []
        hosts = [m["id"] for m in current]
        rng.shuffle(hosts)
        weights = sum(w_ for _, w_ in SERVICE_MIX)
        kinds = [kind for kind, weight in SERVICE_MIX for _ in range(round(weight * spec.services / weights))]
        for i, kind in enumerate(kinds[: max(spec.services - len(services), 0)]):
            host = hosts[i % len(hosts)]
            slug = f"{slugify(SERVICE_NAMES[kind])}-{slugify(self.municipality_name[host])}"
            while slug in slugs:
                slug = f"{slug}-{rng.randint(2, 99)}"
            slugs.add(slug)
            served = {host}
            if kind in ("barnevern", "ppt", "familievern", "psykisk_helse_rus"):  # often inter-municipal
                neighbours = self.members[rng.choice(self.bases_of[host])]
                served |= set(rng.sample(neighbours, min(len(neighbours), rng.choice((0, 1, 2, 3)))))
            service = {
                "id": w.new_id(Service),
                "slug": slug,
                "kind": kind,
                "host_municipality_id": host,
                "name": f"{SERVICE_NAMES[kind]} i {self.municipality_name[host]}",
                "email": f"post@{slug}.scale.example",
                "phone": None,
                "description": "Syntetisk tjeneste (skaleringsdata).",
            }
            service_rows.append(service)
            services.append(service)
            area[service["id"]] = served
            area_rows += [{"service_id": service["id"], "municipality_id": m} for m in sorted(served)]
        w.insert(Service, service_rows)
        w.insert(ServiceArea, area_rows)
        self.services = services
        self.area = {s: sorted(ids) for s, ids in area.items()}
        self.services_serving = defaultdict(list)
        for service_id, ids in self.area.items():
            for m in ids:
                self.services_serving[m].append(service_id)

        existing_units = [
            dict(r._mapping) for r in self.c.execute(select(Unit.id, Unit.service_id, Unit.municipality_id))
        ]
        unit_rows = []
        choices = [s for s in services if s["id"] in self.area]
        unit_weights = [UNIT_WEIGHT.get(s["kind"], 1) for s in choices]
        names_in_service = defaultdict(set)
        for _ in range(max(spec.units - len(existing_units), 0)):
            service = rng.choices(choices, weights=unit_weights)[0]
            municipality_id = rng.choice(self.area[service["id"]])
            suffix = rng.choice(UNIT_NAMES.get(service["kind"], ["team", "avdeling"]))
            name = f"{self._place(rng)} {suffix}"
            while name in names_in_service[service["id"]]:
                name = f"{self._place(rng)} {suffix}"
            names_in_service[service["id"]].add(name)
            unit_rows.append(
                {"id": w.new_id(Unit), "service_id": service["id"], "name": name, "municipality_id": municipality_id}
            )
        w.insert(Unit, unit_rows)
        self.units = existing_units + unit_rows
        self.units_in = defaultdict(list)
        for unit in self.units:
            if unit["municipality_id"] is not None:
                self.units_in[unit["municipality_id"]].append(unit)

    def _place(self, rng: random.Random) -> str:
        return rng.choice(PREFIXES) + rng.choice(SUFFIXES)

    def _unique_name(self, names: set[str]) -> str:
        name = self._place(self.rng)
        while name in names:
            if self.rng.random() < 0.7:
                name = self._place(self.rng)
            else:
                name = f"{self._place(self.rng)}-{self._place(self.rng)}"
        names.add(name)
        return name

    # People ---------------------------------------------------------------------------------------

    def people(self) -> None:
        w, rng, spec = self.w, self.rng, self.spec
        w.step("Brukere og roller")
        existing = self.c.execute(select(func.count()).select_from(User.__table__)).scalar() or 0
        users, roles = [], []
        created = self.now - timedelta(days=365 * spec.years)

        def user(municipality_id: int, unit: dict | None) -> dict:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            row = {
                "id": w.new_id(User),
                "name": f"{first} {last}",
                "password_hash": self.password_hash,
                "is_active": True,
                "created_at": created,
                "last_login_at": None,
                "session_version": 1,
                "municipality_id": municipality_id,
                "unit_id": unit["id"] if unit else None,
            }
            row["email"] = f"{slugify(first)}.{slugify(last)}.{row['id']}@scale.example"
            users.append(row)
            return row

        def role(user_row: dict, name: str, **scope) -> None:
            roles.append(
                {
                    "id": w.new_id(RoleAssignment),
                    "user_id": user_row["id"],
                    "role": name,
                    "base_id": scope.get("base_id"),
                    "municipality_id": scope.get("municipality_id"),
                    "service_id": scope.get("service_id"),
                }
            )

        self.coordinators = {}
        for base in self.bases:
            coordinator = user(self.members[base["id"]][0], None)
            role(coordinator, "coordinator", base_id=base["id"])
            self.coordinators[base["id"]] = coordinator
        for m in self.municipalities:
            role(user(m["id"], None), "municipality_contact", municipality_id=m["id"])
        self.staff, self.leaders, self.providers = defaultdict(list), {}, defaultdict(list)
        for service in self.services:
            if service["id"] not in self.area:
                continue
            host = service["host_municipality_id"]
            if service["kind"] == "barnevern":
                leader = user(host, None)
                role(leader, "service_leader", service_id=service["id"])
                self.leaders[service["id"]] = leader
                for _ in range(3):
                    staff = user(host, None)
                    role(staff, "service_staff", service_id=service["id"])
                    self.staff[service["id"]].append(staff)
            if service["kind"] in ("barnevern", "familievern", "psykisk_helse_rus", "annet"):
                for _ in range(2):
                    provider = user(host, None)
                    role(provider, "provider", service_id=service["id"])
                    self.providers[service["id"]].append(provider)
        # Everyone else works in a unit (or, some of them, in a service without a unit).
        municipalities = [m["id"] for m in self.municipalities]
        while len(users) + existing < spec.users:
            municipality_id = rng.choice(municipalities)
            units = self.units_in.get(municipality_id)
            user(municipality_id, rng.choice(units) if units and rng.random() < 0.9 else None)
        w.insert(
            User, [{k: v for k, v in u.items() if k not in ("municipality_id", "unit_id")} for u in users], "brukere"
        )
        w.insert(RoleAssignment, roles)
        self.users = users
        self.users_in = defaultdict(list)
        for u in users:
            self.users_in[u["municipality_id"]].append(u)
        # A personal calendar key for each coordinator and every 50th user (the benchmark polls them).
        tokens = [
            {
                "id": w.new_id(CalendarToken),
                "user_id": u["id"],
                "guest_email": "",
                "token_hash": hash_token(personal_token(self.seed, u["id"])),
                "alarm_minutes": None,
                "created_at": self.now,
                "revoked_at": None,
            }
            for u in [*self.coordinators.values(), *users[::50]]
        ]
        w.insert(CalendarToken, list({t["user_id"]: t for t in tokens}.values()))

    # Networks and shared tiltak -------------------------------------------------------------------

    def networks_and_tiltak(self) -> None:
        w, rng, spec = self.w, self.rng, self.spec
        w.step("Nettverk, ressurspersoner og tiltak")
        start = (self.now - timedelta(days=365 * spec.years)).date()
        network_rows, link_rows, member_rows = [], [], []
        self.networks = []  # (network row, base ids)
        slugs = set(self.c.execute(select(Network.slug)).scalars())
        for position, base in enumerate(self.bases):
            kinds = [NetworkKind.BTI] + ([NetworkKind.LEDERE] if position % 2 == 0 else [])
            for kind in kinds:
                name = f"{'BTI-nettverk' if kind == NetworkKind.BTI else 'Barnevernledernettverk'} {base['name']}"
                slug = slugify(name)
                if slug in slugs:
                    continue
                slugs.add(slug)
                shared = [base["id"]]
                if kind == NetworkKind.LEDERE and len(self.bases) > 1:  # leader networks often span two bases
                    shared.append(self.bases[(position + 1) % len(self.bases)]["id"])
                network = {
                    "id": w.new_id(Network),
                    "slug": slug,
                    "name": name,
                    "kind": kind,
                    "description": "Syntetisk nettverk (skaleringsdata).",
                    "cadence": "FREQ=YEARLY;BYMONTH=3,10;BYDAY=2TU",
                    "cadence_start": start,
                    "meeting_start": time(9, 0),
                    "meeting_minutes": 180,
                    "venue_name": "Kommunehuset",
                    "venue_address": "",
                    "host_municipality_id": self.members[base["id"]][0],
                }
                network_rows.append(network)
                self.networks.append((network, shared))
                link_rows += [{"network_id": network["id"], "base_id": b} for b in shared]
                # BTI: about two ressurspersoner per unit of the base's municipalities (some units have fewer).
                chosen = set()
                for municipality_id in self.members[base["id"]]:
                    people = self.users_in.get(municipality_id, [])
                    if kind == NetworkKind.BTI:
                        for unit in self.units_in.get(municipality_id, []):
                            in_unit = [u for u in people if u["unit_id"] == unit["id"]] or people
                            for u in rng.sample(in_unit, min(len(in_unit), rng.choice((1, 2, 2, 2, 3)))):
                                chosen.add((u["id"], unit["id"], MemberKind.RESSURSPERSON))
                    else:
                        for u in [self.leaders[s] for s in self.services_serving[municipality_id] if s in self.leaders]:
                            chosen.add((u["id"], None, MemberKind.LEDER))
                seen = set()
                for user_id, unit_id, member_kind in sorted(chosen, key=lambda c: (c[0], c[1] or 0)):
                    if user_id in seen:
                        continue
                    seen.add(user_id)
                    member_rows.append(
                        {
                            "id": w.new_id(NetworkMember),
                            "network_id": network["id"],
                            "user_id": user_id,
                            "unit_id": unit_id,
                            "kind": member_kind,
                            "joined_on": start + timedelta(days=rng.randrange(365 * spec.years)),
                        }
                    )
        w.insert(Network, network_rows)
        w.insert(NetworkBase, link_rows)
        w.insert(NetworkMember, member_rows, "nettverksmedlemmer")
        self.network_members = defaultdict(list)
        for member in member_rows:
            self.network_members[member["network_id"]].append(member["user_id"])
        self.user_by_id = {u["id"]: u for u in self.users}

        intervention_rows, allowed_rows = [], []
        slugs = set(self.c.execute(select(Intervention.slug)).scalars())
        self.interventions = []
        for base in self.bases:
            providers = [s for m in self.members[base["id"]] for s in self.services_serving[m] if s in self.providers]
            if not providers:
                continue
            for method in rng.sample(METHODS, 4):
                slug = f"{slugify(METHOD_NAMES[method])}-{base['slug']}"
                if slug in slugs:
                    continue
                slugs.add(slug)
                status = (
                    InterventionStatus.ACTIVE
                    if rng.random() < 0.9
                    else rng.choice((InterventionStatus.PAUSED, InterventionStatus.ENDED))
                )
                intervention = {
                    "id": w.new_id(Intervention),
                    "slug": slug,
                    "base_id": base["id"],
                    "name": f"{METHOD_NAMES[method]} i {base['name']}",
                    "method": method,
                    "description": "Syntetisk tiltak (skaleringsdata).",
                    "age_from": 0,
                    "age_to": 18,
                    "bti_level": rng.choice((1, 2, 3)),
                    "provider_service_id": rng.choice(providers),
                    "capacity": rng.randint(3, 12),
                    "typical_weeks": rng.choice((8, 12, 16, 26)),
                    "contact_name": "",
                    "contact_email": "",
                    "status": status,
                    "created_at": self.now - timedelta(days=365 * spec.years),
                    "updated_at": self.now,
                }
                intervention_rows.append(intervention)
                allowed_rows += [
                    {"intervention_id": intervention["id"], "municipality_id": m} for m in self.members[base["id"]]
                ]
                # Who may send to it: barneverntjenester serving one of the base's municipalities.
                senders = [
                    (s, m) for m in self.members[base["id"]] for s in self.services_serving[m] if s in self.staff
                ]
                if senders:
                    self.interventions.append((intervention, senders))
        w.insert(Intervention, intervention_rows)
        w.insert(InterventionMunicipality, allowed_rows)

    # Events ---------------------------------------------------------------------------------------

    def events(self) -> None:
        w, rng, spec = self.w, self.rng, self.spec
        w.step("Arrangementer (nettverksmøter, fagdager, samlinger, kurs)")
        first_year = self.now.year - spec.years + 1
        event_rows, programme_rows = [], []
        self.event_pool = []  # (event row, users to draw registrants from, target registrations)

        def add(
            kind, title, starts_at, ends_at, base_id, network_id, series_date, host, audience, capacity, weight, pool
        ):
            past = ends_at < self.now
            if past:
                status = EventStatus.CANCELLED if rng.random() < 0.04 else EventStatus.HELD
            else:
                status = (
                    EventStatus.DRAFT
                    if rng.random() < 0.15
                    else (EventStatus.CANCELLED if rng.random() < 0.03 else EventStatus.PUBLISHED)
                )
            created = starts_at - timedelta(days=rng.randint(30, 120))
            event = {
                "id": w.new_id(Event),
                "uid": f"{rng.getrandbits(128):032x}@scale.nettverk",
                "kind": kind,
                "title": title,
                "description": f"{title}. Syntetisk arrangement (skaleringsdata).",
                "starts_at": starts_at,
                "ends_at": ends_at,
                "all_day": False,
                "venue_name": "Kulturhuset" if kind != EventKind.NETTVERKSMOTE else "Kommunehuset",
                "venue_address": "",
                "venue_municipality_id": host,
                "online_url": "",
                "host_municipality_id": host,
                "base_id": base_id,
                "network_id": network_id,
                "series_date": series_date,
                "audience": audience,
                "capacity": capacity,
                "quota_per_municipality": None,
                "registration_opens_at": None,
                "registration_closes_at": starts_at - timedelta(days=3),
                "ask_dietary": kind == EventKind.FAGDAG,
                "ask_lunch": kind == EventKind.FAGDAG,
                "reminder_days": "7,1",
                "status": status,
                "sequence": 1 if status != EventStatus.DRAFT else 0,
                "created_at": created,
                "updated_at": min(created + timedelta(days=rng.randint(0, 20)), self.now),
            }
            event_rows.append(event)
            if status != EventStatus.DRAFT:
                self.event_pool.append((event, pool, weight))
            return event

        meetings = 0
        for network, _bases in self.networks:
            members = self.network_members[network["id"]]
            for year in range(first_year, self.now.year + 2):
                for month in (3, 10):
                    day = _second_weekday(year, month, 1)
                    starts = oslo_to_utc(day, time(9, 0))
                    if starts > self.now + timedelta(days=365) or starts < self.now - timedelta(days=365 * spec.years):
                        continue
                    add(
                        EventKind.NETTVERKSMOTE,
                        f"{network['name']} – {'vårmøte' if month == 3 else 'høstmøte'} {year}",
                        starts,
                        starts + timedelta(minutes=180),
                        None,
                        network["id"],
                        day,
                        network["host_municipality_id"],
                        EventAudience.NETWORK,
                        None,
                        1.0,
                        [self.user_by_id[u] for u in members],
                    )
                    meetings += 1
        others = max(spec.events - meetings, 0)
        span_days = 365 * spec.years
        first_day = (self.now - timedelta(days=365 * (spec.years - 1))).date()
        for _ in range(others):
            base = rng.choice(self.bases)
            kind = _weighted(rng, EVENT_MIX)
            day = first_day + timedelta(days=rng.randrange(span_days))
            while day.weekday() >= 5:
                day += timedelta(days=1)
            hours = (9, 15) if kind == EventKind.FAGDAG else ((10, 14) if kind == EventKind.SAMLING else (9, 16))
            starts, ends = oslo_to_utc(day, time(hours[0])), oslo_to_utc(day, time(hours[1]))
            if kind == EventKind.KURS and rng.random() < 0.2:  # a two-day course
                ends = oslo_to_utc(day + timedelta(days=1), time(15))
            members = self.members[base["id"]]
            pool = [u for m in members for u in self.users_in.get(m, [])]
            weight = {EventKind.FAGDAG: 4.0, EventKind.SAMLING: 2.0, EventKind.KURS: 1.0}[kind]
            add(
                kind,
                f"{'Fagdag' if kind == EventKind.FAGDAG else kind.capitalize()}: {rng.choice(TOPICS)}",
                starts,
                ends,
                base["id"],
                None,
                None,
                rng.choice(members),
                rng.choice((EventAudience.REGION, EventAudience.BASE, EventAudience.BASE)),
                rng.choice((120, 150, 200, 250)) if kind == EventKind.FAGDAG else rng.choice((30, 40, 60, None)),
                weight,
                pool,
            )
        for event in event_rows:
            if event["kind"] == EventKind.FAGDAG:
                for position, (starts, title) in enumerate(
                    (
                        ("09.00", "Velkommen"),
                        ("09.15", event["title"]),
                        ("11.30", "Lunsj"),
                        ("12.15", "Erfaringsdeling i grupper"),
                        ("14.30", "Oppsummering"),
                    )
                ):
                    programme_rows.append(
                        {
                            "id": w.new_id(ProgrammeItem),
                            "event_id": event["id"],
                            "position": position,
                            "starts": starts,
                            "title": title,
                            "speaker": "",
                        }
                    )
        w.insert(Event, event_rows, "arrangementer")
        w.insert(ProgrammeItem, programme_rows, "programposter")
        self.event_rows = event_rows

    def registrations(self) -> None:
        w, rng, spec = self.w, self.rng, self.spec
        w.step("Påmeldinger")
        total_weight = sum(weight for _, _, weight in self.event_pool) or 1
        per_weight = spec.registrations / total_weight
        rows = []
        # The benchmark's event: the flagship fagdag of the first base, with exactly 200 registrations.
        flagship = next(
            (
                e
                for e, pool, _ in self.event_pool
                if e["kind"] == EventKind.FAGDAG and e["status"] == EventStatus.HELD and len(pool) >= 200
            ),
            None,
        )
        made = {}  # registrations per fagdag of a base: which one the benchmark measures (bench.targets)
        for event, pool, weight in self.event_pool:
            if not pool:
                continue
            wanted = 200 if event is flagship else round(rng.uniform(0.5, 1.5) * weight * per_weight)
            if event["capacity"]:
                wanted = min(wanted, event["capacity"] + event["capacity"] // 5) if event is not flagship else wanted
            people = rng.sample(pool, min(wanted, len(pool)))
            if (
                event["kind"] == EventKind.FAGDAG
                and event["base_id"]
                and event["status"] == EventStatus.HELD
                and people
            ):
                made[event["id"]] = len(people)
            held = event["status"] == EventStatus.HELD
            for position, person in enumerate(people):
                status = RegistrationStatus.CONFIRMED
                if event["capacity"] and position >= event["capacity"]:
                    status = RegistrationStatus.WAITLISTED
                elif rng.random() < 0.06:
                    status = RegistrationStatus.WITHDRAWN
                created = event["created_at"] + timedelta(hours=rng.randint(1, 24 * 25))
                rows.append(
                    {
                        "id": w.new_id(Registration),
                        "event_id": event["id"],
                        "user_id": person["id"],
                        "name": person["name"],
                        "email": person["email"],
                        "municipality_id": person["municipality_id"],
                        "unit_id": person["unit_id"],
                        "role": "",
                        "dietary": "",
                        "lunch": True if event["ask_lunch"] else None,
                        "status": status,
                        "priority": 0,
                        "attended": (rng.random() < 0.88) if held and status == RegistrationStatus.CONFIRMED else None,
                        "created_at": created,
                        "confirmed_at": created if status == RegistrationStatus.CONFIRMED else None,
                        "cancelled_at": created + timedelta(days=2) if status == RegistrationStatus.WITHDRAWN else None,
                        "confirm_token_hash": None,
                        "cancel_token_hash": None,
                        "registered_by_id": None,
                    }
                )
            if len(rows) >= 50_000:
                w.insert(Registration, rows)
                w.step(f"  påmeldinger: {w.counts['registration']}")
                rows = []
        w.insert(Registration, rows)
        # As bench.targets finds it: the first held fagdag with exactly 200 registrations, else the one with most.
        exact = [i for i, n in made.items() if n == 200]
        measured = min(exact) if exact else min(made, key=lambda i: (-made[i], i), default=None)
        self.measured_event = next((e for e in self.event_rows if e["id"] == measured), None)

    # Referrals ------------------------------------------------------------------------------------

    def referrals(self) -> None:
        w, rng, spec = self.w, self.rng, self.spec
        w.step("Henvendelser med overganger, meldinger og revisjonslogg")
        if not self.interventions:
            return
        referrals, transitions, messages, audits = [], [], [], []
        span = timedelta(days=365 * spec.years - 30)
        families: list[tuple[int, str]] = []
        for n in range(spec.referrals):
            intervention, senders = rng.choice(self.interventions)
            service_id, municipality_id = rng.choice(senders)
            created = self.now - span + timedelta(seconds=rng.randrange(int(span.total_seconds())))
            recent = self.now - created < timedelta(days=180)
            state = _weighted(rng, NEW_STATES if recent else OLD_STATES)
            staff = rng.choice(self.staff[service_id])
            providers = self.providers[intervention["provider_service_id"]] or [staff]
            if families and rng.random() < 0.12:  # the same family referred again
                key_service, family = rng.choice(families)
                family = family if key_service == service_id else f"{rng.getrandbits(128):032x}"
            else:
                family = f"{rng.getrandbits(128):032x}"
                families.append((service_id, family))
            referral_id = w.new_id(Referral)
            moments = {ReferralStatus.DRAFT: created}
            moment = created
            for step in PATHS[state][1:]:
                days = rng.randint(1, 40 if step != ReferralStatus.CLOSED else 120)
                moment = moment + timedelta(days=days, hours=rng.randint(0, 8))
                moments[step] = min(moment, self.now)
            finished = (
                moments.get(state)
                if state in (ReferralStatus.CLOSED, ReferralStatus.DECLINED, ReferralStatus.WITHDRAWN)
                else None
            )
            erased = finished is not None and self.now - finished > RETENTION
            birth = self.now.year - rng.randint(1, 16)
            referrals.append(
                {
                    "id": referral_id,
                    "public_id": f"{rng.getrandbits(96):024x}",
                    "intervention_id": intervention["id"],
                    "sending_service_id": service_id,
                    "family_municipality_id": municipality_id,
                    "case_reference": "" if erased else f"SAK-{n + 1:06d}",
                    "need": "" if erased else "Familien trenger veiledning i foreldrerollen (syntetisk).",
                    "decline_reason": ""
                    if erased or state != ReferralStatus.DECLINED
                    else "Tiltaket passer ikke for familien nå.",
                    "outcome_note": "",
                    "family_key": family,
                    "children_count": rng.choice((1, 1, 1, 2, 2, 3)),
                    "child_birth_years": str(birth),
                    "urgency": Urgency.HIGH if rng.random() < 0.1 else Urgency.NORMAL,
                    "preferred_start": None,
                    "bti_level": rng.choice((None, 1, 2, 3)),
                    "consent_given": state != ReferralStatus.DRAFT,
                    "consent_date": created.date() if state != ReferralStatus.DRAFT else None,
                    "consent_form": "skriftlig" if state != ReferralStatus.DRAFT else "",
                    "status": state,
                    "outcome": rng.choice(OUTCOMES) if state == ReferralStatus.CLOSED else "",
                    "created_by_id": staff["id"],
                    "created_at": created,
                    "updated_at": moment,
                    "sent_at": moments.get(ReferralStatus.SENT),
                    "received_at": moments.get(ReferralStatus.RECEIVED),
                    "accepted_at": moments.get(ReferralStatus.ACCEPTED),
                    "started_at": moments.get(ReferralStatus.IN_PROGRESS),
                    "finished_at": finished,
                    "content_erased_at": finished + RETENTION if erased else None,
                }
            )
            audits.append(self._audit(staff["id"], service_id, referral_id, "created", "", created))
            previous = ReferralStatus.DRAFT
            for step in PATHS[state][1:]:
                provider_side = step in (
                    ReferralStatus.RECEIVED,
                    ReferralStatus.ACCEPTED,
                    ReferralStatus.DECLINED,
                    ReferralStatus.IN_PROGRESS,
                    ReferralStatus.CLOSED,
                )
                actor = rng.choice(providers) if provider_side else staff
                actor_service = intervention["provider_service_id"] if provider_side else service_id
                transitions.append(
                    {
                        "id": w.new_id(ReferralTransition),
                        "referral_id": referral_id,
                        "from_status": previous,
                        "to_status": step,
                        "actor_id": actor["id"],
                        "actor_service_id": actor_service,
                        "at": moments[step],
                        "comment": "",
                    }
                )
                audits.append(
                    self._audit(actor["id"], actor_service, referral_id, step, f"{previous} → {step}", moments[step])
                )
                if provider_side and rng.random() < 0.5:
                    audits.append(self._audit(actor["id"], actor_service, referral_id, "viewed", "", moments[step]))
                previous = step
            if state not in (ReferralStatus.DRAFT, ReferralStatus.SENT) and rng.random() < 0.4:
                for _ in range(rng.randint(1, 2)):
                    author = rng.choice(providers)
                    at = min(
                        moments.get(ReferralStatus.RECEIVED, created) + timedelta(days=rng.randint(0, 10)), self.now
                    )
                    messages.append(
                        {
                            "id": w.new_id(ReferralMessage),
                            "referral_id": referral_id,
                            "author_id": author["id"],
                            "author_service_id": intervention["provider_service_id"],
                            "at": at,
                            "body": "" if erased else rng.choice(MESSAGES),
                        }
                    )
            if erased:
                audits.append(
                    self._audit(
                        None,
                        None,
                        referral_id,
                        "erased",
                        "innholdet er slettet etter oppbevaringstiden",
                        finished + RETENTION,
                    )
                )
            if len(referrals) >= 20_000:
                self._flush_referrals(referrals, transitions, messages, audits)
        self._flush_referrals(referrals, transitions, messages, audits)

    def _audit(self, actor_id, service_id, referral_id, action, detail, at) -> dict:
        return {
            "id": self.w.new_id(ReferralAudit),
            "at": at,
            "actor_id": actor_id,
            "actor_service_id": service_id,
            "referral_id": referral_id,
            "action": action,
            "detail": detail,
        }

    def _flush_referrals(self, referrals, transitions, messages, audits) -> None:
        w = self.w
        w.insert(Referral, referrals)
        w.insert(ReferralTransition, transitions)
        w.insert(ReferralMessage, messages)
        w.insert(ReferralAudit, audits)
        w.step(f"  henvendelser: {w.counts['referral']} (revisjonsrader {w.counts['referral_audit']})")
        for rows in (referrals, transitions, messages, audits):
            rows.clear()

    # Competence and materials -------------------------------------------------------------------

    def competence(self) -> None:
        """Profiles for every coordinator and two other users in five (where they work, a third of them
        findable by name) and records
        over the areas of the catalogue; a certification in an area that expires runs out after its months,
        some other records carry an expiry too, so some records have expired."""
        w, rng, spec = self.w, self.rng, self.spec
        w.step("Kompetanseprofiler og kompetanse")
        areas = [
            tuple(r)
            for r in self.c.execute(
                select(CompetenceArea.id, CompetenceArea.expires_after_months).order_by(CompetenceArea.id)
            )
        ]
        if not areas or not spec.competence_records:
            return
        service_of_unit = {u["id"]: u["service_id"] for u in self.units}
        coordinators = {u["id"] for u in self.coordinators.values()}
        profiled = [u for u in self.users if u["id"] in coordinators or rng.random() < 0.4]
        profiles = [
            {
                "user_id": u["id"],
                "contactable": rng.random() < 0.3,
                "municipality_id": u["municipality_id"],
                "service_id": service_of_unit.get(u["unit_id"]),
                "updated_at": self.now,
            }
            for u in profiled
        ]
        w.insert(CompetenceProfile, profiles, "kompetanseprofiler")
        if not profiled:
            return
        levels = [
            (CompetenceLevel.AWARENESS, 25),
            (CompetenceLevel.TRAINED, 45),
            (CompetenceLevel.CERTIFIED, 22),
            (CompetenceLevel.INSTRUCTOR, 8),
        ]
        today, span = self.now.date(), 365 * spec.years
        rows = []
        for _ in range(spec.competence_records):
            person = rng.choice(profiled)
            area_id, months = rng.choice(areas)
            achieved = today - timedelta(days=rng.randrange(span))
            expires = None
            if months:
                expires = achieved + timedelta(days=months * 365 // 12)
            elif rng.random() < 0.1:
                expires = achieved + timedelta(days=365 * rng.choice((1, 2, 3)))
            source = RecordSource.COORDINATOR if rng.random() < 0.2 else RecordSource.SELF
            bases = self.bases_of.get(person["municipality_id"])
            recorder = (
                self.coordinators[bases[0]]["id"] if source == RecordSource.COORDINATOR and bases else person["id"]
            )
            at = datetime.combine(achieved, time(12), tzinfo=UTC)
            rows.append(
                {
                    "id": w.new_id(CompetenceRecord),
                    "user_id": person["id"],
                    "area_id": area_id,
                    "level": _weighted(rng, levels),
                    "achieved_on": achieved,
                    "issued_by": "",
                    "expires_on": expires,
                    "source": source,
                    "event_id": None,
                    "recorded_by_id": recorder,
                    "created_at": at,
                    "updated_at": at,
                }
            )
        w.insert(CompetenceRecord, rows, "kompetanse")

    def materials(self) -> None:
        """Materials of the bases' libraries, each with one or two versions, some about an area or from a
        gathering of the base (the first one from the fagdag the benchmark measures). Version rows only: no
        file is written (the lists do not read files; a download of a synthetic version answers 404)."""
        w, rng, spec = self.w, self.rng, self.spec
        w.step("Materiell")
        area_ids = list(self.c.execute(select(CompetenceArea.id).order_by(CompetenceArea.id)).scalars())
        networks_of = defaultdict(list)
        for network, shared in self.networks:
            for base_id in shared:
                networks_of[base_id].append(network["id"])
        events_of = defaultdict(list)
        for event in self.event_rows:
            if event["base_id"] and event["status"] not in (EventStatus.DRAFT, EventStatus.CANCELLED):
                events_of[event["base_id"]].append(event["id"])
        kinds = [
            ("pdf", "application/pdf", 60),
            ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", 20),
            ("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", 20),
        ]
        materials, versions, area_links, event_links = [], [], [], []
        flagship = getattr(self, "measured_event", None)
        for n in range(spec.materials):
            base = (
                next(b for b in self.bases if b["id"] == flagship["base_id"])
                if flagship and n == 0
                else rng.choice(self.bases)
            )
            topic = rng.choice(TOPICS)
            audience = _weighted(
                rng,
                [
                    (MaterialAudience.EVERYONE, 60),
                    (MaterialAudience.BASE, 30),
                    (MaterialAudience.NETWORK, 10 if networks_of[base["id"]] else 0),
                ],
            )
            published = (self.now - timedelta(days=rng.randrange(365 * spec.years))).date()
            count = 2 if rng.random() < 0.3 else 1
            material = {
                "id": w.new_id(Material),
                "base_id": base["id"],
                "title": f"{rng.choice(('Presentasjon', 'Veileder', 'Mal', 'Rapport'))}: {topic}",
                "description": "Syntetisk materiell (skaleringsdata).",
                "author": base["name"],
                "owner_id": self.coordinators[base["id"]]["id"],
                "published_on": published,
                "audience": audience,
                "network_id": rng.choice(networks_of[base["id"]]) if audience == MaterialAudience.NETWORK else None,
                "current_version": count,
                "created_at": datetime.combine(published, time(12), tzinfo=UTC),
                "updated_at": self.now,
            }
            materials.append(material)
            kind, content_type, _ = rng.choices(kinds, weights=[k[2] for k in kinds])[0]
            for number in range(1, count + 1):
                versions.append(
                    {
                        "id": w.new_id(MaterialVersion),
                        "material_id": material["id"],
                        "number": number,
                        "original_name": f"{slugify(topic)}-v{number}.{kind}",
                        "stored_name": f"{rng.getrandbits(128):032x}.{kind}",
                        "kind": kind,
                        "content_type": content_type,
                        "size": rng.randint(20_000, 4_000_000),
                        "sha256": f"{rng.getrandbits(256):064x}",
                        "note": "" if number == 1 else "Oppdatert",
                        "uploaded_by_id": material["owner_id"],
                        "uploaded_at": material["created_at"],
                    }
                )
            area_links += [
                {"material_id": material["id"], "area_id": a}
                for a in rng.sample(area_ids, min(len(area_ids), rng.choice((0, 1, 1, 2))))
            ]
            if flagship and n == 0:
                event_links.append({"material_id": material["id"], "event_id": flagship["id"]})
            elif events_of[base["id"]] and rng.random() < 0.4:
                event_links.append({"material_id": material["id"], "event_id": rng.choice(events_of[base["id"]])})
        w.insert(Material, materials)
        w.insert(MaterialVersion, versions)
        w.insert(MaterialArea, area_links)
        w.insert(MaterialEvent, event_links)


def describe(counts: dict[str, int]) -> str:
    return ", ".join(f"{table} {count}" for table, count in sorted(counts.items()) if count)
