"""Every shape of /api/v1 as a pydantic model: the query parameters, the one request body and the answers.

The views build their answers from these models and parse their queries and body with them, and openapi.py
turns the same models into the document, so the server and the document cannot disagree. A class's name is
its name under components/schemas. Descriptions are Norwegian: they are the document's text.
"""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, NonNegativeInt, Strict, StringConstraints

from nettverk.competence.models import AREA_KINDS
from nettverk.competence.models import LEVELS as COMPETENCE_LEVELS
from nettverk.competence.queries import DEFAULT_MIN_LEVEL
from nettverk.events.models import AUDIENCES, EVENT_KINDS, EVENT_STATUSES, REGISTRATION_STATUSES
from nettverk.materials.models import MATERIAL_AUDIENCES
from nettverk.materials.queries import MAX_SEARCH
from nettverk.materials.storage import KINDS as MATERIAL_FILE_KINDS
from nettverk.referrals.models import (
    CONSENT_FORMS,
    INTERVENTION_STATUSES,
    METHODS,
    OUTCOMES,
    REFERRAL_STATUSES,
    URGENCIES,
)
from nettverk.referrals.operations import ACTIONS
from nettverk.registry.models import SERVICE_KINDS
from nettverk.text import character_problem
from nettverk.timeutil import parse_day

MAX_ID = 2**31 - 1  # every id column is a 32-bit integer; a larger id in a path is a 404 (nettverk.IdConverter)
MAX_PAGE = 99_999
MUNICIPALITY_NUMBER = r"^[0-9]{4}$"
DATE_WINDOW = "Fra 2000-01-01 til ti år fram i tid; en dato utenfor gir 400."  # timeutil.check_day


def one_of(choices) -> Any:
    """The keys of a code → label table (or the members of a StrEnum) as a type: an enum in the document."""
    return Literal[tuple(choices)]


class Refused(ValueError):
    """A validator's refusal whose message is the whole Norwegian detail."""


class Refuse:
    """The Norwegian 400/422 detail for a value its field refuses ({value}, {choices}: the enum's values).
    A validator that raises Refused gives its own message instead."""

    def __init__(self, template: str):
        self.template = template


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
MunicipalityNumber = Annotated[str, Field(pattern=MUNICIPALITY_NUMBER)]
OsloTime = Annotated[
    datetime, Field(description="ISO 8601 i Europe/Oslo med forskyvning, for eksempel 2026-03-10T09:00:00+01:00")
]


# Query parameters: strings in the address, turned into values by these validators; an empty value is none.


