"""E-mail: queued in the outbox with the change that caused it, delivered over SMTP (a real aiosmtpd
server on loopback) by the scheduler's sender only (never inside a request), retried after failures, one bad
message failing alone, visible to the admin, never sent for a failed request, and limited per address and client
where anyone can ask for it."""

import email
import email.policy
import re
import socket
import time
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from conftest import CSRF_FIELD, USERS, Browser, link_in, make_app, outbox
from factories import make_event
from sqlmodel import Session, select

from nettverk.db import get_session
from nettverk.errors import OperationError
from nettverk.events.models import Registration
from nettverk.mail.models import MailStatus, OutboxMessage
from nettverk.mail.operations import deliver_due
from nettverk.scheduler import runner
from nettverk.timeutil import utcnow

RESET_SUBJECT = "Nytt passord i nettverk"
MEMBER = USERS["participant"]
SCOPE_NONE = {"base_id": "", "municipality_id": "", "service_id": ""}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Collector:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


class SMTPServer:
    """A real SMTP server on 127.0.0.1:port, started on demand."""

    def __init__(self, port: int):
        self.port = port
        self.handler = Collector()
        self._controller = None

    @property
    def messages(self):
        return self.handler.messages

    def start(self):
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, count: int, timeout: float = 15.0):
        """The received messages once there are `count` of them (fails after `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(self.messages) >= count, f"expected {count} messages, got {len(self.messages)}"
        return self.messages


def request_reset(browser, address=MEMBER):
    return browser.post("/glemt-passord", {"email": address})


def send_outbox(mail_app):
    """What the scheduler does every few seconds: run the deliver_mail job once."""
    return runner.run_job("deliver_mail", app=mail_app)


def stored_mail(app, to=None):
    """The outbox as the database holds it now, read in a session of its own. (Not conftest's `db`:
    requests to `app` made while its app context is pushed would share that context's `g`.)"""
    with Session(app.extensions["nettverk.engine"]) as session:
        return outbox(session, to)


def make_due(app, message):
    """Pretend the retry time has come."""
    with Session(app.extensions["nettverk.engine"]) as session:
        message.next_attempt_at = utcnow() - timedelta(seconds=1)
        session.add(message)
        session.commit()


def text_and_html(received):
    parts = {part.get_content_type(): part.get_content() for part in received.iter_parts()}
    return parts["text/plain"], parts["text/html"]


@pytest.fixture
def smtp_server():
    server = SMTPServer(free_port())
    yield server
    server.stop()


@pytest.fixture
def smtp_app(app, database_url, smtp_server):
    """A second app on the seeded database (from `app`) that delivers to `smtp_server`."""
    mail_app = make_app(
        database_url, SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port, SMTP_STARTTLS=False, SMTP_TIMEOUT=5
    )
    yield mail_app
    mail_app.extensions["nettverk.engine"].dispose()


@pytest.fixture
def smtp_browser(smtp_app):
    return Browser(smtp_app.test_client())


# Delivery by the scheduler's sender ------------------------------------------------------------------


def test_password_reset_is_delivered_by_the_sender(smtp_server, smtp_app, smtp_browser):
    smtp_server.start()
    assert request_reset(smtp_browser).status_code == 302
    assert send_outbox(smtp_app).sent == 1
    [received] = smtp_server.wait_for(1)
    assert received["To"] == MEMBER
    assert received["Subject"] == RESET_SUBJECT
    assert received["From"] == smtp_app.config["MAIL_FROM"]
    assert received.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in received.iter_parts()] == ["text/plain", "text/html"]


def test_delivered_mail_has_date_and_message_id(smtp_server, smtp_app, smtp_browser):
    smtp_server.start()
    request_reset(smtp_browser)
    send_outbox(smtp_app)
    [received] = smtp_server.wait_for(1)
    assert abs(received["Date"].datetime - utcnow()) < timedelta(minutes=1)
    assert received["Message-ID"].startswith("<") and received["Message-ID"].endswith(">")


def test_delivered_mail_carries_a_working_reset_link(app, smtp_server, smtp_app, smtp_browser):
    smtp_server.start()
    request_reset(smtp_browser)
    send_outbox(smtp_app)
    text, html = text_and_html(smtp_server.wait_for(1)[0])
    path = re.search(r"http://nettverk\.test(/nytt-passord/\S+)", text).group(1)
    assert f'href="http://nettverk.test{path}"' in html
    assert smtp_browser.get(path).status_code == 200


