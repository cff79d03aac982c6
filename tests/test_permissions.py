"""The permission matrix: every route x every role (and anonymous) -> allowed or refused.

The table below is written by hand, not derived from the code, and a test fails for any route
that is not in it: a new route cannot ship without someone deciding who may use it.
"""

import pytest
from factories import make_event, make_material, make_record, make_referral
from sqlmodel import select

from nettverk.accounts.models import RoleAssignment, User
from nettverk.accounts.operations import INVITATION, PASSWORD_RESET, _issue_token
from nettverk.calendars.operations import create_token as create_calendar_token
from nettverk.db import get_session
from nettverk.mail.operations import queue_mail
from nettverk.materials.models import MaterialAudience
from nettverk.referrals.models import ReferralStatus
from nettverk.registry.models import Contact, County, Municipality, Service, Unit

EVERYONE = "everyone"
LOGGED_IN = "logged in"
ADMIN = {"admin"}
FOSEN_MANAGERS = {"admin", "coordinator_fosen"}  # the URL names base `fosen`
INDRE_FOSEN_CONTACTS = {"admin", "municipality_contact"}  # the URL names municipality 5054
COORDINATORS = {"admin", "coordinator", "coordinator_fosen"}
INVITERS = {"admin", "coordinator", "coordinator_fosen", "service_leader"}
# Members of the base Fosen (policy.member_base_ids): its coordinator, Indre Fosen's contact, Fosen
# barneverntjeneste's staff and leader; and the admin.
FOSEN_MEMBERS = {"admin", "coordinator_fosen", "municipality_contact", "service_staff", "service_leader"}

ROLES = [
    None,
    "participant",
    "coordinator",
    "coordinator_fosen",
    "municipality_contact",
    "service_staff",
    "service_leader",
    "provider",
    "admin",
]

