"""JSON API v1: the registry, read-only and public (here), and gatherings, networks and the user's own
registration (events.py), the catalog of tiltak and referrals (referrals.py), all on the same
blueprint. Described in openapi.py; a test keeps the two in step."""

from flask import Blueprint, abort, jsonify, request
from sqlmodel import select

from nettverk.api.openapi import document
from nettverk.db import get_session
from nettverk.policy import requires
from nettverk.registry import queries
from nettverk.registry.models import SERVICE_KINDS, CompetenceBase, County, Municipality, Service

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _municipality(m: Municipality, county: County | None = None) -> dict:
    data = {
        "number": m.number,
        "name": m.name,
        "sami_name": m.sami_name,
        "current": m.is_current,
        "valid_to": m.valid_to.isoformat() if m.valid_to else None,
    }
    if county is not None:
        data["county"] = {"number": county.number, "name": county.name}
    return data


def _base(b: CompetenceBase) -> dict:
    return {"slug": b.slug, "name": b.name, "description": b.description}


def _service(s: Service, host: Municipality) -> dict:
    return {
        "slug": s.slug,
        "name": s.name,
        "kind": s.kind,
        "kind_label": SERVICE_KINDS.get(s.kind, s.kind),
        "host_municipality": {"number": host.number, "name": host.name},
        "email": s.email,
        "phone": s.phone,
    }


@bp.before_request
def _refuse_nul():
    """A NUL character in the address is bad input: PostgreSQL cannot compare text with it (a 500)."""
    if "\x00" in request.path or any(
        "\x00" in key or any("\x00" in value for value in values) for key, values in request.args.lists()
    ):
        abort(400, "Adressen inneholder et ugyldig tegn (NUL).")


@bp.get("/openapi.json")
@requires("public")
def openapi():
    return jsonify(document())


@bp.get("/counties")
@requires("public")
def counties():
    return jsonify({"items": [{"number": c.number, "name": c.name} for c in queries.counties(get_session())]})


@bp.get("/bases")
@requires("public")
def bases():
    return jsonify({"items": [{**_base(b), "member_count": n} for b, n in queries.bases_with_counts(get_session())]})


def _load_base(slug: str) -> CompetenceBase:
    return get_session().exec(select(CompetenceBase).where(CompetenceBase.slug == slug)).first() or abort(404)


@bp.get("/bases/<slug>")
@requires("public", load=_load_base)
def base(base, slug):
    members = queries.base_members(get_session(), base.id)
    return jsonify(
        {**_base(base), "members": [{**_municipality(m), "demo_membership": ms.is_demo} for m, ms in members]}
    )


@bp.get("/municipalities")
@requires("public")
def municipalities():
    # Exactly what the document says (a boolean): anything but true or false is a 400, never quietly false.
    value = request.args.get("include_historic") or "false"
    if value not in ("true", "false"):
        abort(400, f"«include_historic» må være true eller false, ikke «{value}».")
    rows = queries.municipalities(get_session(), value == "true")
    return jsonify({"items": [_municipality(m, c) for m, c in rows]})


def _load_municipality(number: str) -> Municipality:
    return get_session().exec(select(Municipality).where(Municipality.number == number)).first() or abort(404)


@bp.get("/municipalities/<number>")
@requires("public", load=_load_municipality)
def municipality(municipality, number):
    page = queries.municipality_page(get_session(), municipality)
    return jsonify(
        {
            **_municipality(municipality, page.county),
            "bases": [_base(b) for b in page.bases],
            "services": [{"slug": s.slug, "name": s.name, "kind": s.kind} for s in page.services],
            "merged_from": [
                {**_municipality(m), "effective_date": c.effective_date.isoformat(), "partial": c.partial}
                for m, c in page.merged_from
            ],
            "merged_into": [
                {**_municipality(m), "effective_date": c.effective_date.isoformat(), "partial": c.partial}
                for m, c in page.merged_into
            ],
        }
    )


@bp.get("/services")
@requires("public")
def services():
    kind = request.args.get("kind") or None
    if kind is not None and kind not in SERVICE_KINDS:
        abort(400, f"Ukjent type tjeneste «{kind}». Gyldige verdier: {', '.join(SERVICE_KINDS)}.")
    rows = queries.services_with_hosts(get_session(), kind)
    return jsonify({"items": [{**_service(s, host), "served_count": n} for s, host, n in rows]})


def _load_service(slug: str) -> Service:
    return get_session().exec(select(Service).where(Service.slug == slug)).first() or abort(404)


@bp.get("/services/<slug>")
@requires("public", load=_load_service)
def service(service, slug):
    session = get_session()
    return jsonify(
        {
            **_service(service, session.get(Municipality, service.host_municipality_id)),
            "description": service.description,
            "serves": [_municipality(m) for m in queries.served_municipalities(session, service.id)],
            "units": [
                {"id": u.id, "name": u.name, "municipality": m.number if m else None}
                for u, m in queries.service_units(session, service.id)
            ],
        }
    )


# The events and referrals APIs add their routes to this blueprint; imported last, as they import `bp` from here.
from nettverk.api import competence as _competence  # noqa: E402, F401
from nettverk.api import events as _events  # noqa: E402, F401
from nettverk.api import materials as _materials  # noqa: E402, F401
from nettverk.api import referrals as _referrals  # noqa: E402, F401
