"""JSON API v1: gatherings, networks, and the logged-in user's own registration.

Routes on the same `api` blueprint as the registry (views.py), described in openapi.py. Responses
hold no one else's personal data: counts, never participant lists; only the caller's own registration.
Times are ISO 8601 in Europe/Oslo with the offset; an all-day event runs from the Oslo midnight of its
first day to the Oslo midnight after its last day (`all_day` true).
"""

import re
from datetime import date, datetime, timedelta

from flask import abort, jsonify, request, url_for
from flask_login import current_user
from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import select

from nettverk import ERROR_TITLES, policy
from nettverk.api.problems import problem
from nettverk.api.views import bp
from nettverk.db import get_session
from nettverk.errors import OperationError
from nettverk.events import operations, queries
from nettverk.events.models import (
    AUDIENCES,
    CONFIRMED,
    EVENT_KINDS,
    EVENT_STATUSES,
    REGISTRATION_STATUSES,
    WAITLISTED,
    Event,
    Registration,
)
from nettverk.networks.models import NETWORK_KINDS, Network, NetworkBase, NetworkMember
from nettverk.policy import requires
from nettverk.registry.models import CompetenceBase, Municipality
from nettverk.registry.queries import with_predecessors
from nettverk.text import character_problem
from nettverk.timeutil import oslo_midnight, parse_day, to_oslo

MUNICIPALITY_NUMBER = re.compile(r"^[0-9]{4}$")
# The fields a registration body may have, and their longest accepted length (the table's columns).
REGISTRATION_FIELDS = {"municipality": 4, "role": 160, "dietary": 300, "lunch": None}

Host = aliased(Municipality, name="host_municipality")
Venue = aliased(Municipality, name="venue_municipality")


# Shapes -------------------------------------------------------------------------------------------


def _time(value: datetime | None) -> str | None:
    return to_oslo(value).isoformat() if value else None


def _named(obj) -> dict | None:
    return {"slug": obj.slug, "name": obj.name} if obj is not None else None


def _municipality(m: Municipality | None) -> dict | None:
    return {"number": m.number, "name": m.name, "sami_name": m.sami_name} if m is not None else None


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


# Queries ------------------------------------------------------------------------------------------


PER_PAGE = 200  # ten years of events nationally: the list is read a page at a time


def _event_rows(*conditions, page: int | None = None) -> list[tuple]:
    """Events the current user may see, with base, network, host and venue municipality and the
    number of confirmed seats, in one query (one page of them when `page` is given). The seats are
    counted per event shown (a correlated count on the registration index), not over every registration."""
    confirmed = (
        select(func.count())
        .select_from(Registration)
        .where(Registration.event_id == Event.id, Registration.status == CONFIRMED)
        .scalar_subquery()
    )
    query = (
        select(Event, CompetenceBase, Network, Host, Venue, confirmed)
        .join(CompetenceBase, CompetenceBase.id == Event.base_id, isouter=True)
        .join(Network, Network.id == Event.network_id, isouter=True)
        .join(Host, Host.id == Event.host_municipality_id, isouter=True)
        .join(Venue, Venue.id == Event.venue_municipality_id, isouter=True)
        .where(policy.visible_events(current_user), *conditions)
        .order_by(Event.starts_at, Event.id)
    )
    if page is not None:
        query = query.limit(PER_PAGE).offset((page - 1) * PER_PAGE)
    return list(get_session().exec(query))


def _day(name: str) -> date | None:
    value = request.args.get(name) or None
    if value is None:
        return None
    try:
        return parse_day(value)  # the same window as every date people enter (timeutil)
    except ValueError as error:
        abort(400, f"«{name}» må være en dato på formen ÅÅÅÅ-MM-DD, ikke «{value}». {error}")


