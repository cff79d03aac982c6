"""JSON API v1: gatherings, networks, and the logged-in user's own registration.

Responses hold no one else's personal data: counts, never participant lists; only the caller's own registration.
Times are ISO 8601 in Europe/Oslo with the offset; an all-day event runs from the Oslo midnight of its
first day to the Oslo midnight after its last day (`all_day` true).
"""

from datetime import datetime

from flask import abort, request, url_for
from flask_login import current_user
from pydantic import ValidationError

from nettverk import ERROR_TITLES, loaders, policy
from nettverk.api import schemas
from nettverk.api.openapi import NOT_LOGGED_IN, answer, get, query, refusal, route
from nettverk.api.problems import problem
from nettverk.db import get_session
from nettverk.errors import OperationError
from nettverk.events import operations, queries
from nettverk.events.models import (
    AUDIENCES,
    EVENT_KINDS,
    EVENT_STATUSES,
    REGISTRATION_STATUSES,
    Event,
    Registration,
    RegistrationStatus,
)
from nettverk.networks import queries as network_queries
from nettverk.networks.models import NETWORK_KINDS
from nettverk.policy import requires
from nettverk.registry import queries as registry_queries
from nettverk.registry.models import Municipality
from nettverk.timeutil import to_oslo

TAGS = ["events"]
EVENT_ID = {"event_id": "Arrangementets id"}
REGISTRATION_FIELDS = schemas.RegistrationRequest.model_fields


# Shapes -------------------------------------------------------------------------------------------


def _named(obj) -> dict | None:
    return {"slug": obj.slug, "name": obj.name} if obj is not None else None


def _municipality(m: Municipality | None) -> dict | None:
    return {"number": m.number, "name": m.name, "sami_name": m.sami_name} if m is not None else None


def _time(value: datetime | None) -> datetime | None:
    return to_oslo(value) if value else None


def _event(event: Event, base, network, host, venue, confirmed: int) -> dict:
    closed_reason = operations.registration_open(event)
    has_venue = event.venue_name or event.venue_address or venue is not None
    return {
        "id": event.id,
        "uid": event.uid,
        "kind": event.kind,
        "kind_label": EVENT_KINDS.get(event.kind, event.kind),
        "title": event.title,
        "status": event.status,
        "status_label": EVENT_STATUSES.get(event.status, event.status),
        "starts_at": _time(event.starts_at),
        "ends_at": _time(event.ends_at),
        "all_day": event.all_day,
        "base": _named(base),
        "network": _named(network),
        "audience": event.audience,
        "audience_label": AUDIENCES.get(event.audience, event.audience),
        "host_municipality": _municipality(host),
        "venue": {"name": event.venue_name, "address": event.venue_address, "municipality": _municipality(venue)}
        if has_venue
        else None,
        "online_url": event.online_url or None,
        "capacity": event.capacity,
        "quota_per_municipality": event.quota_per_municipality,
        "seats_left": max(event.capacity - confirmed, 0) if event.capacity is not None else None,
        "registration": {
            "open": closed_reason is None,
            "closed_reason": closed_reason,
            "opens_at": _time(event.registration_opens_at),
            "closes_at": _time(event.registration_closes_at),
            "asks_dietary": event.ask_dietary,
            "asks_lunch": event.ask_lunch,
        },
        "url": url_for("events.event_detail", event_id=event.id, _external=True),
    }


def _own_registration(registration: Registration | None) -> dict | None:
    if registration is None:
        return None
    return {
        "status": registration.status,
        "status_label": REGISTRATION_STATUSES.get(registration.status, registration.status),
        "registered_at": _time(registration.created_at),
    }


# Events -------------------------------------------------------------------------------------------


def _filter(asked: schemas.EventsQuery) -> queries.EventFilter:
    """The list's filters; a slug or number that names nothing is a 400 problem."""
    session = get_session()
    chosen = queries.EventFilter(kind=asked.kind, first=asked.first_day, last=asked.to)
    if asked.base is not None:
        base = registry_queries.base_by_slug(session, asked.base)
        if base is None:
            abort(400, f"Ukjent kompetansebase «{asked.base}». Gyldige verdier står i /api/v1/bases.")
        chosen.base_id = base.id
    if asked.network is not None:
        network = network_queries.network_by_slug(session, asked.network)
        if network is None:
            abort(400, f"Ukjent nettverk «{asked.network}». Gyldige verdier står i /api/v1/networks.")
        chosen.network_id = network.id
    if asked.municipality is not None:
        municipality = registry_queries.municipality_by_number(session, asked.municipality)
        if municipality is None:
            abort(400, f"Ukjent kommunenummer «{asked.municipality}».")
        chosen.host_ids = registry_queries.with_predecessors(session, municipality.id)
    if chosen.first is not None and chosen.last is not None and chosen.last < chosen.first:
        abort(400, f"«to» ({chosen.last.isoformat()}) kan ikke være før «from» ({chosen.first.isoformat()}).")
    return chosen


