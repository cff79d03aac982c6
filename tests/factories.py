"""Builders of test data, one of each. Every builder takes the test's session (`db`) and keyword overrides with
sensible defaults, goes through the real operations (so what it makes passes the same checks and writes the
same log as in the app) and commits. Plain functions rather than factory_boy: the operations already build the
rows, and factory_boy's SQLAlchemy factories would write rows around them."""

import io
from datetime import date, datetime, time, timedelta

from conftest import DEMO_PASSWORD, USERS, in_app
from sqlmodel import select

from nettverk.accounts.models import User
from nettverk.accounts.operations import hash_password
from nettverk.competence import operations as competence
from nettverk.competence.models import CompetenceArea, CompetenceProfile, CompetenceRecord
from nettverk.events import operations as events
from nettverk.events.models import Event, Registration
from nettverk.materials import operations as materials
from nettverk.materials.demo import pdf_document
from nettverk.materials.models import Material, MaterialAudience
from nettverk.networks.models import Network, NetworkBase
from nettverk.policy import PROVIDER, SENDER
from nettverk.referrals import operations as referrals
from nettverk.referrals.models import Intervention, Referral, ReferralStatus
from nettverk.registry.models import CompetenceBase, Municipality, Service
from nettverk.timeutil import today_in_oslo

# Lookups of the seeded reference and demo data ------------------------------------------------------


def base(db, slug: str) -> CompetenceBase:
    return db.exec(select(CompetenceBase).where(CompetenceBase.slug == slug)).one()


def base_id(db, slug: str) -> int:
    return db.exec(select(CompetenceBase.id).where(CompetenceBase.slug == slug)).one()


def municipality(db, number: str) -> Municipality:
    return db.exec(select(Municipality).where(Municipality.number == number)).one()


def municipality_id(db, number: str) -> int:
    return db.exec(select(Municipality.id).where(Municipality.number == number)).one()


def service(db, slug: str) -> Service:
    return db.exec(select(Service).where(Service.slug == slug)).one()


def user(db, who: str) -> User:
    """`who` is a role of conftest.USERS (its demo user) or an e-mail."""
    return db.exec(select(User).where(User.email == USERS.get(who, who))).one()


def user_id(db, who: str) -> int:
    return user(db, who).id


def network(db, slug: str) -> Network:
    return db.exec(select(Network).where(Network.slug == slug)).one()


def intervention(db, slug: str) -> Intervention:
    return db.exec(select(Intervention).where(Intervention.slug == slug)).one()


def area(db, slug: str) -> CompetenceArea:
    return db.exec(select(CompetenceArea).where(CompetenceArea.slug == slug)).one()


# Builders -------------------------------------------------------------------------------------------


def make_event(
    db,
    title: str = "Fagdag om BTI",
    day=None,
    *,
    days: int = 30,
    base: str | None = "fosen",
    publish: bool = True,
    **fields,
) -> Event:
    """A fagdag of `base` on `day` (or `days` from today), 09.00–15.00 Oslo time, published unless told otherwise;
    `fields` are EventData's (end_date, start_time, capacity, network_id …). An all-day event has no times."""
    db.commit()  # what the test set up so far is kept, and a fresh transaction begins: on SQLite an old read
    db.expire_all()  # snapshot cannot write, and objects a request changed are read again
    day = day or date.today() + timedelta(days=days)
    all_day = fields.get("all_day", False)
    data = {
        "kind": "fagdag",
        "title": title,
        "start_date": day,
        "end_date": day,
        "start_time": None if all_day else time(9),
        "end_time": None if all_day else time(15),
        "base_id": base_id(db, base) if base else None,
        **fields,
    }
    event = events.save_event(db, None, events.EventData(**data))
    if publish:
        events.publish_event(db, None, event)
    db.commit()
    return event


