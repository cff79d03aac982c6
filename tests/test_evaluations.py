"""Evaluation after a gathering, through the scheduler's real job and over HTTP: each participant of a fagdag
or kurs that has ended gets one mail with a personal link (once however often the job runs; only those who came
once attendance is marked), the link opens the form without login, one answer per participant, no answer after
the deadline, bad scores and too long texts refused beside the field, and the results masked under three answers
and shown only to the coordinators of the event's bases."""

from datetime import timedelta

import pytest
from conftest import USERS, in_app, link_in, make_app, outbox
from factories import make_event, register, user
from sqlalchemy import func, inspect, text
from sqlmodel import delete, select

from nettverk.activity import ActivityLog
from nettverk.errors import OperationError
from nettverk.evaluations import operations as evaluations
from nettverk.evaluations.models import Evaluation, EvaluationInvitation
from nettverk.events import operations as events
from nettverk.events.models import Event, Registration
from nettverk.mail.models import OutboxMessage
from nettverk.scheduler.models import NotificationSetting
from nettverk.scheduler.runner import run_job
from nettverk.timeutil import utcnow

PARTICIPANT, STAFF, COORDINATOR_FOSEN = USERS["participant"], USERS["service_staff"], USERS["coordinator_fosen"]
GUEST = "kari.gjest@example.no"
SUBJECT = "Hva syntes du om"


# Set-up -------------------------------------------------------------------------------------------


def end(db, event: Event, ago: timedelta = timedelta(hours=1)) -> Event:
    """Move the event so that it ended `ago` before now."""
    event = db.get(Event, event.id)
    event.ends_at = utcnow() - ago
    event.starts_at = event.ends_at - timedelta(hours=6)
    db.add(event)
    db.commit()
    return event


def clear_outbox(db) -> None:
    db.exec(delete(OutboxMessage))
    db.commit()


def send(app, now=None) -> tuple[int, int]:
    result = run_job("evaluations", now=now or utcnow(), app=app)
    assert result.status == "ok", result.message
    return result.sent, result.skipped


def invitation_mails(db, to=None) -> list[OutboxMessage]:
    return [m for m in outbox(db, to) if m.subject.startswith(SUBJECT)]


@in_app
def invited(db, event: Event, count: int) -> list[str]:
    """`count` registrations with links (made as the job makes them, without the mail); their secrets."""
    tokens = []
    for n in range(count):
        registration = register(db, event, f"deltaker{n}@example.no", f"Deltaker {n}")
        tokens.append(evaluations.invite(db, registration))
    db.commit()
    return tokens


def answer(browser, token: str, overall="4", usefulness="5", comment=""):
    return browser.post(f"/evaluering/{token}", {"overall": overall, "usefulness": usefulness, "comment": comment})


def evaluations_of(db, event: Event) -> list[Evaluation]:
    db.expire_all()
    return list(db.exec(select(Evaluation).where(Evaluation.event_id == event.id)))


# Sending ------------------------------------------------------------------------------------------


