"""Network pages: the public list and page of each network; creating and editing networks, keeping
their members and planning their meetings from the cadence (the coordinators of their bases); and the
BTI coverage of a base."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlmodel import select

from nettverk import loaders, policy
from nettverk.accounts.models import User
from nettverk.db import get_session
from nettverk.errors import OperationError, refusal_as_error_page
from nettverk.events.models import Event
from nettverk.forms import Form, form_page, show_error, submit
from nettverk.networks import cadence, operations, queries
from nettverk.networks.forms import MemberForm, NetworkForm, PlanForm
from nettverk.networks.models import MEMBER_KINDS, NETWORK_KINDS, Network
from nettverk.policy import requires
from nettverk.registry import queries as registry_queries
from nettverk.registry.models import CompetenceBase, Municipality
from nettverk.timeutil import format_date, to_oslo, today_in_oslo

bp = Blueprint("networks", __name__)


def _coordinated_base_ids() -> set[int] | None:
    """The bases the user may put networks in (None: all, for the admin)."""
    return policy.coordinated_base_ids(current_user)


def _bases(ids: set[int] | None) -> list[CompetenceBase]:
    query = select(CompetenceBase).order_by(CompetenceBase.name)
    if ids is not None:
        query = query.where(CompetenceBase.id.in_(ids))
    return list(get_session().exec(query))


# Public pages -------------------------------------------------------------------------------------


@bp.get("/nettverk")
@requires("public")
def network_list():
    session = get_session()
    base = None
    if slug := request.args.get("base", "").strip():
        base = loaders.base(slug)
    groups = queries.networks_by_kind(session, base.id if base else None)
    return render_template(
        "networks/list.html", groups=groups, kinds=NETWORK_KINDS, base=base, describe=cadence.describe_cadence
    )


def _detail(network: Network, plan_form: PlanForm | None = None, status: int = 200):
    session = get_session()
    manage = policy.can(current_user, "network.manage", network)
    show_members = manage or queries.is_member(session, network.id, current_user)
    today = today_in_oslo()
    if plan_form is None:
        plan_form = PlanForm()
        plan_form.until.data = operations.end_of_next_year(today)
    plan_form.until.description = (
        f"Tomt betyr ut neste år ({format_date(operations.end_of_next_year(today))}). "
        f"Høyst {operations.MAX_PLAN_YEARS} år fram."
    )
    bases = queries.bases_by_network(session, [network.id]).get(network.id, [])
    return render_template(
        "networks/network.html",
        network=network,
        bases=bases,
        manage=manage,
        coverage_bases=[b for b in bases if policy.can(current_user, "base.manage", b)],
        cadence_text=cadence.describe_cadence(network.cadence, network.cadence_start),
        next_dates=cadence.next_occurrences(network, 4, today),
        host=session.get(Municipality, network.host_municipality_id) if network.host_municipality_id else None,
        members=queries.members(session, network.id) if show_members else None,
        meetings=queries.meetings(session, network.id, include_unpublished=manage),
        plan_form=plan_form,
        member_kinds=MEMBER_KINDS,
        kinds=NETWORK_KINDS,
        local_date=lambda moment: to_oslo(moment).date(),
    ), status


@bp.get("/nettverk/<slug>")
@requires("public", load=loaders.network)
def network_detail(network):
    return _detail(network)


# Creating and editing -----------------------------------------------------------------------------


def _network_form(network: Network | None, allowed: set[int] | None) -> NetworkForm:
    form = NetworkForm(obj=network)
    form.base_ids.choices = [(b.id, b.name) for b in _bases(allowed)]
    form.host_municipality_id.choices = [
        ("", "Ikke oppgitt"),
        *registry_queries.current_municipality_choices(get_session()),
    ]
    if request.method == "GET":
        if network is not None:
            offered = {base_id for base_id, _ in form.base_ids.choices}
            form.base_ids.data = sorted(queries.base_ids(get_session(), network.id) & offered)
        elif len(form.base_ids.choices) == 1:
            form.base_ids.data = [form.base_ids.choices[0][0]]
    return form


def _network_data(form: NetworkForm) -> operations.NetworkData:
    return operations.NetworkData(
        name=form.name.data or "",
        kind=form.kind.data,
        base_ids=form.base_ids.data or [],
        description=form.description.data or "",
        cadence=form.cadence.data or "",
        cadence_start=form.cadence_start.data,
        meeting_start=form.meeting_start.data,
        meeting_minutes=form.meeting_minutes.data,
        venue_name=form.venue_name.data or "",
        venue_address=form.venue_address.data or "",
        host_municipality_id=form.host_municipality_id.data,
    )


def _save(network: Network | None):
    allowed = _coordinated_base_ids()
    form = _network_form(network, allowed)
    return submit(
        form,
        lambda: operations.save_network(get_session(), current_user.id, _network_data(form), network, allowed),
        lambda saved: (
            "Nettverket er lagret."
            if network
            else f"{saved.name} er opprettet. Legg til medlemmer, og planlegg møtene fra møterytmen."
        ),
        lambda saved: url_for("networks.network_detail", slug=saved.slug),
    ) or form_page("networks/form.html", form, network=network, other_bases=_other_bases(network, allowed))


def _other_bases(network: Network | None, allowed: set[int] | None) -> list[CompetenceBase]:
    """The network's bases the user does not coordinate (shown, not editable, on the form)."""
    if network is None or allowed is None:
        return []
    return [b for b in queries.bases_by_network(get_session(), [network.id]).get(network.id, []) if b.id not in allowed]