def test_delivered_mail_is_marked_sent(app, smtp_server, smtp_app, smtp_browser):
    smtp_server.start()
    request_reset(smtp_browser)
    send_outbox(smtp_app)
    smtp_server.wait_for(1)
    [message] = stored_mail(app, to=MEMBER)
    assert (message.status, message.attempts, message.last_error) == (MailStatus.SENT, 1, "")
    assert message.sent_at is not None


def test_unknown_address_gets_no_mail(app, smtp_server, smtp_app, smtp_browser):
    smtp_server.start()
    assert request_reset(smtp_browser, "ingen@nettverk.example").status_code == 302
    send_outbox(smtp_app)
    assert stored_mail(app) == []
    assert smtp_server.messages == []


# SMTP server down: kept, retried later, sent once ---------------------------------------------------


def test_mail_is_kept_as_failed_when_smtp_server_is_down(app, smtp_app, smtp_browser):
    assert request_reset(smtp_browser).status_code == 302
    assert stored_mail(app, to=MEMBER)[0].status == MailStatus.QUEUED
    run = send_outbox(smtp_app)
    assert (run.sent, run.failed) == (0, 1)
    [message] = stored_mail(app, to=MEMBER)
    assert (message.status, message.attempts) == (MailStatus.FAILED, 1)
    assert "Kunne ikke koble til e-posttjeneren" in message.last_error
    assert message.next_attempt_at > utcnow()
    assert message.sent_at is None


def test_failed_mail_waits_for_its_retry_time(app, smtp_server, smtp_app, smtp_browser):
    request_reset(smtp_browser)
    send_outbox(smtp_app)  # the server is down
    smtp_server.start()
    with smtp_app.app_context():
        assert deliver_due(get_session()) == {"sent": 0, "failed": 0}
    assert smtp_server.messages == []
    assert stored_mail(app, to=MEMBER)[0].status == MailStatus.FAILED


def test_failed_mail_is_delivered_once_when_server_is_back(app, smtp_server, smtp_app, smtp_browser):
    request_reset(smtp_browser)
    send_outbox(smtp_app)  # the server is down
    make_due(app, stored_mail(app, to=MEMBER)[0])
    smtp_server.start()
    with smtp_app.app_context():
        assert deliver_due(get_session()) == {"sent": 1, "failed": 0}
    with smtp_app.app_context():
        assert deliver_due(get_session()) == {"sent": 0, "failed": 0}
    [received] = smtp_server.wait_for(1)
    assert received["Subject"] == RESET_SUBJECT
    [message] = stored_mail(app, to=MEMBER)
    assert (message.status, message.attempts, message.last_error) == (MailStatus.SENT, 2, "")


def test_cli_mail_send_delivers_due_mail_once(app, smtp_server, smtp_app, smtp_browser):
    request_reset(smtp_browser)
    make_due(app, stored_mail(app, to=MEMBER)[0])
    smtp_server.start()
    runner = smtp_app.test_cli_runner()
    first = runner.invoke(args=["mail", "send"])
    second = runner.invoke(args=["mail", "send"])
    assert first.exit_code == 0, first.output
    assert "Sendt: 1, feilet: 0." in first.output
    assert "Sendt: 0, feilet: 0." in second.output
    assert len(smtp_server.wait_for(1)) == 1
    assert stored_mail(app, to=MEMBER)[0].status == MailStatus.SENT


def test_admin_retry_now_makes_failed_mail_due_for_the_sender(app, smtp_server, smtp_app, smtp_browser):
    request_reset(smtp_browser)
    send_outbox(smtp_app)  # the server is down: failed, retried later
    smtp_server.start()
    smtp_browser.login_as("admin")
    response = smtp_browser.post("/admin/utboks/send", follow_redirects=True)
    assert response.status_code == 200
    assert "1 meldinger som feilet, prøves igjen nå" in response.get_data(as_text=True)
    assert smtp_server.messages == []  # the request itself sends nothing
    assert send_outbox(smtp_app).sent == 1
    [received] = smtp_server.wait_for(1)
    assert received["To"] == MEMBER
    assert stored_mail(app, to=MEMBER)[0].status == MailStatus.SENT


# Without SMTP: the outbox is the only place the mail is --------------------------------------------