def test_the_job_mails_each_confirmed_participant_once_after_the_event(app, db, browser):
    event = make_event(db, "Fagdag om tidlig innsats", capacity=2)
    register(db, event, PARTICIPANT)
    register(db, event, GUEST, "Kari Gjest")
    register(db, event, STAFF)  # full: on the waitlist, not a participant
    withdrawn = register(db, make_event(db, "Annen fagdag"), USERS["provider"])
    with app.app_context():
        events.cancel_registration(db, db.get(Registration, withdrawn.id), None)
        db.commit()
    clear_outbox(db)

    assert send(app, event.ends_at - timedelta(minutes=1)) == (0, 0)  # not over yet
    assert send(app, event.ends_at + timedelta(hours=2)) == (2, 0)
    assert send(app, event.ends_at + timedelta(hours=2)) == (0, 2)  # the same run again
    assert send(app, event.ends_at + timedelta(days=3)) == (0, 2)  # the next day's run
    assert send(app, event.ends_at + timedelta(days=15)) == (0, 0)  # past the deadline: nobody is asked

    mails = invitation_mails(db)
    assert sorted(m.to_address for m in mails) == sorted([PARTICIPANT, GUEST])
    db.expire_all()
    assert len(db.exec(select(EvaluationInvitation).where(EvaluationInvitation.event_id == event.id)).all()) == 2
    guest_mail = invitation_mails(db, GUEST)[0]
    assert guest_mail.subject == "Hva syntes du om Fagdag om tidlig innsats?"
    assert "Hei Kari Gjest" in guest_mail.body_text and "du kan svare én gang, senest" in guest_mail.body_text
    assert "konto/varsler" not in guest_mail.body_text  # a guest has no notice settings to point to
    assert "http://nettverk.test/konto/varsler" in invitation_mails(db, PARTICIPANT)[0].body_text

    # The link opens the form, without logging in.
    page = browser.get(link_in(guest_mail, "/evaluering/"))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Hvor fornøyd er du med arrangementet alt i alt?" in text and "Hvor nyttig var det" in text
    assert page.headers["Cache-Control"] == "no-store"


def test_only_fagdag_and_kurs_are_evaluated_and_not_when_cancelled(app, db):
    kinds = {kind: make_event(db, f"Et {kind}", kind=kind) for kind in ("kurs", "samling", "nettverksmote")}
    cancelled = make_event(db, "Avlyst fagdag")
    for event in [*kinds.values(), cancelled]:
        register(db, event, PARTICIPANT)
    with app.app_context():
        events.cancel_event(db, None, db.get(Event, cancelled.id))
        db.commit()
    for event in [*kinds.values(), cancelled]:
        end(db, event)
    clear_outbox(db)

    assert send(app) == (1, 0)
    assert [m.subject for m in invitation_mails(db)] == ["Hva syntes du om Et kurs?"]


def test_once_attendance_is_marked_only_those_who_came_are_asked(app, db, as_role):
    event = make_event(db)
    came = register(db, event, PARTICIPANT)
    register(db, event, STAFF)
    end(db, event)
    coordinator = as_role("coordinator_fosen")
    response = coordinator.post(f"/arrangementer/{event.id}/oppmote", {"moette": [str(came.id)]})
    assert response.status_code == 302
    clear_outbox(db)

    assert send(app) == (1, 0)
    assert [m.to_address for m in invitation_mails(db)] == [PARTICIPANT]


def test_a_participant_who_turned_evaluations_off_gets_none(app, db):
    event = make_event(db)
    register(db, event, PARTICIPANT)
    register(db, event, STAFF)
    db.add(NotificationSetting(user_id=user(db, PARTICIPANT).id, kind="evaluation", enabled=False))
    db.commit()
    end(db, event)
    clear_outbox(db)

    assert send(app) == (1, 1)
    assert [m.to_address for m in invitation_mails(db)] == [STAFF]


# Answering ----------------------------------------------------------------------------------------


def test_an_answer_is_stored_once_and_a_second_is_refused(app, db, browser, as_role):
    event = end(db, make_event(db))
    first, second = invited(db, event, 2)

    response = answer(browser, first, "4", "5", "  Nyttig om stafettloggen.  ")
    assert response.status_code == 200 and "Takk for svaret" in response.get_data(as_text=True)
    [stored] = evaluations_of(db, event)
    assert (stored.overall, stored.usefulness, stored.comment) == (4, 5, "Nyttig om stafettloggen.")

    again = answer(browser, first, "1", "1", "Endret mening")
    assert again.status_code == 409
    assert "Du har allerede svart på denne evalueringen" in again.get_data(as_text=True)
    assert browser.get(f"/evaluering/{first}").status_code == 409  # the link no longer opens the form
    assert [(e.overall, e.comment) for e in evaluations_of(db, event)] == [(4, "Nyttig om stafettloggen.")]

    # Logged in works as well: the link is the key, whoever holds it.
    assert answer(as_role("participant"), second, "3", "2").status_code == 200
    assert sorted(e.overall for e in evaluations_of(db, event)) == [3, 4]