@bp.route("/nettverk/nytt", methods=["GET", "POST"])
@requires("coordinator")
def network_new():
    return _save(None)


@bp.route("/nettverk/<slug>/rediger", methods=["GET", "POST"])
@requires("network.manage", load=loaders.network)
def network_edit(network):
    return _save(network)


# Members ------------------------------------------------------------------------------------------


def _member_form(network: Network) -> MemberForm:
    session = get_session()
    form = MemberForm()
    form.unit_id.choices = [
        ("", "Ingen bestemt enhet"),
        *(
            (unit.id, f"{unit.name} – {service.name}" + (f" ({municipality.name})" if municipality else ""))
            for unit, service, municipality in queries.unit_choices(session, queries.base_ids(session, network.id))
        ),
    ]
    if request.method == "GET" and form.joined_on.data is None:
        form.joined_on.data = today_in_oslo()
    return form


def _member_added(member) -> str:
    user = get_session().get(User, member.user_id)
    return f"{user.name or user.email} er lagt til som {MEMBER_KINDS[member.kind].lower()}."


@bp.route("/nettverk/<slug>/medlemmer", methods=["GET", "POST"])
@requires("network.manage", load=loaders.network)
def members(network):
    form = _member_form(network)
    return submit(
        form,
        lambda: operations.add_member(
            get_session(),
            current_user.id,
            network,
            form.email.data,
            form.name.data,
            form.unit_id.data,
            form.kind.data,
            form.joined_on.data,
        ),
        _member_added,
        url_for("networks.members", slug=network.slug),
    ) or form_page(
        "networks/members.html",
        form,
        network=network,
        remove_form=Form(),
        members=queries.members(get_session(), network.id),
        member_kinds=MEMBER_KINDS,
    )


@bp.post("/nettverk/<slug>/medlemmer/fjern")
@requires("network.manage", load=loaders.network)
def member_remove(network):
    form = Form()
    if not form.validate_on_submit():
        abort(400)
    member_id = request.form.get("member_id", "")
    with refusal_as_error_page():
        user = operations.remove_member(
            get_session(), current_user.id, network, int(member_id) if member_id.isdigit() else None
        )
    flash(f"{user.name or user.email} er fjernet fra nettverket.", "success")
    return redirect(url_for("networks.members", slug=network.slug))


# Meetings -----------------------------------------------------------------------------------------


@bp.post("/nettverk/<slug>/planlegg")
@requires("network.manage", load=loaders.network)
def plan(network):
    form = PlanForm()
    if not form.validate_on_submit():
        return _detail(network, form, 422)
    try:
        result = operations.plan_meetings(get_session(), current_user.id, network, form.until.data)
    except OperationError as error:
        return _detail(network, form, show_error(form, error))
    if result.created:
        made = "Ett møte" if len(result.created) == 1 else f"{len(result.created)} møter"
        flash(f"{made} er laget som utkast. Se over og publiser dem når de er klare.", "success")
    else:
        flash("Ingen nye møter: alle datoene i perioden har allerede et møte (også flyttede og avlyste).", "success")
    if result.refused:
        flash(
            "Disse datoene ble ikke laget: "
            + "; ".join(f"{format_date(day)}: {message}" for day, message in result.refused)
            + " Endre klokkeslettet for nettverket, eller lag møtet for hånd.",
            "error",
        )
    return redirect(url_for("networks.network_detail", slug=network.slug) + "#moter")


@bp.post("/nettverk/<slug>/moter/<int:event_id>/hopp-over")
@requires("network.manage", load=loaders.network)
def skip_meeting(network, event_id):
    form = Form()
    if not form.validate_on_submit():
        abort(400)
    event = get_session().get(Event, event_id)
    if event is None or event.network_id != network.id:
        abort(404)
    with refusal_as_error_page():
        operations.skip_meeting(get_session(), current_user.id, network, event, request.form.get("reason", ""))
    flash(f"{event.title} er hoppet over. Planleggingen lager det ikke på nytt.", "success")
    return redirect(url_for("networks.network_detail", slug=network.slug) + "#moter")


# Coverage -----------------------------------------------------------------------------------------


@bp.get("/kompetansebaser/<slug>/dekning")
@requires("base.manage", load=loaders.base)
def coverage(base):
    return render_template(
        "networks/coverage.html", cov=queries.coverage(get_session(), base), describe_last=queries.describe_last
    )
