"""JSON API v1: the catalogue of competence areas (public) and a base's competence matrix (anyone logged in;
counts only, never names). Routes on the `api` blueprint (views.py), described in openapi.py."""

from flask import abort, jsonify, request

from nettverk.api.views import _load_base, bp
from nettverk.competence import queries
from nettverk.competence.models import AREA_KINDS, LEVELS
from nettverk.competence.operations import today
from nettverk.db import get_session
from nettverk.policy import requires
from nettverk.registry.models import SERVICE_KINDS


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


@bp.get("/competence-areas")
@requires("public")
def competence_areas():
    kind = request.args.get("kind", "")
    if kind and kind not in AREA_KINDS:
        abort(400, f"Ukjent type «{kind}». Gyldige verdier: {', '.join(AREA_KINDS)}.")
    return jsonify({"items": [_area(a) for a in queries.areas(get_session(), kind=kind or None)]})


def _choice(name: str, allowed: dict, default: str = "") -> str:
    value = request.args.get(name, "") or default
    if value and value not in allowed:
        abort(400, f"Ukjent verdi «{value}» for {name}. Gyldige verdier: {', '.join(allowed)}.")
    return value


@bp.get("/bases/<slug>/competence-matrix")
@requires("authenticated", load=_load_base)
def competence_matrix(base, slug):
    chosen = queries.MatrixFilter(
        service_kind=_choice("service_kind", SERVICE_KINDS),
        area_kind=_choice("area_kind", AREA_KINDS),
        min_level=_choice("min_level", LEVELS, queries.DEFAULT_MIN_LEVEL),
    )
    day = today()
    table = queries.matrix(get_session(), base, day, chosen)
    return jsonify(
        {
            "base": {"slug": base.slug, "name": base.name},
            "valid_on": day.isoformat(),
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
        }
    )
