"""Every change to events and registrations.

Capacity is derived from rows, never from a counter: an operation that may use a seat locks the
event row (db.lock_for_update), counts again under the lock, then writes. Cancelling frees a seat
and offers it to the waitlist under the same lock, in a stable order (priority, first come, id).
«First come» is one rule for seats, the waitlist and moving up: a registration counts from the moment
it is confirmed (Registration.confirmed_at): at once for a logged-in user or one registered by a
coordinator, and for a guest when they confirm their e-mail, not when they filled in the form.

Whoever holds a seat has the event in their calendar: the mail that confirms a seat carries an iTIP
REQUEST, a change of anything the calendar shows a new REQUEST (higher SEQUENCE), and a cancellation of
the event or of the seat a CANCEL, all with the event's UID. The waitlisted and the unconfirmed get none.
"""

import uuid
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlmodel import Session, delete, func, select

from nettverk.accounts.models import User
from nettverk.activity import record
from nettverk.calendars import queries as calendar_queries
from nettverk.calendars.render import CANCEL, REQUEST, Entry, invitation
from nettverk.competence.models import CompetenceArea
from nettverk.db import lock_for_update
from nettverk.errors import OperationError
from nettverk.events.models import (
    AUDIENCES,
    EVENT_KINDS,
    Event,
    EventAudience,
    EventKind,
    EventStatus,
    ProgrammeItem,
    Registration,
    RegistrationStatus,
)
from nettverk.mail.operations import CLIENT, mail_limit, queue_mail
from nettverk.networks.models import Network, NetworkMember
from nettverk.registry.models import BaseMembership, CompetenceBase, Municipality, Unit
from nettverk.registry.queries import with_predecessors
from nettverk.signals import attendance_marked
from nettverk.timeutil import LocalTimeError, format_datetime, oslo_midnight, oslo_to_utc, utcnow
from nettverk.tokens import hash_token, new_token

LIVE = (RegistrationStatus.UNCONFIRMED, RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)


# Events -------------------------------------------------------------------------------------------


@dataclass
class EventData:
    """An event as the form (or the network planner) gives it: local Oslo dates and times."""

    kind: str
    title: str
    start_date: date
    end_date: date
    start_time: time | None = None
    end_time: time | None = None
    all_day: bool = False
    description: str = ""
    base_id: int | None = None
    network_id: int | None = None
    audience: str = EventAudience.REGION
    venue_name: str = ""
    venue_address: str = ""
    venue_municipality_id: int | None = None
    online_url: str = ""
    host_municipality_id: int | None = None
    capacity: int | None = None
    quota_per_municipality: int | None = None
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    ask_dietary: bool = False
    ask_lunch: bool = False
    reminder_days: str = "7,1"
    programme: list[tuple[str, str, str]] = field(default_factory=list)  # (starts "09.00", title, speaker)
    series_date: date | None = None
    competence_area_id: int | None = None  # a kurs may give its attendees a training record in this area


def _times(data: EventData) -> tuple[datetime, datetime]:
    if data.end_date < data.start_date:
        raise OperationError("Sluttdatoen kan ikke være før startdatoen.", "end_date")
    if data.all_day:
        return oslo_midnight(data.start_date), oslo_midnight(data.end_date + timedelta(days=1))
    if data.start_time is None:
        raise OperationError("Skriv når arrangementet starter, eller kryss av for heldagsarrangement.", "start_time")
    if data.end_time is None:
        raise OperationError("Skriv når arrangementet slutter.", "end_time")
    try:
        starts_at = oslo_to_utc(data.start_date, data.start_time)
    except LocalTimeError as error:
        raise OperationError(str(error), "start_time") from error
    try:
        ends_at = oslo_to_utc(data.end_date, data.end_time)
    except LocalTimeError as error:
        raise OperationError(str(error), "end_time") from error
    if ends_at <= starts_at:
        raise OperationError("Arrangementet må slutte etter at det starter.", "end_time")
    return starts_at, ends_at


MAX_REMINDER_DAYS = 60