def make_network(db, name: str = "Testnettverk Fosen", *, bases=("fosen",), **fields) -> Network:
    """A network of `bases`, its slug made from the name; `fields` are Network's (slug, kind, cadence …). A cadence
    counts from 1 January 2026 unless told otherwise."""
    fields.setdefault("slug", name.lower().replace(" ", "-"))
    if fields.get("cadence"):
        fields.setdefault("cadence_start", date(2026, 1, 1))
    network = Network(name=name, **fields)
    db.add(network)
    db.flush()
    db.add_all(NetworkBase(network_id=network.id, base_id=base_id(db, slug)) for slug in bases)
    db.commit()
    return network


@in_app  # registering renders mail
def register(
    db, event: Event, email: str, name: str = "", *, by: str | None = None, municipality: str | None = None, **fields
) -> Registration:
    """`email` registered for `event` through the operation: an account registers itself; an address without one,
    or anyone when `by` (a coordinator's e-mail) is given, is put on by a coordinator (by default Fosen's), so the
    seat is confirmed at once. `municipality` is the number the person gives; `fields` are Registrant's."""
    account = db.exec(select(User).where(User.email == email)).first()
    fields.setdefault("user", account)
    if municipality:
        fields["municipality_id"] = db.exec(select(Municipality.id).where(Municipality.number == municipality)).one()
    coordinator = by or (None if account else USERS["coordinator_fosen"])
    registration, _ = events.register(
        db,
        event.id,
        events.Registrant(name=name or (account.name if account else email), email=email, **fields),
        by=db.exec(select(User).where(User.email == coordinator)).one() if coordinator else None,
    )
    db.commit()
    return registration


def make_users(db, count: int, prefix: str = "deltaker") -> list[str]:
    """`count` accounts without a role («Deltaker 0», deltaker0@example.no …) with the demo password; their
    e-mails. Written as rows: no operation makes an account without a role (people come by invitation)."""
    emails = [f"{prefix}{n}@example.no" for n in range(count)]
    password = hash_password(DEMO_PASSWORD)  # the test app's cheap hash, once
    db.add_all(User(email=email, name=f"Deltaker {n}", password_hash=password) for n, email in enumerate(emails))
    db.commit()
    return emails


def make_tiltak(
    db,
    name: str,
    *,
    base: str = "namdalen",
    provider: str = "innherred-barnevern",
    method: str = "foreldreveiledning",
    capacity: int = 4,
    **fields,
) -> Intervention:
    """A tiltak of `base` delivered by the service `provider` (slugs); `fields` are InterventionData's."""
    tiltak = referrals.save_intervention(
        db,
        None,
        referrals.InterventionData(
            name=name,
            method=method,
            base_id=base_id(db, base),
            provider_service_id=service(db, provider).id,
            capacity=capacity,
            **fields,
        ),
    )
    db.commit()
    return tiltak


REFERRAL_STEPS = {  # the actions that bring a referral from sent to each status
    ReferralStatus.DRAFT: [],
    ReferralStatus.SENT: [],
    ReferralStatus.RECEIVED: ["receive"],
    ReferralStatus.ACCEPTED: ["receive", "accept"],
    ReferralStatus.DECLINED: ["receive", "decline"],
    ReferralStatus.IN_PROGRESS: ["receive", "start"],
    ReferralStatus.CLOSED: ["receive", "start", "close"],
    ReferralStatus.WITHDRAWN: ["withdraw"],
}


