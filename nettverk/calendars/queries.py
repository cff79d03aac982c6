"""Which events a feed holds, a cheap fingerprint of them for ETag and 304, and the calendar entries
the renderer needs, read in a fixed number of queries whatever the number of events.

A feed is a `Scope`: a SQL condition on events plus a name. Its fingerprint is one aggregate query
over the same condition (count, sum of ids, latest change): every change the renderer shows moves
`Event.updated_at` (operations set it on every change of an event), an event that enters or leaves
the feed changes the count or the sum, and so a poll that finds nothing changed costs one query and
renders nothing. The fingerprint itself is kept (per worker and in `calendar_fingerprint`) while the
data version (triggers, migration 7a4c0d25f3b8) stands still, so a poll usually costs not even that
aggregate; and each event's rendered VEVENT is kept in `calendar_rendered_event`, so a cold feed renders
only the events that changed (issue 8, docs/PERFORMANCE.md).
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import and_, case, false, func, literal_column, or_, table
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from nettverk.accounts.models import RoleAssignment, User
from nettverk.calendars.models import CalendarDataVersion, CalendarFingerprint, CalendarToken, RenderedEvent
from nettverk.calendars.render import RENDER_VERSION, Entry, ProgrammeLine, component_digest, feed_component
from nettverk.db import get_engine
from nettverk.events.models import (
    EVENT_KINDS,
    Event,
    EventAudience,
    EventStatus,
    ProgrammeItem,
    Registration,
    RegistrationStatus,
)
from nettverk.networks.models import Network, NetworkBase, NetworkMember
from nettverk.policy import EVERYONE_SEES, events_of_bases, personal_drafts
from nettverk.registry.models import BaseMembership, CompetenceBase, Municipality, MunicipalityChange
from nettverk.registry.queries import with_predecessors
from nettverk.timeutil import to_oslo, utcnow
from nettverk.tokens import hash_token

PAST = timedelta(days=365)  # a feed holds the last year and everything ahead
STORE_WAIT_MS = 200  # how long storing rendered events waits for SQLite's write lock
CANCELLED_KEPT = timedelta(days=60)  # a cancelled event stays (as CANCELLED) so clients remove it


@dataclass
class Scope:
    key: str  # e.g. "base:3"; part of the ETag
    name: str  # the calendar's name in the client
    about: str
    condition: object  # SQL condition on Event
    alarm_minutes: int | None = None

    @property
    def personal(self) -> bool:
        return self.key.startswith("person:")


def in_window(now: datetime):
    """The last year and the future; a cancelled event only while it is ahead or was cancelled
    within the last 60 days (its updated_at is the cancellation)."""
    return and_(
        Event.ends_at >= now - PAST,
        or_(Event.status != EventStatus.CANCELLED, Event.ends_at >= now, Event.updated_at >= now - CANCELLED_KEPT),
    )


GUEST_CALENDAR_NAME = "mine påmeldinger"


# The scope keys, also built by poll_state from plain columns.


def _base_key(base_id: int, name: str) -> str:
    return f"base:{base_id}:{name}"


def _network_key(network_id: int, name: str) -> str:
    return f"network:{network_id}:{name}"


def _municipality_key(municipality_id: int, name: str) -> str:
    return f"municipality:{municipality_id}:{name}"


def _person_key(email: str, name: str, coordinated_base_ids: set[int]) -> str:
    # The name is in the key (as in the other scopes): it is the calendar's name, so a new name is a new ETag.
    return f"person:{email}:{name}:{sorted(coordinated_base_ids)}"


def base_scope(base: CompetenceBase) -> Scope:
    return Scope(
        _base_key(base.id, base.name),
        f"{base.name} – samlinger",
        f"Fagdager, samlinger, kurs og nettverksmøter i {base.name}.",
        and_(EVERYONE_SEES, events_of_bases({base.id})),
    )


def network_scope(network: Network) -> Scope:
    return Scope(
        _network_key(network.id, network.name),
        network.name,
        f"Møtene i {network.name}.",
        and_(EVERYONE_SEES, Event.network_id == network.id),
    )


def successors(session: Session, municipality: Municipality) -> list[Municipality]:
    """The current municipalities a merged-away one lives on in (several after a split, the last of a chain of
    mergers), from the history whose dates have come; empty while it exists."""
    today = to_oslo(utcnow()).date()
    if municipality.valid_to is None or municipality.valid_to >= today:
        return []
    edges: dict[int, list[int]] = {}
    for change in session.exec(select(MunicipalityChange).where(MunicipalityChange.effective_date <= today)):
        edges.setdefault(change.predecessor_id, []).append(change.successor_id)
    found, seen, todo = set(), {municipality.id}, list(edges.get(municipality.id, []))
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(edges.get(current, []))
            if current not in edges:
                found.add(current)
    return sorted(session.exec(select(Municipality).where(Municipality.id.in_(found))), key=lambda m: m.number)


def municipality_scope(session: Session, municipality: Municipality) -> Scope:
    """Events hosted or held in the municipality (or the ones it was merged from), and the events of
    its bases that are open to the base or the whole region. A merged-away municipality's feed is its
    successor's (each of them after a split), so its subscribers keep getting their gatherings."""
    if later := successors(session, municipality):
        scopes = [municipality_scope(session, successor) for successor in later]
        names = " og ".join(filter(None, (", ".join(s.name for s in later[:-1]), later[-1].name)))
        key = f"{_municipality_key(municipality.id, municipality.name)}>{','.join(s.key for s in scopes)}"
        return Scope(
            key,
            f"Samlinger for {names}",
            f"{municipality.name} er slått sammen med {names}. Samlinger i og for {names}.",
            or_(*(scope.condition for scope in scopes)),
        )
    ids = with_predecessors(session, municipality.id)
    base_ids = select(BaseMembership.base_id).where(BaseMembership.municipality_id.in_(ids))
    open_to_it = and_(
        Event.audience != EventAudience.NETWORK,
        or_(
            Event.base_id.in_(base_ids),
            Event.network_id.in_(select(NetworkBase.network_id).where(NetworkBase.base_id.in_(base_ids))),
        ),
    )
    there = or_(Event.host_municipality_id.in_(ids), Event.venue_municipality_id.in_(ids))
    return Scope(
        _municipality_key(municipality.id, municipality.name),
        f"Samlinger for {municipality.name}",
        f"Samlinger i og for {municipality.name}.",
        and_(EVERYONE_SEES, or_(there, open_to_it)),
    )


