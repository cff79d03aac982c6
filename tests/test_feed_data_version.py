"""The feed caches of issue 8 (migration 7a4c0d25f3b8): the data version that tells a worker when a kept
fingerprint must be recomputed, and the stored VEVENT of each event that cold feeds are assembled from."""

import importlib
from datetime import timedelta

from factories import make_event
from sqlalchemy import event as sa_event
from sqlalchemy import text
from sqlmodel import SQLModel, select

import nettverk.models  # noqa: F401 - every table in the metadata
from nettverk.calendars import cache, queries
from nettverk.calendars.models import CalendarToken, RenderedEvent
from nettverk.events.models import Registration

MIGRATION = importlib.import_module("migrations.versions.0012_7a4c0d25f3b8_rendered_event_cache")
IDENTITY = importlib.import_module("migrations.versions.0013_8c6e2f47a5d9_feed_identity_moves_data_version")
FEED = "/kalender/kompetansebaser/fosen.ics"


def version(db, personal: bool = True):
    """The number a feed's kept answer is checked against; a personal feed's moves with every table."""
    db.expire_all()
    return queries.data_version(db).of(personal)


def test_a_change_of_every_table_a_fingerprint_reads_moves_the_data_version(db):
    event = make_event(db, "Fagdag om BTI")
    before = version(db)
    db.add(Registration(event_id=event.id, name="Kari Nordmann", email="kari@example.no", status="confirmed"))
    db.commit()
    assert version(db) > before
    before = version(db)
    db.add(CalendarToken(guest_email="kari@example.no", token_hash="0" * 64))
    db.commit()
    assert version(db) > before
    for table in (*MIGRATION.TABLES, *IDENTITY.SHARED, *IDENTITY.PERSONAL):
        before = version(db)
        assert before is not None
        key = next(iter(SQLModel.metadata.tables[table].primary_key.columns)).name
        touched = db.exec(text(f"UPDATE {table} SET {key} = {key} WHERE {key} = (SELECT min({key}) FROM {table})"))  # noqa: S608
        db.commit()
        assert touched.rowcount >= 1, f"no row in {table} to change"
        assert version(db) > before, f"a change of {table} did not move the data version"


def test_a_registration_moves_only_what_personal_feeds_depend_on_and_a_public_feed_stays_known(app, db, browser):
    event = make_event(db, "Fagdag om BTI")
    etag = browser.get(FEED).headers["ETag"]
    shared, personal = version(db, personal=False), version(db)
    db.add(Registration(event_id=event.id, name="Kari Nordmann", email="kari@example.no", status="confirmed"))
    db.commit()
    assert version(db, personal=False) == shared and version(db) > personal

    statements = []
    sa_event.listen(
        app.extensions["nettverk.engine"], "before_cursor_execute", lambda _c, _cur, sql, *_a: statements.append(sql)
    )
    assert browser.get(FEED, headers={"If-None-Match": etag}).status_code == 304
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1 and "calendar_data_version" in selects[0], selects  # from memory

    for table in ("event", "competence_base", "network", "municipality"):
        before = version(db, personal=False)
        db.exec(text(f"UPDATE {table} SET id = id WHERE id = (SELECT min(id) FROM {table})"))  # noqa: S608
        db.commit()
        assert version(db, personal=False) > before, table


def test_a_user_s_name_moves_the_data_version_and_a_login_does_not(db):
    def change(column, value):
        before = version(db)
        db.exec(
            text(f"UPDATE user_account SET {column} = :value WHERE id = (SELECT min(id) FROM user_account)"),  # noqa: S608
            params={"value": value},
        )
        db.commit()
        return version(db) > before

    assert change("name", "Nytt Navn")
    assert change("email", "ny.adresse@example.no")
    assert change("is_active", False)
    assert not change("last_login_at", "2026-11-23 08:00:00")