def parse_reminder_days(text: str) -> list[int] | None:
    """'7, 1' -> [7, 1] (largest first, no repeats); '' -> []; None when it cannot be read."""
    parts = [part.strip() for part in (text or "").replace(";", ",").split(",") if part.strip()]
    if not all(part.isdigit() and 1 <= int(part) <= MAX_REMINDER_DAYS for part in parts):
        return None
    return sorted({int(part) for part in parts}, reverse=True)


def _validate(session: Session, data: EventData, event: Event | None) -> tuple[datetime, datetime]:
    if data.kind not in EVENT_KINDS:
        raise OperationError("Velg type arrangement.", "kind")
    if not data.title.strip():
        raise OperationError("Skriv en tittel.", "title")
    if data.base_id is None and data.network_id is None:
        raise OperationError("Velg kompetansebasen eller nettverket arrangementet hører til.", "base_id")
    if data.base_id is not None and session.get(CompetenceBase, data.base_id) is None:
        raise OperationError("Velg en kompetansebase som finnes.", "base_id")
    if data.network_id is not None and session.get(Network, data.network_id) is None:
        raise OperationError("Velg et nettverk som finnes.", "network_id")
    if data.audience not in AUDIENCES:
        raise OperationError("Velg hvem arrangementet er åpent for.", "audience")
    if data.competence_area_id is not None:
        if data.kind != EventKind.KURS:
            raise OperationError("Bare kurs/opplæring kan knyttes til et kompetanseområde.", "competence_area_id")
        if session.get(CompetenceArea, data.competence_area_id) is None:
            raise OperationError("Velg et kompetanseområde fra listen.", "competence_area_id")
    if data.audience == EventAudience.BASE and data.base_id is None:
        raise OperationError("Velg kompetansebasen når arrangementet bare er for kommunene i den.", "audience")
    if data.audience == EventAudience.NETWORK and data.network_id is None:
        raise OperationError("Velg nettverket når arrangementet bare er for medlemmene.", "audience")
    for name in ("venue_municipality_id", "host_municipality_id"):
        value = getattr(data, name)
        if value is not None and session.get(Municipality, value) is None:
            raise OperationError("Velg en kommune som finnes.", name)
    if data.online_url and (
        not data.online_url.startswith(("https://", "http://")) or any(c.isspace() for c in data.online_url)
    ):
        raise OperationError("Lenken til digitalt møte må begynne med https:// og kan ikke ha mellomrom.", "online_url")
    if parse_reminder_days(data.reminder_days) is None:
        raise OperationError(
            "Skriv antall dager før arrangementet, skilt med komma (for eksempel 7, 1), "
            "hvert mellom 1 og 60, eller la feltet stå tomt for ingen påminnelser.",
            "reminder_days",
        )
    starts_at, ends_at = _times(data)
    if data.capacity is not None:
        if data.capacity < 1:
            raise OperationError("Antall plasser må være minst 1, eller tomt for ubegrenset.", "capacity")
        taken = confirmed_count(session, event.id) if event is not None and event.id else 0
        if data.capacity < taken:
            raise OperationError(
                f"Det er allerede {taken} påmeldte. Antall plasser kan ikke være lavere.", "capacity", 409
            )
    if data.quota_per_municipality is not None:
        if data.quota_per_municipality < 1:
            raise OperationError("Kvoten per kommune må være minst 1, eller tom.", "quota_per_municipality")
        if data.capacity is not None and data.quota_per_municipality > data.capacity:
            raise OperationError(
                "Kvoten per kommune kan ikke være større enn antall plasser.", "quota_per_municipality"
            )
    opens, closes = data.registration_opens_at, data.registration_closes_at
    if closes is not None and closes > ends_at:
        raise OperationError(
            "Påmeldingsfristen kan ikke være etter at arrangementet er slutt.", "registration_closes_at"
        )
    if opens is not None and closes is not None and opens >= closes:
        raise OperationError("Påmeldingen må åpne før fristen.", "registration_opens_at")
    return starts_at, ends_at