def test_the_database_keeps_one_answer_per_invitation(app, db):
    """Two answers through the same link at the same moment: each claims the invitation with one conditional
    UPDATE, and the one that comes second (having read it unanswered) finds it taken."""
    event = end(db, make_event(db))
    [token] = invited(db, event, 1)
    with app.app_context():
        evaluations.answer(db, token, 4, 4)
        db.commit()
    invitation = db.exec(select(EvaluationInvitation).where(EvaluationInvitation.event_id == event.id)).one()
    assert invitation.answered
    with app.app_context(), pytest.raises(OperationError) as refused:
        evaluations.claim(db, invitation.id)
    assert refused.value.status == 409
    db.rollback()
    assert len(evaluations_of(db, event)) == 1


def test_an_answer_cannot_be_traced_to_its_invitation_or_person(app, db):
    """The answer names its event only, and the invitation only that it was answered, with no time to match
    against the answer's."""
    event = end(db, make_event(db))
    tokens = invited(db, event, 2)
    with app.app_context():
        evaluations.answer(db, tokens[0], 5, 4, "Nyttig dag")
        db.commit()
    columns = {c["name"] for c in inspect(db.get_bind()).get_columns("evaluation")}
    assert columns == {"id", "event_id", "overall", "usefulness", "comment"}  # no time either
    foreign = {fk["referred_table"] for fk in inspect(db.get_bind()).get_foreign_keys("evaluation")}
    assert foreign == {"event"}
    invitation_columns = {c["name"] for c in inspect(db.get_bind()).get_columns("evaluation_invitation")}
    assert invitation_columns == {"id", "event_id", "registration_id", "token_hash", "created_at", "answered"}
    answered = db.exec(select(EvaluationInvitation.answered).where(EvaluationInvitation.event_id == event.id))
    assert sorted(answered) == [False, True]


def test_on_postgresql_no_system_column_or_order_links_an_answer_to_its_invitation(app, db, browser):
    """The invitation's mark and the answer are written in different transactions (different xmin), and every
    answer rewrites all of the event's answers (one xmin for all of them, fresh ids in random order): the
    answers carry nothing of when each came. No change-log line is written at answering either."""
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only (NETTVERK_TEST_DATABASE_URL): xmin is PostgreSQL's")
    event = end(db, make_event(db))
    tokens = invited(db, event, 3)

    def system_columns(table):
        db.rollback()
        return db.execute(
            text(f"SELECT xmin::text, id, ctid::text FROM {table} WHERE event_id = :e"),  # noqa: S608
            {"e": event.id},
        ).all()

    logged = db.exec(select(func.count()).select_from(ActivityLog)).one()
    ids = []
    for n, token in enumerate(tokens):
        assert answer(browser, token, str(n + 2), "4", f"Svar {n}").status_code == 200
        answers = system_columns("evaluation")
        assert len(answers) == n + 1 and len({xmin for xmin, _, _ in answers}) == 1  # all rewritten together
        ids.append({row_id for _, row_id, _ in answers})
    answered = db.exec(select(EvaluationInvitation).where(EvaluationInvitation.event_id == event.id)).all()
    assert all(invitation.answered for invitation in answered)
    invitation_xmins = {xmin for xmin, _, _ in system_columns("evaluation_invitation")}
    assert len(invitation_xmins) == 3  # each claimed in its own transaction
    assert not invitation_xmins & {xmin for xmin, _, _ in system_columns("evaluation")}
    assert ids[0].isdisjoint(ids[1]) and ids[1].isdisjoint(ids[2])  # no answer keeps the id it came with
    assert db.exec(select(func.count()).select_from(ActivityLog)).one() == logged
    columns = {c["name"] for c in inspect(db.get_bind()).get_columns("evaluation")}
    assert columns == {"id", "event_id", "overall", "usefulness", "comment"}