def test_mail_stays_queued_without_smtp(app, browser):
    assert request_reset(browser).status_code == 302
    [message] = stored_mail(app, to=MEMBER)
    assert (message.status, message.attempts) == (MailStatus.QUEUED, 0)
    assert message.subject == RESET_SUBJECT


def test_cli_mail_send_refuses_without_smtp(app):
    result = app.test_cli_runner().invoke(args=["mail", "send"])
    assert result.exit_code != 0
    assert "NETTVERK_SMTP_HOST" in result.output


def test_admin_sees_queued_mail_in_outbox(app, browser, as_role):
    request_reset(browser)
    page = as_role("admin").get("/admin/utboks")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert MEMBER in html
    assert RESET_SUBJECT in html
    assert "I kø" in html


def test_admin_sees_the_body_of_a_message(app, browser, as_role):
    request_reset(browser)
    [message] = stored_mail(app, to=MEMBER)
    page = as_role("admin").get(f"/admin/utboks/{message.id}")
    assert page.status_code == 200
    assert link_in(message, "/nytt-passord/") in page.get_data(as_text=True)


def test_unknown_message_is_404(as_role):
    assert as_role("admin").get("/admin/utboks/999999").status_code == 404


@pytest.mark.parametrize("role", ["coordinator", "service_leader", "participant"])
@pytest.mark.parametrize("path", ["/admin/utboks", "/admin/utboks/{id}"])
def test_outbox_is_for_admins_only(app, browser, as_role, role, path):
    request_reset(browser)
    url = path.format(id=stored_mail(app)[0].id)
    assert as_role(role).get(url).status_code == 403


@pytest.mark.parametrize("path", ["/admin/utboks", "/admin/utboks/{id}"])
def test_outbox_sends_anonymous_to_login(app, browser, as_role, path):
    request_reset(browser)
    response = as_role(None).get(path.format(id=stored_mail(app)[0].id))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/logg-inn")


def test_send_now_is_for_admins_only(as_role):
    assert as_role("coordinator").post("/admin/utboks/send").status_code == 403


# A failed request mails no one ----------------------------------------------------------------------


def test_refused_invitation_queues_nothing(app, as_role):
    admin = as_role("admin")
    response = admin.post(
        "/brukere/inviter", {"email": "ikke-en-adresse", "name": "Ny", "role": "participant", **SCOPE_NONE}
    )
    assert response.status_code == 422
    assert "Skriv en gyldig e-postadresse" in response.get_data(as_text=True)
    assert stored_mail(app) == []


def test_invitation_is_queued(app, as_role):
    response = as_role("admin").post(
        "/brukere/inviter", {"email": "ny@kommune.example", "name": "Ny", "role": "participant", **SCOPE_NONE}
    )
    assert response.status_code == 302
    [message] = stored_mail(app, to="ny@kommune.example")
    assert link_in(message, "/invitasjon/")


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (OperationError("Noe ble avvist etter at e-posten var lagt i kø."), 422),
        (RuntimeError("uventet feil etter at e-posten var lagt i kø"), 500),
    ],
)
def test_mail_queued_by_a_failing_request_is_rolled_back(
    app, smtp_server, smtp_app, smtp_browser, monkeypatch, error, status
):
    """The invitation is queued, then the operation fails: nothing is kept and nothing is sent."""
    queued_before_failing = []

    def fail_after_queueing(session, actor_id, action, *args, **kwargs):
        if action == "user.invited":
            queued_before_failing.append(session.exec(select(OutboxMessage)).first() is not None)
            raise error

    monkeypatch.setattr("nettverk.accounts.operations.record", fail_after_queueing)
    smtp_server.start()
    smtp_browser.login_as("admin")
    response = smtp_browser.post(
        "/brukere/inviter", {"email": "ny@kommune.example", "name": "Ny", "role": "participant", **SCOPE_NONE}
    )
    assert response.status_code == status
    assert queued_before_failing == [True]
    assert stored_mail(app) == []
    send_outbox(smtp_app)
    assert smtp_server.messages == []


def test_two_senders_never_send_the_same_message_twice(app, smtp_server, smtp_app, smtp_browser):
    """Two workers read the same due message; only the one that claims it first sends it."""
    request_reset(smtp_browser)
    make_due(app, stored_mail(app, to=MEMBER)[0])
    smtp_server.start()
    with Session(smtp_app.extensions["nettverk.engine"]) as other_worker:
        stale_copy = outbox(other_worker, MEMBER)  # read before the first worker sends
        other_worker.expunge_all()
        other_worker.rollback()
        with smtp_app.app_context():
            assert deliver_due(get_session()) == {"sent": 1, "failed": 0}
        with smtp_app.app_context():
            from nettverk.mail.operations import _claim

            assert _claim(other_worker, stale_copy[0]) is False
    assert len(smtp_server.wait_for(1)) == 1