def personal_scope(
    email: str, user_id: int | None, coordinated_base_ids: set[int], alarm_minutes: int | None, name: str
) -> Scope:
    """A person's own calendar: what they are registered for, the meetings of their networks, and for
    a coordinator the drafts of their bases (shown as TENTATIVE)."""
    registered = Event.id.in_(
        select(Registration.event_id).where(
            Registration.email == email, Registration.status == RegistrationStatus.CONFIRMED
        )
    )
    parts = [and_(EVERYONE_SEES, registered)]
    if user_id is not None:
        member_of = select(NetworkMember.network_id).where(NetworkMember.user_id == user_id)
        parts.append(and_(EVERYONE_SEES, Event.network_id.in_(member_of)))
    if coordinated_base_ids:
        parts.append(personal_drafts(coordinated_base_ids))
    return Scope(
        _person_key(email, name, coordinated_base_ids),
        f"nettverk – {name}" if name else "nettverk",
        "Dine påmeldinger og nettverksmøter i nettverk.",
        or_(*parts) if parts else false(),
        alarm_minutes,
    )


def fingerprint(session: Session, scope: Scope, now: datetime | None = None) -> tuple[str, datetime | None]:
    """(ETag, Last-Modified) of the feed, from one aggregate query."""
    return timed_fingerprint(session, scope, now)[:2]


