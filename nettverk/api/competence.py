"""JSON API v1: the catalogue of competence areas (public) and a base's competence matrix (anyone logged in;
counts only, never names)."""

from nettverk import loaders
from nettverk.api import schemas
from nettverk.api.openapi import NOT_LOGGED_IN, answer, get, query
from nettverk.competence import queries
from nettverk.competence.models import AREA_KINDS
from nettverk.competence.operations import today
from nettverk.db import get_session
from nettverk.policy import requires

TAGS = ["competence"]


def _area(area) -> dict:
    return {
        "slug": area.slug,
        "name": area.name,
        "kind": area.kind,
        "kind_label": AREA_KINDS.get(area.kind, area.kind),
        "description": area.description,
        "target_group": area.target_group,
        "expires_after_months": area.expires_after_months,
    }


@get(
    "/competence-areas",
    summary="Kompetanseområder (metoder, programmer og verktøy)",
    id="listCompetenceAreas",
    tags=TAGS,
    query=schemas.CompetenceAreasQuery,
    answers={200: schemas.CompetenceAreaList, 400: schemas.Problem},
)
@requires("public")
def competence_areas():
    kind = query(schemas.CompetenceAreasQuery).kind
    return answer(schemas.CompetenceAreaList, {"items": [_area(a) for a in queries.areas(get_session(), kind=kind)]})


@get(
    "/bases/<slug>/competence-matrix",
    path={"slug": "Kompetansebasens slug, for eksempel fosen"},
    summary="Kompetansematrisen for en kompetansebase: kommuner × kompetanseområder, bare antall",
    id="getCompetenceMatrix",
    tags=TAGS,
    description="Antall personer som jobber i hver kommune og har gyldig (ikke utløpt) kompetanse på minst "
    "valgt nivå. Aldri navn. Krever innlogging.",
    login=True,
    query=schemas.CompetenceMatrixQuery,
    answers={200: schemas.CompetenceMatrix, 400: schemas.Problem, 401: NOT_LOGGED_IN, 404: schemas.Problem},
)
@requires("authenticated", load=loaders.base)
def competence_matrix(base, slug):
    asked = query(schemas.CompetenceMatrixQuery)
    chosen = queries.MatrixFilter(
        service_kind=asked.service_kind or "", area_kind=asked.area_kind or "", min_level=asked.min_level
    )
    day = today()
    table = queries.matrix(get_session(), base, day, chosen)
    return answer(
        schemas.CompetenceMatrix,
        {
            "base": {"slug": base.slug, "name": base.name},
            "valid_on": day,
            "filters": {
                "service_kind": chosen.service_kind or None,
                "area_kind": chosen.area_kind or None,
                "min_level": chosen.min_level,
            },
            "areas": [_area(a) for a in table.areas],
            "municipalities": [
                {
                    "number": m.number,
                    "name": m.name,
                    "counts": {a.slug: c.count for a, c in zip(table.areas, cells, strict=True)},
                }
                for m, cells in table.rows()
            ],
            "totals": {a.slug: c.count for a, c in zip(table.areas, table.totals(), strict=True)},
        },
    )