def _digits(value: Any) -> Any:
    """Only ASCII digits (pydantic alone would take 1_000, +1 or ' 1')."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError(value)
    return value


def _true_or_false(value: Any) -> Any:
    """Exactly what the document says (a boolean): anything but true or false is a 400, never quietly false."""
    if value in ("true", "false"):
        return value == "true"
    raise ValueError(value)


def _day(name: str):
    def parse(value: Any) -> Any:
        try:
            return parse_day(value)  # the same window as every date people enter (timeutil)
        except ValueError as error:
            raise Refused(f"«{name}» må være en dato på formen ÅÅÅÅ-MM-DD, ikke «{value}». {error}") from None

    return BeforeValidator(parse)


Page = Annotated[
    int,
    Field(ge=1, le=MAX_PAGE),
    BeforeValidator(_digits),
    Refuse("«page» må være et helt tall fra 1 til 99999, ikke «{value}»."),
]
Search = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_SEARCH)]
TOO_LONG = Refuse(f"«q» kan ha høyst {MAX_SEARCH} tegn.")


class MunicipalitiesQuery(BaseModel):
    include_historic: Annotated[
        bool,
        BeforeValidator(_true_or_false),
        Field(description="true: også kommuner som er slått sammen; bare true og false er gyldige"),
        Refuse("«include_historic» må være true eller false, ikke «{value}»."),
    ] = False


class ServicesQuery(BaseModel):
    kind: Annotated[
        one_of(SERVICE_KINDS) | None,
        Field(description="Type tjeneste"),
        Refuse("Ukjent type tjeneste «{value}». Gyldige verdier: {choices}."),
    ] = None


class EventsQuery(BaseModel):
    base: Annotated[
        str | None, Field(description="Kompetansebasens slug: basens egne arrangementer og møtene i nettverkene dens")
    ] = None
    network: Annotated[str | None, Field(description="Nettverkets slug")] = None
    municipality: Annotated[
        str | None,
        Field(
            pattern=MUNICIPALITY_NUMBER,
            description="Kommunenummer: arrangementer med denne kommunen, eller en av kommunene den ble slått sammen "
            "av, som vertskommune. Et nummer som ikke finnes i registeret (for eksempel 0000) gir 400",
        ),
        Refuse("Kommunenummeret må være fire sifre, ikke «{value}»."),
    ] = None
    kind: Annotated[
        one_of(EVENT_KINDS) | None,
        Field(description="Type arrangement"),
        Refuse("Ukjent type arrangement «{value}». Gyldige verdier: {choices}."),
    ] = None
    # "from" is a Python keyword: the field is first_day, its name in the address "from".
    first_day: Annotated[
        date | None,
        _day("from"),
        Field(
            alias="from",
            description="Første dag (Oslo): arrangementer som pågår denne dagen eller senere. " + DATE_WINDOW,
        ),
    ] = None
    to: Annotated[
        date | None,
        _day("to"),
        Field(description="Siste dag (Oslo): arrangementer som starter senest denne dagen. " + DATE_WINDOW),
    ] = None
    page: Annotated[
        Page, Field(description="Side (fra 1); 200 arrangementer per side, total sier hvor mange i alt")
    ] = 1


class InterventionsQuery(BaseModel):
    base: Annotated[str | None, Field(description="Kompetansebasens slug")] = None
    method: Annotated[
        one_of(METHODS) | None,
        Field(description="Metode"),
        Refuse("Ukjent metode «{value}». Gyldige verdier: {choices}."),
    ] = None
    q: Annotated[
        Search | None, Field(description="Søk i navn, beskrivelse og tjenesten som gir tiltaket"), TOO_LONG
    ] = None


class ReferralsQuery(BaseModel):
    status: Annotated[
        one_of(REFERRAL_STATUSES) | None,
        Field(description="Bare henvendelser med denne statusen"),
        Refuse("Ukjent status «{value}». Gyldige verdier: {choices}."),
    ] = None
    page: Annotated[Page, Field(description="Side (fra 1)")] = 1


class MaterialsQuery(BaseModel):
    base: Annotated[str | None, Field(description="Kompetansebasens slug")] = None
    q: Annotated[Search | None, Field(description="Søk i tittelen"), TOO_LONG] = None
    area: Annotated[str | None, Field(description="Kompetanseområdets slug, for eksempel pmto")] = None
    event: Annotated[
        Id | None,
        BeforeValidator(_digits),
        Field(description="Id-en til samlingen materiellet er fra"),
        Refuse("«event» må være id-en til et arrangement (et heltall)."),
    ] = None


class CompetenceAreasQuery(BaseModel):
    kind: Annotated[
        one_of(AREA_KINDS) | None,
        Field(description="Type kompetanseområde"),
        Refuse("Ukjent type «{value}». Gyldige verdier: {choices}."),
    ] = None


_UNKNOWN_VALUE = "Ukjent verdi «{value}» for {name}. Gyldige verdier: {choices}."


class CompetenceMatrixQuery(BaseModel):
    service_kind: Annotated[
        one_of(SERVICE_KINDS) | None,
        Field(description="Bare personer i tjenester av denne typen"),
        Refuse(_UNKNOWN_VALUE),
    ] = None
    area_kind: Annotated[
        one_of(AREA_KINDS) | None, Field(description="Bare kompetanseområder av denne typen"), Refuse(_UNKNOWN_VALUE)
    ] = None
    min_level: Annotated[
        one_of(COMPETENCE_LEVELS),
        Field(description="Laveste nivå som telles (standard trained)"),
        Refuse(_UNKNOWN_VALUE),
    ] = DEFAULT_MIN_LEVEL


# The request body ----------------------------------------------------------------------------------------


def _text(name: str):
    """A single-line text: null is empty; the same character rule as every form's text fields; trimmed."""

    def clean(value: Any) -> Any:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise Refused(f"«{name}» må være tekst.")
        if message := character_problem(value):  # the same rule as every form's text fields
            raise Refused(f"«{name}»: {message}")
        return value.strip()

    return BeforeValidator(clean)


class RegistrationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    municipality: Annotated[
        str | None,
        Field(pattern=MUNICIPALITY_NUMBER, description="Kommunenummeret til kommunen du jobber i"),
        Refuse('«municipality» må være et kommunenummer med fire sifre, for eksempel "5054".'),
    ] = None
    role: Annotated[
        str | None,
        _text("role"),
        Field(max_length=160, description="Stilling, for eksempel helsesykepleier"),
        Refuse("«role» kan ha høyst 160 tegn."),
    ] = None
    dietary: Annotated[
        str | None,
        _text("dietary"),
        Field(max_length=300, description="Allergier/spesialkost, når arrangementet spør om det"),
        Refuse("«dietary» kan ha høyst 300 tegn."),
    ] = None
    lunch: Annotated[
        Annotated[bool, Strict()] | None,
        Field(description="Blir med på lunsj, når arrangementet spør om det"),
        Refuse("«lunch» må være true, false eller null."),
    ] = None


# Answers: the registry ---------------------------------------------------------------------------------


def _open(schema: dict) -> None:
    schema.pop("additionalProperties")  # a client should not refuse a field added later


# An answer: a key the view sets that the model does not name is an error, never silently dropped, while
# the document leaves answers open for fields added later. (A class docstring would become its description.)
class Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_open)


def _absent(schema: dict) -> None:
    schema.pop("default")  # a key left out of the answer, not one with a default value


# RFC 9457 (problems.py); `field` names the body's refused field when the problem is one field.
class Problem(Shape):
    type: str
    title: str
    status: int
    detail: str
    instance: str
    field: Annotated[
        str,
        Field(json_schema_extra=_absent, description="Feltet i innholdet som ble avvist, når det gjelder ett felt"),
    ] = ""


class County(Shape):
    number: str
    name: str


class CountyList(Shape):
    items: list[County]


class MunicipalityRef(Shape):
    number: MunicipalityNumber
    name: str


class MunicipalityName(MunicipalityRef):
    sami_name: str | None


class Municipality(MunicipalityName):
    current: bool
    valid_to: date | None


class MunicipalityInCounty(Municipality):
    county: County


class MunicipalityList(Shape):
    items: list[MunicipalityInCounty]


class HistoryEdge(Municipality):
    effective_date: date
    partial: bool


class Base(Shape):
    slug: str
    name: str
    description: str


class BaseWithCount(Base):
    member_count: int


class BaseList(Shape):
    items: list[BaseWithCount]


class BaseMember(Municipality):
    demo_membership: bool


class BaseDetail(Base):
    members: list[BaseMember]


class ServiceRef(Shape):
    slug: str
    name: str
    kind: str


class MunicipalityDetail(MunicipalityInCounty):
    bases: list[Base]
    services: list[ServiceRef]
    merged_from: list[HistoryEdge]
    merged_into: list[HistoryEdge]


class Service(ServiceRef):
    kind_label: str
    host_municipality: MunicipalityRef
    email: str | None
    phone: str | None


class ServiceWithCount(Service):
    served_count: int


class ServiceList(Shape):
    items: list[ServiceWithCount]


class Unit(Shape):
    id: int
    name: str
    municipality: str | None


class ServiceDetail(Service):
    description: str
    serves: list[Municipality]
    units: list[Unit]


# Answers: events and networks ----------------------------------------------------------------------------


class NamedRef(Shape):
    slug: str
    name: str


class Venue(Shape):
    name: str
    address: str
    municipality: MunicipalityName | None


class RegistrationWindow(Shape):
    open: bool
    closed_reason: Annotated[str | None, Field(description="Hvorfor påmeldingen er stengt")]
    opens_at: OsloTime | None
    closes_at: OsloTime | None
    asks_dietary: bool
    asks_lunch: bool