@get(
    "/events",
    summary="Arrangementer (fagdager, nettverksmøter, samlinger, kurs)",
    id="listEvents",
    tags=TAGS,
    description="Publiserte, avlyste og gjennomførte arrangementer, og utkastene du selv planlegger. "
    "Sortert etter start.",
    query=schemas.EventsQuery,
    answers={200: schemas.EventPage, 400: schemas.Problem},
)
@requires("public")
def events():
    asked = query(schemas.EventsQuery)
    conditions = [policy.visible_events(current_user), *_filter(asked).conditions()]
    session = get_session()
    return answer(
        schemas.EventPage,
        {
            "items": [_event(*row) for row in queries.event_rows(session, *conditions, page=asked.page)],
            "page": asked.page,
            "per_page": queries.LIST_PAGE,
            "total": queries.count_events(session, *conditions),
        },
    )


@get(
    "/events/<int:event_id>",
    path=EVENT_ID,
    summary="Ett arrangement med program og antall påmeldte",
    id="getEvent",
    tags=TAGS,
    answers={200: schemas.EventDetail, 404: schemas.Problem},
)
@requires("event.view", load=loaders.event, hide=True)
def event(event, event_id):
    session = get_session()
    page = queries.event_page(session, event)
    mine = queries.registration_of(session, event.id, current_user.email) if current_user.is_authenticated else None
    return answer(
        schemas.EventDetail,
        {
            **_event(*queries.event_row(session, event.id)),
            "description": event.description,
            "programme": [
                {"starts": item.starts, "title": item.title, "speaker": item.speaker} for item in page.programme
            ],
            "counts": {
                "confirmed": page.counts[RegistrationStatus.CONFIRMED],
                "waitlisted": page.counts[RegistrationStatus.WAITLISTED],
            },
            "my_registration": _own_registration(mine),
        },
    )


# The user's own registration -------------------------------------------------------------------


def _invalid(detail: str, field: str | None = None):
    extra = {"field": field} if field else {}
    return problem(422, "Kan ikke behandles", detail, **extra)


def _registrant(body: dict):
    """The registration body as a Registrant, or a 422 problem."""
    try:
        asked = schemas.RegistrationRequest.model_validate(body)
    except ValidationError as error:
        unknown = sorted(str(e["loc"][0]) for e in error.errors() if e["type"] == "extra_forbidden")
        if unknown:
            allowed = ", ".join(REGISTRATION_FIELDS)
            return _invalid(f"Ukjente felt: {', '.join(unknown)}. Tillatte felt: {allowed}.", unknown[0])
        first = error.errors()[0]
        return _invalid(refusal(schemas.RegistrationRequest, first, body), first["loc"][0])
    municipality_id = None
    if asked.municipality is not None:
        number = asked.municipality
        municipality = registry_queries.municipality_by_number(get_session(), number)
        if municipality is None:
            return _invalid(f"Ukjent kommunenummer «{number}».", "municipality")
        if not municipality.is_current:
            return _invalid(
                f"{municipality.name} ({number}) er ikke lenger en kommune. Bruk kommunenummeret "
                "den ble slått sammen til.",
                "municipality",
            )
        municipality_id = municipality.id
    user = current_user._get_current_object()
    if not user.name.strip():
        return _invalid("Kontoen din mangler navn. Skriv navnet ditt på profilsiden før du melder deg på.")
    return operations.Registrant(
        name=user.name,
        email=user.email,
        municipality_id=municipality_id,
        role=asked.role or "",
        dietary=asked.dietary or "",
        lunch=asked.lunch,
        user=user,
    )


def _json_body():
    """The request's JSON object ({} for an empty body), or a problem."""
    if not request.is_json:
        # A form body has already been read by the CSRF check, so ask for its length and fields too.
        if request.content_length or request.form or request.get_data(cache=True):
            return problem(415, "Feil innholdstype", "Send innholdet som JSON med Content-Type: application/json.")
        return {}
    if not request.get_data(cache=True):
        return {}
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return problem(
            400, "Ugyldig forespørsel", 'Innholdet må være et JSON-objekt, for eksempel {"municipality": "5054"}.'
        )
    return body


