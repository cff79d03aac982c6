"""Registry pages: browsing is public, changes need the admin (or the coordinator / contact in scope)."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from nettverk import loaders
from nettverk.db import get_session
from nettverk.errors import OperationError, refusal_as_error_page
from nettverk.forms import form_page, show_error, submit
from nettverk.policy import requires
from nettverk.registry import imports, operations, queries
from nettverk.registry.forms import (
    BaseForm,
    ContactForm,
    CountyForm,
    ImportForm,
    MembershipForm,
    MergerForm,
    MunicipalityForm,
    ServiceForm,
    UnitForm,
)
from nettverk.registry.models import (
    SERVICE_KINDS,
    Municipality,
    PlannedMerger,
    Service,
)
from nettverk.timeutil import format_short_date, today_in_oslo

bp = Blueprint("registry", __name__)


def _actor() -> int:
    return current_user.id


# Browsing (public) --------------------------------------------------------------------------------


@bp.get("/")
@requires("public")
def home():
    return render_template("registry/home.html", bases=queries.bases_with_counts(get_session()))


@bp.get("/kompetansebaser")
@requires("public")
def bases():
    return render_template("registry/bases.html", bases=queries.bases_with_counts(get_session()))


@bp.get("/kompetansebaser/<slug>")
@requires("public", load=loaders.base)
def base_detail(base):
    session = get_session()
    form = MembershipForm()
    members = queries.base_members(session, base.id)
    member_ids = {m.id for m, _ in members}
    form.municipality_id.choices = [c for c in queries.current_municipality_choices(session) if c[0] not in member_ids]
    return render_template("registry/base.html", base=base, members=members, form=form)


@bp.get("/kommuner")
@requires("public")
def municipalities():
    session = get_session()
    include_historic = request.args.get("vis") == "alle"
    return render_template(
        "registry/municipalities.html",
        include_historic=include_historic,
        rows=queries.municipalities(session, include_historic),
    )


@bp.get("/kommuner/<number>")
@requires("public", load=loaders.municipality)
def municipality_detail(municipality):
    return render_template("registry/municipality.html", page=queries.municipality_page(get_session(), municipality))


@bp.get("/tjenester")
@requires("public")
def services():
    kind = request.args.get("type") or None
    if kind not in SERVICE_KINDS:
        kind = None
    return render_template("registry/services.html", rows=queries.services_with_hosts(get_session(), kind), kind=kind)


@bp.get("/tjenester/<slug>")
@requires("public", load=loaders.service)
def service_detail(service):
    session = get_session()
    return render_template(
        "registry/service.html",
        service=service,
        host=session.get(Municipality, service.host_municipality_id),
        served=queries.served_municipalities(session, service.id),
        units=queries.service_units(session, service.id),
    )


# Counties (admin) ---------------------------------------------------------------------------------


@bp.route("/admin/fylker", methods=["GET", "POST"])
@requires("admin")
def counties():
    session = get_session()
    form = CountyForm()
    return submit(
        form,
        lambda: operations.save_county(session, _actor(), form.number.data, form.name.data),
        lambda county: f"Fylket {county.name} er lagt til.",
        url_for("registry.counties"),
    ) or form_page("registry/counties.html", form, counties=queries.counties(session))


@bp.route("/admin/fylker/<int:county_id>", methods=["GET", "POST"])
@requires("admin", load=loaders.county)
def county_edit(county):
    form = CountyForm(obj=county)
    return submit(
        form,
        lambda: operations.save_county(get_session(), _actor(), form.number.data, form.name.data, county=county),
        "Fylket er lagret.",
        url_for("registry.counties"),
    ) or form_page("registry/form.html", form, title=f"Rediger {county.name}", back=url_for("registry.counties"))


# Municipalities (admin) ---------------------------------------------------------------------------


def _municipality_form(obj=None) -> MunicipalityForm:
    form = MunicipalityForm(obj=obj)
    form.county_id.choices = [(c.id, f"{c.number} {c.name}") for c in queries.counties(get_session())]
    return form


@bp.route("/admin/kommuner/ny", methods=["GET", "POST"])
@requires("admin")
def municipality_new():
    form = _municipality_form()
    return submit(
        form,
        lambda: operations.save_municipality(
            get_session(), _actor(), form.number.data, form.name.data, form.county_id.data, form.sami_name.data
        ),
        lambda municipality: f"{municipality.name} er opprettet.",
        lambda municipality: url_for("registry.municipality_detail", number=municipality.number),
    ) or form_page("registry/form.html", form, title="Ny kommune", back=url_for("registry.municipalities"))


@bp.route("/kommuner/<number>/rediger", methods=["GET", "POST"])
@requires("admin", load=loaders.municipality)
def municipality_edit(municipality, number):
    form = _municipality_form(municipality)
    return submit(
        form,
        lambda: operations.save_municipality(
            get_session(),
            _actor(),
            form.number.data,
            form.name.data,
            form.county_id.data,
            form.sami_name.data,
            municipality=municipality,
        ),
        "Kommunen er lagret.",
        lambda _: url_for("registry.municipality_detail", number=municipality.number),
    ) or form_page(
        "registry/form.html",
        form,
        title=f"Rediger {municipality.name}",
        back=url_for("registry.municipality_detail", number=number),
    )


@bp.route("/admin/kommuner/sammenslaing", methods=["GET", "POST"])
@requires("admin")
def merger():
    """One page, three steps by POST: the choice, its preview (what moves; nothing written) with «Bekreft»
    and the choice in hidden fields, then the merger carried out (dated today or earlier) or planned.
    A planned merger is cancelled from the same page (`avbryt`)."""
    session = get_session()
    if "avbryt" in request.form:
        planned = session.get(PlannedMerger, _int_or_404(request.form["avbryt"])) or abort(404)
        with refusal_as_error_page():
            operations.cancel_merger(session, _actor(), planned)
        flash(
            f"Den planlagte sammenslåingen fra {format_short_date(planned.effective_date)} er avbrutt. "
            "Ingenting er endret.",
            "success",
        )
        return redirect(url_for("registry.merger"))
    form = MergerForm()
    choices = queries.current_municipality_choices(session)
    form.predecessor_ids.choices = choices
    # No successor preselected: pressing on without choosing must not merge into the first in the list.
    form.successor_id.choices = [("", "Velg kommune"), *choices]
    if form.validate_on_submit() and "endre" not in request.form:
        today = today_in_oslo()
        try:
            if "bekreft" not in request.form:
                predecessors, successor = operations.check_merger(
                    session, form.predecessor_ids.data, form.successor_id.data, form.effective_date.data
                )
                return render_template(
                    "registry/merger_preview.html",
                    form=form,
                    today=today,
                    preview=queries.merger_preview(session, predecessors, successor),
                )
            successor, planned = operations.register_merger(
                session, _actor(), form.predecessor_ids.data, form.successor_id.data, form.effective_date.data, today
            )
            if planned is not None:
                flash(
                    f"Sammenslåingen er planlagt og gjennomføres {format_short_date(planned.effective_date)}. "
                    "Til da er ingenting endret, og du kan avbryte den her.",
                    "success",
                )
                return redirect(url_for("registry.merger"))
            flash("Sammenslåingen er registrert. Historikken vises på kommunesiden.", "success")
            return redirect(url_for("registry.municipality_detail", number=successor.number))
        except OperationError as error:
            show_error(form, error)
    return form_page("registry/merger.html", form, planned=queries.planned_mergers(session))


def _int_or_404(value: str) -> int:
    return int(value) if value.isdigit() and len(value) < 19 else abort(404)


# Kompetansebaser (admin creates; the base's coordinator edits and keeps members) ------------------


@bp.route("/admin/kompetansebaser/ny", methods=["GET", "POST"])
@requires("admin")
def base_new():
    form = BaseForm()
    return submit(
        form,
        lambda: operations.save_base(get_session(), _actor(), form.name.data, form.description.data),
        lambda base: f"{base.name} er opprettet. Legg til kommunene som er med.",
        lambda base: url_for("registry.base_detail", slug=base.slug),
    ) or form_page("registry/form.html", form, title="Ny kompetansebase", back=url_for("registry.bases"))


@bp.route("/kompetansebaser/<slug>/rediger", methods=["GET", "POST"])
@requires("base.manage", load=loaders.base)
def base_edit(base, slug):
    form = BaseForm(obj=base)
    return submit(
        form,
        lambda: operations.save_base(get_session(), _actor(), form.name.data, form.description.data, base=base),
        "Kompetansebasen er lagret.",
        lambda _: url_for("registry.base_detail", slug=base.slug),
    ) or form_page(
        "registry/form.html", form, title=f"Rediger {base.name}", back=url_for("registry.base_detail", slug=slug)
    )


@bp.post("/kompetansebaser/<slug>/medlemmer")
@requires("base.manage", load=loaders.base)
def member_add(base):
    """The form lives on the base's page, so a refusal shows that page again (422)."""
    session = get_session()
    form = MembershipForm()
    form.municipality_id.choices = queries.current_municipality_choices(session)
    return submit(
        form,
        lambda: operations.add_member(session, _actor(), base, form.municipality_id.data),
        "Kommunen er lagt til.",
        url_for("registry.base_detail", slug=base.slug),
    ) or (
        render_template("registry/base.html", form=form, base=base, members=queries.base_members(session, base.id)),
        422,
    )


