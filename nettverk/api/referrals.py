"""JSON API v1: the catalog of shared tiltak, and henvendelser (referrals) scoped exactly like the pages.

- /interventions: anyone logged in (rule catalog.view); the whole catalog unless filtered by base.
- /referrals: rule referral.list (staff and leaders of a sending service, providing teams); everyone
  else gets a 403 problem. The list is queries.referrals_for, as on the page: the referrals sent from
  the caller's services, and those (not drafts) to the tiltak their teams deliver. Each listed referral
  is a read of its content and gets an audit row ("listed").
- /referrals/{public_id}: rule referral.view with hide, so everyone else gets the same 404 problem as
  for an id that does not exist. Audited as "viewed".
Coordinators and the admin never get referral content here: they hold neither side of a referral.
Times are ISO 8601 in Europe/Oslo with the offset.
"""

from datetime import datetime

from flask import abort
from flask_login import current_user

from nettverk import loaders, policy
from nettverk.api import schemas
from nettverk.api.openapi import NOT_LOGGED_IN, answer, get, query
from nettverk.db import get_session
from nettverk.policy import requires
from nettverk.referrals import operations, queries
from nettverk.referrals.models import (
    CONSENT_FORMS,
    INTERVENTION_STATUSES,
    METHODS,
    OUTCOMES,
    REFERRAL_STATUSES,
    URGENCIES,
    Intervention,
    Referral,
)
from nettverk.registry.models import Municipality, Service
from nettverk.registry.queries import base_by_slug
from nettverk.timeutil import to_oslo

TAGS = ["referrals"]


def _time(value: datetime | None) -> datetime | None:
    return to_oslo(value) if value else None


def _named(obj) -> dict:
    return {"slug": obj.slug, "name": obj.name}


# Catalog ------------------------------------------------------------------------------------------


def _intervention(row: queries.CatalogRow) -> dict:
    i = row.intervention
    return {
        "slug": i.slug,
        "name": i.name,
        "method": i.method,
        "method_label": METHODS.get(i.method, i.method),
        "description": i.description,
        "base": _named(row.base),
        "provider": _named(row.provider),
        "age_from": i.age_from,
        "age_to": i.age_to,
        "bti_level": i.bti_level,
        "status": i.status,
        "status_label": INTERVENTION_STATUSES.get(i.status, i.status),
        "capacity": i.capacity,
        "typical_weeks": i.typical_weeks,
        "load": row.load,
        "waiting": row.waiting,
        "free_places": row.free,
        "estimated_waiting_weeks": row.waiting_weeks,
        "contact": {"name": i.contact_name, "email": i.contact_email} if i.contact_name or i.contact_email else None,
    }


@get(
    "/interventions",
    summary="Katalogen over delte tiltak",
    id="listInterventions",
    tags=TAGS,
    description="Aktive tiltak og tiltak på pause i alle kompetansebaser (filtrer med base), "
    "med belastning, venteliste og anslått ventetid. Krever innlogging.",
    login=True,
    query=schemas.InterventionsQuery,
    answers={200: schemas.InterventionList, 400: schemas.Problem, 401: NOT_LOGGED_IN},
)
@requires("catalog.view")
def interventions():
    session = get_session()
    asked = query(schemas.InterventionsQuery)
    base_ids = None
    if asked.base is not None:
        base = base_by_slug(session, asked.base)
        if base is None:
            abort(400, f"Ukjent kompetansebase «{asked.base}». Gyldige verdier står i /api/v1/bases.")
        base_ids = {base.id}
    rows = queries.catalog(session, base_ids, search=asked.q or "", method=asked.method or "")
    return answer(schemas.InterventionList, {"items": [_intervention(row) for row in rows]})


@get(
    "/interventions/<slug>",
    path={"slug": "Tiltakets slug"},
    summary="Ett tiltak med kommunene som kan be om det",
    id="getIntervention",
    tags=TAGS,
    login=True,
    answers={200: schemas.InterventionDetail, 401: NOT_LOGGED_IN, 404: schemas.Problem},
)
@requires("catalog.view", load=loaders.intervention)
def intervention(intervention, slug):
    session = get_session()
    return answer(
        schemas.InterventionDetail,
        {
            **_intervention(queries.catalog_row(session, intervention)),
            "municipalities": [
                {"number": m.number, "name": m.name} for m in queries.allowed_municipalities(session, intervention.id)
            ],
        },
    )


# Referrals ----------------------------------------------------------------------------------------


