"""JSON API v1: the registry, read-only and public (here), and gatherings, networks and the user's own
registration (events.py), the catalog of tiltak and referrals (referrals.py), materials (materials.py) and
competence (competence.py), all on the one blueprint of openapi.py, which builds the document from the same
declarations and the shapes in schemas.py."""

from flask import abort, jsonify, request

from nettverk import loaders
from nettverk.api import schemas
from nettverk.api.openapi import answer, bp, document, get, query
from nettverk.db import get_session
from nettverk.policy import requires
from nettverk.registry import queries
from nettverk.registry.models import SERVICE_KINDS, CompetenceBase, County, Municipality, Service

REGISTRY = ["registry"]


def _municipality(m: Municipality, county: County | None = None) -> dict:
    data = {
        "number": m.number,
        "name": m.name,
        "sami_name": m.sami_name,
        "current": m.is_current,
        "valid_to": m.valid_to,
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


@get(
    "/openapi.json",
    summary="Dette dokumentet",
    id="getOpenAPI",
    tags=["meta"],
    answers={200: {"description": "OpenAPI 3.1", "content": {"application/json": {}}}},
)
@requires("public")
def openapi():
    return jsonify(document())


@get("/counties", summary="Fylker", id="listCounties", tags=REGISTRY, answers={200: schemas.CountyList})
@requires("public")
def counties():
    items = [{"number": c.number, "name": c.name} for c in queries.counties(get_session())]
    return answer(schemas.CountyList, {"items": items})


@get(
    "/bases",
    summary="Kompetansebaser med antall medlemskommuner",
    id="listBases",
    tags=REGISTRY,
    answers={200: schemas.BaseList},
)
@requires("public")
def bases():
    items = [{**_base(b), "member_count": n} for b, n in queries.bases_with_counts(get_session())]
    return answer(schemas.BaseList, {"items": items})


@get(
    "/bases/<slug>",
    path={"slug": "Kompetansebasens slug, for eksempel namdalen"},
    summary="Én kompetansebase med medlemskommuner",
    id="getBase",
    tags=REGISTRY,
    answers={200: schemas.BaseDetail, 404: schemas.Problem},
)
@requires("public", load=loaders.base)
def base(base, slug):
    members = queries.base_members(get_session(), base.id)
    return answer(
        schemas.BaseDetail,
        {**_base(base), "members": [{**_municipality(m), "demo_membership": ms.is_demo} for m, ms in members]},
    )


@get(
    "/municipalities",
    summary="Kommuner (gjeldende, eller alle med historiske)",
    id="listMunicipalities",
    tags=REGISTRY,
    query=schemas.MunicipalitiesQuery,
    answers={200: schemas.MunicipalityList},
)
@requires("public")
def municipalities():
    rows = queries.municipalities(get_session(), query(schemas.MunicipalitiesQuery).include_historic)
    return answer(schemas.MunicipalityList, {"items": [_municipality(m, c) for m, c in rows]})


@get(
    "/municipalities/<number>",
    path={"number": ("Kommunenummer", schemas.MunicipalityNumber)},
    summary="Én kommune med kompetansebaser, tjenester og historikk",
    id="getMunicipality",
    tags=REGISTRY,
    answers={200: schemas.MunicipalityDetail, 404: schemas.Problem},
)
@requires("public", load=loaders.municipality)
def municipality(municipality, number):
    page = queries.municipality_page(get_session(), municipality)
    return answer(
        schemas.MunicipalityDetail,
        {
            **_municipality(municipality, page.county),
            "bases": [_base(b) for b in page.bases],
            "services": [{"slug": s.slug, "name": s.name, "kind": s.kind} for s in page.services],
            "merged_from": [
                {**_municipality(m), "effective_date": c.effective_date, "partial": c.partial}
                for m, c in page.merged_from
            ],
            "merged_into": [
                {**_municipality(m), "effective_date": c.effective_date, "partial": c.partial}
                for m, c in page.merged_into
            ],
        },
    )


@get(
    "/services",
    summary="Tjenester med vertskommune",
    id="listServices",
    tags=REGISTRY,
    query=schemas.ServicesQuery,
    answers={200: schemas.ServiceList, 400: schemas.Problem},
)
@requires("public")
def services():
    rows = queries.services_with_hosts(get_session(), query(schemas.ServicesQuery).kind)
    return answer(schemas.ServiceList, {"items": [{**_service(s, host), "served_count": n} for s, host, n in rows]})


@get(
    "/services/<slug>",
    path={"slug": "Tjenestens slug"},
    summary="Én tjeneste med kommunene den betjener og enhetene",
    id="getService",
    tags=REGISTRY,
    answers={200: schemas.ServiceDetail, 404: schemas.Problem},
)
@requires("public", load=loaders.service)
def service(service, slug):
    session = get_session()
    return answer(
        schemas.ServiceDetail,
        {
            **_service(service, session.get(Municipality, service.host_municipality_id)),
            "description": service.description,
            "serves": [_municipality(m) for m in queries.served_municipalities(session, service.id)],
            "units": [
                {"id": u.id, "name": u.name, "municipality": m.number if m else None}
                for u, m in queries.service_units(session, service.id)
            ],
        },
    )


# The other API modules add their routes to the blueprint; imported last, as they import from here.
from nettverk.api import competence as _competence  # noqa: E402, F401
from nettverk.api import events as _events  # noqa: E402, F401
from nettverk.api import materials as _materials  # noqa: E402, F401
from nettverk.api import referrals as _referrals  # noqa: E402, F401