@bp.post("/kompetansebaser/<slug>/medlemmer/<number>/fjern")
@requires("base.manage", load=loaders.base)
def member_remove(base, number):
    with refusal_as_error_page():
        operations.remove_member(get_session(), _actor(), base, loaders.municipality(number))
    flash("Kommunen er fjernet fra kompetansebasen.", "success")
    return redirect(url_for("registry.base_detail", slug=base.slug))


# Services and units (admin) -----------------------------------------------------------------------


def _service_form(obj=None) -> ServiceForm:
    session = get_session()
    form = ServiceForm(obj=obj)
    choices = queries.current_municipality_choices(session)
    form.host_municipality_id.choices = [("", "Velg vertskommune"), *choices]
    form.served_ids.choices = choices
    if obj is not None and request.method == "GET":
        form.served_ids.data = [m.id for m in queries.served_municipalities(session, obj.id)]
    return form


def _save_service(form: ServiceForm, service: Service | None):
    return operations.save_service(
        get_session(),
        _actor(),
        form.name.data,
        form.kind.data,
        form.host_municipality_id.data,
        form.served_ids.data or [],
        form.email.data,
        form.phone.data,
        form.description.data,
        service=service,
    )


@bp.route("/admin/tjenester/ny", methods=["GET", "POST"])
@requires("admin")
def service_new():
    form = _service_form()
    return submit(
        form,
        lambda: _save_service(form, None),
        lambda service: f"{service.name} er opprettet.",
        lambda service: url_for("registry.service_detail", slug=service.slug),
    ) or form_page("registry/form.html", form, title="Ny tjeneste", back=url_for("registry.services"))


