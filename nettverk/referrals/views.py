"""Pages for the catalog of shared tiltak and for henvendelser (referrals).

Catalog: anyone logged in browses it; coordinators of a base and the providing team keep its entries.
Referrals: only the two sides of a referral (the sending service and the team that delivers the tiltak)
see it; everyone else gets 404, so its existence is not revealed. Every page that shows a referral
writes an audit row (operations.record_read), and every change goes through operations, which audit
it too. Nothing here logs or flashes referral content.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlmodel import select

from nettverk import loaders, policy
from nettverk.db import get_session
from nettverk.errors import OperationError
from nettverk.forms import form_page, show_error, submit
from nettverk.policy import PROVIDER, SENDER, requires
from nettverk.referrals import operations, queries
from nettverk.referrals.forms import (
    ACTION_FORMS,
    ActionForm,
    InterventionForm,
    MessageForm,
    ReferralForm,
    parse_birth_years,
)
from nettverk.referrals.models import (
    BTI_LEVELS,
    CONSENT_FORMS,
    INTERVENTION_STATUSES,
    METHODS,
    OUTCOMES,
    REFERRAL_STATUSES,
    URGENCIES,
    Intervention,
    InterventionStatus,
    Referral,
    ReferralStatus,
)
from nettverk.registry import queries as registry_queries
from nettverk.registry.models import BaseMembership, CompetenceBase, Municipality, Service
from nettverk.text import norwegian_key

bp = Blueprint("referrals", __name__)

ALL_BASES = "alle"
# What the audit log calls each action (transitions are named by the state they lead to).
AUDIT_ACTIONS = {
    "viewed": "Lest",
    "listed": "Vist i liste",
    "created": "Opprettet",
    "updated": "Utkast endret",
    "message": "Melding skrevet",
    "erased": "Innhold slettet",
    **{status: f"Status: {label.lower()}" for status, label in REFERRAL_STATUSES.items()},
}


def _sides(referral: Referral) -> set[str]:
    return policy.referral_sides(current_user, referral)


# Catalog ------------------------------------------------------------------------------------------


def _own_base_ids() -> set[int]:
    """The user's bases: those they coordinate, and those holding a municipality they work for or
    their services serve."""
    services = set().union(
        *(policy.scope_ids(current_user, role) for role in ("service_staff", "service_leader", "provider"))
    )
    municipalities = policy.scope_ids(current_user, "municipality_contact")
    return policy.scope_ids(current_user, "coordinator") | queries.bases_of_user_services(
        get_session(), services, municipalities
    )


def _all_bases() -> list[CompetenceBase]:
    return sorted(get_session().exec(select(CompetenceBase)), key=lambda b: norwegian_key(b.name))


@bp.get("/tiltak")
@requires("catalog.view")
def catalog():
    session = get_session()
    errors: dict[str, str] = {}
    bases = _all_bases()
    own = _own_base_ids()
    search = request.args.get("sok", "").strip()[:100]
    method = request.args.get("metode", "").strip()
    if method and method not in METHODS:
        errors["metode"] = "Velg en metode fra listen."
        method = ""
    wanted = request.args.get("base", "").strip()
    chosen = None
    if wanted and wanted != ALL_BASES:
        chosen = next((b for b in bases if b.slug == wanted), None)
        if chosen is None:
            errors["base"] = "Vi fant ikke den kompetansebasen. Velg en fra listen."
    if chosen is not None:
        base_ids, scope = {chosen.id}, chosen.slug
    elif wanted == ALL_BASES or not own or errors.get("base"):
        base_ids, scope = None, ALL_BASES
    else:
        base_ids, scope = own, ""
    include_ended = request.args.get("avsluttede") == "1"
    rows = queries.catalog(session, base_ids, search=search, method=method, include_ended=include_ended)
    return render_template(
        "referrals/catalog.html",
        rows=rows,
        bases=bases,
        own_bases=[b for b in bases if b.id in own],
        scope=scope,
        search=search,
        method=method,
        include_ended=include_ended,
        errors=errors,
        filtered=bool(search or method or include_ended or wanted),
        may_add=policy.can(current_user, "catalog.manage"),
    ), 400 if errors else 200


def _catalog_row(intervention: Intervention) -> queries.CatalogRow:
    session = get_session()
    load, waiting = queries.load_counts(session, [intervention.id]).get(intervention.id, (0, 0))
    return queries.CatalogRow(
        intervention,
        session.get(CompetenceBase, intervention.base_id),
        session.get(Service, intervention.provider_service_id),
        load,
        waiting,
    )


def _may_send_to(intervention: Intervention, allowed: list[Municipality]) -> bool:
    """The user sends referrals from a service that serves a municipality that may request the tiltak."""
    if intervention.status != InterventionStatus.ACTIVE or not policy.can(current_user, "referral.send"):
        return False
    served = queries.served_municipality_ids(get_session(), policy.sending_service_ids(current_user))
    return any(m.id in served for m in allowed)


@bp.get("/tiltak/<slug>")
@requires("catalog.view", load=loaders.intervention)
def intervention_detail(intervention):
    allowed = queries.allowed_municipalities(get_session(), intervention.id)
    return render_template(
        "referrals/intervention.html",
        row=_catalog_row(intervention),
        allowed=allowed,
        may_send=_may_send_to(intervention, allowed),
        may_edit=policy.can(current_user, "catalog.manage", intervention),
    )


def _intervention_form(intervention: Intervention | None) -> InterventionForm:
    """Coordinators choose among their bases (any providing team), providers only their own service as
    the team (in any base); the admin anything. The chosen pair is checked against the policy on save."""
    session = get_session()
    form = InterventionForm(obj=intervention)
    admin = policy.is_admin(current_user)
    coordinated = policy.scope_ids(current_user, "coordinator")
    providing = policy.scope_ids(current_user, "provider")
    bases = [b for b in _all_bases() if admin or providing or b.id in coordinated]
    services = sorted(session.exec(select(Service)), key=lambda s: norwegian_key(s.name))
    services = [s for s in services if admin or coordinated or s.id in providing]
    if intervention is not None:  # what it has now stays choosable, so an edit does not silently move it
        bases += [b for b in _all_bases() if b.id == intervention.base_id and b not in bases]
        services += [s for s in [session.get(Service, intervention.provider_service_id)] if s not in services]
    form.base_id.choices = [("", "Velg kompetansebase"), *((b.id, b.name) for b in bases)]
    form.provider_service_id.choices = [("", "Velg tjeneste"), *((s.id, s.name) for s in services)]
    municipalities = registry_queries.current_municipality_choices(session)
    if intervention is not None:
        chosen = {m.id: m for m in queries.allowed_municipalities(session, intervention.id)}
        offered = {m_id for m_id, _ in municipalities}
        municipalities += [(m.id, f"{m.number} {m.display_name}") for m in chosen.values() if m.id not in offered]
        if request.method == "GET":
            form.municipality_ids.data = sorted(chosen)
    form.municipality_ids.choices = municipalities
    if intervention is None and request.method == "GET":
        if len(bases) == 1:
            form.base_id.data = bases[0].id
            form.municipality_ids.data = sorted(
                session.exec(select(BaseMembership.municipality_id).where(BaseMembership.base_id == bases[0].id))
            )
        if len(services) == 1:
            form.provider_service_id.data = services[0].id
    return form


def _intervention_data(form: InterventionForm) -> operations.InterventionData:
    data = operations.InterventionData(
        name=form.name.data or "",
        method=form.method.data or "",
        base_id=form.base_id.data,
        provider_service_id=form.provider_service_id.data,
        description=form.description.data or "",
        age_from=form.age_from.data,
        age_to=form.age_to.data,
        bti_level=form.bti_level.data,
        capacity=form.capacity.data,
        typical_weeks=form.typical_weeks.data,
        contact_name=form.contact_name.data or "",
        contact_email=(form.contact_email.data or "").strip(),
        status=form.status.data or "",
        municipality_ids=set(form.municipality_ids.data or []) or None,
    )
    session = get_session()
    if session.get(CompetenceBase, data.base_id) is None:
        raise OperationError("Velg kompetansebasen som tilbyr tiltaket.", "base_id")
    if session.get(Service, data.provider_service_id) is None:
        raise OperationError("Velg tjenesten som gir tiltaket.", "provider_service_id")
    candidate = Intervention(
        slug="", name=data.name, method=data.method, base_id=data.base_id, provider_service_id=data.provider_service_id
    )
    if not policy.can(current_user, "catalog.manage", candidate):
        field = "base_id" if policy.scope_ids(current_user, "coordinator") else "provider_service_id"
        raise OperationError(
            "Du kan bare legge tiltak i kompetansebaser du koordinerer, eller tiltak som teamet ditt gir.", field, 403
        )
    if data.municipality_ids is not None:
        known = set(session.exec(select(Municipality.id).where(Municipality.id.in_(data.municipality_ids))))
        if known != data.municipality_ids:
            raise OperationError("Velg kommunene fra listen.", "municipality_ids")
    return data


def _save_intervention(intervention: Intervention | None):
    form = _intervention_form(intervention)
    return submit(
        form,
        lambda: operations.save_intervention(get_session(), current_user.id, _intervention_data(form), intervention),
        lambda saved: "Tiltaket er lagret." if intervention else f"{saved.name} er lagt i katalogen.",
        lambda saved: url_for("referrals.intervention_detail", slug=saved.slug),
    ) or form_page("referrals/intervention_form.html", form, intervention=intervention)


@bp.route("/tiltak/ny", methods=["GET", "POST"])
@requires("catalog.manage")
def intervention_new():
    return _save_intervention(None)


@bp.route("/tiltak/<slug>/rediger", methods=["GET", "POST"])
@requires("catalog.manage", load=loaders.intervention)
def intervention_edit(intervention):
    return _save_intervention(intervention)


# Referral list ------------------------------------------------------------------------------------


@bp.get("/henvendelser")
@requires("referral.list")
def referral_list():
    session = get_session()
    status = request.args.get("status", "").strip()
    error = None
    if status and status not in REFERRAL_STATUSES:
        error, status = "Velg en status fra listen.", ""
    page_text = request.args.get("side", "1").strip() or "1"
    page = int(page_text) if page_text.isdigit() and 0 < int(page_text) < 100_000 else 1
    if page_text != str(page) and not error:
        error = "Sidetallet må være et helt tall fra 1 og oppover."
    sending = policy.sending_service_ids(current_user)
    providing = policy.scope_ids(current_user, "provider")
    rows = queries.referrals_for(session, sending, providing, status, page)
    total = queries.count_referrals_for(session, sending, providing, status)
    # Being shown in a list is a read too.
    operations.record_reads(session, current_user, [(_sides(row.referral), row.referral) for row in rows])
    led = [
        s
        for s in (session.get(Service, sid) for sid in sorted(policy.scope_ids(current_user, "service_leader")))
        if s is not None
    ]
    return render_template(
        "referrals/list.html",
        rows=rows,
        status=status,
        error=error,
        sending=sending,
        may_send=bool(sending),
        led_services=led,
        page=page,
        total=total,
        pages=max(1, -(-total // queries.PER_PAGE)),
    ), 400 if error else 200


# New referral and draft editing -------------------------------------------------------------------


def _referral_form(intervention: Intervention, referral: Referral | None = None) -> ReferralForm:
    """The form with its choices: the user's sending services, and the municipalities one of them serves
    that may request the tiltak (the operation checks the pair)."""
    session = get_session()
    form = ReferralForm(obj=referral)
    if referral is not None:
        service_ids = [referral.sending_service_id]
        if request.method == "GET":
            form.child_birth_years.data = ", ".join(referral.child_birth_years.split(","))
    else:
        service_ids = sorted(policy.sending_service_ids(current_user))
    services = [session.get(Service, sid) for sid in service_ids]
    form.sending_service_id.choices = [(s.id, s.name) for s in services if s is not None]
    choices: dict[int, str] = {}
    for service_id in service_ids:
        for m in queries.family_municipality_choices(session, service_id, intervention.id):
            choices.setdefault(m.id, m.display_name)
    form.family_municipality_id.choices = [("", "Velg kommune"), *choices.items()]
    if request.method == "GET" and referral is None and len(choices) == 1:
        form.family_municipality_id.data = next(iter(choices))
    return form


def _referral_data(form: ReferralForm, intervention: Intervention, service_id: int | None) -> operations.ReferralData:
    if service_id is None:
        raise OperationError("Velg tjenesten som sender henvendelsen.", "sending_service_id")
    if service_id not in policy.sending_service_ids(current_user):
        raise OperationError("Velg en av tjenestene du sender henvendelser fra.", "sending_service_id", 403)
    return operations.ReferralData(
        intervention_id=intervention.id,
        sending_service_id=service_id,
        family_municipality_id=form.family_municipality_id.data,
        case_reference=form.case_reference.data or "",
        children_count=form.children_count.data,
        child_birth_years=parse_birth_years(form.child_birth_years.data),
        need=form.need.data or "",
        urgency=form.urgency.data or "",
        preferred_start=form.preferred_start.data,
        bti_level=form.bti_level.data,
        consent_given=bool(form.consent_given.data),
        consent_date=form.consent_date.data,
        consent_form=form.consent_form.data or "",
    )


def _referral_form_page(form, intervention, referral=None):
    return form_page(
        "referrals/referral_form.html",
        form,
        intervention=intervention,
        referral=referral,
        several_services=len(form.sending_service_id.choices) > 1,
    )


@bp.route("/henvendelser/ny", methods=["GET", "POST"])
@requires("referral.send")
def referral_new():
    session = get_session()
    slug = request.args.get("tiltak", "").strip()
    if not slug:  # first choose the tiltak
        return render_template(
            "referrals/choose_intervention.html",
            interventions=queries.sendable_interventions(session, policy.sending_service_ids(current_user)),
        )
    intervention = loaders.intervention(slug)
    if intervention.status != InterventionStatus.ACTIVE:
        abort(409, "Tiltaket tar ikke imot henvendelser nå.")
    form = _referral_form(intervention)
    if not form.family_municipality_id.choices[1:]:
        abort(403, "Ingen av kommunene tjenesten din betjener kan be om dette tiltaket.")

    def create():
        service_id = form.sending_service_id.data
        if len(form.sending_service_id.choices) == 1:
            service_id = form.sending_service_id.choices[0][0]
        return operations.create_referral(
            session, current_user.id, _referral_data(form, intervention, service_id), send=form.send.data
        )

    return submit(
        form,
        create,
        "Henvendelsen er sendt til tiltaksteamet."
        if form.send.data
        else "Henvendelsen er lagret som utkast. Bare tjenesten din ser den.",
        lambda referral: url_for("referrals.referral_detail", public_id=referral.public_id),
    ) or _referral_form_page(form, intervention)


@bp.route("/henvendelser/<public_id>/rediger", methods=["GET", "POST"])
@requires("referral.view", load=loaders.referral, hide=True)
def referral_edit(referral):
    session = get_session()
    if SENDER not in _sides(referral):
        abort(403, "Bare tjenesten som sender henvendelsen, kan endre utkastet.")
    if referral.status != ReferralStatus.DRAFT:
        abort(409, "Bare utkast kan endres. Send en melding til tiltaksteamet i stedet.")
    intervention = session.get(Intervention, referral.intervention_id)
    form = _referral_form(intervention, referral)
    if not form.is_submitted():  # showing the draft is a read
        operations.record_read(session, current_user, _sides(referral), referral)
    return submit(
        form,
        lambda: operations.update_draft(
            session,
            current_user.id,
            referral,
            _referral_data(form, intervention, referral.sending_service_id),
            send=form.send.data,
        ),
        "Henvendelsen er sendt til tiltaksteamet." if form.send.data else "Utkastet er lagret.",
        url_for("referrals.referral_detail", public_id=referral.public_id),
    ) or _referral_form_page(form, intervention, referral)


# The referral page, its actions and messages ------------------------------------------------------


def _action_forms(referral: Referral, sides: set[str], failed: tuple[str, ActionForm] | None = None) -> dict:
    forms = {}
    for name in operations.available_actions(referral, sides):
        if failed and failed[0] == name:
            forms[name] = failed[1]
        else:
            forms[name] = ACTION_FORMS.get(name, ActionForm)(prefix=name, formdata=None)
    return forms


def _referral_page(referral: Referral, sides: set[str], failed=None, message_form=None, status: int = 200):
    session = get_session()
    operations.record_read(session, current_user, sides, referral)
    return render_template(
        "referrals/referral.html",
        page=queries.referral_page(session, referral),
        sides=sides,
        actions=operations.ACTIONS,
        action_forms=_action_forms(referral, sides, failed),
        message_form=message_form or MessageForm(formdata=None),
        may_message=_may_message(referral),
        SENDER=SENDER,
        PROVIDER=PROVIDER,
    ), status


def _may_message(referral: Referral) -> bool:
    return referral.status != ReferralStatus.DRAFT and referral.content_erased_at is None


@bp.get("/henvendelser/<public_id>")
@requires("referral.view", load=loaders.referral, hide=True)
def referral_detail(referral):
    return _referral_page(referral, _sides(referral))


@bp.post("/henvendelser/<public_id>/handling/<name>")
@requires("referral.view", load=loaders.referral, hide=True)
def referral_action(referral, name):
    if name not in operations.ACTIONS:
        abort(404)
    sides = _sides(referral)
    form = ACTION_FORMS.get(name, ActionForm)(prefix=name)
    if not form.validate():
        return _referral_page(referral, sides, failed=(name, form), status=422)
    try:
        operations.take_action(
            get_session(),
            current_user.id,
            sides,
            referral,
            name,
            comment=form.comment.data or "",
            reason=getattr(form, "reason", None) and form.reason.data or "",
            outcome=getattr(form, "outcome", None) and form.outcome.data or "",
            outcome_note=getattr(form, "outcome_note", None) and form.outcome_note.data or "",
        )
    except OperationError as error:
        if error.status != 422:  # 409 (not from this state) or 403 (the other side's action): the error page
            abort(error.status, error.message)
        show_error(form, error)
        return _referral_page(referral, sides, failed=(name, form), status=error.status)
    flash(f"Henvendelsen er nå: {REFERRAL_STATUSES[referral.status].lower()}.", "success")
    return redirect(url_for("referrals.referral_detail", public_id=referral.public_id))


@bp.post("/henvendelser/<public_id>/melding")
@requires("referral.view", load=loaders.referral, hide=True)
def referral_message(referral):
    sides = _sides(referral)
    form = MessageForm()
    if form.validate_on_submit():
        try:
            operations.add_message(get_session(), current_user.id, sides, referral, form.body.data or "")
            flash("Meldingen er sendt.", "success")
            return redirect(url_for("referrals.referral_detail", public_id=referral.public_id) + "#meldinger")
        except OperationError as error:
            if error.status != 422:  # a draft, or content erased: 409
                abort(error.status, error.message)
            status = show_error(form, error)
    else:
        status = 422
    return _referral_page(referral, sides, message_form=form, status=status)


# Audit log ----------------------------------------------------------------------------------------


def _describe(detail: str) -> str:
    """'sent → received' in Norwegian; other details are already Norwegian."""
    return " → ".join(REFERRAL_STATUSES.get(part, part) for part in detail.split(" → "))


@bp.get("/tjenester/<slug>/henvendelseslogg")
@requires("referral.audit", load=loaders.service)
def service_audit_log(service):
    rows = queries.audit_log(get_session(), service.id)
    return render_template(
        "referrals/audit_log.html",
        service=service,
        rows=rows,
        limit=500,
        AUDIT_ACTIONS=AUDIT_ACTIONS,
        describe=_describe,
    )


@bp.context_processor
def _labels():
    return {
        "METHODS": METHODS,
        "INTERVENTION_STATUSES": INTERVENTION_STATUSES,
        "BTI_LEVELS": BTI_LEVELS,
        "REFERRAL_STATUSES": REFERRAL_STATUSES,
        "URGENCIES": URGENCIES,
        "CONSENT_FORMS": CONSENT_FORMS,
        "OUTCOMES": OUTCOMES,
    }