def save_event(session: Session, actor_id: int | None, data: EventData, event: Event | None = None) -> Event:
    """Create or change an event. A published event whose time or place changes gets a higher
    sequence, and everyone registered is told."""
    starts_at, ends_at = _validate(session, data, event)
    created = event is None
    if created:
        event = Event(uid=f"{uuid.uuid4()}@nettverk", kind=data.kind, title="", starts_at=starts_at, ends_at=ends_at)
    before = _place_and_time(event) if not created else None
    shown_before = _shown(session, event) if not created else None
    old_capacity = event.capacity
    for name in (
        "kind",
        "description",
        "base_id",
        "network_id",
        "audience",
        "venue_name",
        "venue_address",
        "venue_municipality_id",
        "online_url",
        "host_municipality_id",
        "capacity",
        "quota_per_municipality",
        "registration_opens_at",
        "registration_closes_at",
        "ask_dietary",
        "ask_lunch",
        "all_day",
        "competence_area_id",
    ):
        setattr(event, name, getattr(data, name))
    event.title = data.title.strip()
    event.reminder_days = ",".join(map(str, parse_reminder_days(data.reminder_days)))
    if data.series_date is not None:
        event.series_date = data.series_date
    event.starts_at, event.ends_at, event.updated_at = starts_at, ends_at, utcnow()
    changed = not created and before != _place_and_time(event)
    session.add(event)
    session.flush()
    session.execute(delete(ProgrammeItem).where(ProgrammeItem.event_id == event.id))
    for position, (starts, title, speaker) in enumerate(data.programme):
        session.add(ProgrammeItem(event_id=event.id, position=position, starts=starts, title=title, speaker=speaker))
    # Any change a calendar shows (the title and description too) is a new version of the event, sent to those
    # registered; `changed` (time or place) only picks the words of the mail and the log.
    if not created and shown_before != _shown(session, event):
        event.sequence += 1
        session.add(event)
        if event.status == EventStatus.PUBLISHED:
            _tell_registrants(session, event, "event_changed", f"Endret: {event.title}", REQUEST, moved=changed)
    if not created and (event.capacity is None or (old_capacity is not None and event.capacity > old_capacity)):
        promote_waitlist(session, event)
    session.flush()
    record(
        session,
        actor_id,
        "event.created" if created else ("event.moved" if changed else "event.updated"),
        event,
        f"{event.title}, {format_datetime(event.starts_at)}",
    )
    return event


def _place_and_time(event: Event) -> tuple:
    return (
        event.starts_at,
        event.ends_at,
        event.all_day,
        event.venue_name,
        event.venue_address,
        event.venue_municipality_id,
        event.online_url,
    )


def _shown(session: Session, event: Event) -> tuple:
    """What calendars show of the event (calendars.queries builds it into an Entry), apart from its version."""
    programme = session.exec(
        select(ProgrammeItem.starts, ProgrammeItem.title, ProgrammeItem.speaker)
        .where(ProgrammeItem.event_id == event.id)
        .order_by(ProgrammeItem.position)
    ).all()
    return (
        *_place_and_time(event),
        event.title,
        event.description,
        event.kind,
        event.base_id,
        event.network_id,
        tuple(tuple(line) for line in programme),
    )


def publish_event(session: Session, actor_id: int | None, event: Event) -> None:
    if event.status != EventStatus.DRAFT:
        raise OperationError("Bare utkast kan publiseres.", status=409)
    event.status, event.sequence, event.updated_at = EventStatus.PUBLISHED, event.sequence + 1, utcnow()
    session.add(event)
    record(session, actor_id, "event.published", event, event.title)


def cancel_event(session: Session, actor_id: int | None, event: Event, reason: str = "") -> None:
    if event.status not in (EventStatus.DRAFT, EventStatus.PUBLISHED):
        raise OperationError("Arrangementet er allerede avlyst eller gjennomført.", status=409)
    was_published = event.status == EventStatus.PUBLISHED
    event.status, event.sequence, event.updated_at = EventStatus.CANCELLED, event.sequence + 1, utcnow()
    session.add(event)
    if was_published:
        _tell_registrants(
            session, event, "event_cancelled", f"Avlyst: {event.title}", CANCEL, reason=reason.strip()
        )  # in the mail and in the CANCEL's DESCRIPTION
    record(session, actor_id, "event.cancelled", event, f"{event.title}. {reason}".strip())


