"""Event pages: plan, publish, change and cancel (coordinators); register and cancel (participants);
participant lists, waitlist and attendance (coordinators)."""

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from nettverk import loaders, policy, spreadsheets
from nettverk.activity import record
from nettverk.db import get_session
from nettverk.errors import OperationError, refusal_as_error_page
from nettverk.events import exports, operations, planning, queries
from nettverk.events.forms import (
    BehalfForm,
    CancelEventForm,
    EventForm,
    GuestRegistrationForm,
    RegistrationForm,
    parse_programme,
)
from nettverk.events.models import Event, EventStatus, Registration, RegistrationStatus
from nettverk.forms import Form, client_address, form_page, show_error, submit
from nettverk.policy import requires
from nettverk.registry import queries as registry_queries
from nettverk.timeutil import oslo_to_utc, to_oslo

bp = Blueprint("events", __name__)


def _planner_base_ids() -> set[int] | None:
    return policy.coordinated_base_ids(current_user)


def _municipality_choices(empty: str):
    return [("", empty), *registry_queries.current_municipality_choices(get_session())]


# Planning -----------------------------------------------------------------------------------------


def _event_form(event: Event | None = None) -> EventForm:
    session = get_session()
    form = EventForm(obj=event)
    base_ids = _planner_base_ids()
    form.base_id.choices = [
        ("", "Ingen (nettverksmøte)"),
        *((b.id, b.name) for b in queries.plannable_bases(session, base_ids)),
    ]
    form.network_id.choices = [("", "Ingen"), *((n.id, n.name) for n in queries.plannable_networks(session, base_ids))]
    form.venue_municipality_id.choices = _municipality_choices("Ikke oppgitt")
    form.host_municipality_id.choices = _municipality_choices("Ikke oppgitt")
    from nettverk.competence.queries import area_choices

    form.competence_area_id.choices = [
        ("", "Ingen"),
        *area_choices(session, event.competence_area_id if event else None),
    ]
    if event is not None and request.method == "GET":
        start, end = to_oslo(event.starts_at), to_oslo(event.ends_at)
        if event.all_day:  # stored end is the midnight after the last day
            end -= timedelta(days=1)
        form.start_date.data, form.end_date.data = start.date(), end.date()
        form.start_time.data, form.end_time.data = (None, None) if event.all_day else (start.time(), end.time())
        form.reminder_days.data = event.reminder_days.replace(",", ", ")
        for name in ("registration_opens_at", "registration_closes_at"):
            value = getattr(event, name)
            getattr(form, name).data = to_oslo(value).replace(tzinfo=None) if value else None
        form.programme.data = "\n".join(
            f"{item.starts} {item.title}" + (f" – {item.speaker}" if item.speaker else "")
            for item in queries.event_page(session, event).programme
        )
    elif event is None and request.method == "GET":
        form.base_id.data = _preselected_base(form)
    return form


def _preselected_base(form: EventForm):
    slug = request.args.get("base")
    for base in queries.plannable_bases(get_session(), _planner_base_ids()):
        if base.slug == slug:
            return base.id
    return None


def _local_to_utc(value):
    """A datetime-local field (Oslo wall-clock) to UTC."""
    return oslo_to_utc(value.date(), value.time()) if value else None


def _event_data(form: EventForm) -> operations.EventData:
    programme, bad_lines = parse_programme(form.programme.data)
    if bad_lines:
        raise OperationError(
            f"Programlinje {', '.join(map(str, bad_lines))} mangler klokkeslett. Skriv for "
            "eksempel: 09.00 Velkommen – Kari Nordmann",
            "programme",
        )
    allowed = _planner_base_ids()
    if allowed is not None:
        if form.base_id.data is not None and form.base_id.data not in allowed:
            raise OperationError("Du kan bare planlegge for dine egne kompetansebaser.", "base_id", 403)
        networks = {n.id for n in queries.plannable_networks(get_session(), allowed)}
        if form.network_id.data is not None and form.network_id.data not in networks:
            raise OperationError("Du kan bare planlegge for nettverk i dine kompetansebaser.", "network_id", 403)
    try:
        opens, closes = _local_to_utc(form.registration_opens_at.data), _local_to_utc(form.registration_closes_at.data)
    except ValueError as error:
        raise OperationError(str(error), "registration_closes_at") from error
    return operations.EventData(
        kind=form.kind.data,
        title=form.title.data or "",
        start_date=form.start_date.data,
        end_date=form.end_date.data,
        start_time=form.start_time.data,
        end_time=form.end_time.data,
        all_day=form.all_day.data,
        description=form.description.data or "",
        base_id=form.base_id.data,
        network_id=form.network_id.data,
        audience=form.audience.data,
        venue_name=form.venue_name.data or "",
        venue_address=form.venue_address.data or "",
        venue_municipality_id=form.venue_municipality_id.data,
        online_url=(form.online_url.data or "").strip(),
        host_municipality_id=form.host_municipality_id.data,
        capacity=form.capacity.data,
        quota_per_municipality=form.quota_per_municipality.data,
        registration_opens_at=opens,
        registration_closes_at=closes,
        ask_dietary=form.ask_dietary.data,
        ask_lunch=form.ask_lunch.data,
        reminder_days=form.reminder_days.data or "",
        programme=programme,
        competence_area_id=form.competence_area_id.data,
    )