def test_delivered_mail_keeps_no_working_link(app, smtp_server, smtp_app, smtp_browser):
    smtp_server.start()
    request_reset(smtp_browser)
    send_outbox(smtp_app)
    [received] = smtp_server.wait_for(1)
    assert "/nytt-passord/" in text_and_html(received)[0]
    [message] = stored_mail(app, to=MEMBER)
    assert "/nytt-passord/[skjult]" in message.body_text
    assert re.search(r"/nytt-passord/[A-Za-z0-9_-]{40,}", message.body_text + message.body_html) is None


def test_production_outbox_hides_one_time_links(app, as_role):
    as_role(None).post("/glemt-passord", {"email": MEMBER})
    [message] = stored_mail(app, to=MEMBER)
    app.config["NETTVERK_ENV"] = "production"
    page = as_role("admin").get(f"/admin/utboks/{message.id}").get_data(as_text=True)
    assert "/nytt-passord/[skjult]" in page
    assert re.search(r"/nytt-passord/[A-Za-z0-9_-]{40,}", page) is None


# One message that cannot be sent fails alone (issue 17, point 1) -------------------------------------


def test_a_message_that_cannot_be_built_fails_alone_and_the_rest_are_sent(app, db, smtp_server, smtp_app, as_role):
    """A row stored before subjects were made safe, with a line break in its subject, between two good ones."""
    subjects = ["Først", "Bekreft påmeldingen: Fagdag\r\nBcc: alle@example.no", "Sist"]
    db.add_all(
        OutboxMessage(to_address=f"person{n}@kommune.example", subject=subject, body_text="Hei")
        for n, subject in enumerate(subjects)
    )
    db.commit()
    smtp_server.start()
    run = send_outbox(smtp_app)
    assert (run.status, run.sent, run.failed) == ("ok", 2, 1)
    assert sorted(m["Subject"] for m in smtp_server.wait_for(2)) == ["Først", "Sist"]
    [bad] = stored_mail(app, to="person1@kommune.example")
    assert (bad.status, bad.sent_at) == (MailStatus.FAILED, None)
    assert bad.last_error.startswith("Meldingen kunne ikke lages: ValueError")
    assert "Meldingen kunne ikke lages" in as_role("admin").get("/admin/utboks").get_data(as_text=True)


def test_a_line_break_in_an_event_title_never_reaches_a_header(app, db, smtp_server, smtp_app, as_role):
    event = make_event(db, "Fagdag")
    event.title = "Fagdag\r\nBcc: alle@example.no"  # as stored before titles were checked
    db.add(event)
    db.commit()
    assert as_role("participant").post(f"/arrangementer/{event.id}/pamelding", {}).status_code == 302
    [message] = stored_mail(app, to=USERS["participant"])
    assert message.subject == "Du er påmeldt: Fagdag Bcc: alle@example.no"
    smtp_server.start()
    assert send_outbox(smtp_app).sent == 1
    [received] = smtp_server.wait_for(1)
    assert received["Subject"] == message.subject
    assert received["Bcc"] is None


# Requests never wait for the mail server (issue 17, point 4) ------------------------------------------


