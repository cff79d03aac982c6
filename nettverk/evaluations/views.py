"""Evaluation pages: the form behind the personal link (no login needed: the link is the key), and
the results of a gathering for its coordinators."""

from flask import Blueprint, abort, render_template

from nettverk import loaders
from nettverk.db import get_session
from nettverk.errors import OperationError, refusal_as_error_page
from nettverk.evaluations import operations, queries
from nettverk.evaluations.forms import EvaluationForm
from nettverk.forms import show_error
from nettverk.policy import requires
from nettverk.privacy.masking import THRESHOLD

bp = Blueprint("evaluations", __name__)
NO_STORE = {"Cache-Control": "no-store"}  # the page's address holds the secret


@bp.route("/evaluering/<token>", methods=["GET", "POST"])
@requires("public")
def answer(token):
    session = get_session()
    with refusal_as_error_page():
        _, event = operations.open_invitation(session, token)
    form = EvaluationForm()
    status = 200
    if form.validate_on_submit():
        try:
            operations.answer(session, token, form.overall.data, form.usefulness.data, form.comment.data or "")
            return render_template("evaluations/thanks.html", event=event), 200, NO_STORE
        except OperationError as error:
            if error.field is None:  # answered in the meantime, or the deadline passed while filling in
                abort(error.status, error.message)
            status = show_error(form, error)
    elif form.errors:
        status = 422
    return (
        render_template("evaluations/answer.html", form=form, event=event, deadline=operations.deadline(event)),
        status,
        NO_STORE,
    )


@bp.get("/arrangementer/<int:event_id>/evaluering")
@requires("evaluation.results", load=loaders.event)
def results(event):
    if not operations.is_evaluated(event):
        abort(404, "Bare fagdager og kurs evalueres.")
    return render_template(
        "evaluations/results.html",
        results=queries.results(get_session(), event),
        deadline=operations.deadline(event),
        threshold=THRESHOLD,
        scale=queries.SCALE,
        average_text=queries.average_text,
        masked_text=queries.MASKED_TEXT,
    )


# The event page shows its coordinators the link to the results of a gathering that is evaluated.
bp.add_app_template_global(operations.is_evaluated, "is_evaluated")
