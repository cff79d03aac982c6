"""Builders of test data, one of each. Every builder takes the test's session (`db`) and keyword overrides with
sensible defaults, goes through the real operations (so what it makes passes the same checks and writes the
same log as in the app) and commits. Plain functions rather than factory_boy: the operations already build the
rows, and factory_boy's SQLAlchemy factories would write rows around them."""

from datetime import date, time, timedelta

from conftest import USERS, in_app
from sqlmodel import select

from nettverk.accounts.models import User
from nettverk.events import operations as events
from nettverk.events.models import Event, Registration
from nettverk.networks.models import Network, NetworkBase
from nettverk.registry.models import CompetenceBase, Municipality


def base_id(db, slug: str) -> int:
    return db.exec(select(CompetenceBase.id).where(CompetenceBase.slug == slug)).one()


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