def _filters() -> list:
    """The list's filters as SQL conditions; an unknown or malformed value is a 400 problem."""
    session = get_session()
    conditions = []
    slug = request.args.get("base") or None
    if slug is not None:
        base = session.exec(select(CompetenceBase).where(CompetenceBase.slug == slug)).first()
        if base is None:
            abort(400, f"Ukjent kompetansebase «{slug}». Gyldige verdier står i /api/v1/bases.")
        conditions.append(policy.events_of_bases({base.id}))
    slug = request.args.get("network") or None
    if slug is not None:
        network = session.exec(select(Network).where(Network.slug == slug)).first()
        if network is None:
            abort(400, f"Ukjent nettverk «{slug}». Gyldige verdier står i /api/v1/networks.")
        conditions.append(Event.network_id == network.id)
    number = request.args.get("municipality") or None
    if number is not None:
        if not MUNICIPALITY_NUMBER.match(number):
            abort(400, f"Kommunenummeret må være fire sifre, ikke «{number}».")
        municipality = session.exec(select(Municipality).where(Municipality.number == number)).first()
        if municipality is None:
            abort(400, f"Ukjent kommunenummer «{number}».")
        conditions.append(Event.host_municipality_id.in_(with_predecessors(session, municipality.id)))
    kind = request.args.get("kind") or None
    if kind is not None:
        if kind not in EVENT_KINDS:
            abort(400, f"Ukjent type arrangement «{kind}». Gyldige verdier: {', '.join(EVENT_KINDS)}.")
        conditions.append(Event.kind == kind)
    first, last = _day("from"), _day("to")
    if first is not None and last is not None and last < first:
        abort(400, f"«to» ({last.isoformat()}) kan ikke være før «from» ({first.isoformat()}).")
    if first is not None:  # events still going on at or after the start of that Oslo day
        conditions.append(Event.ends_at > oslo_midnight(first))
    if last is not None:  # events starting before that Oslo day is over
        conditions.append(Event.starts_at < oslo_midnight(last + timedelta(days=1)))
    return conditions


# Events -------------------------------------------------------------------------------------------


@bp.get("/events")
@requires("public")
def events():
    page = request.args.get("page") or "1"
    if not page.isdigit() or not 0 < int(page) < 100_000:
        abort(400, f"«page» må være et helt tall fra 1 til 99999, ikke «{page}».")
    conditions = _filters()
    total = (
        get_session()
        .exec(select(func.count()).select_from(Event).where(policy.visible_events(current_user), *conditions))
        .one()
    )
    return jsonify(
        {
            "items": [_event(*row) for row in _event_rows(*conditions, page=int(page))],
            "page": int(page),
            "per_page": PER_PAGE,
            "total": total,
        }
    )


def _load_event(event_id: int) -> Event:
    return get_session().get(Event, event_id) or abort(404)  # the same answer as a hidden draft


@bp.get("/events/<int:event_id>")
@requires("event.view", load=_load_event, hide=True)
def event(event, event_id):
    session = get_session()
    page = queries.event_page(session, event)
    row = _event_rows(Event.id == event.id)[0]
    mine = queries.registration_of(session, event.id, current_user.email) if current_user.is_authenticated else None
    return jsonify(
        {
            **_event(*row),
            "description": event.description,
            "programme": [
                {"starts": item.starts, "title": item.title, "speaker": item.speaker} for item in page.programme
            ],
            "counts": {"confirmed": page.counts[CONFIRMED], "waitlisted": page.counts[WAITLISTED]},
            "my_registration": _own_registration(mine),
        }
    )


# The user's own registration -------------------------------------------------------------------


def _invalid(detail: str, field: str | None = None):
    extra = {"field": field} if field else {}
    return problem(422, "Kan ikke behandles", detail, **extra)