def _aware(value) -> datetime | None:
    if isinstance(value, str):  # SQLite hands back text from an aggregate
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def timed_fingerprint(
    session: Session, scope: Scope, now: datetime | None = None
) -> tuple[str, datetime | None, datetime | None]:
    """(ETag, Last-Modified, valid until): the fingerprint, and the first moment at which time alone (no
    change of data) could change it, when the first of its events leaves the window (None: never)."""
    now = now or utcnow()
    ended_cancelled = and_(Event.status == EventStatus.CANCELLED, Event.ends_at < now)
    count, id_sum, latest, first_end, cancelled_ahead, cancelled_at = session.exec(
        select(
            func.count(Event.id),
            func.coalesce(func.sum(Event.id), 0),
            func.max(Event.updated_at),
            func.min(Event.ends_at),
            func.min(case((and_(Event.status == EventStatus.CANCELLED, Event.ends_at >= now), Event.ends_at))),
            func.min(case((ended_cancelled, Event.updated_at))),
        ).where(scope.condition, in_window(now))
    ).one()
    if isinstance(latest, str):  # SQLite hands back text from an aggregate
        latest = datetime.fromisoformat(latest)
    parts = f"{RENDER_VERSION}|{scope.key}|{scope.alarm_minutes}|{count}|{id_sum}|{latest}"
    digest = hashlib.sha256(parts.encode()).hexdigest()[:32]
    # An event leaves a year after it ended; a cancelled one ahead not before it ends, a cancelled one that
    # has ended CANCELLED_KEPT after its cancellation (its updated_at). Each bound is at or before the event
    # really leaves, so the fingerprint holds until the earliest of them.
    bounds = [
        _aware(first_end) and _aware(first_end) + PAST,
        _aware(cancelled_ahead),
        _aware(cancelled_at) and _aware(cancelled_at) + CANCELLED_KEPT,
    ]
    bounds = [b for b in bounds if b is not None]
    return f'"{digest}"', latest, min(bounds) if bounds else None


# A kept fingerprint is recomputed after this even if the data version stood still: on PostgreSQL a poll can
# see a writer's new version a moment before its commit (see migration 7a4c0d25f3b8), so this bounds how long
# such a poll's fingerprint could be one change behind (less than the feeds' Cache-Control max-age of 5 min
# plus one poll).
FINGERPRINT_TTL = timedelta(minutes=10)


@dataclass(frozen=True)
class DataVersion:
    """Numbers that move on every change of the tables a fingerprint reads (triggers of migrations 7a4c0d25f3b8
    and 8c6e2f47a5d9): while the ones a feed depends on stand still, a fingerprint computed before still holds,
    except for the window of a feed moving with time, hence FINGERPRINT_TTL. `shared` moves with what public
    feeds show (events, memberships, names), `people` with what only personal feeds show or check
    (registrations, network members, calendar tokens, roles, users), so a registration leaves every public
    feed's kept answer standing."""

    shared: int
    people: int

    def of(self, personal: bool) -> int:
        # Both only grow, so their sum moves whenever either does.
        return self.shared + self.people if personal else self.shared


def data_version(session: Session) -> DataVersion | None:
    """None when unknown (then always recompute)."""
    shared, people = session.exec(select(*_version_columns(session.get_bind().dialect.name))).one()
    return None if shared is None else DataVersion(shared, people)


def _version_columns(dialect: str) -> tuple:
    """data_version as two scalar subqueries, to be read in the same statement as other columns."""
    if dialect == "postgresql":

        def sequence(name):
            return (
                select(literal_column("last_value + CASE WHEN is_called THEN 1 ELSE 0 END"))
                .select_from(table(name))
                .scalar_subquery()
            )

        return sequence("calendar_data_version_seq"), sequence("calendar_people_version_seq")

    def row(row_id):
        return select(CalendarDataVersion.version).where(CalendarDataVersion.id == row_id).scalar_subquery()

    # Row 2 is made by the first change of its tables after the counters were emptied (the tests do).
    return row(1), func.coalesce(row(2), 0)


@dataclass(frozen=True)
class PollState:
    version: DataVersion
    key: str  # the feed's scope key, as base_scope etc. make it
    alarm_minutes: int | None
    name: str  # the base's, network's or municipality's name (the person's calendar name)


