"""Read side of the region calendar, the annual wheel (årshjul) of a base and the planning warnings.

Every page is a fixed handful of queries whatever the number of events: one query reads the events
together with their base, network and venue municipality; nothing is loaded per event. Times are
stored in UTC and turned into Europe/Oslo days here, so a multi-day or all-day event lands on every
Oslo day it covers (an all-day event ends at the exclusive Oslo midnight after its last day).

Which events a reader may see is the caller's `visible`, a SQL condition on Event: policy.visible_events(user)
for a page, so drafts are shown only to those who plan them (the one rule, in policy.py).
"""

from calendar import monthrange
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, func, or_, true
from sqlmodel import Session, select

from nettverk.events.models import Event, EventStatus
from nettverk.networks.cadence import CadenceError, occurrences
from nettverk.networks.models import Network, NetworkBase
from nettverk.policy import events_of_bases
from nettverk.registry.models import CompetenceBase, Municipality
from nettverk.registry.queries import with_predecessors
from nettverk.text import norwegian_key
from nettverk.timeutil import MONTHS, WEEKDAYS, holiday_name, oslo_midnight, to_oslo

# Filters ------------------------------------------------------------------------------------------


@dataclass
class Filters:
    """What the calendar is narrowed to. `municipality_ids` is the chosen municipality and all its
    predecessors, so gatherings from before a merger are found under the successor."""

    base: CompetenceBase | None = None
    network: Network | None = None
    kind: str | None = None
    municipality: Municipality | None = None
    municipality_ids: set[int] = field(default_factory=set)

    @property
    def active(self) -> bool:
        return bool(self.base or self.network or self.kind or self.municipality)


@dataclass
class FilterChoices:
    bases: list[CompetenceBase]
    networks: list[Network]
    municipalities: list[Municipality]  # current ones; older numbers are found through them


def filter_choices(session: Session) -> FilterChoices:
    bases = list(session.exec(select(CompetenceBase).order_by(CompetenceBase.name)))
    networks = list(session.exec(select(Network).order_by(Network.name)))
    municipalities = sorted(
        session.exec(select(Municipality).where(Municipality.valid_to.is_(None))), key=lambda m: norwegian_key(m.name)
    )
    return FilterChoices(bases, networks, municipalities)


def with_municipality(session: Session, filters: Filters, municipality: Municipality) -> Filters:
    filters.municipality = municipality
    filters.municipality_ids = with_predecessors(session, municipality.id)
    return filters


# Entries ------------------------------------------------------------------------------------------