@pytest.fixture
def silent_smtp():
    """A mail server that accepts connections and never answers (a hanging relay): the kernel completes each
    connection, and nobody says a word on it."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.setblocking(False)
        yield listener


def connections_made(listener) -> int:
    """How many connections have come to the listener since last asked."""
    count = 0
    while True:
        try:
            connection, _ = listener.accept()
        except BlockingIOError:
            return count
        connection.close()
        count += 1


def test_a_request_never_talks_to_the_mail_server(app, database_url, silent_smtp):
    hanging = make_app(
        database_url, SMTP_HOST="127.0.0.1", SMTP_PORT=silent_smtp.getsockname()[1], SMTP_STARTTLS=False, SMTP_TIMEOUT=1
    )
    try:
        assert request_reset(Browser(hanging.test_client())).status_code == 302
        assert connections_made(silent_smtp) == 0  # the request did not even connect
        [message] = stored_mail(app, to=MEMBER)
        assert (message.status, message.attempts) == (MailStatus.QUEUED, 0)
        # The sender in the scheduler meets the hanging server, gives up after the timeout and retries later.
        run = send_outbox(hanging)
        assert (run.sent, run.failed) == (0, 1)
        assert connections_made(silent_smtp) == 1
        assert stored_mail(app, to=MEMBER)[0].status == MailStatus.FAILED
    finally:
        hanging.extensions["nettverk.engine"].dispose()


def test_the_sender_runs_every_few_seconds_and_only_busy_runs_are_logged(app, as_role):
    assert runner.JOBS_BY_NAME["deliver_mail"].trigger.interval <= timedelta(seconds=5)
    assert runner.run_job("deliver_mail", app=app).id is None  # nothing to send: no row in the run log
    page = as_role("admin").get("/admin/jobber").get_data(as_text=True)
    assert "hvert 5. sekund" in page
    assert "Bare kjøringer som sendte eller feilet noe, lagres." in page


# Mail anyone can ask for is limited (issue 17, point 9) -----------------------------------------------


def test_resets_to_one_address_are_limited_and_tell_nothing_about_accounts(app, browser):
    for address in (MEMBER, "ingen@nettverk.example"):
        answers = [request_reset(browser, address) for _ in range(4)]
        assert [a.status_code for a in answers] == [302] * 4
        assert {a.headers["Location"] for a in answers} == {"/logg-inn"}
    assert len(stored_mail(app, to=MEMBER)) == 3  # the hourly limit per address (NETTVERK_MAIL_MAX_PER_ADDRESS)
    known, unknown = (
        Browser(app.test_client()).post("/glemt-passord", {"email": a}, follow_redirects=True)
        for a in (MEMBER, "ingen@nettverk.example")
    )
    assert CSRF_FIELD.sub("", known.get_data(as_text=True)) == CSRF_FIELD.sub("", unknown.get_data(as_text=True))


def test_one_client_asks_for_only_so_many_mails(app, browser):
    for n in range(20):  # NETTVERK_MAIL_MAX_PER_CLIENT
        assert request_reset(browser, f"person{n}@nettverk.example").status_code == 302
    refused = request_reset(browser, MEMBER)
    assert refused.status_code == 429
    assert "Du har bedt om for mange e-poster den siste timen" in refused.get_data(as_text=True)
    assert stored_mail(app, to=MEMBER) == []
    other = Browser(app.test_client())
    other.client.environ_base["REMOTE_ADDR"] = "192.0.2.7"  # another client is not held back
    assert request_reset(other, MEMBER).status_code == 302
    assert len(stored_mail(app, to=MEMBER)) == 1


def test_guest_registrations_are_limited_and_carry_none_of_the_guests_text(app, db, browser):
    gatherings = [make_event(db, f"Fagdag {n}") for n in range(4)]
    guest = {"name": "Du har vunnet! Logg inn på https://svindel.example", "email": "offer@example.no"}
    for event in gatherings[:3]:
        assert browser.post(f"/arrangementer/{event.id}/pamelding/gjest", guest).status_code == 200
    refused = browser.post(f"/arrangementer/{gatherings[3].id}/pamelding/gjest", guest)
    assert refused.status_code == 429
    assert "for mange e-poster fra oss den siste timen" in refused.get_data(as_text=True)
    db.expire_all()
    assert db.exec(select(Registration).where(Registration.event_id == gatherings[3].id)).all() == []
    mail = stored_mail(app, to="offer@example.no")
    assert len(mail) == 3
    for message in mail:  # the address is not confirmed yet: a neutral greeting, not the name typed
        assert "svindel" not in message.body_text + message.body_html
        assert message.body_text.startswith("Hei,\n")


def test_guest_registrations_from_one_client_are_limited(app, db, browser):
    app.config["MAIL_MAX_PER_CLIENT"] = 1
    event = make_event(db, "Fagdag")
    first = browser.post(f"/arrangementer/{event.id}/pamelding/gjest", {"name": "A", "email": "a@example.no"})
    assert first.status_code == 200
    refused = browser.post(f"/arrangementer/{event.id}/pamelding/gjest", {"name": "B", "email": "b@example.no"})
    assert refused.status_code == 429
    assert "for mange påmeldinger herfra den siste timen" in refused.get_data(as_text=True)
    assert stored_mail(app, to="b@example.no") == []