def poll_state(connection, kind: str, value: str) -> PollState | None:
    """The data version and the feed's scope key in one statement of plain columns, no ORM objects, for a
    poll that may be answered from a kept fingerprint before the feed's object is loaded: for a base,
    network or municipality its id and name; for a personal feed the live token and its reminder, and the
    owner's e-mail, name, active flag and coordinator roles, as operations.feed_owner reads them. None when
    the feed does not exist, the token is revoked or replaced, its user deactivated, or the version is
    unknown: then the poll takes the ordinary way (which answers 404 where it should)."""
    versions = _version_columns(connection.dialect.name)
    if kind == "base":
        query = select(*versions, CompetenceBase.id, CompetenceBase.name).where(CompetenceBase.slug == value)
    elif kind == "network":
        query = select(*versions, Network.id, Network.name).where(Network.slug == value)
    elif kind == "municipality":
        query = select(*versions, Municipality.id, Municipality.name).where(Municipality.number == value)
    else:
        query = (
            select(
                *versions,
                CalendarToken.user_id,
                CalendarToken.alarm_minutes,
                CalendarToken.guest_email,
                User.email,
                User.name,
                User.is_active,
                RoleAssignment.base_id,
            )
            .join(User, User.id == CalendarToken.user_id, isouter=True)
            .join(
                RoleAssignment,
                and_(RoleAssignment.user_id == CalendarToken.user_id, RoleAssignment.role == "coordinator"),
                isouter=True,
            )
            .where(CalendarToken.token_hash == hash_token(value), CalendarToken.revoked_at.is_(None))
        )
    rows = connection.execute(query).all()
    if not rows or rows[0][0] is None:
        return None
    version = DataVersion(rows[0][0], rows[0][1])
    if kind != "person":
        _, _, row_id, name = rows[0]
        make_key = {"base": _base_key, "network": _network_key, "municipality": _municipality_key}[kind]
        return PollState(version, make_key(row_id, name), None, name)
    _, _, user_id, alarm, guest_email, email, name, active, _ = rows[0]
    if user_id is None:
        return PollState(version, _person_key(guest_email, GUEST_CALENDAR_NAME, set()), alarm, GUEST_CALENDAR_NAME)
    if email is None or not active:
        return None
    name = name or email
    bases = {row[-1] for row in rows if row[-1] is not None}
    return PollState(version, _person_key(email, name, bases), alarm, name)


def events_of(session: Session, scope: Scope, now: datetime | None = None) -> list[Event]:
    return list(
        session.exec(
            select(Event).where(scope.condition, in_window(now or utcnow())).order_by(Event.starts_at, Event.id)
        )
    )


def _adapter():
    base = urlsplit(current_app.config["BASE_URL"])
    return current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)


def external_url(endpoint: str, **values) -> str:
    """An absolute URL on the public address (NETTVERK_BASE_URL), also outside a request."""
    return _adapter().build(endpoint, values, force_external=True)


def _names():
    """The outer joins to the names an entry shows, and their columns."""
    columns = (
        CompetenceBase.name.label("base_name"),
        Network.name.label("network_name"),
        Municipality.name.label("venue_municipality"),
    )
    return (
        columns,
        lambda query: (
            query.join(CompetenceBase, CompetenceBase.id == Event.base_id, isouter=True)
            .join(Network, Network.id == Event.network_id, isouter=True)
            .join(Municipality, Municipality.id == Event.venue_municipality_id, isouter=True)
        ),
    )