MATRIX = {
    "registry.home": EVERYONE,
    "registry.bases": EVERYONE,
    "registry.base_detail": EVERYONE,
    "registry.municipalities": EVERYONE,
    "registry.municipality_detail": EVERYONE,
    "registry.services": EVERYONE,
    "registry.service_detail": EVERYONE,
    "registry.counties": ADMIN,
    "registry.county_edit": ADMIN,
    "registry.municipality_new": ADMIN,
    "registry.municipality_edit": ADMIN,
    "registry.merger": ADMIN,
    "registry.base_new": ADMIN,
    "registry.base_edit": FOSEN_MANAGERS,
    "registry.member_add": FOSEN_MANAGERS,
    "registry.member_remove": FOSEN_MANAGERS,
    "registry.service_new": ADMIN,
    "registry.service_edit": ADMIN,
    "registry.unit_new": ADMIN,
    "registry.unit_edit": ADMIN,
    "registry.contact_new": INDRE_FOSEN_CONTACTS,
    "registry.contact_edit": INDRE_FOSEN_CONTACTS,
    "registry.contact_delete": INDRE_FOSEN_CONTACTS,
    "registry.csv_import": ADMIN,
    "accounts.login": EVERYONE,
    "accounts.logout": LOGGED_IN,
    "accounts.accept_invitation": EVERYONE,
    "accounts.forgot_password": EVERYONE,
    "accounts.reset_password": EVERYONE,
    "accounts.profile": LOGGED_IN,
    "accounts.invite": INVITERS,
    "accounts.admin_home": ADMIN,
    "accounts.users": ADMIN,
    "accounts.user_detail": ADMIN,
    "accounts.role_remove": ADMIN,
    "accounts.user_active": ADMIN,
    "accounts.logout_everywhere": LOGGED_IN,
    "accounts.user_logout_everywhere": ADMIN,
    "mail.outbox": ADMIN,
    "mail.message_detail": ADMIN,
    "mail.send_now": ADMIN,
    "api.openapi": EVERYONE,
    "api.counties": EVERYONE,
    "api.bases": EVERYONE,
    "api.base": EVERYONE,
    "api.municipalities": EVERYONE,
    "api.municipality": EVERYONE,
    "api.services": EVERYONE,
    "api.service": EVERYONE,
    # events routes
    "events.event_new": COORDINATORS,
    "events.event_edit": FOSEN_MANAGERS,
    "events.event_publish": FOSEN_MANAGERS,
    "events.event_cancel": FOSEN_MANAGERS,
    "events.event_held": FOSEN_MANAGERS,
    "events.event_detail": EVERYONE,
    "events.register": LOGGED_IN,
    "events.guest_register": EVERYONE,
    "events.confirm_guest": EVERYONE,
    "events.cancel_by_link": EVERYONE,
    "events.cancel_own": {"participant"},  # the URL names the participant's own registration
    "events.my_registrations": LOGGED_IN,
    "events.participants": FOSEN_MANAGERS,
    "events.participants_export": FOSEN_MANAGERS,
    "events.register_on_behalf": FOSEN_MANAGERS,
    "events.promote": FOSEN_MANAGERS,
    "events.cancel_by_coordinator": FOSEN_MANAGERS,
    "events.attendance": FOSEN_MANAGERS,
    # networks routes
    # The URL's `slug` is the demo network "BTI-nettverk Fosen" (in base Fosen).
    "networks.network_list": EVERYONE,
    "networks.network_detail": EVERYONE,
    "networks.network_new": COORDINATORS,
    "networks.network_edit": FOSEN_MANAGERS,
    "networks.members": FOSEN_MANAGERS,
    "networks.member_remove": FOSEN_MANAGERS,
    "networks.plan": FOSEN_MANAGERS,
    "networks.skip_meeting": FOSEN_MANAGERS,
    "networks.coverage": FOSEN_MANAGERS,  # the base's coverage page
    # calendar routes
    "calendar.region_calendar": EVERYONE,
    "calendar.check_date": EVERYONE,
    "calendar.annual_wheel": EVERYONE,
    # calendar feeds and personal calendar links
    "calendars.base_feed": EVERYONE,
    "calendars.network_feed": EVERYONE,
    "calendars.municipality_feed": EVERYONE,
    "calendars.personal_feed": EVERYONE,  # the token in the URL is the credential
    "calendars.event_ics": EVERYONE,  # the URL names a published event
    "calendars.token_create": LOGGED_IN,
    "calendars.token_revoke": LOGGED_IN,
    "calendars.token_alarm": LOGGED_IN,
    "calendars.guest_new_link": EVERYONE,
    # api events routes
    "api.events": EVERYONE,
    "api.event": EVERYONE,
    "api.networks": EVERYONE,
    "api.registration": LOGGED_IN,
    # shared tiltak and referrals; the URL names the demo tiltak PMTO in Fosen (delivered by Innherred
    # barnevern's team) and a referral to it sent by Fosen barneverntjeneste (a draft for the edit page)
    "referrals.catalog": LOGGED_IN,
    "referrals.intervention_detail": LOGGED_IN,
    "referrals.intervention_new": {"admin", "coordinator", "coordinator_fosen", "provider"},
    "referrals.intervention_edit": {"admin", "coordinator_fosen", "provider"},
    "referrals.referral_list": {"service_staff", "service_leader", "provider"},
    "referrals.referral_new": {"service_staff", "service_leader"},
    "referrals.referral_detail": {"service_staff", "service_leader", "provider"},
    "referrals.referral_edit": {"service_staff", "service_leader"},
    "referrals.referral_action": {"service_staff", "service_leader", "provider"},
    "referrals.referral_message": {"service_staff", "service_leader", "provider"},
    "referrals.service_audit_log": {"service_leader"},
    "referral_statistics.statistics_page": FOSEN_MANAGERS,
    "referral_statistics.statistics_csv": FOSEN_MANAGERS,
    "api.interventions": LOGGED_IN,
    "api.intervention": LOGGED_IN,
    "api.referrals": {"service_staff", "service_leader", "provider"},
    "api.referral": {"service_staff", "service_leader", "provider"},
    # the scheduler's operator page, «Kjør nå» (the job is a form field; none given answers 400), notice settings
    "scheduler.jobs": ADMIN,
    "scheduler.run_now": ADMIN,
    "scheduler.notice_settings": LOGGED_IN,
    # the materials library: a base's library (anyone logged in sees what is for them), upload (the base's
    # coordinators); the URL's material is Fosen's, for the members of the base (hidden from everyone else)
    "materials.library": LOGGED_IN,
    "materials.material_new": FOSEN_MANAGERS,
    "materials.material_detail": FOSEN_MEMBERS,
    "materials.download": FOSEN_MEMBERS,
    "materials.material_edit": FOSEN_MANAGERS,
    "materials.material_delete": FOSEN_MANAGERS,
    "materials.version_new": FOSEN_MANAGERS,
    "api.materials": LOGGED_IN,
    "api.material": FOSEN_MEMBERS,
    # competence: one's own page and records (the URL's record is the participant's), the catalogue (kept by
    # coordinators; the URL names the area PMTO), the base matrix and its files (counts only, anyone logged
    # in), recording for people of the base and the expiring list (the base's coordinators), the API
    "competence.home": LOGGED_IN,
    "competence.profile": LOGGED_IN,
    "competence.record_new": LOGGED_IN,
    "competence.record_edit": {"participant"},
    "competence.record_delete": {"participant"},
    "competence.own_export": LOGGED_IN,
    "competence.search": LOGGED_IN,
    "competence.areas": EVERYONE,
    "competence.area_new": COORDINATORS,
    "competence.area_edit": COORDINATORS,
    "competence.matrix": LOGGED_IN,
    "competence.matrix_export": LOGGED_IN,
    "competence.record_for_person": FOSEN_MANAGERS,
    "competence.expiring": FOSEN_MANAGERS,
    "api.competence_areas": EVERYONE,
    "api.competence_matrix": LOGGED_IN,
    # evaluation after a gathering: the form behind the personal link (the token is the credential), and
    # the results for the coordinators of the event's base (the URL names the Fosen fagdag)
    "evaluations.answer": EVERYONE,
    "evaluations.results": FOSEN_MANAGERS,
}


