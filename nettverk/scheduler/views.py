"""The operator's page for the timed jobs (`/admin/jobber`) and each person's notice settings
(`/konto/varsler`)."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlmodel import func, select
from wtforms.fields.choices import SelectChoice

from nettverk.db import get_session
from nettverk.forms import Form, MultiCheckboxField, form_page, submit
from nettverk.policy import requires
from nettverk.scheduler import operations, runner
from nettverk.scheduler.models import RUN_STATUSES, JobRun, RunStatus, SchedulerLease, apscheduler_jobs
from nettverk.timeutil import utcnow

bp = Blueprint("scheduler", __name__)
HISTORY = 20
WEEKDAYS = {
    "mon": "mandag",
    "tue": "tirsdag",
    "wed": "onsdag",
    "thu": "torsdag",
    "fri": "fredag",
    "sat": "lørdag",
    "sun": "søndag",
}


# Schedules in words ----------------------------------------------------------------------------------


def _every(seconds: int) -> str:
    for size, one, many in (
        (3600, "hver time", "hver {n}. time"),
        (60, "hvert minutt", "hvert {n}. minutt"),
        (1, "hvert sekund", "hvert {n}. sekund"),
    ):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return one if n == 1 else many.format(n=n)
    return f"hvert {seconds}. sekund"


def _weekdays(expression: str) -> str | None:
    if expression in WEEKDAYS:
        return f"hver {WEEKDAYS[expression]}"
    first, _, last = expression.partition("-")
    if first in WEEKDAYS and last in WEEKDAYS:
        return f"{WEEKDAYS[first]}–{WEEKDAYS[last]}"
    return None


def schedule_in_words(trigger) -> str:
    """'hver dag kl. 06.30', 'mandag–fredag kl. 08.00', 'hvert minutt' … (Norwegian time); the trigger's
    own description for a schedule these rules do not cover."""
    if isinstance(trigger, IntervalTrigger):
        return _every(int(trigger.interval.total_seconds()))
    if not isinstance(trigger, CronTrigger):
        return str(trigger)
    fields = {field.name: str(field) for field in trigger.fields}
    if (
        any(fields[name] != "*" for name in ("year", "month", "week"))
        or fields["second"] != "0"
        or not fields["minute"].isdigit()
    ):
        return str(trigger)
    minute = int(fields["minute"])
    day, weekday, hour = fields["day"], fields["day_of_week"], fields["hour"]
    if hour == "*":
        return f"hver time, {minute} minutter over hel time" if day == weekday == "*" else str(trigger)
    if not hour.isdigit():
        return str(trigger)
    clock = f"kl. {int(hour):02d}.{minute:02d}"
    if day == "*" and weekday == "*":
        return f"hver dag {clock}"
    if day == "*" and _weekdays(weekday):
        return f"{_weekdays(weekday)} {clock}"
    if day.isdigit() and weekday == "*":
        return f"den {int(day)}. hver måned {clock}"
    return str(trigger)


# The operator's page -------------------------------------------------------------------------------


def _next_runs(session) -> dict[str, datetime | None]:
    """When APScheduler will run each stored job next (None: the job is paused)."""
    rows = session.execute(select(apscheduler_jobs.c.id, apscheduler_jobs.c.next_run_time))
    return {job_id: datetime.fromtimestamp(when, UTC) if when is not None else None for job_id, when in rows}


def _last_runs(session) -> dict[str, JobRun]:
    latest = select(func.max(JobRun.id)).group_by(JobRun.job)
    return {run.job: run for run in session.exec(select(JobRun).where(JobRun.id.in_(latest)))}


@bp.get("/admin/jobber")
@requires("admin")
def jobs():
    session = get_session()
    now = utcnow()
    next_runs, last_runs = _next_runs(session), _last_runs(session)
    rows = [
        {
            "spec": spec,
            "schedule": schedule_in_words(spec.trigger),
            "stored": spec.name in next_runs,
            "next_run": next_runs.get(spec.name),
            "last": last_runs.get(spec.name),
        }
        for spec in runner.JOBS
    ]
    lease = session.get(SchedulerLease, runner.LEASE_NAME)
    live = lease is not None and bool(lease.holder) and lease.expires_at > now
    history = session.exec(select(JobRun).order_by(JobRun.id.desc()).limit(HISTORY)).all()
    labels = {spec.name: spec.label for spec in runner.JOBS}
    return render_template(
        "scheduler/jobs.html",
        rows=rows,
        lease=lease,
        live=live,
        history=history,
        labels=labels,
        statuses=RUN_STATUSES,
        now=now,
        renew=runner.RENEW,
    )


@bp.post("/admin/jobber/kjor")
@requires("admin")
def run_now():
    name = request.form.get("jobb", "")
    if name not in runner.JOBS_BY_NAME:
        abort(400, "Ukjent jobb. Velg en av jobbene på siden.")
    if runner.JOBS_BY_NAME[name].quiet:
        # The sender talks to SMTP, which a request never waits for; it runs every few seconds anyway.
        abort(400, "Denne jobben kjører av seg selv med noen sekunders mellomrom og kan ikke kjøres herfra.")
    # The job runs in sessions of its own. End this request's transaction first: on SQLite a POST holds
    # the database's write lock from its first statement, and the job would wait for it.
    get_session().commit()
    run = _run_apart(name)
    label = runner.JOBS_BY_NAME[name].label
    if run.status == RunStatus.OK:
        flash(
            f"«{label}» er kjørt: {run.sent} sendt eller utført, {run.skipped} hoppet over, {run.failed} feilet.",
            "success",
        )
    else:
        flash(
            f"«{label}» feilet ({run.message or 'ukjent feil'}), og ingenting fra kjøringen er lagret. "
            "Feilen står i loggen; jobben prøves igjen ved neste planlagte kjøring.",
            "error",
        )
    return redirect(url_for("scheduler.jobs") + f"#jobb-{name}")


def _run_apart(name: str) -> JobRun:
    """Run the job as the scheduler process does: in a thread of its own, outside this request. Inside it, the
    job's mail would be rendered in the admin's request (its `current_user`, and a request session that on
    SQLite waits for the job's own write lock)."""
    app = current_app._get_current_object()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kjor-na") as pool:
        return pool.submit(runner.run_job, name, None, app).result()


# Notice settings -----------------------------------------------------------------------------------


class NoticeSettingsForm(Form):
    kinds = MultiCheckboxField(
        "E-post jeg vil ha fra nettverk",
        choices=[SelectChoice(kind, label) for kind, label in operations.KINDS.items()],
        description="Fjern krysset for det du ikke vil ha. Beskjeder om dine egne påmeldinger, invitasjoner og "
        "passord får du alltid.",
    )


@bp.route("/konto/varsler", methods=["GET", "POST"])
@requires("authenticated")
def notice_settings():
    session = get_session()
    user = current_user._get_current_object()
    enabled = [kind for kind in operations.KINDS if operations.is_enabled(session, user.id, kind)]
    form = NoticeSettingsForm(kinds=enabled)
    return submit(
        form,
        lambda: operations.set_enabled(session, user, set(form.kinds.data or [])),
        "Varslingsvalgene dine er lagret.",
        url_for("scheduler.notice_settings"),
    ) or form_page("scheduler/notice_settings.html", form)