@bp.route("/tjenester/<slug>/rediger", methods=["GET", "POST"])
@requires("admin", load=loaders.service)
def service_edit(service, slug):
    form = _service_form(service)
    return submit(
        form,
        lambda: _save_service(form, service),
        "Tjenesten er lagret.",
        lambda _: url_for("registry.service_detail", slug=service.slug),
    ) or form_page(
        "registry/form.html",
        form,
        title=f"Rediger {service.name}",
        back=url_for("registry.service_detail", slug=slug),
    )


def _unit_form(service: Service, obj=None) -> UnitForm:
    form = UnitForm(obj=obj)
    form.municipality_id.choices = [
        ("", "Ikke oppgitt"),
        *((m.id, m.display_name) for m in queries.served_municipalities(get_session(), service.id)),
    ]
    return form


@bp.route("/tjenester/<slug>/enheter/ny", methods=["GET", "POST"])
@requires("admin", load=loaders.service)
def unit_new(service):
    form = _unit_form(service)
    back = url_for("registry.service_detail", slug=service.slug)
    return submit(
        form,
        lambda: operations.save_unit(get_session(), _actor(), service, form.name.data, form.municipality_id.data),
        "Enheten er lagt til.",
        back,
    ) or form_page("registry/form.html", form, title=f"Ny enhet i {service.name}", back=back)