@dataclass
class CalendarEntry:
    """One event as the calendar shows it, with its Oslo start and end and the days it covers."""

    event: Event
    base: CompetenceBase | None
    network: Network | None
    venue: Municipality | None
    start: datetime  # Europe/Oslo
    end: datetime  # Europe/Oslo
    first_day: date
    last_day: date

    @classmethod
    def of(cls, event: Event, base=None, network=None, venue=None) -> "CalendarEntry":
        start, end = to_oslo(event.starts_at), to_oslo(event.ends_at)
        # The end is exclusive: an all-day event ends at the midnight after its last day, and a
        # meeting that ends at midnight does not cover the next day.
        last = max(start.date(), (end - timedelta(microseconds=1)).date())
        return cls(event, base, network, venue, start, end, start.date(), last)

    @property
    def multi_day(self) -> bool:
        return self.first_day != self.last_day

    def covers(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day

    def time_on(self, day: date) -> str:
        """What the cell of that day says about the time: '09.00–15.00', 'fra 09.00', 'til 12.00' or 'hele dagen'."""
        if self.event.all_day:
            return "hele dagen"
        if not self.multi_day:
            return f"{self.start:%H.%M}–{self.end:%H.%M}"
        if day == self.first_day:
            return f"fra {self.start:%H.%M}"
        if day == self.last_day:
            return f"til {self.end:%H.%M}"
        return "hele dagen"


def _filtered(filters: Filters | None):
    conditions = []
    if filters is None:
        return conditions
    if filters.base is not None:
        conditions.append(events_of_bases({filters.base.id}))
    if filters.network is not None:
        conditions.append(Event.network_id == filters.network.id)
    if filters.kind:
        conditions.append(Event.kind == filters.kind)
    if filters.municipality is not None:
        ids = filters.municipality_ids or {filters.municipality.id}
        conditions.append(or_(Event.host_municipality_id.in_(ids), Event.venue_municipality_id.in_(ids)))
    return conditions


def entries_between(
    session: Session,
    start: datetime,
    end: datetime,
    visible,
    filters: Filters | None = None,
    *conditions,
) -> list[CalendarEntry]:
    """Every visible event that overlaps [start, end) (aware datetimes), in start order. One query."""
    return [CalendarEntry.of(*row) for row in session.exec(_between(start, end, visible, filters, *conditions))]


def _overlapping(start: datetime, end: datetime, visible, filters: Filters | None, *conditions) -> list:
    return [Event.starts_at < end, Event.ends_at > start, visible, *_filtered(filters), *conditions]


def _between(*args):
    return (
        select(Event, CompetenceBase, Network, Municipality)
        .join(CompetenceBase, CompetenceBase.id == Event.base_id, isouter=True)
        .join(Network, Network.id == Event.network_id, isouter=True)
        .join(Municipality, Municipality.id == Event.venue_municipality_id, isouter=True)
        .where(*_overlapping(*args))
        .order_by(Event.starts_at, Event.id)
    )


# Month view ---------------------------------------------------------------------------------------


@dataclass
class Day:
    day: date
    in_month: bool
    entries: list[CalendarEntry]


@dataclass
class Week:
    number: int  # ISO week, as Norwegian calendars show it
    days: list[Day]


@dataclass
class Month:
    first: date
    weeks: list[Week]
    count: int  # events shown in the month itself

    @property
    def name(self) -> str:
        return f"{MONTHS[self.first.month - 1]} {self.first.year}"

    @property
    def previous(self) -> date:
        return (self.first - timedelta(days=1)).replace(day=1)

    @property
    def next(self) -> date:
        return self.first + timedelta(days=monthrange(self.first.year, self.first.month)[1])


def month_view(session: Session, first: date, visible, filters: Filters | None = None) -> Month:
    """The weeks (Monday to Sunday) that hold the month, each day with the events that cover it."""
    last = first.replace(day=monthrange(first.year, first.month)[1])
    grid_start = first - timedelta(days=first.weekday())
    grid_end = last + timedelta(days=6 - last.weekday())
    entries = entries_between(
        session, oslo_midnight(grid_start), oslo_midnight(grid_end + timedelta(days=1)), visible, filters
    )
    by_day = defaultdict(list)
    for entry in entries:
        day = max(entry.first_day, grid_start)
        while day <= min(entry.last_day, grid_end):
            by_day[day].append(entry)
            day += timedelta(days=1)
    weeks, day = [], grid_start
    while day <= grid_end:
        days = [
            Day(
                day + timedelta(days=i), (day + timedelta(days=i)).month == first.month, by_day[day + timedelta(days=i)]
            )
            for i in range(7)
        ]
        weeks.append(Week(day.isocalendar().week, days))
        day += timedelta(days=7)
    count = sum(1 for entry in entries if entry.first_day <= last and entry.last_day >= first)
    return Month(first, weeks, count)


# List view ----------------------------------------------------------------------------------------


@dataclass
class MonthGroup:
    first: date
    entries: list[CalendarEntry]

    @property
    def name(self) -> str:
        return f"{MONTHS[self.first.month - 1]} {self.first.year}"


LIST_PER_PAGE = 50  # a page of the list view: at national scale the next year holds ~1,000 events


@dataclass
class Upcoming:
    groups: list[MonthGroup]
    page: int
    total: int  # events in the whole list

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // LIST_PER_PAGE))


def upcoming(
    session: Session,
    now: datetime,
    visible,
    filters: Filters | None = None,
    days: int = 366,
    page: int = 1,
) -> Upcoming:
    """Events that have not ended, starting within `days`, grouped by the month they start in; one page
    of LIST_PER_PAGE of them (two queries: the page and the count)."""
    window = (now, now + timedelta(days=days), visible, filters)
    total = session.exec(select(func.count(Event.id)).where(*_overlapping(*window))).one()
    query = _between(*window)
    groups: dict[date, list[CalendarEntry]] = {}
    for row in session.exec(query.limit(LIST_PER_PAGE).offset((page - 1) * LIST_PER_PAGE)):
        entry = CalendarEntry.of(*row)
        groups.setdefault(entry.first_day.replace(day=1), []).append(entry)
    return Upcoming([MonthGroup(first, entries) for first, entries in groups.items()], page, total)


# Annual wheel -------------------------------------------------------------------------------------


@dataclass
class PlannedMeeting:
    """An occurrence of a network's cadence that no event stands for yet."""

    network: Network
    day: date
    starts: time


@dataclass
class WheelItem:
    day: date
    entry: CalendarEntry | None = None
    planned: PlannedMeeting | None = None


@dataclass
class WheelMonth:
    first: date
    items: list[WheelItem]

    @property
    def name(self) -> str:
        return MONTHS[self.first.month - 1]


@dataclass
class AnnualWheel:
    base: CompetenceBase
    year: int
    networks: list[Network]
    months: list[WheelMonth]

    @property
    def count(self) -> int:
        return sum(len(m.items) for m in self.months)


_MAX_PLANNED_PER_NETWORK = 60


def cadence_days(network: Network, year: int) -> list[date]:
    """The days in `year` on which the network's cadence falls (networks.cadence reads and checks the
    rule). A cadence that cannot be read gives none here: the network pages say what is wrong with it."""
    try:
        days = occurrences(network, date(year, 1, 1), date(year, 12, 31))
    except CadenceError:
        return []
    return days[:_MAX_PLANNED_PER_NETWORK]


def annual_wheel(session: Session, base: CompetenceBase, year: int, visible, today: date | None = None) -> AnnualWheel:
    """The base's events and the meetings of its networks in one Oslo year, month by month, with the
    coming occurrences of the networks' cadences (from `today` on) that have no event yet. Three queries."""
    networks = list(
        session.exec(
            select(Network)
            .join(NetworkBase, NetworkBase.network_id == Network.id)
            .where(NetworkBase.base_id == base.id)
            .order_by(Network.name)
        )
    )
    network_ids = {n.id for n in networks}
    start, end = oslo_midnight(date(year, 1, 1)), oslo_midnight(date(year + 1, 1, 1))
    entries = entries_between(session, start, end, visible, None, events_of_bases({base.id}))
    # The series dates that already have an event (of any status, visible or not: a moved, skipped
    # or draft meeting still stands for its occurrence).
    taken = set()
    if network_ids:
        taken = set(
            session.exec(
                select(Event.network_id, Event.series_date).where(
                    Event.network_id.in_(network_ids), Event.series_date.is_not(None)
                )
            ).all()
        )
    items = [WheelItem(max(entry.first_day, date(year, 1, 1)), entry=entry) for entry in entries]
    for network in networks:
        for day in cadence_days(network, year):
            if (network.id, day) not in taken and (today is None or day >= today):
                items.append(WheelItem(day, planned=PlannedMeeting(network, day, network.meeting_start)))
    items.sort(key=lambda i: (i.day, 0, i.entry.start.time()) if i.entry else (i.day, 1, i.planned.starts))
    months = [WheelMonth(date(year, month, 1), [i for i in items if i.day.month == month]) for month in range(1, 13)]
    return AnnualWheel(base, year, networks, months)


# Planning warnings --------------------------------------------------------------------------------


def _day_name(day: date) -> str:
    """'Søndag 17. mai'."""
    return f"{WEEKDAYS[day.weekday()].capitalize()} {day.day}. {MONTHS[day.month - 1]}"


def planning_warnings(
    session: Session,
    day: date,
    base_ids: set[int],
    exclude_event_id: int | None = None,
    *,
    visible=None,
) -> list[str]:
    """Reasons to think twice before planning a gathering on `day` (an Oslo date) for these bases,
    as Norwegian sentences; empty when the day looks free:

    - the day is a Norwegian public holiday ('Søndag 17. mai er Grunnlovsdag, en offentlig fridag.'),
    - it is a Saturday or Sunday ('Lørdag 16. mai er en helgedag.'),
    - one of the bases (itself or through one of its networks) already has an event that covers the
      day, cancelled ones not counted ('Fosen har allerede «Fagdag om BTI» denne dagen (09.00–15.00).').

    `exclude_event_id` leaves out the event being edited. Every event counts unless `visible` says otherwise
    (policy.visible_events of the reader: a coordinator sees the drafts of their own bases, not all).
    One query (none when base_ids is empty).
    """
    warnings = []
    name = holiday_name(day)
    if name:
        warnings.append(f"{_day_name(day)} er {name}, en offentlig fridag.")
    if day.weekday() >= 5:
        warnings.append(f"{_day_name(day)} er en helgedag.")
    if base_ids:
        conditions = [Event.status != EventStatus.CANCELLED]
        if exclude_event_id is not None:
            conditions.append(Event.id != exclude_event_id)
        entries = entries_between(
            session,
            oslo_midnight(day),
            oslo_midnight(day + timedelta(days=1)),
            true() if visible is None else visible,
            None,
            events_of_bases(base_ids),
            and_(*conditions),
        )
        for entry in entries:
            owner = entry.base.name if entry.base is not None and entry.base.id in base_ids else None
            owner = owner or (entry.network.name if entry.network is not None else "Kompetansebasen")
            draft = ", utkast" if entry.event.status == EventStatus.DRAFT else ""
            warnings.append(f"{owner} har allerede «{entry.event.title}» denne dagen ({entry.time_on(day)}{draft}).")
    return warnings
