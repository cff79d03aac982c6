"""Pages of the materials library (kompetansebank): a base's library with search, upload (coordinators),
a material with its versions, new versions, downloads (always as an attachment with the detected type)."""

from flask import Blueprint, abort, render_template, request, send_file, url_for
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from nettverk import loaders, policy
from nettverk.db import get_session
from nettverk.forms import form_page, submit
from nettverk.materials import operations, queries, storage
from nettverk.materials.forms import DeleteForm, MaterialForm, UploadForm, VersionForm
from nettverk.materials.models import MATERIAL_AUDIENCES, Material
from nettverk.networks.models import Network
from nettverk.policy import requires
from nettverk.registry.models import CompetenceBase
from nettverk.timeutil import format_date, to_oslo, utcnow

bp = Blueprint("materials", __name__)

# A download is never shown by the browser as a page: attachment, the detected type, no sniffing, and a
# policy that runs nothing should it be opened anyway.
DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
}


@bp.app_template_filter("filstorrelse")
def file_size(size: int) -> str:
    """1234567 -> '1,2 MB' (Norwegian decimal comma)."""
    if size < 1024:
        return f"{size} byte"
    if size < 1024 * 1024:
        return f"{round(size / 1024)} kB"
    return f"{size / (1024 * 1024):.1f} MB".replace(".", ",")


bp.add_app_template_global(storage.KINDS, "FILE_KINDS")
bp.add_app_template_global(MATERIAL_AUDIENCES, "MATERIAL_AUDIENCES")


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error):
    """A request larger than MAX_CONTENT_LENGTH, refused before it is read: say what the limit is."""
    return render_template(
        "error.html",
        status=413,
        title="Filen er for stor",
        detail=f"Filen er større enn det som er tillatt. Største tillatte størrelse er "
        f"{storage.limit_text()}. Ingenting ble lagret.",
    ), 413


# The library -------------------------------------------------------------------------------------


@bp.get("/kompetansebaser/<slug>/materiell")
@requires("authenticated", load=loaders.base)
def library(base):
    session = get_session()
    access = policy.material_access(current_user)
    errors: dict[str, str] = {}
    search = request.args.get("sok", "").strip()
    if len(search) > queries.MAX_SEARCH:
        errors["sok"] = f"Søket kan ha høyst {queries.MAX_SEARCH} tegn."
        search = search[: queries.MAX_SEARCH]
    areas = queries.areas(session)
    area_slug = request.args.get("omrade", "").strip()
    area = next((a for a in areas if a.slug == area_slug), None) if area_slug else None
    if area_slug and area is None:
        errors["omrade"] = "Vi fant ikke det kompetanseområdet. Velg et fra listen."
    events = queries.events_with_materials(session, base, access)
    event_value = request.args.get("samling", "").strip()
    event = next((e for e in events if str(e.id) == event_value), None) if event_value else None
    if event_value and event is None:
        errors["samling"] = "Vi fant ikke den samlingen. Velg en fra listen."
    rows = queries.materials(session, access, base.id, search, area.id if area else None, event.id if event else None)
    return render_template(
        "materials/library.html",
        base=base,
        rows=rows,
        areas=areas,
        events=events,
        search=search,
        area=area,
        event=event,
        errors=errors,
        filtered=bool(search or area_slug or event_value),
        may_upload=policy.can(current_user, "material.upload", base),
    ), 400 if errors else 200


# Upload and change -------------------------------------------------------------------------------


def _choices(form: MaterialForm, base: CompetenceBase) -> None:
    session = get_session()
    form.network_id.choices = [("", "Ingen"), *((n.id, n.name) for n in queries.base_networks(session, base))]
    form.area_ids.choices = [(a.id, a.name) for a in queries.areas(session)]
    form.event_ids.choices = [
        (e.id, f"{e.title} ({format_date(e.starts_at)})") for e in queries.base_events(session, base)
    ]


def _data(form: MaterialForm) -> operations.MaterialData:
    return operations.MaterialData(
        title=form.title.data or "",
        published_on=form.published_on.data,
        description=form.description.data or "",
        author=form.author.data or "",
        audience=form.audience.data,
        network_id=form.network_id.data,
        area_ids=list(form.area_ids.data or []),
        event_ids=list(form.event_ids.data or []),
    )