def test_if_the_answer_cannot_be_stored_the_invitation_is_answerable_again(app, db, monkeypatch):
    """The mark and the answer are two transactions: when the second fails, the first is taken back."""
    event = end(db, make_event(db))
    [token] = invited(db, event, 1)

    def broken(*_args):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(evaluations, "_store_shuffled", broken)
    with app.app_context(), pytest.raises(RuntimeError):
        evaluations.answer(db, token, 4, 4)
    db.expire_all()
    assert not db.exec(select(EvaluationInvitation.answered).where(EvaluationInvitation.event_id == event.id)).one()
    monkeypatch.undo()
    with app.app_context():
        evaluations.answer(db, token, 4, 4)
    assert [(e.overall, e.usefulness) for e in evaluations_of(db, event)] == [(4, 4)]


def test_no_answer_after_the_deadline(app, db, browser):
    event = make_event(db)
    [token] = invited(db, event, 1)
    end(db, event, ago=timedelta(days=14, minutes=1))

    for response in (browser.get(f"/evaluering/{token}"), answer(browser, token)):
        assert response.status_code == 410
        assert "Fristen for å svare på evalueringen gikk ut" in response.get_data(as_text=True)
    assert evaluations_of(db, event) == []


def test_the_deadline_follows_the_setting(database_url, app, db):
    event = make_event(db)
    [token] = invited(db, event, 1)
    end(db, event, ago=timedelta(days=20))
    longer = make_app(database_url, EVALUATION_DAYS=30)
    client = longer.test_client()
    assert client.get(f"/evaluering/{token}").status_code == 200
    assert send(longer) == (0, 1)  # still within the deadline, but the registration above already has its link
    longer.extensions["nettverk.engine"].dispose()


def test_a_wrong_link_is_not_found(app, db, browser):
    response = browser.get("/evaluering/" + "x" * 43)
    assert response.status_code == 404 and "Lenken er ugyldig" in response.get_data(as_text=True)
    assert answer(browser, "ikke-en-nokkel").status_code == 404


@pytest.mark.parametrize(
    ("overall", "usefulness", "field", "message"),
    [
        ("0", "3", "overall", "Svaret må være et tall fra 1 til 5."),
        ("6", "3", "overall", "Svaret må være et tall fra 1 til 5."),
        ("4", "fem", "usefulness", "Svaret må være et tall fra 1 til 5."),
        ("", "3", "overall", "Svar på spørsmålet: velg et tall fra 1 til 5."),
        ("4", None, "usefulness", "Svar på spørsmålet: velg et tall fra 1 til 5."),
    ],
)
def test_a_score_outside_one_to_five_or_missing_is_refused_beside_the_field(
    app, db, browser, overall, usefulness, field, message
):
    event = end(db, make_event(db))
    [token] = invited(db, event, 1)
    data = {"overall": overall, "comment": "Bra"}
    if usefulness is not None:
        data["usefulness"] = usefulness
    response = browser.post(f"/evaluering/{token}", data)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert (
        f'<p class="error-message" id="{field}-error"><span class="visually-hidden">Feil:</span> {message}</p>' in text
    )
    assert f'<a href="#{field}">{message}</a>' in text  # the error summary links to the question
    assert evaluations_of(db, event) == []
    assert answer(browser, token).status_code == 200  # the link still works after the refusal


def test_a_too_long_free_text_is_refused(app, db, browser):
    event = end(db, make_event(db))
    [token] = invited(db, event, 1)
    response = answer(browser, token, comment="x" * 2001)
    assert response.status_code == 422 and "Skriv høyst 2000 tegn." in response.get_data(as_text=True)
    assert evaluations_of(db, event) == []
    assert answer(browser, token, comment="x" * 2000).status_code == 200