def test_a_poll_that_finds_nothing_changed_skips_the_fingerprint_until_the_data_changes(app, db, browser):
    make_event(db, "Fagdag om BTI")
    statements = []
    sa_event.listen(
        app.extensions["nettverk.engine"], "before_cursor_execute", lambda _c, _cur, sql, *_a: statements.append(sql)
    )
    etag = browser.get(FEED).headers["ETag"]

    statements.clear()
    assert browser.get(FEED, headers={"If-None-Match": etag}).status_code == 304
    assert not any("sum(event.id)" in s for s in statements), "the kept fingerprint was not used"

    # Another worker (here: this one with its own cache emptied) finds the fingerprint stored in the database.
    cache.forget(app)
    statements.clear()
    assert browser.get(FEED, headers={"If-None-Match": etag}).status_code == 304
    assert not any("sum(event.id)" in s for s in statements), "the stored fingerprint was not used"
    assert any("calendar_fingerprint" in s for s in statements)

    make_event(db, "Enda en fagdag", days=40)
    statements.clear()
    changed = browser.get(FEED, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert any("sum(event.id)" in s for s in statements)
    assert b"Enda en fagdag" in changed.data


def test_a_cold_feed_is_assembled_from_the_stored_vevents_and_a_changed_event_is_rendered_again(app, db, browser):
    event = make_event(db, "Fagdag om BTI")
    first = browser.get(FEED)
    db.expire_all()
    stored = db.exec(select(RenderedEvent).where(RenderedEvent.event_id == event.id)).one()
    assert stored.body.encode() in first.data and stored.alarm_minutes == 0

    # The stored bytes are what the next worker uses (here: a new app's empty rendered-feed cache) ...
    db.exec(
        text(
            "UPDATE calendar_rendered_event SET body = replace(body, 'Fagdag om BTI', 'Fra lageret') "
            "WHERE event_id = :id"
        ),
        params={"id": event.id},
    )
    db.commit()
    app.extensions["nettverk.calendar_feeds"].__init__()
    assert b"SUMMARY:Fra lageret" in browser.get(FEED).data

    # ... until the event changes: its entry's digest no longer matches, so it is rendered and stored again.
    db.expire_all()
    event = db.get(type(event), event.id)
    event.title = "Fagdag om BTI og stafettlogg"
    event.updated_at = event.updated_at + timedelta(seconds=1)
    db.add(event)
    db.commit()
    again = browser.get(FEED).data
    assert b"SUMMARY:Fagdag om BTI og stafettlogg" in again and b"Fra lageret" not in again


def test_the_nightly_job_deletes_what_no_feed_can_use_and_keeps_the_rest(app, db, browser):
    from nettverk.calendars.models import CalendarFingerprint
    from nettverk.scheduler.runner import run_job

    kept_event = make_event(db, "Fagdag om BTI")
    gone_event = make_event(db, "Fagdag som avlyses og slettes", days=50)
    assert browser.get(FEED).status_code == 200
    db.expire_all()
    assert {r.event_id for r in db.exec(select(RenderedEvent))} == {kept_event.id, gone_event.id}
    db.exec(text("DELETE FROM event WHERE id = :id"), params={"id": gone_event.id})
    old = db.exec(select(CalendarFingerprint)).one()
    stale = CalendarFingerprint(
        key="f" * 64, version=old.version, computed_at=old.computed_at - timedelta(days=61), etag='"stale"'
    )
    db.add(stale)
    db.commit()

    result = run_job("feed_cache", now=old.computed_at + timedelta(minutes=1), app=app)
    assert result.status == "ok" and result.sent == 2, result.message
    db.expire_all()
    assert [r.event_id for r in db.exec(select(RenderedEvent))] == [kept_event.id]
    assert [f.key for f in db.exec(select(CalendarFingerprint))] == [old.key]

    # A year after the event, no feed shows it: its VEVENT goes too, and the feed's fingerprint, not polled since.
    later = kept_event.ends_at + queries.PAST + timedelta(days=1)
    assert run_job("feed_cache", now=later, app=app).sent == 2
    db.expire_all()
    assert db.exec(select(RenderedEvent)).all() == [] and db.exec(select(CalendarFingerprint)).all() == []
