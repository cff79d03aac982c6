"""Calendar feeds as a calendar program and a person use them: public feeds of a base, a network and a
municipality, the personal feed behind a secret link (users and guests), conditional requests (ETag,
304, HEAD), the cost of a poll in SQL statements, and the subscribe links on the pages."""

import hashlib
import html
import re
from contextlib import contextmanager
from datetime import date, timedelta
from email.utils import parsedate_to_datetime

import pytest
from conftest import USERS, Browser, link_in, outbox
from factories import base_id, make_event, municipality_id, network, user
from icalendar import Calendar
from sqlalchemy import event as sa_event
from sqlmodel import delete, select

from nettverk.activity import ActivityLog
from nettverk.calendars.models import CalendarToken, RenderedEvent
from nettverk.events.models import Event
from nettverk.networks.models import NetworkMember
from nettverk.registry.models import BaseMembership

SOON = date.today() + timedelta(days=30)
FEED_URL = re.compile(r'value="(http://nettverk\.test/kalender/personlig/[A-Za-z0-9_-]+\.ics)"')


# Helpers ------------------------------------------------------------------------------------------


def network_meeting(db, title: str, *, publish: bool = True, days: int = 40) -> Event:
    return make_event(
        db,
        title,
        base=None,
        network_id=network(db, "bti-nettverk-fosen").id,
        kind="nettverksmote",
        audience="network",
        publish=publish,
        days=days,
    )


def calendar_of(response) -> Calendar:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.data)


def statuses(response) -> dict[str, str]:
    """SUMMARY -> STATUS of every event in the feed."""
    return {str(e["SUMMARY"]): str(e["STATUS"]) for e in calendar_of(response).walk("VEVENT")}


def feed_url_in(response) -> str:
    """The personal feed address a page shows (in the read-only field)."""
    match = FEED_URL.search(response.get_data(as_text=True))
    assert match, "no personal feed address on the page"
    return match.group(1)


def path(url: str) -> str:
    return url.removeprefix("http://nettverk.test")


def make_link(browser: Browser, back: str = "profil") -> str:
    response = browser.post("/kalender/min-lenke", {"tilbake": back})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return path(feed_url_in(response))


def registered_participant(app, db, as_role) -> tuple[Browser, Browser]:
    """The participant, registered for a fagdag in Fosen, and a calendar client of their own (no login)."""
    event = make_event(db, "Fagdag i Fosen")
    participant = as_role("participant")
    participant.post(f"/arrangementer/{event.id}/pamelding", {})
    return participant, Browser(app.test_client())


