"""JSON API v1: the materials library (metadata; the files are downloaded from the page's link).

Routes on the same `api` blueprint as the registry (views.py), described in openapi.py.
- /materials: anyone logged in; the materials they may see (policy.material_access, the same rule as the
  pages), filtered by base, title, competence area and gathering.
- /materials/{material_id}: rule material.view with hide, so a material the caller may not see answers the
  same 404 problem as one that does not exist.
"""

from flask import abort, jsonify, request, url_for
from flask_login import current_user
from sqlmodel import select

from nettverk import policy
from nettverk.api.views import bp
from nettverk.db import get_session
from nettverk.materials import queries
from nettverk.materials.models import MATERIAL_AUDIENCES, MaterialVersion
from nettverk.materials.views import load_material
from nettverk.networks.models import Network
from nettverk.policy import requires
from nettverk.registry.models import CompetenceBase
from nettverk.timeutil import to_oslo


def _version(material_id: int, v: MaterialVersion) -> dict:
    return {
        "number": v.number,
        "file_name": v.original_name,
        "kind": v.kind,
        "content_type": v.content_type,
        "size": v.size,
        "sha256": v.sha256,
        "note": v.note,
        "uploaded_at": to_oslo(v.uploaded_at).isoformat(),
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
        "published_on": m.published_on.isoformat(),
        "audience": m.audience,
        "audience_label": MATERIAL_AUDIENCES.get(m.audience, m.audience),
        "network": {"slug": network.slug, "name": network.name} if network else None,
        "areas": [{"slug": a.slug, "name": a.name} for a in row.areas],
        "events": [{"id": e.id, "title": e.title, "starts_at": to_oslo(e.starts_at).isoformat()} for e in row.events],
        "current_version": _version(m.id, row.version) if row.version else None,
        "url": url_for("materials.material_detail", material_id=m.id),
    }


def _networks(rows: list[queries.MaterialRow]) -> dict[int, Network]:
    ids = {row.material.network_id for row in rows if row.material.network_id}
    return {n.id: n for n in get_session().exec(select(Network).where(Network.id.in_(ids)))} if ids else {}


@bp.get("/materials")
@requires("authenticated")
def materials():
    session = get_session()
    base_id = area_id = event_id = None
    slug = request.args.get("base") or None
    if slug is not None:
        base = session.exec(select(CompetenceBase).where(CompetenceBase.slug == slug)).first()
        if base is None:
            abort(400, f"Ukjent kompetansebase «{slug}». Gyldige verdier står i /api/v1/bases.")
        base_id = base.id
    area_slug = request.args.get("area") or None
    if area_slug is not None:
        area = queries.area_by_slug(session, area_slug)
        if area is None:
            abort(400, f"Ukjent kompetanseområde «{area_slug}».")
        area_id = area.id
    event = request.args.get("event") or None
    if event is not None:
        if not event.isdigit() or len(event) > 10 or not 0 < int(event) < 2**31:  # the id column's range
            abort(400, "«event» må være id-en til et arrangement (et heltall).")
        event_id = int(event)
    search = request.args.get("q", "").strip()
    if len(search) > queries.MAX_SEARCH:
        abort(400, f"«q» kan ha høyst {queries.MAX_SEARCH} tegn.")
    rows = queries.materials(session, policy.material_access(current_user), base_id, search, area_id, event_id)
    networks = _networks(rows)
    return jsonify({"items": [_material(row, networks.get(row.material.network_id)) for row in rows]})


@bp.get("/materials/<int:material_id>")
@requires("material.view", load=load_material, hide=True)
def material(material, material_id):
    session = get_session()
    row = queries.rows_for(session, [material])[0]
    return jsonify(
        {
            **_material(row, _networks([row]).get(material.network_id)),
            "versions": [_version(material.id, v) for v in queries.versions(session, material)],
        }
    )