def _build(
    session: Session, events: list, names: dict[int, tuple[str, str, str]], personal: bool = False
) -> list[Entry]:
    """Entries of events (Event objects or rows with the same attributes), with the programme (one query).
    `personal`: a person's own feed, whose published and held events are theirs to attend (Entry.busy)."""
    ids = [e.id for e in events]
    programme: dict[int, list[ProgrammeLine]] = {}
    for start in range(0, len(ids), 5000):  # well under SQLite's limit of bound parameters
        for event_id, starts, title, speaker in session.exec(
            select(ProgrammeItem.event_id, ProgrammeItem.starts, ProgrammeItem.title, ProgrammeItem.speaker)
            .where(ProgrammeItem.event_id.in_(ids[start : start + 5000]))
            .order_by(ProgrammeItem.event_id, ProgrammeItem.position)
        ):
            programme.setdefault(event_id, []).append(ProgrammeLine(starts, title, speaker))
    adapter = _adapter()
    result = []
    for event in events:
        base_name, network_name, venue_municipality = names.get(event.id, ("", "", ""))
        kind = EVENT_KINDS.get(event.kind, event.kind)
        result.append(
            Entry(
                uid=event.uid,
                sequence=event.sequence,
                status=event.status,
                title=event.title,
                starts_at=event.starts_at,
                ends_at=event.ends_at,
                all_day=event.all_day,
                created_at=event.created_at,
                updated_at=event.updated_at,
                url=adapter.build("events.event_detail", {"event_id": event.id}, force_external=True),
                description=event.description,
                programme=tuple(programme.get(event.id, ())),
                venue_name=event.venue_name,
                venue_address=event.venue_address,
                venue_municipality=venue_municipality,
                online_url=event.online_url,
                organizer_name=network_name or base_name,
                kind_label=kind,
                categories=tuple(c for c in (kind, base_name or network_name) if c),
                busy=personal and event.status in (EventStatus.PUBLISHED, EventStatus.HELD),
            )
        )
    return result


def entries(session: Session, events: list[Event]) -> list[Entry]:
    """The renderer's view of these events: two queries (names, programme), none per event."""
    if not events:
        return []
    columns, joined = _names()
    rows = session.exec(joined(select(Event.id, *columns)).where(Event.id.in_([e.id for e in events])))
    names = {event_id: (base or "", network or "", venue or "") for event_id, base, network, venue in rows}
    return _build(session, events, names)


ENTRY_COLUMNS = (
    Event.id,
    Event.uid,
    Event.sequence,
    Event.status,
    Event.title,
    Event.starts_at,
    Event.ends_at,
    Event.all_day,
    Event.created_at,
    Event.updated_at,
    Event.description,
    Event.venue_name,
    Event.venue_address,
    Event.online_url,
    Event.kind,
)


def feed_entries(session: Session, scope: Scope, now: datetime | None = None) -> tuple[list[int], list[Entry]]:
    """(event ids, entries) of the feed in its order, in two queries: the events with their names as plain
    rows (no ORM objects: a national feed holds a thousand), and the programme."""
    columns, joined = _names()
    rows = session.exec(
        joined(select(*ENTRY_COLUMNS, *columns))
        .where(scope.condition, in_window(now or utcnow()))
        .order_by(Event.starts_at, Event.id)
    ).all()
    names = {row.id: (row.base_name or "", row.network_name or "", row.venue_municipality or "") for row in rows}
    return [row.id for row in rows], _build(session, rows, names, scope.personal)


def entry(session: Session, event: Event) -> Entry:
    return entries(session, [event])[0]


def components(
    session: Session, entries: list[Entry], event_ids: list[int], *, mail_from: str, alarm_minutes: int | None
) -> list[bytes]:
    """The feed's VEVENTs, from the table of rendered events where the entry has not changed since (one
    query), rendered and stored (one statement) for the rest."""
    if not entries:
        return []
    alarm = alarm_minutes or 0
    stored = {}
    for start in range(0, len(event_ids), 5000):  # well under SQLite's limit of bound parameters
        rows = session.exec(
            select(RenderedEvent.event_id, RenderedEvent.busy, RenderedEvent.digest, RenderedEvent.body).where(
                RenderedEvent.alarm_minutes == alarm, RenderedEvent.event_id.in_(event_ids[start : start + 5000])
            )
        )
        stored.update({(event_id, busy): (digest, body) for event_id, busy, digest, body in rows})
    result, fresh = [], []
    for event_id, item in zip(event_ids, entries, strict=True):
        digest = component_digest(item, mail_from=mail_from, alarm_minutes=alarm_minutes)
        found = stored.get((event_id, item.busy))
        if found is not None and found[0] == digest:
            result.append(found[1].encode())
            continue
        body = feed_component(item, mail_from=mail_from, alarm_minutes=alarm_minutes)
        result.append(body)
        fresh.append(
            {"event_id": event_id, "alarm_minutes": alarm, "busy": item.busy, "digest": digest, "body": body.decode()}
        )
    if fresh:
        _store(fresh)
    return result