class Event(Shape):
    id: int
    uid: Annotated[str, Field(description="Kalender-UID; endres aldri")]
    kind: one_of(EVENT_KINDS)
    kind_label: str
    title: str
    status: one_of(EVENT_STATUSES)
    status_label: str
    starts_at: OsloTime
    ends_at: Annotated[OsloTime, Field(description="Slutt; for heldagsarrangementer midnatt etter siste dag")]
    all_day: bool
    base: NamedRef | None
    network: NamedRef | None
    audience: one_of(AUDIENCES)
    audience_label: str
    host_municipality: MunicipalityName | None
    venue: Venue | None
    online_url: str | None
    capacity: Annotated[int | None, Field(description="Antall plasser; null er ubegrenset")]
    quota_per_municipality: int | None
    seats_left: Annotated[NonNegativeInt | None, Field(description="null er ubegrenset")]
    registration: RegistrationWindow
    url: Annotated[str, Field(json_schema_extra={"format": "uri"}, description="Arrangementets side")]


# One page of a long list: the items, the page number, the page size and how many there are in all.
class EventPage(Shape):
    items: list[Event]
    page: Annotated[int, Field(ge=1)]
    per_page: Annotated[int, Field(ge=1)]
    total: NonNegativeInt


class OwnRegistration(Shape):
    status: one_of(REGISTRATION_STATUSES)
    status_label: str
    registered_at: OsloTime


class ProgrammeItem(Shape):
    starts: Annotated[str, Field(description="Klokkeslett i Oslo, for eksempel 09.00")]
    title: str
    speaker: str


class Counts(Shape):
    confirmed: int
    waitlisted: int


class EventDetail(Event):
    description: Annotated[str, Field(description="Markdown")]
    programme: list[ProgrammeItem]
    counts: Counts
    my_registration: Annotated[
        OwnRegistration | None, Field(description="Din egen påmelding når du er logget inn, ellers null")
    ]


class RegistrationResult(OwnRegistration):
    event_id: int
    status: Literal["confirmed", "waitlisted"]


class Cadence(Shape):
    rule: Annotated[str | None, Field(description="RFC 5545-regel, for eksempel FREQ=YEARLY;BYMONTH=3,10;BYDAY=2TU")]
    starts_on: date | None
    meeting_start: Annotated[str, Field(pattern=r"^[0-9]{2}:[0-9]{2}$", description="Klokkeslett i Oslo")]
    meeting_minutes: int


class Place(Shape):
    name: str
    address: str


class Network(Shape):
    slug: str
    name: str
    kind: str
    kind_label: str
    description: str
    bases: list[NamedRef]
    cadence: Cadence
    venue: Place | None
    host_municipality: MunicipalityName | None
    member_count: int


class NetworkList(Shape):
    items: list[Network]


# Answers: the catalog of tiltak and referrals ------------------------------------------------------------


class Contact(Shape):
    name: str
    email: str


class Intervention(Shape):
    slug: str
    name: str
    method: one_of(METHODS)
    method_label: str
    description: str
    base: NamedRef
    provider: Annotated[NamedRef, Field(description="Tjenesten hvis team gir tiltaket")]
    age_from: NonNegativeInt
    age_to: NonNegativeInt
    bti_level: Annotated[int, Field(ge=0, le=3)]
    status: one_of(INTERVENTION_STATUSES)
    status_label: str
    capacity: Annotated[int, Field(ge=1, description="Antall familier samtidig")]
    typical_weeks: Annotated[int, Field(ge=1, description="Vanlig varighet for én familie")]
    load: Annotated[NonNegativeInt, Field(description="Familier i gang nå")]
    waiting: Annotated[NonNegativeInt, Field(description="Godtatte henvendelser som venter på oppstart")]
    free_places: NonNegativeInt
    estimated_waiting_weeks: Annotated[
        NonNegativeInt, Field(description="Anslått ventetid i uker for en ny familie; 0 med ledig plass")
    ]
    contact: Contact | None


class InterventionList(Shape):
    items: list[Intervention]


class InterventionDetail(Intervention):
    municipalities: Annotated[list[MunicipalityRef], Field(description="Kommunene som kan be om tiltaket")]