def _referral(
    referral: Referral, intervention: Intervention, sender: Service, municipality: Municipality, sides: set[str]
) -> dict:
    """One referral as its reader may see it. Only called for a caller on one of its sides; the content
    (case reference, need) is null once erased after the retention period."""
    erased = referral.content_erased_at is not None
    content = bool(sides) and not erased
    return {
        "public_id": referral.public_id,
        "intervention": _named(intervention),
        "sending_service": _named(sender),
        "family_municipality": {"number": municipality.number, "name": municipality.name},
        "status": referral.status,
        "status_label": REFERRAL_STATUSES.get(referral.status, referral.status),
        "urgency": referral.urgency,
        "urgency_label": URGENCIES.get(referral.urgency, referral.urgency),
        "children_count": referral.children_count,
        "child_birth_years": [int(year) for year in referral.child_birth_years.split(",") if year.strip()],
        "bti_level": referral.bti_level,
        "preferred_start": referral.preferred_start,
        "case_reference": referral.case_reference if content else None,
        "need": referral.need if content else None,
        "content_erased": erased,
        "created_at": _time(referral.created_at),
        "sent_at": _time(referral.sent_at),
        "received_at": _time(referral.received_at),
        "accepted_at": _time(referral.accepted_at),
        "started_at": _time(referral.started_at),
        "finished_at": _time(referral.finished_at),
        "my_sides": sorted(sides),
        "allowed_actions": operations.available_actions(referral, sides),
    }


@get(
    "/referrals",
    summary="Henvendelsene du kan se",
    id="listReferrals",
    tags=TAGS,
    description="De samme som på siden Henvendelser: sendt fra tjenestene du jobber i, og (ikke utkast) til "
    "tiltak teamet ditt gir. Nyeste endring først, 50 per side (total sier hvor mange i alt). "
    "Hver henvendelse i lista logges som lest.",
    login=True,
    query=schemas.ReferralsQuery,
    answers={
        200: schemas.ReferralPage,
        400: schemas.Problem,
        401: NOT_LOGGED_IN,
        403: (
            schemas.Problem,
            "Du sender ikke henvendelser og er ikke i et tiltaksteam (koordinatorer ser bare statistikk)",
        ),
    },
)
@requires("referral.list")
def referrals():
    session = get_session()
    asked = query(schemas.ReferralsQuery)
    status, page = asked.status or "", asked.page
    sending, providing = policy.sending_service_ids(current_user), policy.scope_ids(current_user, "provider")
    rows = queries.referrals_for(session, sending, providing, status, page)
    reads = [(policy.referral_sides(current_user, row.referral), row) for row in rows]
    operations.record_reads(session, current_user, [(sides, row.referral) for sides, row in reads])
    return answer(
        schemas.ReferralPage,
        {
            "items": [
                _referral(row.referral, row.intervention, row.sender, row.municipality, sides) for sides, row in reads
            ],
            "page": page,
            "per_page": queries.PER_PAGE,
            "total": queries.count_referrals_for(session, sending, providing, status),
        },
    )


@get(
    "/referrals/<public_id>",
    path={"public_id": "Henvendelsens tilfeldige id"},
    summary="Én henvendelse",
    id="getReferral",
    tags=TAGS,
    description="Bare for tjenesten som sendte den og teamet som gir tiltaket. Lesingen logges.",
    login=True,
    answers={
        200: schemas.ReferralDetail,
        404: (schemas.Problem, "Finnes ikke, eller er ikke din å se (også uten innlogging): svaret er det samme"),
    },
)
@requires("referral.view", load=loaders.referral, hide=True)
def referral(referral, public_id):
    session = get_session()
    sides = policy.referral_sides(current_user, referral)
    operations.record_read(session, current_user, sides, referral)
    intervention = session.get(Intervention, referral.intervention_id)
    history = queries.transitions(session, referral.id)
    content = referral.content_erased_at is None
    return answer(
        schemas.ReferralDetail,
        {
            **_referral(
                referral,
                intervention,
                session.get(Service, referral.sending_service_id),
                session.get(Municipality, referral.family_municipality_id),
                sides,
            ),
            "consent": {
                "given": referral.consent_given,
                "date": referral.consent_date,
                "form": referral.consent_form or None,
                "form_label": CONSENT_FORMS.get(referral.consent_form) if referral.consent_form else None,
            },
            "decline_reason": (referral.decline_reason or None) if content else None,
            "outcome": referral.outcome or None,
            "outcome_label": OUTCOMES.get(referral.outcome) if referral.outcome else None,
            "outcome_note": (referral.outcome_note or None) if content else None,
            "history": [
                {
                    "from_status": t.from_status or None,
                    "to_status": t.to_status,
                    "at": _time(t.at),
                    "comment": (t.comment or None) if content else None,
                }
                for t in history
            ],
        },
    )