def mark_held(session: Session, actor_id: int | None, event: Event) -> None:
    if event.status != EventStatus.PUBLISHED:
        raise OperationError("Bare publiserte arrangementer kan merkes som gjennomført.", status=409)
    if event.starts_at > utcnow():
        raise OperationError("Arrangementet har ikke startet ennå.", status=409)
    event.status, event.updated_at = EventStatus.HELD, utcnow()
    session.add(event)
    record(session, actor_id, "event.held", event, event.title)


def _tell_registrants(session: Session, event: Event, template: str, subject: str, method: str, **context) -> None:
    """Mail everyone registered; those with a seat get the calendar `method` (REQUEST, CANCEL) too."""
    registrations = session.exec(
        select(Registration).where(Registration.event_id == event.id, Registration.status.in_(LIVE))
    ).all()
    seated = {r.id for r in registrations if r.status == RegistrationStatus.CONFIRMED}
    entry = calendar_queries.entry(session, event) if seated else None  # read once: the same for everyone
    earlier = earlier_registrations(session, event) if seated else {}
    if entry is not None and context.get("reason"):
        entry = replace(entry, cancel_reason=context["reason"])
    for registration in registrations:
        calendar = (
            calendar_invitation(session, event, registration, method, entry, earlier[registration.id])
            if registration.id in seated
            else None
        )
        queue_mail(
            session,
            registration.email,
            subject,
            template,
            calendar=calendar,
            event=event,
            registration=registration,
            **context,
        )


def earlier_registrations(session: Session, event: Event) -> dict[int, int]:
    """For each registration of the event: how many earlier registrations its address has for it (one query,
    for mailing many registrants at once; see calendar_invitation)."""
    seen: Counter[str] = Counter()
    earlier = {}
    rows = session.exec(
        select(Registration.id, Registration.email).where(Registration.event_id == event.id).order_by(Registration.id)
    )
    for registration_id, email in rows:
        earlier[registration_id] = seen[email]
        seen[email] += 1
    return earlier


def calendar_invitation(
    session: Session,
    event: Event,
    registration: Registration,
    method: str,
    entry: Entry | None = None,
    earlier: int | None = None,
) -> tuple[str, bytes]:
    """The event as an iTIP message (REQUEST or CANCEL) for one registrant, for queue_mail(calendar=…):
    organised by the sender address in the name of the base or network, the registrant as attendee.

    SEQUENCE rises with every message that changes this person's copy (RFC 5546 2.1.4): it is the event's
    sequence (every change of the event) plus two for each earlier registration of the address for this event
    (each brought a REQUEST and took it out with a CANCEL), plus one for the CANCEL that takes this seat out of
    an event that goes on. Derived from rows that are never deleted, so it needs no counter of its own."""
    entry = entry or calendar_queries.entry(session, event)
    if earlier is None:  # one registrant: count, rather than read the whole list
        earlier = session.exec(
            select(func.count())
            .select_from(Registration)
            .where(
                Registration.event_id == event.id,
                Registration.email == registration.email,
                Registration.id < registration.id,
            )
        ).one()
    uninvited = method == CANCEL and event.status != EventStatus.CANCELLED
    entry = replace(entry, sequence=entry.sequence + 2 * earlier + uninvited)
    return method, invitation(
        entry,
        method,
        attendee=(registration.email, registration.name),
        mail_from=current_app.config["MAIL_FROM"],
        stamp=utcnow(),
    )


# Registrations ------------------------------------------------------------------------------------


@dataclass
class Registrant:
    """Who registers: a logged-in user (user set) or a guest (name and e-mail)."""

    name: str
    email: str
    municipality_id: int | None = None
    unit_id: int | None = None
    role: str = ""
    dietary: str = ""
    lunch: bool | None = None
    user: User | None = None


