"""The known-poll shortcut of issue 8 (calendars.views._known_poll): a poll with the ETag of a feed this worker has
seen polled gets its 304 from memory while the data version stands still (no statement while the version it read
is younger than FEED_VERSION_MS, else that one); a worker that has not seen it reads the version and the feed's
identity in one statement, before the feed's object is loaded. Anything that changes what the feed shows or who
may read it moves the data version (migrations 7a4c0d25f3b8, 8c6e2f47a5d9) and takes the ordinary way."""

from datetime import timedelta

from conftest import USERS
from factories import make_event
from sqlmodel import select
from test_calendar_feeds import counting_statements, make_link, registered_participant, statuses

from nettverk.accounts.models import User
from nettverk.calendars import cache
from nettverk.registry.models import CompetenceBase

FEED = "/kalender/kompetansebaser/fosen.ics"


def poll(client, url, etag):
    return client.get(url, headers={"If-None-Match": etag})


def selects_of(app, client, url, etag):
    with counting_statements(app) as statements:
        response = poll(client, url, etag)
    assert response.status_code == 304
    return response, [s for s in statements if s.lstrip().upper().startswith("SELECT")]


def known(app, client, url, etag, table):
    """A poll that must be answered without its feed's object: from this worker's memory (the tests read the data
    version on every poll: one statement), and, in a worker that has not seen the feed polled, with the version
    read in the same statement as the feed's identity (`table`) and at most one more (the fingerprint another
    worker stored). No aggregate over events either way."""
    response, selects = selects_of(app, client, url, etag)
    assert len(selects) == 1 and "calendar_data_version" in selects[0] and "FROM event" not in selects[0], selects
    cache.forget(app)  # a new worker
    response, selects = selects_of(app, client, url, etag)
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
    known(app, browser, FEED, etag, "competence_base")  # again, from what the previous call left
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
    participant, client = registered_participant(app, db, as_role)

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


def test_a_deactivated_user_s_feed_is_not_answered_from_memory(app, db, as_role):
    participant, client = registered_participant(app, db, as_role)
    link = make_link(participant)
    etag = client.get(link).headers["ETag"]
    known(app, client, link, etag, "calendar_token")

    db.expire_all()
    user = db.exec(select(User).where(User.email == USERS["participant"])).one()
    user.is_active = False
    db.add(user)
    db.commit()
    assert poll(client, link, etag).status_code == 404


def test_with_the_production_interval_a_known_poll_costs_no_statement_and_a_change_shows_within_it(
    app, db, browser, monkeypatch
):
    app.config["FEED_VERSION_MS"] = 1000
    cache.forget(app)
    make_event(db, "Fagdag om BTI")
    etag = browser.get(FEED).headers["ETag"]
    with counting_statements(app) as statements:
        for _ in range(5):
            assert poll(browser, FEED, etag).status_code == 304
    assert statements == []

    make_event(db, "Enda en fagdag", days=40)  # another worker's change: this one reads the version again ...
    assert poll(browser, FEED, etag).status_code == 304  # ... only once its reading is a second old
    now = cache.time.monotonic()
    monkeypatch.setattr(cache.time, "monotonic", lambda: now + 1.5)
    changed = poll(browser, FEED, etag)
    assert changed.status_code == 200 and b"Enda en fagdag" in changed.data


def test_a_known_answer_is_not_given_past_the_fingerprint_s_lifetime(app, db, browser, monkeypatch):
    make_event(db, "Fagdag om BTI")
    etag = browser.get(FEED).headers["ETag"]
    with counting_statements(app) as statements:
        assert poll(browser, FEED, etag).status_code == 304
    assert not any("sum(" in s for s in statements)
    later = cache.utcnow() + cache.queries.FINGERPRINT_TTL + timedelta(seconds=1)
    monkeypatch.setattr(cache, "utcnow", lambda: later)
    with counting_statements(app) as statements:
        assert poll(browser, FEED, etag).status_code == 304
    assert any("sum(" in s for s in statements), "the fingerprint was not computed again"