def _store(rows: list[dict]) -> None:
    _upsert(RenderedEvent.__table__, rows, ["event_id", "alarm_minutes", "busy"])


def _upsert(table, rows: list[dict], keys: list[str]) -> None:
    """Insert or replace cache rows, on a connection of its own (a feed request only reads; its session is
    left alone). A cache: when the database is busy with a writer, the rows are simply not stored this time
    (SQLite waits at most STORE_WAIT_MS for the lock)."""
    engine = get_engine()
    if engine.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=keys, set_={c: statement.excluded[c] for c in rows[0] if c not in keys}
    )
    try:
        with engine.connect() as connection:
            sqlite = engine.dialect.name == "sqlite"
            if sqlite:  # on the driver's connection: a statement through SQLAlchemy would begin a transaction
                connection.connection.dbapi_connection.execute(f"PRAGMA busy_timeout={STORE_WAIT_MS}")
            try:
                with connection.begin():
                    connection.execute(statement, rows)
            finally:
                if sqlite:
                    connection.connection.dbapi_connection.execute("PRAGMA busy_timeout=15000")
    except OperationalError as error:  # locked or busy: the next poll stores them
        current_app.logger.info("feed cache not stored: %s", error)


def last_modified_of(
    session: Session, key: tuple, etag: str, latest: datetime | None, now: datetime
) -> datetime | None:
    """Last-Modified of a feed whose fingerprint was just computed: its events' latest change, except when the
    feed changed while none of its events did (one left it: moved to another base, deleted, out of the window,
    or its municipality left the base). Then it is the moment the change was seen, so a client that sends only
    If-Modified-Since gets the new feed too; it never goes back before what the feed said last."""
    latest = _aware(latest)
    stored = session.get(CalendarFingerprint, _fingerprint_key(key))
    if stored is None or stored.last_modified is None:
        return latest
    if stored.etag == etag:
        return max(stored.last_modified, latest) if latest else stored.last_modified
    if latest is None or latest <= stored.last_modified:
        # HTTP dates have whole seconds: a later second than the last one given, or a client would get 304.
        return max(now.replace(microsecond=0), stored.last_modified.replace(microsecond=0) + timedelta(seconds=1))
    return latest


def kept_fingerprint(session: Session, scope: Scope | tuple, version: int | None, now: datetime) -> tuple | None:
    """(version, computed at, valid until, ETag, Last-Modified) that any worker stored for this feed, if it
    still holds: computed at the same data version, not yet at a time that could change it, within
    FINGERPRINT_TTL."""
    if version is None:
        return None
    kept = session.get(CalendarFingerprint, _fingerprint_key(scope))
    if kept is None or kept.version != version or not kept.computed_at <= now < kept.computed_at + FINGERPRINT_TTL:
        return None
    if kept.valid_until is not None and now >= kept.valid_until:
        return None
    return kept.version, kept.computed_at, kept.valid_until, kept.etag, kept.last_modified


def keep_fingerprint(
    scope: Scope,
    version: int | None,
    now: datetime,
    etag: str,
    last_modified: datetime | None,
    valid_until: datetime | None,
) -> None:
    if version is not None:
        _upsert(
            CalendarFingerprint.__table__,
            [
                {
                    "key": _fingerprint_key(scope),
                    "version": version,
                    "computed_at": now,
                    "valid_until": valid_until,
                    "etag": etag,
                    "last_modified": last_modified,
                }
            ],
            ["key"],
        )


def _fingerprint_key(scope: Scope | tuple) -> str:
    key, alarm_minutes = scope if isinstance(scope, tuple) else (scope.key, scope.alarm_minutes)
    return hashlib.sha256(f"{key}|{alarm_minutes}".encode()).hexdigest()