@bp.route("/kompetansebaser/<slug>/materiell/nytt", methods=["GET", "POST"])
@requires("material.upload", load=loaders.base)
def material_new(base):
    form = UploadForm()
    _choices(form, base)
    if request.method == "GET":
        form.published_on.data = to_oslo(utcnow()).date()
        wanted = request.args.get("samling", "")
        form.event_ids.data = [int(wanted)] if wanted.isdigit() else []
    return submit(
        form,
        lambda: operations.create_material(get_session(), current_user.id, base, _data(form), _upload(form)),
        "Materiellet er lastet opp.",
        lambda material: url_for("materials.material_detail", material_id=material.id),
    ) or form_page("materials/form.html", form, base=base, material=None, limit=storage.limit_text())


def _upload(form: UploadForm | VersionForm) -> operations.Upload:
    return operations.Upload(form.file.data.stream, form.file.data.filename or "", form.note.data or "")


@bp.route("/materiell/<int:material_id>/rediger", methods=["GET", "POST"])
@requires("material.manage", load=loaders.material, hide=True)
def material_edit(material):
    session = get_session()
    base = session.get(CompetenceBase, material.base_id)
    form = MaterialForm(obj=material)
    _choices(form, base)
    if request.method == "GET":
        row = queries.rows_for(session, [material])[0]
        form.area_ids.data = [a.id for a in row.areas]
        form.event_ids.data = [e.id for e in row.events]
    return submit(
        form,
        lambda: operations.update_material(session, current_user.id, material, _data(form)),
        "Materiellet er lagret.",
        url_for("materials.material_detail", material_id=material.id),
    ) or form_page("materials/form.html", form, base=base, material=material)


@bp.route("/materiell/<int:material_id>/slett", methods=["GET", "POST"])
@requires("material.manage", load=loaders.material, hide=True)
def material_delete(material):
    session = get_session()
    base = session.get(CompetenceBase, material.base_id)
    form = DeleteForm()
    return submit(
        form,
        lambda: operations.delete_material(session, current_user.id, material),
        f"«{material.title}» er slettet.",
        url_for("materials.library", slug=base.slug),
    ) or form_page(
        "materials/delete.html", form, base=base, material=material, versions=queries.versions(session, material)
    )


# A material, its versions, downloads --------------------------------------------------------------


def _material_page(material: Material, form: VersionForm):
    session = get_session()
    return form_page(
        "materials/material.html",
        form,
        row=queries.rows_for(session, [material])[0],
        versions=queries.versions(session, material),
        limit=storage.limit_text(),
        network=session.get(Network, material.network_id) if material.network_id else None,
        manage=policy.can(current_user, "material.manage", material),
    )


@bp.get("/materiell/<int:material_id>")
@requires("material.view", load=loaders.material, hide=True)
def material_detail(material):
    return _material_page(material, VersionForm())


@bp.post("/materiell/<int:material_id>/versjoner")
@requires("material.manage", load=loaders.material, hide=True)
def version_new(material):
    form = VersionForm()
    return submit(
        form,
        lambda: operations.add_version(get_session(), current_user.id, material, _upload(form)),
        lambda version: f"Versjon {version.number} er lastet opp. De eldre versjonene ligger under.",
        url_for("materials.material_detail", material_id=material.id),
    ) or _material_page(material, form)


@bp.get("/materiell/<int:material_id>/versjoner/<int:version>")
@requires("material.view", load=loaders.material, hide=True)
def download(material, version):
    row = queries.version(get_session(), material, version) or abort(404)
    kind = storage.KINDS.get(row.kind)
    path = storage.path_of(row.stored_name)
    if kind is None or not path.is_file():
        abort(404, "Filen finnes ikke lenger i materiellbanken. Ta kontakt med koordinatoren.")
    response = send_file(
        path, mimetype=kind.mimetype, as_attachment=True, download_name=row.original_name, etag=row.sha256, max_age=0
    )
    response.headers.update(DOWNLOAD_HEADERS)
    return response