def _save(form: EventForm, event: Event | None):
    return submit(
        form,
        lambda: operations.save_event(get_session(), current_user.id, _event_data(form), event),
        "Arrangementet er lagret." if event else "Utkastet er lagret. Publiser det når det er klart.",
        lambda saved: url_for("events.event_detail", event_id=saved.id),
    ) or form_page("events/event_form.html", form, event=event)


@bp.route("/arrangementer/nytt", methods=["GET", "POST"])
@requires("coordinator")
def event_new():
    return _save(_event_form(), None)


@bp.route("/arrangementer/<int:event_id>/rediger", methods=["GET", "POST"])
@requires("event.manage", load=loaders.event)
def event_edit(event):
    if event.status not in (EventStatus.DRAFT, EventStatus.PUBLISHED):
        abort(409, "Et avlyst eller gjennomført arrangement kan ikke endres.")
    return _save(_event_form(event), event)


def _action(event: Event, operation, message: str):
    with refusal_as_error_page():
        operation()
    flash(message, "success")
    return redirect(url_for("events.event_detail", event_id=event.id))


@bp.post("/arrangementer/<int:event_id>/publiser")
@requires("event.manage", load=loaders.event)
def event_publish(event):
    return _action(
        event,
        lambda: operations.publish_event(get_session(), current_user.id, event),
        "Arrangementet er publisert og vises i kalenderen.",
    )


@bp.route("/arrangementer/<int:event_id>/avlys", methods=["GET", "POST"])
@requires("event.manage", load=loaders.event)
def event_cancel(event):
    form = CancelEventForm()

    def cancel():
        with refusal_as_error_page():  # refused for the event's state (already cancelled), not for the reason
            operations.cancel_event(get_session(), current_user.id, event, form.reason.data or "")

    return submit(
        form,
        cancel,
        "Arrangementet er avlyst. De påmeldte har fått beskjed.",
        url_for("events.event_detail", event_id=event.id),
    ) or form_page("events/cancel.html", form, event=event, counts=queries.status_counts(get_session(), event.id))


@bp.post("/arrangementer/<int:event_id>/gjennomfort")
@requires("event.manage", load=loaders.event)
def event_held(event):
    return _action(
        event,
        lambda: operations.mark_held(get_session(), current_user.id, event),
        "Arrangementet er merket som gjennomført.",
    )


# The event page and registration ------------------------------------------------------------------


def _registration_form(form_class, event: Event):
    form = form_class()
    form.municipality_id.choices = _municipality_choices("Velg kommune")
    if hasattr(form, "unit_id"):
        form.unit_id.choices = [("", "Ikke oppgitt")]
    return form


MAX_WARNING_DAYS = 14


def _planning_warnings(event: Event) -> list[str]:
    """What a coordinator should know about the event's days: holidays, weekends, other gatherings of
    the same bases. Only while it is still being planned."""
    if event.status not in (EventStatus.DRAFT, EventStatus.PUBLISHED):
        return []
    first, last = to_oslo(event.starts_at).date(), to_oslo(event.ends_at - timedelta(microseconds=1)).date()
    days = [first + timedelta(days=n) for n in range(min((last - first).days + 1, MAX_WARNING_DAYS))]
    base_ids = policy.event_base_ids(event)
    # A shared network's meeting spans other bases too: their drafts are not this coordinator's to see.
    visible = policy.visible_events(current_user)
    return [
        warning
        for day in days
        for warning in planning.planning_warnings(
            get_session(), day, base_ids, exclude_event_id=event.id, visible=visible
        )
    ]