def confirmed_count(session: Session, event_id: int, municipality_id: int | None = None) -> int:
    query = (
        select(func.count())
        .select_from(Registration)
        .where(Registration.event_id == event_id, Registration.status == RegistrationStatus.CONFIRMED)
    )
    if municipality_id is not None:
        query = query.where(Registration.municipality_id == municipality_id)
    return session.exec(query).one()


def _has_seat(session: Session, event: Event, municipality_id: int | None) -> bool:
    if event.capacity is not None and confirmed_count(session, event.id) >= event.capacity:
        return False
    if event.quota_per_municipality is not None and municipality_id is not None:
        return confirmed_count(session, event.id, municipality_id) < event.quota_per_municipality
    return True


def registration_open(event: Event, now: datetime | None = None) -> str | None:
    """None when registration is open, otherwise the Norwegian reason it is not."""
    now = now or utcnow()
    if event.status != EventStatus.PUBLISHED:
        return "Arrangementet er ikke åpent for påmelding."
    if event.registration_opens_at is not None and now < event.registration_opens_at:
        return f"Påmeldingen åpner {format_datetime(event.registration_opens_at)}."
    if event.registration_closes_at is not None and now > event.registration_closes_at:
        return f"Påmeldingsfristen gikk ut {format_datetime(event.registration_closes_at)}."
    if now >= event.starts_at:
        return "Arrangementet har startet, og påmeldingen er stengt."
    return None


def _check_audience(session: Session, event: Event, registrant: Registrant) -> None:
    if event.audience == EventAudience.BASE:
        members = set(
            session.exec(select(BaseMembership.municipality_id).where(BaseMembership.base_id == event.base_id))
        )
        mine = with_predecessors(session, registrant.municipality_id) if registrant.municipality_id else set()
        if not members & mine:
            raise OperationError(
                "Arrangementet er bare for kommunene i kompetansebasen. Velg kommunen du jobber i.",
                "municipality_id",
                403,
            )
    elif event.audience == EventAudience.NETWORK:
        member = (
            registrant.user is not None
            and session.exec(
                select(NetworkMember).where(
                    NetworkMember.network_id == event.network_id, NetworkMember.user_id == registrant.user.id
                )
            ).first()
        )
        if not member:
            raise OperationError("Arrangementet er bare for medlemmene i nettverket.", status=403)


def register(
    session: Session, event_id: int, registrant: Registrant, by: User | None = None, client: str = ""
) -> tuple[Registration, str]:
    """Register a person. A guest (no user, not registered by a coordinator) must confirm by e-mail
    first; everyone else gets a seat at once, or a place on the waitlist when the event is full.
    A guest's confirmation mail counts against the hourly mail limits of the address and of `client`.
    Returns the registration and a one-time token (for the guest's confirm link or the cancel link)."""
    event = lock_for_update(session, Event, event_id)
    if by is None:
        reason = registration_open(event)
        if reason:
            raise OperationError(reason, status=409)
    elif event.status != EventStatus.PUBLISHED:
        raise OperationError("Arrangementet er ikke publisert.", status=409)
    email = registrant.email.strip().lower()
    if not registrant.name.strip():
        raise OperationError("Skriv navnet ditt.", "name")
    if registrant.municipality_id is not None and session.get(Municipality, registrant.municipality_id) is None:
        raise OperationError("Velg en kommune som finnes.", "municipality_id")
    if registrant.unit_id is not None and session.get(Unit, registrant.unit_id) is None:
        raise OperationError("Velg en enhet som finnes.", "unit_id")
    if by is None:
        _check_audience(session, event, registrant)
    existing = session.exec(
        select(Registration).where(
            Registration.event_id == event.id, Registration.email == email, Registration.status.in_(LIVE)
        )
    ).first()
    if existing is not None:
        raise OperationError(_already(existing), "email", 409)
    registration = Registration(
        event_id=event.id,
        user_id=registrant.user.id if registrant.user else None,
        name=registrant.name.strip(),
        email=email,
        municipality_id=registrant.municipality_id,
        unit_id=registrant.unit_id,
        role=registrant.role.strip(),
        dietary=registrant.dietary.strip() if event.ask_dietary else "",
        lunch=registrant.lunch if event.ask_lunch else None,
        registered_by_id=by.id if by else None,
        status=RegistrationStatus.UNCONFIRMED,
    )
    token, token_hash = new_token()
    if registrant.user is None and by is None:
        limit = mail_limit(session, email, client)
        if limit == CLIENT:
            raise OperationError(
                "Det er gjort for mange påmeldinger herfra den siste timen. Vent en stund og prøv igjen.", status=429
            )
        if limit:
            raise OperationError(
                "Denne adressen har fått for mange e-poster fra oss den siste timen. Vent en stund og prøv igjen.",
                "email",
                429,
            )
        registration.confirm_token_hash = token_hash
        session.add(registration)
        session.flush()
        queue_mail(
            session,
            email,
            f"Bekreft påmeldingen: {event.title}",
            "registration_confirm",
            event=event,
            registration=registration,
            token=token,
        )
    else:
        registration.cancel_token_hash = token_hash
        session.add(registration)
        session.flush()
        _take_seat_or_wait(session, event, registration, token)
    return registration, token