def _registrant(body: dict):
    """The registration body as a Registrant, or a 422 problem."""
    unknown = sorted(set(body) - REGISTRATION_FIELDS.keys())
    if unknown:
        return _invalid(
            f"Ukjente felt: {', '.join(unknown)}. Tillatte felt: {', '.join(REGISTRATION_FIELDS)}.", unknown[0]
        )
    municipality_id = None
    number = body.get("municipality")
    if number is not None:
        if not isinstance(number, str) or not MUNICIPALITY_NUMBER.match(number):
            return _invalid(
                '«municipality» må være et kommunenummer med fire sifre, for eksempel "5054".', "municipality"
            )
        municipality = get_session().exec(select(Municipality).where(Municipality.number == number)).first()
        if municipality is None:
            return _invalid(f"Ukjent kommunenummer «{number}».", "municipality")
        if not municipality.is_current:
            return _invalid(
                f"{municipality.name} ({number}) er ikke lenger en kommune. Bruk kommunenummeret "
                "den ble slått sammen til.",
                "municipality",
            )
        municipality_id = municipality.id
    texts = {}
    for name in ("role", "dietary"):
        value = body.get(name)
        if value is None:
            value = ""
        if not isinstance(value, str):
            return _invalid(f"«{name}» må være tekst.", name)
        if message := character_problem(value):  # the same rule as every form's text fields
            return _invalid(f"«{name}»: {message}", name)
        if len(value.strip()) > REGISTRATION_FIELDS[name]:
            return _invalid(f"«{name}» kan ha høyst {REGISTRATION_FIELDS[name]} tegn.", name)
        texts[name] = value.strip()
    lunch = body.get("lunch")
    if lunch is not None and not isinstance(lunch, bool):
        return _invalid("«lunch» må være true, false eller null.", "lunch")
    user = current_user._get_current_object()
    if not user.name.strip():
        return _invalid("Kontoen din mangler navn. Skriv navnet ditt på profilsiden før du melder deg på.")
    return operations.Registrant(
        name=user.name,
        email=user.email,
        municipality_id=municipality_id,
        role=texts["role"],
        dietary=texts["dietary"],
        lunch=lunch,
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


@bp.route("/events/<int:event_id>/registration", methods=["POST", "DELETE"])
@requires("authenticated")
def registration(event_id):
    """POST registers the logged-in user, DELETE cancels their registration. The session cookie
    is the credential, so CSRFProtect requires the X-CSRFToken header on both."""
    session = get_session()
    event = _load_event(event_id)
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
    response = jsonify({"event_id": event.id, **_own_registration(registration)})
    response.status_code = 201
    return response


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


@bp.get("/networks")
@requires("public")
def networks():
    session = get_session()
    rows = session.exec(
        select(Network, Host).join(Host, Host.id == Network.host_municipality_id, isouter=True).order_by(Network.name)
    )
    bases: dict[int, list[dict]] = {}
    for network_id, base in session.exec(
        select(NetworkBase.network_id, CompetenceBase)
        .join(CompetenceBase, CompetenceBase.id == NetworkBase.base_id)
        .order_by(CompetenceBase.name)
    ):
        bases.setdefault(network_id, []).append(_named(base))
    members = dict(
        session.exec(select(NetworkMember.network_id, func.count()).group_by(NetworkMember.network_id)).all()
    )
    return jsonify(
        {
            "items": [
                {
                    "slug": network.slug,
                    "name": network.name,
                    "kind": network.kind,
                    "kind_label": NETWORK_KINDS.get(network.kind, network.kind),
                    "description": network.description,
                    "bases": bases.get(network.id, []),
                    "cadence": {
                        "rule": network.cadence or None,
                        "starts_on": network.cadence_start.isoformat() if network.cadence_start else None,
                        "meeting_start": network.meeting_start.strftime("%H:%M"),
                        "meeting_minutes": network.meeting_minutes,
                    },
                    "venue": {"name": network.venue_name, "address": network.venue_address}
                    if network.venue_name or network.venue_address
                    else None,
                    "host_municipality": _municipality(host),
                    "member_count": members.get(network.id, 0),
                }
                for network, host in rows
            ]
        }
    )
