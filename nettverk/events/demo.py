"""Demo gatherings for `nettverk demo`: a few fagdager and a course, relative to today so they stay upcoming."""

from datetime import date, time, timedelta

from sqlmodel import Session, select

from nettverk.events.models import Event, EventKind
from nettverk.events.operations import EventData, publish_event, save_event
from nettverk.registry.models import CompetenceBase, Municipality

DEMO_EVENTS = [
    # (base slug, weeks ahead, publish, fields)
    (
        "fosen",
        6,
        True,
        dict(
            kind=EventKind.FAGDAG,
            title="Fagdag: Bedre tverrfaglig innsats i Fosen",
            start_time=time(9),
            end_time=time(15, 30),
            venue_name="Rissa samfunnshus",
            venue_address="Rådhusveien 13, 7100 Rissa",
            venue_number="5054",
            host_number="5054",
            capacity=80,
            ask_dietary=True,
            ask_lunch=True,
            description="Felles fagdag for ansatte i barnehage, skole, helsestasjon, PPT og barnevern i Fosen.\n\n"
            "Vi går gjennom **handlingsveilederen** og øver på stafettloggen.",
            programme=[
                ("09.00", "Velkommen", "Kommunalsjef oppvekst"),
                ("09.15", "BTI-modellen i praksis", ""),
                ("11.30", "Lunsj", ""),
                ("12.15", "Gruppearbeid: fra bekymring til tiltak", ""),
            ],
        ),
    ),
    (
        "namdalen",
        9,
        True,
        dict(
            kind=EventKind.FAGDAG,
            title="Fagdag Namdalen: Tidlig inn",
            start_time=time(9),
            end_time=time(15),
            venue_name="Namsos kulturhus",
            venue_address="Kulturhuskvartalet, 7800 Namsos",
            venue_number="5007",
            host_number="5007",
            capacity=120,
            quota_per_municipality=20,
            description="Kartlegging, samtaler med foreldre og tverrfaglig samarbeid (Tidlig inn).",
        ),
    ),
    (
        "innherred",
        4,
        True,
        dict(
            kind=EventKind.KURS,
            title="Kurs: ICDP veilederopplæring",
            start_time=time(8, 30),
            end_time=time(15, 30),
            venue_name="Verdal rådhus",
            venue_address="Johs. Bruns gate 7, 7650 Verdal",
            venue_number="5038",
            host_number="5038",
            capacity=12,
            description="Første samling i veilederopplæringen i ICDP.",
        ),
    ),
    (
        "trondheimsregionen",
        12,
        False,
        dict(
            kind=EventKind.SAMLING,
            title="Samling for barnevernledere",
            start_time=time(10),
            end_time=time(14),
            online_url="https://meet.example/barnevernledere",
            capacity=None,
        ),
    ),
]


def create_demo_events(session: Session) -> int:
    """Create the demo gatherings that do not exist yet (by title). Returns how many were made."""
    made = 0
    numbers = {m.number: m.id for m in session.exec(select(Municipality))}
    for slug, weeks, publish, fields in DEMO_EVENTS:
        if session.exec(select(Event).where(Event.title == fields["title"])).first() is not None:
            continue
        base = session.exec(select(CompetenceBase).where(CompetenceBase.slug == slug)).first()
        if base is None:
            continue
        day = _next_tuesday(date.today() + timedelta(weeks=weeks))
        fields = dict(fields)
        venue, host = fields.pop("venue_number", None), fields.pop("host_number", None)
        event = save_event(
            session,
            None,
            EventData(
                start_date=day,
                end_date=day,
                base_id=base.id,
                venue_municipality_id=numbers.get(venue),
                host_municipality_id=numbers.get(host),
                **fields,
            ),
        )
        if publish:
            publish_event(session, None, event)
        made += 1
    session.flush()
    return made


def _next_tuesday(day: date) -> date:
    return day + timedelta(days=(1 - day.weekday()) % 7)