@in_app  # every step mails the other side
def make_referral(
    db,
    status: str = ReferralStatus.SENT,
    *,
    tiltak: str = "pmto-foreldretrening",
    sender: str = "service_staff",
    sender_service: str = "fosen-barnevern",
    provider: str = "provider",
    municipality: str = "5054",
    sent_at: datetime | None = None,
    **fields,
) -> Referral:
    """A consented referral by `sender` (a role of conftest.USERS or an e-mail) of `sender_service` to `tiltak` (a
    slug) about a family in `municipality` (Indre Fosen), brought to `status` through the operations: the
    sender withdraws, `provider` (of the tiltak's team) takes the other steps. `sent_at` moves the sending back
    for the jobs that count from it. `fields` are ReferralData's."""
    data = {
        "intervention_id": intervention(db, tiltak).id,
        "sending_service_id": service(db, sender_service).id,
        "family_municipality_id": municipality_id(db, municipality),
        "case_reference": "2026/114",
        "children_count": 1,
        "child_birth_years": [2016],
        "need": "Foreldrene ønsker hjelp med grensesetting og faste rutiner i hverdagen.",
        "consent_given": True,
        "consent_date": date.today() - timedelta(days=3),
        "consent_form": "skriftlig",
        **fields,
    }
    referral = referrals.create_referral(
        db, user_id(db, sender), referrals.ReferralData(**data), send=status != ReferralStatus.DRAFT
    )
    if sent_at is not None:
        referral.sent_at = sent_at
        db.add(referral)
    db.commit()
    for step in REFERRAL_STEPS[status]:
        referral_action(
            db,
            referral,
            step,
            by=sender if step == "withdraw" else provider,
            comment="Notat fra teamet.",
            reason="Ikke ledig kapasitet.",
            outcome="completed",
            outcome_note="Gikk bra.",
        )
    return referral


@in_app  # the step mails the other side
def referral_action(db, referral: Referral, action: str, *, by: str = "provider", **fields) -> None:
    """`by` (a role of conftest.USERS or an e-mail) takes `action` through the operation: withdrawing as the
    sending side, any other as the providing side. `fields` are take_action's (comment, reason, outcome …)."""
    side = SENDER if action == "withdraw" else PROVIDER
    referrals.take_action(db, user_id(db, by), {side}, referral, action, **fields)
    db.commit()


@in_app  # the file goes to the materials folder of the app's settings
def make_material(
    db,
    title: str = "Handlingsveileder",
    *,
    base: str = "fosen",
    audience: str = MaterialAudience.EVERYONE,
    network_slug: str | None = None,
    areas=(),
    **fields,
) -> Material:
    """A material of `base` with one PDF version (`title`.pdf); `network_slug` names the network of a material
    for a network, `areas` are competence areas' slugs, `fields` MaterialData's (event_ids, published_on …).
    Published 10 March 2026 unless told otherwise."""
    fields.setdefault("published_on", date(2026, 3, 10))
    material = materials.create_material(
        db,
        None,
        db.get(CompetenceBase, base_id(db, base)),
        materials.MaterialData(
            title=title,
            audience=audience,
            network_id=network(db, network_slug).id if network_slug else None,
            area_ids=[area(db, slug).id for slug in areas],
            **fields,
        ),
        materials.Upload(
            io.BytesIO(pdf_document("Handlingsveileder", ["Nivå 0: avklare bekymringen."])), f"{title}.pdf"
        ),
    )
    db.commit()
    return material


def make_record(
    db,
    who: str,
    area_slug: str,
    *,
    level: str = "certified",
    municipality: str | None = None,
    contactable: bool | None = None,
    **fields,
) -> CompetenceRecord:
    """A competence record of `who` (a role of conftest.USERS or an e-mail) as they would type it themselves,
    achieved 100 days ago unless told otherwise: through the operation, so a certification in an area that
    expires gets the area's expiry unless `expires_on` is given. `municipality` (a number) and `contactable`
    set the person's profile. `fields` are RecordData's (achieved_on, expires_on, issued_by)."""
    person = user(db, who)
    fields.setdefault("achieved_on", today_in_oslo() - timedelta(days=100))
    record = competence.add_record(
        db, person.id, person.id, competence.RecordData(area_id=area(db, area_slug).id, level=level, **fields)
    )
    if municipality or contactable is not None:
        profile = db.get(CompetenceProfile, person.id)
        competence.save_profile(
            db,
            person,
            profile.contactable if contactable is None else contactable,
            municipality_id(db, municipality) if municipality else profile.municipality_id,
            profile.service_id,
        )
    db.commit()
    return record
