"""The known-poll shortcut of issue 8 (calendars.views._known_poll): a poll with the ETag this worker answered,
while the data version and the feed's identity stand still, gets its 304 in one statement, before the feed's
object is loaded; anything that changes what the feed shows or who may read it takes the ordinary way."""

from conftest import Browser
from sqlmodel import select
from test_calendar_feeds import counting_statements, make_event, make_link, statuses

from nettverk.registry.models import CompetenceBase

FEED = "/kalender/kompetansebaser/fosen.ics"


def poll(client, url, etag):
    return client.get(url, headers={"If-None-Match": etag})


def known(app, client, url, etag, table):
    """A poll that must be answered by the shortcut: 304, the data version read in the same statement as the
    feed's identity (`table`), and at most one more statement (the fingerprint another worker stored)."""
    with counting_statements(app) as statements:
        response = poll(client, url, etag)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert response.status_code == 304
    assert len(selects) <= 2 and not any("sum(" in s for s in selects), selects
    assert "calendar_data_version" in selects[0] and f"FROM {table}" in selects[0], selects
    return response


def test_a_known_poll_is_answered_at_once_with_the_same_headers_and_a_changed_event_gives_200(app, db, browser):
    make_event(db, "Fagdag om BTI")
    first = browser.get(FEED)
    etag = first.headers["ETag"]
    shortcut = known(app, browser, FEED, etag, "competence_base")
    for header in ("ETag", "Cache-Control", "Content-Disposition"):
        assert shortcut.headers[header] == first.headers[header], header
    assert shortcut.headers["Cache-Control"] == "public, max-age=300" and shortcut.data == b""
    # Another worker (here: this one with its kept fingerprints emptied) finds the one stored in the database.
    app.extensions["nettverk.calendar_fingerprints"].__init__()
    known(app, browser, FEED, etag, "competence_base")
    assert poll(browser, FEED, '"something-else"').status_code == 200  # another ETag: the feed

    make_event(db, "Enda en fagdag", days=40)
    changed = poll(browser, FEED, etag)
    assert changed.status_code == 200 and changed.headers["ETag"] != etag and b"Enda en fagdag" in changed.data


def test_a_renamed_base_is_not_answered_from_the_kept_poll(app, db, browser):
    make_event(db, "Fagdag om BTI")
    etag = browser.get(FEED).headers["ETag"]
    known(app, browser, FEED, etag, "competence_base")

    db.expire_all()
    base = db.exec(select(CompetenceBase).where(CompetenceBase.slug == "fosen")).one()
    base.name = "Fosen regionråd"
    db.add(base)
    db.commit()
    renamed = poll(browser, FEED, etag)
    assert renamed.status_code == 200 and b"Fosen regionr" in renamed.data


def test_a_personal_feed_stays_private_and_a_replaced_or_revoked_token_gets_404_not_304(app, db, as_role):
    event = make_event(db, "Fagdag i Fosen")
    participant = as_role("participant")
    participant.post(f"/arrangementer/{event.id}/pamelding", {})
    client = Browser(app.test_client())

    first = make_link(participant)
    etag = client.get(first).headers["ETag"]
    assert known(app, client, first, etag, "calendar_token").headers["Cache-Control"] == "private, max-age=300"

    second = make_link(participant)  # replaces the first: it must stop at once, also for a known poll
    assert poll(client, first, etag).status_code == 404
    etag = client.get(second).headers["ETag"]
    assert statuses(poll(client, second, '"old"')) == {"Fagdag i Fosen": "CONFIRMED"}
    known(app, client, second, etag, "calendar_token")

    # A new reminder changes every event: not the kept answer.
    assert participant.post("/kalender/min-lenke/paaminnelse", {"alarm": "60"}).status_code == 302
    changed = poll(client, second, etag)
    assert changed.status_code == 200 and b"BEGIN:VALARM" in changed.data
    etag = changed.headers["ETag"]
    known(app, client, second, etag, "calendar_token")

    assert participant.post("/kalender/min-lenke/slaa-av", {"tilbake": "profil"}).status_code == 302
    assert poll(client, second, etag).status_code == 404