@bp.get("/arrangementer/<int:event_id>")
@requires("event.view", load=loaders.event, hide=True)
def event_detail(event):
    session = get_session()
    mine = queries.registration_of(session, event.id, current_user.email) if current_user.is_authenticated else None
    manage = policy.can(current_user, "event.manage", event)
    return render_template(
        "events/event.html",
        page=queries.event_page(session, event),
        mine=mine,
        closed_reason=operations.registration_open(event),
        form=_registration_form(RegistrationForm, event),
        manage=manage,
        warnings=_planning_warnings(event) if manage else [],
        materials=_materials(event),
    )


def _materials(event: Event) -> list:
    """The materials of the gathering the person may see, listed once it has ended."""
    from nettverk.materials.queries import of_event
    from nettverk.timeutil import utcnow

    if not current_user.is_authenticated or event.ends_at > utcnow():
        return []
    return of_event(get_session(), event, policy.material_access(current_user))


def _registrant(form, user=None) -> operations.Registrant:
    return operations.Registrant(
        name=user.name if user else form.name.data,
        email=user.email if user else form.email.data,
        municipality_id=form.municipality_id.data,
        unit_id=getattr(form, "unit_id", None) and form.unit_id.data,
        role=form.role.data or "",
        dietary=form.dietary.data or "",
        lunch=form.lunch.data,
        user=user,
    )


@bp.post("/arrangementer/<int:event_id>/pamelding")
@requires("authenticated")
def register(event_id):
    session = get_session()
    event = loaders.event(event_id)
    if not policy.can(current_user, "event.view", event):
        abort(404)
    form = _registration_form(RegistrationForm, event)
    return submit(
        form,
        lambda: operations.register(session, event.id, _registrant(form, current_user._get_current_object()))[0],
        lambda registration: (
            "Du er påmeldt."
            if registration.status == RegistrationStatus.CONFIRMED
            else "Arrangementet er fullt. Du står på ventelisten og får beskjed hvis du får plass."
        ),
        url_for("events.event_detail", event_id=event.id),
    ) or form_page(
        "events/event.html",
        form,
        page=queries.event_page(session, event),
        mine=None,
        closed_reason=operations.registration_open(event),
        manage=policy.can(current_user, "event.manage", event),
    )


@bp.route("/arrangementer/<int:event_id>/pamelding/gjest", methods=["GET", "POST"])
@requires("event.view", load=loaders.event, hide=True)
def guest_register(event):
    form = _registration_form(GuestRegistrationForm, event)
    status = 200
    if form.validate_on_submit():
        try:
            operations.register(get_session(), event.id, _registrant(form), client=client_address())
            return render_template("events/guest_check_mail.html", event=event, email=form.email.data)
        except OperationError as error:
            status = show_error(form, error)
    elif form.errors:
        status = 422
    return render_template(
        "events/guest_register.html", form=form, event=event, closed_reason=operations.registration_open(event)
    ), status


def _token_registration(token: str, kind: str) -> Registration:
    with refusal_as_error_page():
        return operations.registration_by_token(get_session(), token, kind)


@bp.route("/pamelding/bekreft/<token>", methods=["GET", "POST"])
@requires("public")
def confirm_guest(token):
    registration = _token_registration(token, "confirm")
    event = loaders.event(registration.event_id)
    form = Form()
    if form.validate_on_submit():
        from nettverk.calendars.operations import guest_token_after_confirmation

        with refusal_as_error_page():
            registration, _ = operations.confirm_guest(get_session(), token)
        # A new guest gets a personal calendar link, shown once on this page (so never stored by a cache).
        calendar_token = guest_token_after_confirmation(get_session(), registration)
        return (
            render_template(
                "events/registration_done.html", event=event, registration=registration, calendar_token=calendar_token
            ),
            200,
            {"Cache-Control": "no-store"},
        )
    if registration.status != RegistrationStatus.UNCONFIRMED:
        abort(410, "Påmeldingen er allerede bekreftet.")
    return render_template("events/confirm.html", form=form, event=event, registration=registration)


@bp.route("/pamelding/avmeld/<token>", methods=["GET", "POST"])
@requires("public")
def cancel_by_link(token):
    """The link in the confirmation e-mail: a page with one button (a GET never changes anything,
    so mail scanners that open links cannot cancel anyone)."""
    registration = _token_registration(token, "cancel")
    event = loaders.event(registration.event_id)
    if registration.status == RegistrationStatus.WITHDRAWN:
        abort(410, "Du er allerede meldt av.")
    form = Form()

    def cancel():
        with refusal_as_error_page():  # nothing to correct in a form with only a button
            operations.cancel_registration(get_session(), registration, registration.user_id)

    return submit(
        form, cancel, f"Du er meldt av {event.title}.", url_for("events.event_detail", event_id=event.id)
    ) or form_page("events/cancel_registration.html", form, event=event, registration=registration)


