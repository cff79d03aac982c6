"""The admin's outbox page: what was queued, sent or failed."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlmodel import func, select

from nettverk import loaders
from nettverk.db import get_session
from nettverk.mail.models import STATUS_LABELS, OutboxMessage
from nettverk.mail.operations import mask_secrets, retry_failed_now, smtp_configured
from nettverk.policy import requires

bp = Blueprint("mail", __name__)
PAGE_SIZE = 50
# What the calendar invitation a message carries does in the reader's calendar (iTIP method).
CALENDAR_LABELS = {
    "REQUEST": "Kalenderinvitasjon (legger inn eller oppdaterer)",
    "CANCEL": "Kalenderavlysning (tar ut av kalenderen)",
}


@bp.get("/admin/utboks")
@requires("admin")
def outbox():
    session = get_session()
    page = max(request.args.get("side", 1, type=int), 1)
    total = session.exec(select(func.count()).select_from(OutboxMessage)).one()
    messages = session.exec(
        select(OutboxMessage).order_by(OutboxMessage.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    return render_template(
        "mail/outbox.html",
        messages=messages,
        page=page,
        total=total,
        page_size=PAGE_SIZE,
        labels=STATUS_LABELS,
        calendar_labels=CALENDAR_LABELS,
        smtp=smtp_configured(),
    )


@bp.get("/admin/utboks/<int:message_id>")
@requires("admin", load=loaders.outbox_message)
def message_detail(message):
    # Only in development is the outbox how one reads an invitation link; elsewhere links stay hidden.
    body = message.body_text
    if current_app.config["NETTVERK_ENV"] == "production":
        body = mask_secrets(body)
    return render_template(
        "mail/message.html", message=message, body=body, labels=STATUS_LABELS, calendar_labels=CALENDAR_LABELS
    )


@bp.post("/admin/utboks/send")
@requires("admin")
def send_now():
    if not smtp_configured():
        flash("E-posttjener er ikke satt opp (NETTVERK_SMTP_HOST). Meldingene blir liggende i utboksen.", "info")
    else:
        # The request never waits for the mail server: the scheduler's sender takes them within seconds.
        count = retry_failed_now(get_session())
        flash(
            f"{count} meldinger som feilet, prøves igjen nå. Utboksen sendes av planleggeren "
            "(«nettverk scheduler») i løpet av noen sekunder.",
            "success",
        )
    return redirect(url_for("mail.outbox"))