class Referral(Shape):
    public_id: Annotated[str, Field(description="Tilfeldig id, brukes i adresser")]
    intervention: NamedRef
    sending_service: NamedRef
    family_municipality: MunicipalityRef
    status: one_of(REFERRAL_STATUSES)
    status_label: str
    urgency: one_of(URGENCIES)
    urgency_label: str
    children_count: Annotated[int, Field(ge=1)]
    child_birth_years: list[int]
    bti_level: Annotated[int, Field(ge=0, le=3)] | None
    preferred_start: date | None
    case_reference: Annotated[
        str | None, Field(description="Avsenderens egen saksreferanse; null når innholdet er slettet")
    ]
    need: Annotated[str | None, Field(description="Behovet; null når innholdet er slettet")]
    content_erased: Annotated[bool, Field(description="Innholdet er slettet etter oppbevaringstiden")]
    created_at: OsloTime
    sent_at: OsloTime | None
    received_at: OsloTime | None
    accepted_at: OsloTime | None
    started_at: OsloTime | None
    finished_at: OsloTime | None
    my_sides: Annotated[
        list[Literal["provider", "sender"]],
        Field(description="Hvilken side du står på: tjenesten som sender, tiltaksteamet, eller begge"),
    ]
    allowed_actions: Annotated[list[one_of(ACTIONS)], Field(description="Handlingene du kan gjøre nå (på nettsidene)")]


class ReferralPage(Shape):
    items: list[Referral]
    page: Annotated[int, Field(ge=1)]
    per_page: Annotated[int, Field(ge=1)]
    total: NonNegativeInt


class Consent(Shape):
    given: bool
    date: date | None
    form: one_of(CONSENT_FORMS) | None
    form_label: str | None


class Transition(Shape):
    from_status: one_of(REFERRAL_STATUSES) | None
    to_status: one_of(REFERRAL_STATUSES)
    at: OsloTime
    comment: str | None


class ReferralDetail(Referral):
    consent: Consent
    decline_reason: str | None
    outcome: one_of(OUTCOMES) | None
    outcome_label: str | None
    outcome_note: str | None
    history: list[Transition]


# Answers: materials and competence -----------------------------------------------------------------------


class MaterialVersion(Shape):
    number: Annotated[int, Field(ge=1)]
    file_name: str
    kind: one_of(MATERIAL_FILE_KINDS)
    content_type: Annotated[str, Field(description="Typen lest fra innholdet i filen")]
    size: Annotated[int, Field(ge=1, description="Byte")]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    note: str
    uploaded_at: OsloTime
    download_url: Annotated[str, Field(description="Nedlasting (som vedlegg) for en innlogget bruker")]


class MaterialEvent(Shape):
    id: int
    title: str
    starts_at: OsloTime


class Material(Shape):
    id: int
    title: str
    description: str
    author: str
    base: NamedRef
    published_on: date
    audience: one_of(MATERIAL_AUDIENCES)
    audience_label: str
    network: NamedRef | None
    areas: list[NamedRef]
    events: list[MaterialEvent]
    current_version: MaterialVersion | None
    url: Annotated[str, Field(description="Siden for materiellet")]


class MaterialList(Shape):
    items: list[Material]


class MaterialDetail(Material):
    versions: Annotated[list[MaterialVersion], Field(description="Alle versjoner, nyeste først")]


class CompetenceArea(Shape):
    slug: str
    name: str
    kind: one_of(AREA_KINDS)
    kind_label: str
    description: str
    target_group: str
    expires_after_months: Annotated[
        Annotated[int, Field(ge=1)] | None,
        Field(description="Sertifiseringen utløper etter så mange måneder; null: utløper ikke"),
    ]


class CompetenceAreaList(Shape):
    items: list[CompetenceArea]


class MatrixFilters(Shape):
    service_kind: one_of(SERVICE_KINDS) | None
    area_kind: one_of(AREA_KINDS) | None
    min_level: one_of(COMPETENCE_LEVELS)


class MatrixRow(Shape):
    number: str
    name: str
    counts: Annotated[
        dict[str, NonNegativeInt],
        Field(description="Antall personer med gyldig kompetanse, per kompetanseområdets slug"),
    ]


class CompetenceMatrix(Shape):
    base: NamedRef
    valid_on: date
    filters: MatrixFilters
    areas: list[CompetenceArea]
    municipalities: list[MatrixRow]
    totals: dict[str, NonNegativeInt]