@bp.post("/pameldinger/<int:registration_id>/avmeld")
@requires("registration.own", load=loaders.registration, hide=True)
def cancel_own(registration):
    with refusal_as_error_page():
        operations.cancel_registration(get_session(), registration, current_user.id)
    flash("Du er meldt av.", "success")
    if request.form.get("tilbake") == "arrangement":
        return redirect(url_for("events.event_detail", event_id=registration.event_id))
    return redirect(url_for("events.my_registrations"))


@bp.get("/mine-pameldinger")
@requires("authenticated")
def my_registrations():
    return render_template(
        "events/my_registrations.html", rows=queries.my_registrations(get_session(), current_user.email)
    )


# Participants, waitlist, attendance (coordinators) ------------------------------------------------


def _participants_page(event: Event, form: BehalfForm):
    session = get_session()
    return form_page(
        "events/participants.html",
        form,
        event=event,
        rows=queries.participants(session, event.id),
        counts=queries.status_counts(session, event.id),
    )


@bp.get("/arrangementer/<int:event_id>/deltakere")
@requires("event.manage", load=loaders.event)
def participants(event):
    return _participants_page(event, _registration_form(BehalfForm, event))


EXPORT_FORMATS = {
    "csv": (exports.participants_csv, spreadsheets.CSV_MIMETYPE),
    "xlsx": (exports.participants_xlsx, spreadsheets.XLSX_MIMETYPE),
}


@bp.get("/arrangementer/<int:event_id>/deltakere.<file_format>")
@requires("event.manage", load=loaders.event)
def participants_export(event, file_format):
    """The participant list as a file for name tags and sign-in sheets. Each download is logged:
    the file leaves our access control once it is on someone's disk."""
    if file_format not in EXPORT_FORMATS:
        abort(404)
    render, mimetype = EXPORT_FORMATS[file_format]
    session = get_session()
    rows = queries.participants(session, event.id)
    if request.method != "HEAD":  # a HEAD hands out no names
        record(session, current_user.id, "event.participants_exported", event, f"{file_format}, {len(rows)} rader")
    return spreadsheets.attachment(render(rows), mimetype, exports.export_filename(event, file_format))


@bp.post("/arrangementer/<int:event_id>/deltakere/ny")
@requires("event.manage", load=loaders.event)
def register_on_behalf(event):
    form = _registration_form(BehalfForm, event)

    def register_person():
        from nettverk.accounts.operations import user_by_email

        registrant = _registrant(form)
        registrant.user = user_by_email(get_session(), registrant.email)
        registration, _ = operations.register(get_session(), event.id, registrant, by=current_user)
        return registration

    return submit(
        form,
        register_person,
        lambda registration: (
            f"{registration.name} er "
            f"{'påmeldt' if registration.status == RegistrationStatus.CONFIRMED else 'satt på venteliste'}."
        ),
        url_for("events.participants", event_id=event.id),
    ) or _participants_page(event, form)


@bp.post("/arrangementer/<int:event_id>/deltakere/<int:registration_id>/flytt")
@requires("event.manage", load=loaders.event_of_registration)
def promote(event, registration_id):
    with refusal_as_error_page():
        operations.promote_by_coordinator(get_session(), current_user.id, loaders.registration(registration_id))
    flash("Personen er flyttet fra ventelisten og har fått beskjed.", "success")
    return redirect(url_for("events.participants", event_id=event.id))


@bp.post("/arrangementer/<int:event_id>/deltakere/<int:registration_id>/avmeld")
@requires("event.manage", load=loaders.event_of_registration)
def cancel_by_coordinator(event, registration_id):
    with refusal_as_error_page():
        operations.cancel_registration(get_session(), loaders.registration(registration_id), current_user.id)
    flash("Påmeldingen er avmeldt.", "success")
    return redirect(url_for("events.participants", event_id=event.id))


@bp.post("/arrangementer/<int:event_id>/oppmote")
@requires("event.manage", load=loaders.event)
def attendance(event):
    attended = {int(value) for value in request.form.getlist("moette") if value.isdigit()}
    with refusal_as_error_page():
        operations.mark_attendance(get_session(), current_user.id, event, attended)
    flash("Oppmøtet er lagret.", "success")
    return redirect(url_for("events.participants", event_id=event.id))