def test_the_operation_refuses_what_the_form_would(app, db):
    """The scheduler and the CLI call operations directly: the checks hold there too."""
    from nettverk.errors import OperationError

    event = end(db, make_event(db))
    [token] = invited(db, event, 1)
    for overall, usefulness, field in (
        (0, 3, "overall"),
        (3, 6, "usefulness"),
        (None, 3, "overall"),
        (True, 3, "overall"),
    ):
        with app.app_context(), pytest.raises(OperationError) as refused:
            evaluations.answer(db, token, overall, usefulness)
        assert refused.value.field == field and refused.value.status == 422
    db.rollback()
    assert evaluations_of(db, event) == []


# Results ------------------------------------------------------------------------------------------


def results_page(browser, event):
    response = browser.get(f"/arrangementer/{event.id}/evaluering")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_results_are_masked_under_three_answers(app, db, browser, as_role):
    event = end(db, make_event(db))
    tokens = invited(db, event, 4)
    coordinator = as_role("coordinator_fosen")
    page = results_page(coordinator, event)
    assert "Ingen har svart ennå" in page and '<dd id="antall-svar">0</dd>' in page

    answer(browser, tokens[0], "5", "4", "Savnet mer om ASQ.")
    answer(browser, tokens[1], "2", "3", "For lange pauser.")
    page = results_page(coordinator, event)
    assert '<dd id="antall-svar">færre enn 3 svar</dd>' in page
    assert "Gjennomsnitt:" not in page and "Savnet mer om ASQ" not in page and "For lange pauser" not in page
    assert "Fordeling av svarene" not in page and "Kommentarer (" not in page
    assert "Gjennomsnitt, fordeling og kommentarer vises først når minst" in page

    answer(browser, tokens[2], "4", "4", "")
    page = results_page(coordinator, event)
    assert '<dd id="antall-svar">3</dd>' in page and "færre enn 3" not in page
    assert "<dt>Invitert til å svare</dt><dd>4</dd>" in page
    assert "Gjennomsnitt: <strong>3,7</strong> av 5" in page  # (5 + 2 + 4) / 3
    assert "Gjennomsnitt: <strong>3,7</strong> av 5" in page.split("Hvor nyttig")[1]  # (4 + 3 + 4) / 3
    overall_table = page.split("Hvor nyttig")[0]
    assert '<th scope="row">2 – Dårlig</th><td class="num">1</td>' in overall_table
    assert '<th scope="row">3 – Middels</th><td class="num">0</td>' in overall_table
    # The free texts, alphabetically (not in the order they came), and nobody's name.
    assert page.index("For lange pauser.") < page.index("Savnet mer om ASQ.")
    assert "Kommentarer (2)" in page
    assert "Deltaker 0" not in page and "deltaker0@example.no" not in page


def test_only_the_coordinators_of_the_events_bases_see_the_results(app, db, as_role):
    event = end(db, make_event(db))
    for role in ("coordinator_fosen", "admin"):
        assert as_role(role).get(f"/arrangementer/{event.id}/evaluering").status_code == 200
    for role in ("coordinator", "participant", "municipality_contact"):
        assert as_role(role).get(f"/arrangementer/{event.id}/evaluering").status_code == 403
    anonymous = as_role(None).get(f"/arrangementer/{event.id}/evaluering")
    assert anonymous.status_code == 302 and "/logg-inn" in anonymous.headers["Location"]

    link = f'href="/arrangementer/{event.id}/evaluering"'
    assert link in as_role("coordinator_fosen").get(f"/arrangementer/{event.id}").get_data(as_text=True)
    assert link not in as_role("participant").get(f"/arrangementer/{event.id}").get_data(as_text=True)

    meeting = make_event(db, "Samling", kind="samling")
    assert as_role("coordinator_fosen").get(f"/arrangementer/{meeting.id}/evaluering").status_code == 404
    assert "/evaluering" not in as_role("coordinator_fosen").get(f"/arrangementer/{meeting.id}").get_data(as_text=True)