def _already(existing: Registration) -> str:
    if existing.status == RegistrationStatus.WAITLISTED:
        return "Du står allerede på ventelisten til dette arrangementet."
    if existing.status == RegistrationStatus.UNCONFIRMED:
        return "Du er allerede meldt på. Bekreft påmeldingen med lenken vi sendte på e-post."
    return "Du er allerede påmeldt dette arrangementet."


def _take_seat_or_wait(session: Session, event: Event, registration: Registration, cancel_token: str) -> None:
    registration.confirmed_at = utcnow()  # from now on it counts, for a seat or a place in the queue
    if _has_seat(session, event, registration.municipality_id):
        registration.status = RegistrationStatus.CONFIRMED
        template, subject = "registration_confirmed", f"Du er påmeldt: {event.title}"
        calendar = calendar_invitation(session, event, registration, REQUEST)
    else:
        registration.status = RegistrationStatus.WAITLISTED
        template, subject = "registration_waitlisted", f"Du står på venteliste: {event.title}"
        calendar = None
    session.add(registration)
    session.flush()
    queue_mail(
        session,
        registration.email,
        subject,
        template,
        calendar=calendar,
        event=event,
        registration=registration,
        token=cancel_token,
    )
    record(
        session,
        registration.registered_by_id or registration.user_id,
        f"registration.{registration.status}",
        registration,
        f"{event.title}: {registration.status}",
    )


def registration_by_token(session: Session, token: str, kind: str) -> Registration:
    column = Registration.confirm_token_hash if kind == "confirm" else Registration.cancel_token_hash
    registration = session.exec(select(Registration).where(column == hash_token(token or ""))).first()
    if registration is None:
        raise OperationError("Lenken er ugyldig. Sjekk at du har kopiert hele lenken.", status=404)
    return registration


def confirm_guest(session: Session, token: str) -> tuple[Registration, str]:
    """The guest clicked the link in the e-mail: now the seat is decided (or the waitlist)."""
    registration = registration_by_token(session, token, "confirm")
    event = lock_for_update(session, Event, registration.event_id)
    session.refresh(registration)
    if registration.status != RegistrationStatus.UNCONFIRMED:
        raise OperationError("Påmeldingen er allerede bekreftet.", status=410)
    reason = registration_open(event)
    if reason:
        raise OperationError(reason, status=409)
    cancel_token, registration.cancel_token_hash = new_token()
    _take_seat_or_wait(session, event, registration, cancel_token)
    return registration, cancel_token