@route(
    "/events/<int:event_id>/registration",
    {
        "post": {
            "summary": "Meld deg på (innlogget bruker)",
            "id": "register",
            "tags": TAGS,
            "description": "Du får plass, eller en plass på ventelisten når arrangementet er fullt. Krever "
            "innlogging (øktcookie) og headeren X-CSRFToken.",
            "login": True,
            "csrf": True,
            "body": schemas.RegistrationRequest,
            "answers": {
                201: (schemas.RegistrationResult, "Påmeldt eller satt på venteliste"),
                400: (schemas.Problem, "Mangler CSRF-nøkkel, eller innholdet er ikke JSON"),
                401: NOT_LOGGED_IN,
                403: (schemas.Problem, "Arrangementet er ikke åpent for deg (målgruppe)"),
                404: schemas.Problem,
                409: (schemas.Problem, "Påmeldingen er stengt, eller du er allerede påmeldt"),
                415: schemas.Problem,
                422: (schemas.Problem, "Ugyldig felt i innholdet"),
            },
        },
        "delete": {
            "summary": "Meld deg av",
            "id": "cancelRegistration",
            "tags": TAGS,
            "description": "Frigjort plass går til den første på ventelisten. Krever innlogging og X-CSRFToken.",
            "login": True,
            "csrf": True,
            "answers": {
                204: "Avmeldt",
                400: (schemas.Problem, "Mangler CSRF-nøkkel"),
                401: NOT_LOGGED_IN,
                404: (schemas.Problem, "Arrangementet finnes ikke, eller du er ikke påmeldt"),
            },
        },
    },
    path=EVENT_ID,
)
@requires("authenticated")
def registration(event_id):
    """POST registers the logged-in user, DELETE cancels their registration. The session cookie
    is the credential, so CSRFProtect requires the X-CSRFToken header on both."""
    session = get_session()
    event = loaders.event(event_id)
    if not policy.can_see_event(current_user, event):
        abort(404)
    if request.method == "DELETE":
        return _cancel(event)
    body = _json_body()
    if not isinstance(body, dict):
        return body
    registrant = _registrant(body)
    if not isinstance(registrant, operations.Registrant):
        return registrant
    try:
        registration, _ = operations.register(session, event.id, registrant)
    except OperationError as error:
        field = "municipality" if error.field == "municipality_id" else error.field
        extra = {"field": field} if field in REGISTRATION_FIELDS else {}  # not the e-mail: it is the account's
        return problem(error.status, ERROR_TITLES.get(error.status, "Feil"), error.message, **extra)
    return answer(schemas.RegistrationResult, {"event_id": event.id, **_own_registration(registration)}, 201)


def _cancel(event: Event):
    session = get_session()
    mine = queries.registration_of(session, event.id, current_user.email)
    if mine is None:
        return problem(404, "Ingen påmelding", "Du er ikke påmeldt dette arrangementet.")
    try:
        operations.cancel_registration(session, mine, current_user.id)
    except OperationError as error:
        return problem(error.status, ERROR_TITLES.get(error.status, "Feil"), error.message)
    return "", 204


# Networks -----------------------------------------------------------------------------------------


@get(
    "/networks",
    summary="Nettverk med kompetansebaser og møterytme",
    id="listNetworks",
    tags=TAGS,
    answers={200: schemas.NetworkList},
)
@requires("public")
def networks():
    session = get_session()
    bases = network_queries.bases_by_network(session)
    members = network_queries.member_counts(session)
    return answer(
        schemas.NetworkList,
        {
            "items": [
                {
                    "slug": network.slug,
                    "name": network.name,
                    "kind": network.kind,
                    "kind_label": NETWORK_KINDS.get(network.kind, network.kind),
                    "description": network.description,
                    "bases": [_named(base) for base in bases.get(network.id, [])],
                    "cadence": {
                        "rule": network.cadence or None,
                        "starts_on": network.cadence_start,
                        "meeting_start": network.meeting_start.strftime("%H:%M"),
                        "meeting_minutes": network.meeting_minutes,
                    },
                    "venue": {"name": network.venue_name, "address": network.venue_address}
                    if network.venue_name or network.venue_address
                    else None,
                    "host_municipality": _municipality(host),
                    "member_count": members.get(network.id, 0),
                }
                for network, host in network_queries.networks_with_hosts(session)
            ]
        },
    )