TOKENS = {
    "accounts.accept_invitation": "invitation_token",
    "accounts.reset_password": "reset_token",
    "events.confirm_guest": "confirm_token",
    "events.cancel_by_link": "cancel_token",
    "calendars.personal_feed": "calendar_token",
    "evaluations.answer": "evaluation_token",
}
HIDDEN = {
    "events.cancel_own",
    "referrals.referral_detail",
    "referrals.referral_edit",
    "referrals.referral_action",
    "referrals.referral_message",
    "api.referral",
    "competence.record_edit",
    "competence.record_delete",
}
HIDDEN |= {
    "materials.material_detail",
    "materials.download",
    "materials.material_edit",
    "materials.material_delete",
    "materials.version_new",
    "api.material",
}  # a material not for you answers as one that does not exist
SLUGS = {
    "networks": "bti-nettverk-fosen",  # by blueprint, or by endpoint; other slugs name the base Fosen
    "calendars.network_feed": "bti-nettverk-fosen",
    "referrals": "pmto-foreldretrening",
    "api.intervention": "pmto-foreldretrening",
    "competence.area_edit": "pmto",
}


def _routes(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def test_every_route_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in _routes(app)}
    assert endpoints - MATRIX.keys() == set(), "new routes need a line in MATRIX"
    assert MATRIX.keys() - endpoints == set(), "MATRIX names routes that no longer exist"


def test_every_view_declares_its_rule(app):
    undeclared = [
        rule.endpoint for rule in _routes(app) if not getattr(app.view_functions[rule.endpoint], "permission", None)
    ]
    assert undeclared == []


@pytest.fixture
def url_values(app):
    return make_url_values(app)


def make_url_values(app) -> dict:
    """Real objects for every URL argument, so an allowed request can succeed (also used by the e2e crawl)."""
    with app.app_context():
        session = get_session()
        participant = session.exec(select(User).where(User.email == "hanne.vikstrand@namsos.kommune.example")).one()
        indre_fosen = session.exec(select(Municipality).where(Municipality.number == "5054")).one()
        service = session.exec(select(Service).where(Service.slug == "fosen-barnevern")).one()
        invited = User(email="invitert@example.no")
        session.add(invited)
        session.flush()
        values = {
            "county_id": session.exec(select(County).where(County.number == "50")).one().id,
            "unit_id": session.exec(select(Unit).where(Unit.service_id == service.id)).first().id,
            "contact_id": session.exec(select(Contact).where(Contact.municipality_id == indre_fosen.id)).first().id,
            "user_id": participant.id,
            "role_id": session.exec(select(RoleAssignment).where(RoleAssignment.user_id == participant.id)).first().id,
            "message_id": queue_mail(
                session, "a@example.no", "Emne", "role_granted", user=participant, role="Deltaker", actor=participant
            ).id,
            "invitation_token": _issue_token(session, invited, INVITATION, _days(30)),
            "reset_token": _issue_token(session, participant, PASSWORD_RESET, _days(1)),
            "calendar_token": create_calendar_token(session, participant).token,
        }
        values.update(_event_values(session, participant))
        values.update(_referral_values(session))
        values.update(_material_values(session))
        values.update(_competence_values(session, participant))
        session.commit()
    return values


