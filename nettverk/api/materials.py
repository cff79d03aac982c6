"""JSON API v1: the materials library (metadata; the files are downloaded from the page's link).

- /materials: anyone logged in; the materials they may see (policy.material_access, the same rule as the
  pages), filtered by base, title, competence area and gathering.
- /materials/{material_id}: rule material.view with hide, so a material the caller may not see answers the
  same 404 problem as one that does not exist.
"""

from flask import abort, url_for
from flask_login import current_user

from nettverk import loaders, policy
from nettverk.api import schemas
from nettverk.api.openapi import NOT_LOGGED_IN, answer, get, query
from nettverk.competence.queries import area_by_slug
from nettverk.db import get_session
from nettverk.materials import queries
from nettverk.materials.models import MATERIAL_AUDIENCES, MaterialVersion
from nettverk.networks.models import Network
from nettverk.networks.queries import networks_by_id
from nettverk.policy import requires
from nettverk.registry.queries import base_by_slug
from nettverk.timeutil import to_oslo

TAGS = ["materials"]


def _version(material_id: int, v: MaterialVersion) -> dict:
    return {
        "number": v.number,
        "file_name": v.original_name,
        "kind": v.kind,
        "content_type": v.content_type,
        "size": v.size,
        "sha256": v.sha256,
        "note": v.note,
        "uploaded_at": to_oslo(v.uploaded_at),
        "download_url": url_for("materials.download", material_id=material_id, version=v.number),
    }


def _material(row: queries.MaterialRow, network: Network | None) -> dict:
    m = row.material
    return {
        "id": m.id,
        "title": m.title,
        "description": m.description,
        "author": m.author,
        "base": {"slug": row.base.slug, "name": row.base.name},
        "published_on": m.published_on,
        "audience": m.audience,
        "audience_label": MATERIAL_AUDIENCES.get(m.audience, m.audience),
        "network": {"slug": network.slug, "name": network.name} if network else None,
        "areas": [{"slug": a.slug, "name": a.name} for a in row.areas],
        "events": [{"id": e.id, "title": e.title, "starts_at": to_oslo(e.starts_at)} for e in row.events],
        "current_version": _version(m.id, row.version) if row.version else None,
        "url": url_for("materials.material_detail", material_id=m.id),
    }


def _networks(rows: list[queries.MaterialRow]) -> dict[int, Network]:
    return networks_by_id(get_session(), {row.material.network_id for row in rows if row.material.network_id})


@get(
    "/materials",
    summary="Materiell (kompetansebank) du kan se",
    id="listMaterials",
    tags=TAGS,
    description="Presentasjoner, handlingsveiledere, maler og rapporter fra kompetansebasene, nyeste først: "
    "for alle innloggede, for medlemmene i basen eller i et nettverk. Bare opplysningene; filene "
    "lastes ned fra download_url. Krever innlogging.",
    login=True,
    query=schemas.MaterialsQuery,
    answers={200: schemas.MaterialList, 400: schemas.Problem, 401: NOT_LOGGED_IN},
)
@requires("authenticated")
def materials():
    session = get_session()
    asked = query(schemas.MaterialsQuery)
    base_id = area_id = None
    if asked.base is not None:
        base = base_by_slug(session, asked.base)
        if base is None:
            abort(400, f"Ukjent kompetansebase «{asked.base}». Gyldige verdier står i /api/v1/bases.")
        base_id = base.id
    if asked.area is not None:
        area = area_by_slug(session, asked.area)
        if area is None:
            abort(400, f"Ukjent kompetanseområde «{asked.area}».")
        area_id = area.id
    access = policy.material_access(current_user)
    rows = queries.materials(session, access, base_id, asked.q or "", area_id, asked.event)
    networks = _networks(rows)
    return answer(
        schemas.MaterialList, {"items": [_material(row, networks.get(row.material.network_id)) for row in rows]}
    )


@get(
    "/materials/<int:material_id>",
    path={"material_id": "Materiellets id"},
    summary="Ett materiell med alle versjoner",
    id="getMaterial",
    tags=TAGS,
    login=True,
    answers={
        200: schemas.MaterialDetail,
        404: (schemas.Problem, "Finnes ikke, eller er ikke for deg (også uten innlogging): svaret er det samme"),
    },
)
@requires("material.view", load=loaders.material, hide=True)
def material(material, material_id):
    session = get_session()
    row = queries.rows_for(session, [material])[0]
    return answer(
        schemas.MaterialDetail,
        {
            **_material(row, _networks([row]).get(material.network_id)),
            "versions": [_version(material.id, v) for v in queries.versions(session, material)],
        },
    )