@contextmanager
def counting_statements(app):
    """Every statement the app sends to the database (BEGIN on SQLite included)."""
    statements = []
    engine = app.extensions["nettverk.engine"]

    def note(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa_event.listen(engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        sa_event.remove(engine, "before_cursor_execute", note)


def edit_form(event: Event, **fields) -> dict:
    """The coordinator's edit form for a Fosen fagdag, as the page fills it in."""
    day = SOON.isoformat()
    form = {
        "kind": event.kind,
        "title": event.title,
        "base_id": str(event.base_id or ""),
        "audience": event.audience,
        "start_date": day,
        "start_time": "09:00",
        "end_date": day,
        "end_time": "15:00",
        "capacity": str(event.capacity or ""),
    }
    form.update(fields)
    return form


# Public feeds -------------------------------------------------------------------------------------


def test_each_public_feed_has_the_published_events_of_its_scope_and_no_drafts(db, browser):
    make_event(db, "Fagdag i Fosen", host_municipality_id=municipality_id(db, "5054"))
    make_event(db, "Utkast i Fosen", publish=False)
    make_event(db, "Fagdag i Namdalen", base="namdalen")
    make_event(db, "Namdalen på besøk i Rissa", base="namdalen", venue_municipality_id=municipality_id(db, "5054"))
    network_meeting(db, "Nettverksmøte BTI Fosen")
    network_meeting(db, "Nettverksmøte under planlegging", publish=False)

    base = browser.get("/kalender/kompetansebaser/fosen.ics")
    assert statuses(base) == {"Fagdag i Fosen": "CONFIRMED", "Nettverksmøte BTI Fosen": "CONFIRMED"}
    assert base.headers["Cache-Control"] == "public, max-age=300"
    assert base.headers["Content-Disposition"] == 'inline; filename="fosen.ics"'
    assert base.headers["ETag"] and base.headers["Last-Modified"]
    cal = calendar_of(base)
    assert str(cal["X-WR-CALNAME"]) == "Fosen – samlinger"
    assert str(cal["SOURCE"]) == "http://nettverk.test/kalender/kompetansebaser/fosen.ics"

    assert statuses(browser.get("/kalender/nettverk/bti-nettverk-fosen.ics")) == {
        "Nettverksmøte BTI Fosen": "CONFIRMED"
    }

    # Indre Fosen: Fosen's events open to it, and events held there whoever plans them.
    indre_fosen = browser.get("/kalender/kommuner/5054.ics")
    assert statuses(indre_fosen) == {"Fagdag i Fosen": "CONFIRMED", "Namdalen på besøk i Rissa": "CONFIRMED"}
    assert indre_fosen.headers["Cache-Control"] == "public, max-age=300"

    for unknown in (
        "/kalender/kompetansebaser/finnes-ikke.ics",
        "/kalender/nettverk/finnes-ikke.ics",
        "/kalender/kommuner/9999.ics",
        "/kalender/personlig/" + "x" * 43 + ".ics",
    ):
        assert browser.get(unknown).status_code == 404, unknown


def test_a_logged_in_user_gets_the_public_cache_header_on_a_public_feed(db, as_role):
    make_event(db, "Fagdag i Fosen")
    response = as_role("coordinator_fosen").get("/kalender/kompetansebaser/fosen.ics")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=300"  # not the app's "private, no-store"


def test_a_cancelled_event_stays_in_the_feed_as_cancelled(db, as_role, browser):
    event = make_event(db, "Fagdag som avlyses")
    cancelled = as_role("coordinator_fosen").post(f"/arrangementer/{event.id}/avlys", {"reason": "Sykdom"})
    assert cancelled.status_code == 302
    feed = statuses(browser.get("/kalender/kompetansebaser/fosen.ics"))
    assert feed == {"Avlyst: Fagdag som avlyses": "CANCELLED"}
    [vevent] = calendar_of(browser.get("/kalender/kompetansebaser/fosen.ics")).walk("VEVENT")
    assert str(vevent["UID"]) == event.uid and int(vevent["SEQUENCE"]) >= 1


# Conditional requests -----------------------------------------------------------------------------


def test_etag_answers_304_with_an_empty_body_and_head_works(db, browser):
    make_event(db, "Fagdag i Fosen")
    url = "/kalender/kompetansebaser/fosen.ics"
    first = browser.get(url)
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]

    again = browser.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag and again.headers["Cache-Control"] == "public, max-age=300"
    # If-Modified-Since counts only without If-None-Match.
    assert browser.get(url, headers={"If-Modified-Since": last_modified}).status_code == 304
    stale = browser.get(url, headers={"If-None-Match": '"something-else"', "If-Modified-Since": last_modified})
    assert stale.status_code == 200 and stale.data == first.data

    head = browser.client.head(url)
    assert head.status_code == 200 and head.data == b""
    assert head.headers["ETag"] == etag and head.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert browser.client.head(url, headers={"If-None-Match": etag}).status_code == 304


def test_a_feed_an_event_left_without_changing_says_it_was_modified_also_to_if_modified_since(db, browser):
    """A municipality leaves its base: the base's events leave the municipality's feed, though none of them
    changed. A client that sends only If-Modified-Since must get the new feed, not 304."""
    make_event(db, "Fagdag i Fosen")
    url = "/kalender/kommuner/5054.ics"
    first = browser.get(url)
    assert "Fagdag i Fosen" in statuses(first)
    last_modified = first.headers["Last-Modified"]
    assert browser.get(url, headers={"If-Modified-Since": last_modified}).status_code == 304

    db.expire_all()
    db.exec(
        delete(BaseMembership).where(
            BaseMembership.base_id == base_id(db, "fosen"),
            BaseMembership.municipality_id == municipality_id(db, "5054"),
        )
    )
    db.commit()
    later = browser.get(url, headers={"If-Modified-Since": last_modified})
    assert later.status_code == 200 and statuses(later) == {}
    assert parsedate_to_datetime(later.headers["Last-Modified"]) > parsedate_to_datetime(last_modified)
    # ... and stays so: a later poll from the same state is 304 against the new date, not the old one.
    assert browser.get(url, headers={"If-Modified-Since": later.headers["Last-Modified"]}).status_code == 304


def test_a_change_of_the_event_changes_the_etag(db, as_role, browser):
    event = make_event(db, "Fagdag om BTI", days=30)
    url = "/kalender/kompetansebaser/fosen.ics"
    etag = browser.get(url).headers["ETag"]

    coordinator = as_role("coordinator_fosen")
    edited = coordinator.post(
        f"/arrangementer/{event.id}/rediger", edit_form(event, title="Fagdag om BTI og stafettlogg")
    )
    assert edited.status_code == 302, edited.get_data(as_text=True)[:800]

    changed = browser.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert statuses(changed) == {"Fagdag om BTI og stafettlogg": "CONFIRMED"}
    # A new event in the base changes it too.
    make_event(db, "Enda en fagdag", days=50)
    assert browser.get(url, headers={"If-None-Match": changed.headers["ETag"]}).status_code == 200


# Personal feeds -----------------------------------------------------------------------------------


def test_personal_feed_has_my_registrations_and_my_networks_meetings(app, db, as_role):
    mine = make_event(db, "Fagdag jeg skal på")
    make_event(db, "Fagdag jeg ikke skal på")
    make_event(db, "Utkast i Fosen", publish=False)
    network_meeting(db, "Møte i nettverket mitt")
    db.add(
        NetworkMember(
            network_id=network(db, "bti-nettverk-fosen").id, user_id=user(db, "participant").id, joined_on=date.today()
        )
    )
    db.commit()

    participant = as_role("participant")
    assert participant.post(f"/arrangementer/{mine.id}/pamelding", {}).status_code == 302
    feed_path = make_link(participant)

    calendar_client = Browser(app.test_client())  # no cookie: the token is the credential
    response = calendar_client.get(feed_path)
    assert statuses(response) == {"Fagdag jeg skal på": "CONFIRMED", "Møte i nettverket mitt": "CONFIRMED"}
    assert response.headers["Cache-Control"] == "private, max-age=300"
    assert "Hanne" in str(calendar_of(response)["X-WR-CALNAME"])

    # Cancelling the registration takes the event out.
    page = participant.get("/mine-pameldinger").get_data(as_text=True)
    [registration_id] = re.findall(r"/pameldinger/(\d+)/avmeld", page)
    participant.post(f"/pameldinger/{registration_id}/avmeld")
    assert statuses(calendar_client.get(feed_path)) == {"Møte i nettverket mitt": "CONFIRMED"}


def test_coordinators_personal_feed_shows_their_bases_drafts_as_tentative(app, db, as_role):
    make_event(db, "Utkast i Fosen", publish=False)
    network_meeting(db, "Utkast til nettverksmøte", publish=False)
    make_event(db, "Utkast i Namdalen", base="namdalen", publish=False)
    make_event(db, "Publisert i Fosen")  # not registered: not in the personal feed

    feed_path = make_link(as_role("coordinator_fosen"))
    assert statuses(Browser(app.test_client()).get(feed_path)) == {
        "Utkast i Fosen": "TENTATIVE",
        "Utkast til nettverksmøte": "TENTATIVE",
    }


def test_the_link_is_shown_once_and_a_replaced_or_revoked_link_answers_404(app, db, as_role):
    participant, client = registered_participant(app, db, as_role)

    first = make_link(participant)
    assert client.get(first).status_code == 200
    profile = participant.get("/min-konto").get_data(as_text=True)
    assert "Du har en kalenderlenke" in profile and first not in profile and "Lag ny lenke" in profile

    second = make_link(participant, back="pameldinger")
    assert second != first
    assert client.get(first).status_code == 404
    assert statuses(client.get(second)) == {"Fagdag i Fosen": "CONFIRMED"}
    assert second not in participant.get("/mine-pameldinger").get_data(as_text=True)

    revoked = participant.post("/kalender/min-lenke/slaa-av", {"tilbake": "pameldinger"})
    assert revoked.status_code == 302 and revoked.headers["Location"].startswith("/mine-pameldinger")
    assert client.get(second).status_code == 404
    assert "Du har ingen kalenderlenke" in participant.get("/min-konto").get_data(as_text=True)
    assert participant.post("/kalender/min-lenke/slaa-av").status_code == 409  # nothing left to switch off

    # Only the hash is stored, and the change log never holds the token.
    db.expire_all()
    token = second.removeprefix("/kalender/personlig/").removesuffix(".ics")
    assert (
        db.exec(select(CalendarToken).where(CalendarToken.token_hash == hashlib.sha256(token.encode()).hexdigest()))
        .one()
        .revoked_at
        is not None
    )
    assert not [log for log in db.exec(select(ActivityLog)) if token in log.summary or first[-20:] in log.summary]
    assert [
        log.action for log in db.exec(select(ActivityLog).where(ActivityLog.action.startswith("calendar."))).all()
    ] == ["calendar.token_created", "calendar.token_created", "calendar.token_revoked"]


def test_the_reminder_goes_into_every_event_and_survives_a_new_link(app, db, as_role):
    participant, client = registered_participant(app, db, as_role)
    feed_path = make_link(participant)
    etag = client.get(feed_path).headers["ETag"]

    assert participant.post("/kalender/min-lenke/paaminnelse", {"alarm": "60"}).status_code == 302
    changed = client.get(feed_path, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    [alarm] = calendar_of(changed).walk("VALARM")
    assert alarm["TRIGGER"].dt == timedelta(hours=-1)
    assert 'value="60" selected' in participant.get("/min-konto").get_data(as_text=True)

    new_path = make_link(participant)
    assert len(calendar_of(client.get(new_path)).walk("VALARM")) == 1
    assert participant.post("/kalender/min-lenke/paaminnelse", {"alarm": "7"}).status_code == 422
    assert participant.post("/kalender/min-lenke/paaminnelse", {"alarm": ""}).status_code == 302
    assert calendar_of(client.get(new_path)).walk("VALARM") == []


def test_token_actions_need_a_login_and_the_csrf_token(browser, as_role):
    assert browser.post("/kalender/min-lenke").status_code == 302  # to the login page
    assert as_role("participant").post("/kalender/min-lenke", csrf=False).status_code == 400
    assert as_role("participant").get("/kalender/min-lenke").status_code == 405


def test_a_deactivated_users_feed_stops(app, db, as_role):
    feed_path = make_link(as_role("participant"))
    client = Browser(app.test_client())
    assert client.get(feed_path).status_code == 200
    participant = user(db, "participant")
    participant.is_active = False
    db.add(participant)
    db.commit()
    assert client.get(feed_path).status_code == 404


# Guests -------------------------------------------------------------------------------------------


def register_guest(browser: Browser, db, event: Event, email: str = "guri@example.no"):
    response = browser.post(
        f"/arrangementer/{event.id}/pamelding/gjest",
        {"name": "Guri Gjest", "email": email, "municipality_id": municipality_id(db, "5054")},
    )
    assert response.status_code == 200
    confirm = link_in(outbox(db, email)[-1], "/pamelding/bekreft/")
    return browser.post(confirm)


def test_a_guest_subscribes_after_confirming_and_can_get_a_new_link_by_mail(app, db, browser):
    first_event = make_event(db, "Fagdag i Fosen")
    done = register_guest(browser, db, first_event)
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    page = done.get_data(as_text=True)
    assert "Abonner på kalenderen din" in page and "Kopier lenken nå" in page
    old_link = path(feed_url_in(done))
    client = Browser(app.test_client())
    assert statuses(client.get(old_link)) == {"Fagdag i Fosen": "CONFIRMED"}

    # A second confirmation: the existing calendar shows it, no new link.
    second_event = make_event(db, "Kurs i Fosen", days=45)
    again = register_guest(browser, db, second_event).get_data(as_text=True)
    assert "kommer dette arrangementet inn der av seg selv" in again and not FEED_URL.search(again)
    assert statuses(client.get(old_link)) == {"Fagdag i Fosen": "CONFIRMED", "Kurs i Fosen": "CONFIRMED"}

    # Lost the link: a new one by e-mail, and the old one dies.
    assert browser.get("/kalender/ny-lenke").status_code == 200
    sent = browser.post("/kalender/ny-lenke", {"email": "Guri@Example.no"}, follow_redirects=True)
    assert sent.status_code == 200 and "Hvis e-postadressen har en bekreftet påmelding" in sent.get_data(as_text=True)
    mail = outbox(db, "guri@example.no")[-1]
    assert mail.subject == "Din nye kalenderlenke i nettverk"
    new_link = link_in(mail, "/kalender/personlig/")
    assert new_link in mail.body_html
    assert client.get(old_link).status_code == 404
    assert statuses(client.get(new_link)) == {"Fagdag i Fosen": "CONFIRMED", "Kurs i Fosen": "CONFIRMED"}

    # Asking again at once sends nothing and keeps the new link working (no one can keep it broken).
    mails = len(outbox(db))
    browser.post("/kalender/ny-lenke", {"email": "guri@example.no"})
    assert len(outbox(db)) == mails
    assert client.get(new_link).status_code == 200


def test_the_new_link_form_answers_the_same_for_unknown_and_unconfirmed_addresses(db, browser):
    event = make_event(db, "Fagdag i Fosen")
    browser.post(f"/arrangementer/{event.id}/pamelding/gjest", {"name": "Ubekreftet", "email": "ub@example.no"})
    mails = len(outbox(db))
    answers = set()
    for email in ("ingen@example.no", "ub@example.no", USERS["participant"]):
        response = browser.post("/kalender/ny-lenke", {"email": email}, follow_redirects=True)
        assert response.status_code == 200
        answers.add(re.search(r'role="status">([^<]+)<', response.get_data(as_text=True)).group(1))
    assert len(answers) == 1
    assert len(outbox(db)) == mails
    bad = browser.post("/kalender/ny-lenke", {"email": "ikke-en-adresse"})
    assert bad.status_code == 422 and "gyldig e-postadresse" in bad.get_data(as_text=True)


# Cost of a poll -----------------------------------------------------------------------------------


def _add_events(db, count: int, start: int = 0, publish: bool = True) -> None:
    for n in range(start, start + count):
        programme = [("09.00", "Velkommen", "Kari")] if n % 2 else []
        make_event(db, f"Fagdag {n}", days=10 + n, publish=publish, programme=programme)


@pytest.mark.parametrize("kind", ["base", "personal"])
def test_sql_statements_per_feed_do_not_grow_with_the_number_of_events(app, db, as_role, kind):
    client = Browser(app.test_client())
    if kind == "base":
        url = "/kalender/kompetansebaser/fosen.ics"
    else:  # the coordinator's drafts are in their personal feed
        url = make_link(as_role("coordinator_fosen"))

    def fetch(expected: int) -> int:
        with counting_statements(app) as statements:
            response = client.get(url)
        assert len(calendar_of(response).walk("VEVENT")) == expected
        return len(statements)

    _add_events(db, 2, publish=kind == "base")
    small = fetch(2)
    _add_events(db, 38, start=2, publish=kind == "base")
    assert fetch(40) == small

    etag = client.get(url).headers["ETag"]
    with counting_statements(app) as statements:
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert len(statements) <= 3, statements
    # Rendered once: a second full fetch of the unchanged feed loads no events.
    with counting_statements(app) as statements:
        assert client.get(url).status_code == 200
    assert len(statements) <= 3, statements


# Downloading one event ----------------------------------------------------------------------------


def test_one_event_downloads_as_ics_and_a_draft_only_for_its_coordinators(db, browser, as_role):
    published = make_event(db, "Fagdag: Tidlig inn")
    draft = make_event(db, "Hemmelig utkast", publish=False)

    response = browser.get(f"/arrangementer/{published.id}/kalender.ics")
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="fagdag-tidlig-inn-{SOON.isoformat()}.ics"'
    )
    [vevent] = calendar_of(response).walk("VEVENT")
    assert str(vevent["UID"]) == published.uid
    assert "Legg i kalenderen (.ics)" in browser.get(f"/arrangementer/{published.id}").get_data(as_text=True)

    assert browser.get(f"/arrangementer/{draft.id}/kalender.ics").status_code == 404
    assert as_role("coordinator").get(f"/arrangementer/{draft.id}/kalender.ics").status_code == 404  # Namdalen
    own = as_role("coordinator_fosen").get(f"/arrangementer/{draft.id}/kalender.ics")
    assert statuses(own) == {"Hemmelig utkast": "TENTATIVE"}
    assert own.headers["Cache-Control"] == "private, no-store"


# The subscribe links on the pages -----------------------------------------------------------------


def links(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize(
    "page, feed",
    [
        ("/kompetansebaser/fosen", "/kalender/kompetansebaser/fosen.ics"),
        ("/kompetansebaser/fosen/arshjul", "/kalender/kompetansebaser/fosen.ics"),
        ("/nettverk/bti-nettverk-fosen", "/kalender/nettverk/bti-nettverk-fosen.ics"),
        ("/kommuner/5054", "/kalender/kommuner/5054.ics"),
        ("/kalender?base=fosen", "/kalender/kompetansebaser/fosen.ics"),
        ("/kalender?visning=liste&nettverk=bti-nettverk-fosen", "/kalender/nettverk/bti-nettverk-fosen.ics"),
    ],
)
def test_pages_that_list_events_offer_their_feed(browser, page, feed):
    response = browser.get(page)
    assert response.status_code == 200
    text = links(response)
    url = "http://nettverk.test" + feed
    assert '<link rel="alternate" type="text/calendar"' in text and f'href="{url}"' in text
    assert f'value="{url}" readonly' in text
    assert f'href="webcal://nettverk.test{feed}"' in text
    assert "https://calendar.google.com/calendar/r?cid=webcal%3A%2F%2Fnettverk.test" in text
    assert "https://outlook.office.com/calendar/0/addfromweb?url=http%3A%2F%2Fnettverk.test" in text
    assert "Åpne i kalenderprogrammet" in text and "<details>" in text and "Thunderbird" in text
    assert browser.get(feed).status_code == 200


def test_the_region_calendar_without_a_filter_points_to_the_bases_feeds(browser):
    text = links(browser.get("/kalender"))
    assert 'type="text/calendar"' not in text
    assert "Abonner på kalenderen" in text and 'href="/kompetansebaser"' in text


# What a feed shows of all-day events, and merged municipalities (issue 17, points 21, 23, 24) --------


def transp(response) -> dict[str, str]:
    return {str(e["SUMMARY"]): str(e.get("TRANSP", "")) for e in calendar_of(response).walk("VEVENT")}


def test_my_all_day_gathering_is_busy_in_my_feed_and_free_in_the_public_one(app, db, as_role, browser):
    """Three days in Fosen: the participant who registered looks busy in free/busy (their own feed, like their
    invitation); the base's feed, which most subscribers only watch, keeps it free. Both renderings are kept
    side by side in the stored VEVENTs, so neither feed ever serves the other's."""
    gathering = make_event(
        db,
        "Samling over tre dager",
        all_day=True,
        start_time=None,
        end_time=None,
        end_date=date.today() + timedelta(days=32),
    )
    participant = as_role("participant")
    assert participant.post(f"/arrangementer/{gathering.id}/pamelding", {}).status_code == 302
    feed_path = make_link(participant)
    client = Browser(app.test_client())
    for _ in range(2):  # the second round comes from the stored VEVENTs
        assert transp(browser.get("/kalender/kompetansebaser/fosen.ics")) == {"Samling over tre dager": "TRANSPARENT"}
        assert transp(client.get(feed_path)) == {"Samling over tre dager": "OPAQUE"}
    db.expire_all()
    assert sorted(db.exec(select(RenderedEvent.busy).where(RenderedEvent.event_id == gathering.id)).all()) == [
        False,
        True,
    ]


def test_an_all_day_reminder_in_my_feed_rings_at_nine_the_day_before(app, db, as_role):
    make_event(db, "Heldags fagdag", all_day=True, start_time=None, end_time=None)
    participant, client = registered_participant(app, db, as_role)  # and a fagdag 09.00-15.00
    participant.post(
        f"/arrangementer/{db.exec(select(Event).where(Event.title == 'Heldags fagdag')).one().id}/pamelding", {}
    )
    feed_path = make_link(participant)
    assert participant.post("/kalender/min-lenke/paaminnelse", {"alarm": "15"}).status_code == 302
    triggers = {
        str(e["SUMMARY"]): e.walk("VALARM")[0]["TRIGGER"].dt for e in calendar_of(client.get(feed_path)).walk("VEVENT")
    }
    # 15 minutes before a day that starts at midnight would ring at 23.45 the night before
    assert triggers == {"Heldags fagdag": timedelta(hours=-15), "Fagdag i Fosen": timedelta(minutes=-15)}


@pytest.mark.parametrize("number, successors", [("5005", ["5007"]), ("5012", ["5055", "5056", "5059"])])
def test_a_merged_municipalitys_feed_serves_its_successors_gatherings(db, browser, number, successors):
    """Namsos (5005) became Namsos (5007) in 2020, Snillfjord (5012) was split between Heim, Hitra and Orkland: a
    calendar that subscribed to the old number keeps getting the gatherings there, instead of an empty
    feed for ever."""
    for successor in successors:
        make_event(db, f"Fagdag i {successor}", base="namdalen", host_municipality_id=municipality_id(db, successor))
    old = browser.get(f"/kalender/kommuner/{number}.ics")
    assert statuses(old) == {f"Fagdag i {successor}": "CONFIRMED" for successor in successors}
    # the same as the successors' own feeds, also for an event they see as members of a base
    make_event(db, "Fagdag i Fosen", host_municipality_id=municipality_id(db, "5054"))
    now = {}
    for successor in successors:
        now |= statuses(browser.get(f"/kalender/kommuner/{successor}.ics"))
    old = browser.get(f"/kalender/kommuner/{number}.ics")
    assert statuses(old) == now
    names = {"5007": "Namsos", "5012": "Heim, Hitra og Orkland"}[successors[0] if number == "5005" else number]
    assert str(calendar_of(old)["X-WR-CALNAME"]).replace("\\,", ",") == f"Samlinger for {names}"  # TEXT escape
    assert (
        browser.get(f"/kalender/kommuner/{number}.ics", headers={"If-None-Match": old.headers["ETag"]}).status_code
        == 304
    )
