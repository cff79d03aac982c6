"""The objects a URL names, for `policy.requires(rule, load=...)`: each loader takes the URL arguments it
names and returns the object, or answers 404 when there is none (a slug or number that matches nothing,
like an id that does not exist). A draft the user may not see is a 404 too, decided by
`policy.hidden_from`, not here."""

from flask import abort
from sqlmodel import select

from nettverk.accounts.models import User
from nettverk.competence.models import CompetenceArea, CompetenceRecord
from nettverk.db import get_session
from nettverk.events.models import Event, Registration
from nettverk.mail.models import OutboxMessage
from nettverk.materials.models import Material
from nettverk.networks.models import Network
from nettverk.referrals.models import Intervention, Referral
from nettverk.registry.models import CompetenceBase, Contact, County, Municipality, Service, Unit


def _get(model, object_id: int):
    return get_session().get(model, object_id) or abort(404)


def _first(model, condition):
    return get_session().exec(select(model).where(condition)).first() or abort(404)


def base(slug: str) -> CompetenceBase:
    return _first(CompetenceBase, CompetenceBase.slug == slug)


def municipality(number: str) -> Municipality:
    return _first(Municipality, Municipality.number == number)


def service(slug: str) -> Service:
    return _first(Service, Service.slug == slug)


def county(county_id: int) -> County:
    return _get(County, county_id)


def unit(unit_id: int) -> Unit:
    return _get(Unit, unit_id)


def contact(contact_id: int) -> Contact:
    return _get(Contact, contact_id)


def contact_municipality(contact_id: int) -> Municipality:
    """Contacts are edited by whoever keeps the contacts of their municipality."""
    return get_session().get(Municipality, contact(contact_id).municipality_id)


def event(event_id: int) -> Event:
    return _get(Event, event_id)


def registration(registration_id: int) -> Registration:
    return _get(Registration, registration_id)


def event_of_registration(event_id: int, registration_id: int) -> Event:
    """The event, when the registration is one of its own (else 404)."""
    if registration(registration_id).event_id != event_id:
        abort(404)
    return event(event_id)


def network(slug: str) -> Network:
    return _first(Network, Network.slug == slug)


def intervention(slug: str) -> Intervention:
    return _first(Intervention, Intervention.slug == slug)


def referral(public_id: str) -> Referral:
    return _first(Referral, Referral.public_id == public_id)


def material(material_id: int) -> Material:
    return _get(Material, material_id)


def competence_area(slug: str) -> CompetenceArea:
    return _first(CompetenceArea, CompetenceArea.slug == slug)


def competence_record(record_id: int) -> CompetenceRecord:
    return _get(CompetenceRecord, record_id)


def outbox_message(message_id: int) -> OutboxMessage:
    return _get(OutboxMessage, message_id)


def user(user_id: int) -> User:
    return _get(User, user_id)