def _event_values(session, participant) -> dict:
    """A published Fosen fagdag with the participant registered, and a guest who has not confirmed."""
    from nettverk.events import operations as events

    event = make_event(session, "Fagdag", days=60, capacity=30)
    registration, cancel_token = events.register(
        session, event.id, events.Registrant(name=participant.name, email=participant.email, user=participant)
    )
    _, confirm_token = events.register(session, event.id, events.Registrant(name="Gjest", email="gjest@example.no"))
    from nettverk.evaluations.operations import invite

    return {
        "event_id": event.id,
        "registration_id": registration.id,
        "cancel_token": cancel_token,
        "confirm_token": confirm_token,
        "evaluation_token": invite(session, registration),
    }


def _referral_values(session) -> dict:
    """A referral sent from Fosen barneverntjeneste to PMTO, and a draft of another."""
    return {
        "public_id": make_referral(session).public_id,
        "draft_public_id": make_referral(session, ReferralStatus.DRAFT).public_id,
    }


def _competence_values(session, participant) -> dict:
    """A competence record of the participant's own."""
    return {"record_id": make_record(session, participant.email, "pmto", level="trained").id}


def _material_values(session) -> dict:
    """A material of Fosen for the members of the base, with one version (its file in the test's folder)."""
    return {"material_id": make_material(session, audience=MaterialAudience.BASE).id, "version": 1}


def _days(n):
    from datetime import timedelta

    return timedelta(days=n)


def _url(rule, values):
    args = {}
    for name in rule.arguments:
        if name == "slug":
            args[name] = SLUGS.get(rule.endpoint, SLUGS.get(rule.endpoint.split(".")[0], "fosen"))
            if "service" in rule.endpoint or "unit" in rule.endpoint:
                args[name] = "fosen-barnevern"
            elif rule.endpoint in ("networks.coverage", "networks.network_list"):
                args[name] = "fosen"
        elif name == "number":
            args[name] = "5054"
        elif name == "file_format":
            args[name] = "xlsx"
        elif name == "public_id":
            args[name] = values["draft_public_id" if rule.endpoint == "referrals.referral_edit" else "public_id"]
        elif name == "name":
            args[name] = "withdraw"
        elif name == "token":
            args[name] = values[TOKENS[rule.endpoint]]
        else:
            args[name] = values[name]
    return rule.build(args)[1]


def _allowed(rule_roles, role) -> bool:
    return (
        rule_roles == EVERYONE
        or (rule_roles == LOGGED_IN and role is not None)
        or (isinstance(rule_roles, set) and role in rule_roles)
    )


def _is_refusal(response, role, endpoint):
    if endpoint in HIDDEN:  # refusals that must not reveal that the object exists
        return response.status_code == 404
    if role is None:
        return response.status_code == 401 or (
            response.status_code == 302 and "/logg-inn" in response.headers["Location"]
        )
    return response.status_code == 403


@pytest.mark.parametrize("endpoint", sorted(MATRIX))
def test_route_answers_each_role_as_the_matrix_says(app, as_role, url_values, endpoint):
    rules = [rule for rule in _routes(app) if rule.endpoint == endpoint]
    allowed_roles = MATRIX[endpoint]
    for rule in rules:
        url = _url(rule, url_values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            # Refused roles first: an allowed POST (deleting a contact) must not change what they see.
            for role in sorted(ROLES, key=lambda r: _allowed(allowed_roles, r)):
                allowed = _allowed(allowed_roles, role)
                browser = as_role(role)
                response = browser.get(url) if method == "GET" else browser.post(url, {})
                where = f"{method} {url} as {role or 'anonymous'}: {response.status_code}"
                assert response.status_code < 500, where
                if not allowed:
                    assert _is_refusal(response, role, endpoint), where
                elif method == "GET":
                    assert response.status_code == 200, where
                else:
                    assert not _is_refusal(response, role, endpoint), where