@bp.route("/enheter/<int:unit_id>/rediger", methods=["GET", "POST"])
@requires("admin", load=loaders.unit)
def unit_edit(unit):
    session = get_session()
    service = session.get(Service, unit.service_id)
    form = _unit_form(service, unit)
    back = url_for("registry.service_detail", slug=service.slug)
    return submit(
        form,
        lambda: operations.save_unit(session, _actor(), service, form.name.data, form.municipality_id.data, unit=unit),
        "Enheten er lagret.",
        back,
    ) or form_page("registry/form.html", form, title=f"Rediger {unit.name}", back=back)


# Contacts (the municipality's contact person, or the admin) ---------------------------------------


def _contact_form(obj=None) -> ContactForm:
    form = ContactForm(obj=obj)
    form.service_id.choices = [("", "Ingen bestemt tjeneste"), *queries.service_choices(get_session())]
    return form


def _save_contact(form: ContactForm, municipality, contact=None):
    data = form.name.data, form.role.data, form.email.data, form.phone.data, form.service_id.data
    return operations.save_contact(get_session(), _actor(), municipality, *data, contact=contact)


@bp.route("/kommuner/<number>/kontakter/ny", methods=["GET", "POST"])
@requires("municipality.contacts", load=loaders.municipality)
def contact_new(municipality):
    form = _contact_form()
    back = url_for("registry.municipality_detail", number=municipality.number)
    return submit(
        form,
        lambda: _save_contact(form, municipality),
        "Kontaktpersonen er lagt til.",
        back,
    ) or form_page("registry/form.html", form, title=f"Ny kontaktperson i {municipality.name}", back=back)


@bp.route("/kontakter/<int:contact_id>/rediger", methods=["GET", "POST"])
@requires("municipality.contacts", load=loaders.contact_municipality)
def contact_edit(municipality, contact_id):
    contact = loaders.contact(contact_id)
    form = _contact_form(contact)
    return submit(
        form,
        lambda: _save_contact(form, municipality, contact),
        "Kontaktpersonen er lagret.",
        url_for("registry.municipality_detail", number=municipality.number),
    ) or form_page("registry/contact.html", form, contact=contact, municipality=municipality)


@bp.post("/kontakter/<int:contact_id>/slett")
@requires("municipality.contacts", load=loaders.contact_municipality)
def contact_delete(municipality, contact_id):
    operations.delete_contact(get_session(), _actor(), loaders.contact(contact_id))
    flash("Kontaktpersonen er slettet.", "success")
    return redirect(url_for("registry.municipality_detail", number=municipality.number))


# CSV import (admin) -------------------------------------------------------------------------------


@bp.route("/admin/import", methods=["GET", "POST"])
@requires("admin")
def csv_import():
    form = ImportForm()
    report = None
    if form.validate_on_submit():
        report = imports.import_csv(get_session(), _actor(), form.kind.data, form.file.data.read())
        if report.ok:
            flash(report.summary, "success")
            return redirect(url_for("registry.csv_import"))
    page = render_template("registry/import.html", form=form, report=report, kinds=imports.KINDS)
    return page, 422 if form.errors or report is not None else 200