def cancel_registration(session: Session, registration: Registration, actor_id: int | None) -> None:
    """Cancel (by the person, through their page or the link, or by a coordinator). A freed seat
    goes to the first on the waitlist at once."""
    event = lock_for_update(session, Event, registration.event_id)
    session.refresh(registration)
    if registration.status == RegistrationStatus.WITHDRAWN:
        raise OperationError("Påmeldingen er allerede avmeldt.", status=410)
    freed = registration.status == RegistrationStatus.CONFIRMED
    registration.status, registration.cancelled_at = RegistrationStatus.WITHDRAWN, utcnow()
    session.add(registration)
    session.flush()
    # Only a seat of a coming (published) event is in their calendar: a cancelled event was taken out
    # when it was cancelled, and a held one is history.
    calendar = (
        calendar_invitation(session, event, registration, CANCEL)
        if freed and event.status == EventStatus.PUBLISHED
        else None
    )
    queue_mail(
        session,
        registration.email,
        f"Avmeldt: {event.title}",
        "registration_cancelled",
        calendar=calendar,
        event=event,
        registration=registration,
    )
    record(session, actor_id, "registration.cancelled", registration, event.title)
    if freed and event.status == EventStatus.PUBLISHED:
        promote_waitlist(session, event)


def waitlist(session: Session, event_id: int) -> list[Registration]:
    """In the order it is served: priority, then first come (rows from before confirmed_at was set on the
    waitlist count from their registration), then id."""
    return list(
        session.exec(
            select(Registration)
            .where(Registration.event_id == event_id, Registration.status == RegistrationStatus.WAITLISTED)
            .order_by(Registration.priority.desc(), queue_time(), Registration.id)
        )
    )


def queue_time():
    """The moment a registration counts from, as an SQL expression (see the module's docstring)."""
    return func.coalesce(Registration.confirmed_at, Registration.created_at)


def promote_waitlist(session: Session, event: Event) -> list[Registration]:
    """Give free seats to the waitlist in order; someone whose municipality is at its quota is
    passed over for the next. The caller holds the event lock."""
    promoted = []
    for registration in waitlist(session, event.id):
        if event.capacity is not None and confirmed_count(session, event.id) >= event.capacity:
            break
        if _has_seat(session, event, registration.municipality_id):
            _promote(session, event, registration)
            promoted.append(registration)
    return promoted


def _promote(session: Session, event: Event, registration: Registration) -> None:
    registration.status, registration.confirmed_at = RegistrationStatus.CONFIRMED, utcnow()
    session.add(registration)
    session.flush()
    queue_mail(
        session,
        registration.email,
        f"Du har fått plass: {event.title}",
        "registration_promoted",
        calendar=calendar_invitation(session, event, registration, REQUEST),
        event=event,
        registration=registration,
    )
    record(session, None, "registration.promoted", registration, event.title)


def promote_by_coordinator(session: Session, actor_id: int, registration: Registration) -> None:
    """A coordinator moves one person from the waitlist ahead of the order, if there is a seat."""
    event = lock_for_update(session, Event, registration.event_id)
    session.refresh(registration)
    if registration.status != RegistrationStatus.WAITLISTED:
        raise OperationError("Personen står ikke på ventelisten.", status=409)
    if not _has_seat(session, event, registration.municipality_id):
        raise OperationError(
            "Det er ingen ledig plass (eller kommunens kvote er brukt opp). Øk antall plasser først.", status=409
        )
    _promote(session, event, registration)
    record(session, actor_id, "registration.moved_from_waitlist", registration, event.title)


def mark_attendance(session: Session, actor_id: int, event: Event, attended_ids: set[int]) -> int:
    if event.starts_at > utcnow():
        raise OperationError("Oppmøte kan registreres når arrangementet har startet.", status=409)
    rows = session.exec(
        select(Registration).where(
            Registration.event_id == event.id, Registration.status == RegistrationStatus.CONFIRMED
        )
    ).all()
    newly_attended, unattended = [], []
    for registration in rows:
        attended = registration.id in attended_ids
        if attended and registration.attended is not True:
            newly_attended.append(registration)
        elif not attended and registration.attended is True:
            unattended.append(registration)
        registration.attended = attended
        session.add(registration)
    record(session, actor_id, "event.attendance", event, f"{len(attended_ids)} møtte på {event.title}")
    # A kurs linked to a competence area gives each attendee a training record (competence listens).
    attendance_marked.send(
        event, session=session, actor_id=actor_id, newly_attended=newly_attended, unattended=unattended
    )
    return len(rows)
