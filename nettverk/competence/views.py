"""Competence pages: one's own competence and profile, the catalogue of areas, the base matrix with its
exports, the search for people who can guide, what a coordinator records for people of their base, and
certifications about to expire.

Names: a person's own page shows their records; anything else that names people shows only those who
opted in (queries.guides, queries.expiring); the matrix and its files hold counts only.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlmodel import select

from nettverk import loaders, policy
from nettverk.competence import exports, operations, queries
from nettverk.competence.forms import AreaForm, CoordinatorRecordForm, ProfileForm, RecordForm
from nettverk.competence.models import (
    AREA_KINDS,
    LEVELS,
    SOURCES,
    CompetenceArea,
    CompetenceLevel,
    CompetenceProfile,
    CompetenceRecord,
    RecordSource,
)
from nettverk.db import get_session
from nettverk.forms import form_page, submit
from nettverk.policy import requires
from nettverk.registry import queries as registry_queries
from nettverk.registry.models import SERVICE_KINDS, CompetenceBase
from nettverk.spreadsheets import attachment
from nettverk.text import norwegian_key

bp = Blueprint("competence", __name__)

REGION = "alle"


# One's own competence -----------------------------------------------------------------------------


def _profile_form() -> ProfileForm:
    session = get_session()
    profile = session.get(CompetenceProfile, current_user.id)
    if profile is None:  # not saved yet: suggest the workplace from the roles
        municipality_id, service_id = operations.role_workplace(session, current_user.id)
        profile = CompetenceProfile(user_id=current_user.id, municipality_id=municipality_id, service_id=service_id)
    form = ProfileForm(obj=profile if request.method == "GET" else None)
    form.municipality_id.choices = [("", "Ikke oppgitt"), *registry_queries.current_municipality_choices(session)]
    form.service_id.choices = [("", "Ikke oppgitt"), *registry_queries.service_choices(session)]
    return form


def _own_page(profile_form: ProfileForm):
    session = get_session()
    bases = {b.id: b for b in queries.bases_of_person(session, current_user.id)}
    coordinated = policy.coordinated_base_ids(current_user)
    for base in session.exec(select(CompetenceBase)):
        if coordinated is None or base.id in coordinated:
            bases.setdefault(base.id, base)
    return form_page(
        "competence/home.html",
        profile_form,
        rows=queries.own_records(session, current_user.id, operations.today()),
        profile=session.get(CompetenceProfile, current_user.id),
        bases=sorted(bases.values(), key=lambda b: norwegian_key(b.name)),
        LEVELS=LEVELS,
        SOURCES=SOURCES,
        AREA_KINDS=AREA_KINDS,
    )


@bp.get("/kompetanse")
@requires("authenticated")
def home():
    return _own_page(_profile_form())


@bp.post("/kompetanse/profil")
@requires("authenticated")
def profile():
    form = _profile_form()
    return submit(
        form,
        lambda: operations.save_profile(
            get_session(), current_user, form.contactable.data, form.municipality_id.data, form.service_id.data
        ),
        "Valgene dine er lagret.",
        url_for("competence.home"),
    ) or _own_page(form)


def _record_form(form_class, row: CompetenceRecord | None = None):
    form = form_class(obj=row)
    form.area_id.choices = [
        ("", "Velg kompetanseområde"),
        *queries.area_choices(get_session(), row.area_id if row else None),
    ]
    return form


def _record_data(form: RecordForm) -> operations.RecordData:
    return operations.RecordData(
        area_id=form.area_id.data,
        level=form.level.data or "",
        achieved_on=form.achieved_on.data,
        issued_by=form.issued_by.data or "",
        expires_on=form.expires_on.data,
    )


def _save_record(row: CompetenceRecord | None):
    form = _record_form(RecordForm, row)

    def save():
        if row is None:
            operations.add_record(get_session(), current_user.id, current_user.id, _record_data(form))
        else:
            operations.update_record(get_session(), current_user.id, row, _record_data(form))

    return submit(form, save, "Kompetansen er lagret.", url_for("competence.home")) or form_page(
        "competence/record_form.html", form, row=row
    )


@bp.route("/kompetanse/ny", methods=["GET", "POST"])
@requires("authenticated")
def record_new():
    return _save_record(None)


@bp.route("/kompetanse/<int:record_id>/rediger", methods=["GET", "POST"])
@requires("competence.own_record", load=loaders.competence_record, hide=True)
def record_edit(row):
    return _save_record(row)


@bp.post("/kompetanse/<int:record_id>/slett")
@requires("competence.own_record", load=loaders.competence_record, hide=True)
def record_delete(row):
    operations.delete_record(get_session(), current_user.id, row)
    flash("Kompetansen er slettet.", "success")
    return redirect(url_for("competence.home"))


@bp.get("/kompetanse/min-kompetanse.csv")
@requires("authenticated")
def own_export():
    rows = queries.own_records(get_session(), current_user.id, operations.today())
    return attachment(exports.own_records_csv(rows), exports.CSV_MIMETYPE, "min-kompetanse.csv")


# The catalogue ------------------------------------------------------------------------------------


@bp.get("/kompetanseomrader")
@requires("public")
def areas():
    kind = request.args.get("type", "").strip()
    error = None
    if kind and kind not in AREA_KINDS:
        error, kind = "Velg en type fra listen.", ""
    may_manage = policy.can(current_user, "competence.catalog")
    rows = queries.areas(get_session(), kind=kind or None, include_inactive=may_manage)
    return render_template(
        "competence/areas.html", rows=rows, kind=kind, error=error, may_manage=may_manage, AREA_KINDS=AREA_KINDS
    ), 400 if error else 200


def _save_area(area: CompetenceArea | None):
    form = AreaForm(obj=area)
    return submit(
        form,
        lambda: operations.save_area(
            get_session(),
            current_user.id,
            operations.AreaData(
                name=form.name.data or "",
                kind=form.kind.data or "",
                description=form.description.data or "",
                target_group=form.target_group.data or "",
                expires_after_months=form.expires_after_months.data,
                active=form.active.data,
            ),
            area,
        ),
        "Kompetanseområdet er lagret.",
        url_for("competence.areas"),
    ) or form_page("competence/area_form.html", form, area=area)


@bp.route("/kompetanseomrader/ny", methods=["GET", "POST"])
@requires("competence.catalog")
def area_new():
    return _save_area(None)


@bp.route("/kompetanseomrader/<slug>/rediger", methods=["GET", "POST"])
@requires("competence.catalog", load=loaders.competence_area)
def area_edit(area):
    return _save_area(area)


# The base matrix ----------------------------------------------------------------------------------


def matrix_filter(args, errors: dict[str, str]) -> queries.MatrixFilter:
    """The matrix filters from the query string (?tjeneste=&type=&niva=); a bad value is an error at its field."""
    chosen = queries.MatrixFilter(
        service_kind=args.get("tjeneste", "").strip(),
        area_kind=args.get("type", "").strip(),
        min_level=args.get("niva", "").strip() or queries.DEFAULT_MIN_LEVEL,
    )
    if chosen.service_kind and chosen.service_kind not in SERVICE_KINDS:
        errors["tjeneste"], chosen.service_kind = "Velg en type tjeneste fra listen.", ""
    if chosen.area_kind and chosen.area_kind not in AREA_KINDS:
        errors["type"], chosen.area_kind = "Velg en type kompetanseområde fra listen.", ""
    if chosen.min_level not in LEVELS:
        errors["niva"], chosen.min_level = "Velg et nivå fra listen.", queries.DEFAULT_MIN_LEVEL
    return chosen


@bp.get("/kompetansebaser/<slug>/kompetanse")
@requires("authenticated", load=loaders.base)
def matrix(base):
    errors: dict[str, str] = {}
    chosen = matrix_filter(request.args, errors)
    table = queries.matrix(get_session(), base, operations.today(), chosen)
    return render_template(
        "competence/matrix.html",
        base=base,
        table=table,
        chosen=chosen,
        errors=errors,
        manage=policy.can(current_user, "base.manage", base),
        SERVICE_KINDS=SERVICE_KINDS,
        AREA_KINDS=AREA_KINDS,
        LEVELS=LEVELS,
    ), 400 if errors else 200


MATRIX_FORMATS = {
    "csv": (exports.matrix_csv, exports.CSV_MIMETYPE),
    "xlsx": (exports.matrix_xlsx, exports.XLSX_MIMETYPE),
}


@bp.get("/kompetansebaser/<slug>/kompetanse.<file_format>")
@requires("authenticated", load=loaders.base)
def matrix_export(base, file_format):
    if file_format not in MATRIX_FORMATS:
        abort(404)
    errors: dict[str, str] = {}
    chosen = matrix_filter(request.args, errors)
    if errors:
        abort(400, " ".join(errors.values()))
    today = operations.today()
    render, mimetype = MATRIX_FORMATS[file_format]
    table = queries.matrix(get_session(), base, today, chosen)
    return attachment(render(table), mimetype, f"kompetanse-{base.slug}-{today.isoformat()}.{file_format}")


# Coordinators: record for a person of the base, expiring certifications ---------------------------


@bp.route("/kompetansebaser/<slug>/kompetanse/registrer", methods=["GET", "POST"])
@requires("base.manage", load=loaders.base)
def record_for_person(base):
    session = get_session()
    form = _record_form(CoordinatorRecordForm)
    form.municipality_id.choices = [
        ("", "Ikke valgt"),
        *((m.id, m.display_name) for m in queries.member_municipalities(session, base.id)),
    ]

    def record():
        person = operations.person_for_base(session, form.email.data or "", base.id, form.municipality_id.data)
        operations.add_record(session, current_user.id, person.id, _record_data(form), source=RecordSource.COORDINATOR)

    return submit(
        form, record, "Kompetansen er registrert.", url_for("competence.record_for_person", slug=base.slug)
    ) or form_page("competence/record_for_person.html", form, base=base)


@bp.get("/kompetansebaser/<slug>/kompetanse/utloper")
@requires("base.manage", load=loaders.base)
def expiring(base):
    rows = queries.expiring(get_session(), base, operations.today())
    return render_template(
        "competence/expiring.html", base=base, rows=rows, LEVELS=LEVELS, months=queries.EXPIRY_WINDOW_MONTHS
    )


# Search: who can guide in an area ---------------------------------------------------------------


def _own_bases() -> list[CompetenceBase]:
    session = get_session()
    bases = {b.id: b for b in queries.bases_of_person(session, current_user.id)}
    for base_id in policy.scope_ids(current_user, "coordinator"):
        base = session.get(CompetenceBase, base_id)
        if base is not None:
            bases.setdefault(base.id, base)
    return sorted(bases.values(), key=lambda b: norwegian_key(b.name))


@bp.get("/kompetanse/sok")
@requires("authenticated")
def search():
    session = get_session()
    errors: dict[str, str] = {}
    all_bases = sorted(session.exec(select(CompetenceBase)), key=lambda b: norwegian_key(b.name))
    own = _own_bases()
    area_slug = request.args.get("omrade", "").strip()
    area = queries.area_by_slug(session, area_slug) if area_slug else None
    if area_slug and area is None:
        errors["omrade"] = "Velg et kompetanseområde fra listen."
    wanted = request.args.get("base", "").strip() or (own[0].slug if own else REGION)
    base = next((b for b in all_bases if b.slug == wanted), None)
    if wanted != REGION and base is None:
        errors["base"], wanted = "Velg en kompetansebase fra listen.", REGION
    min_level = request.args.get("niva", "").strip() or CompetenceLevel.CERTIFIED
    if min_level not in LEVELS:
        errors["niva"], min_level = "Velg et nivå fra listen.", CompetenceLevel.CERTIFIED
    found, hidden = None, 0
    if area is not None and not errors:
        members = {m.id for m in queries.member_municipalities(session, base.id)} if base else None
        found, hidden = queries.guides(session, area, members, min_level, operations.today())
    return render_template(
        "competence/search.html",
        areas=queries.areas(session),
        bases=all_bases,
        own=own,
        area=area,
        base=base,
        scope=wanted,
        min_level=min_level,
        found=found,
        hidden=hidden,
        errors=errors,
        LEVELS=LEVELS,
        REGION=REGION,
    ), 400 if errors else 200
