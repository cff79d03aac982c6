"""Dates stay in a sane window wherever people type or ask for one (timeutil.check_day): 2000-01-01 to ten
years ahead for what is planned or listed, older for a person's records. Year 0001 or 9999 once made an event
whose page answered 500; now it is a Norwegian message at the field (422), a 400 problem from the API, a 400
page for a calendar address."""

from datetime import date

import pytest
from factories import area
from sqlmodel import func, select
from test_competence import record_form, records
from test_gathering_pages import event_form, plain_weekday

from nettverk.events.models import Event
from nettverk.timeutil import latest_day

WINDOW = "Velg en dato mellom 1. januar 2000 og"


def events(db) -> int:
    db.expire_all()
    return db.exec(select(func.count()).select_from(Event)).one()


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1999-12-31"])
def test_an_event_outside_the_window_is_refused_at_the_field(as_role, db, day):
    before = events(db)
    response = as_role("coordinator_fosen").post(
        "/arrangementer/nytt", event_form(db, plain_weekday(), start_date=day, end_date=day)
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422, page
    assert 'id="start_date-error"' in page and WINDOW in page
    assert events(db) == before


def test_an_event_on_the_last_day_of_the_window_is_planned(as_role, db):
    day = latest_day()
    response = as_role("coordinator_fosen").post("/arrangementer/nytt", event_form(db, day))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert as_role("coordinator_fosen").get(response.headers["Location"]).status_code == 200


def test_a_registration_window_outside_the_window_is_refused(as_role, db):
    before = events(db)
    response = as_role("coordinator_fosen").post(
        "/arrangementer/nytt", event_form(db, plain_weekday(), registration_opens_at="0001-01-01T09:00")
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="registration_opens_at-error"' in page and WINDOW in page
    assert events(db) == before


def test_a_competence_record_from_year_one_is_refused(as_role, db):
    response = as_role("service_staff").post(
        "/kompetanse/ny", record_form(area(db, "pmto").id, achieved_on="0001-01-01")
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="achieved_on-error"' in page and "1. januar 1950" in page
    assert records(db) == []


@pytest.mark.parametrize(
    "query",
    ["from=9999-12-31", "to=0001-01-01", "from=1999-12-31", f"to={date(latest_day().year + 1, 1, 1).isoformat()}"],
)
def test_the_api_answers_a_problem_for_a_filter_outside_the_window(browser, query):
    response = browser.get(f"/api/v1/events?{query}")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert WINDOW in response.get_json()["detail"]


def test_the_api_filters_by_days_inside_the_window(browser):
    response = browser.get(f"/api/v1/events?from=2000-01-01&to={latest_day().isoformat()}")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/kompetansebaser/fosen/arshjul?ar=9999",
        "/kompetansebaser/fosen/arshjul?ar=0001",
        f"/kompetansebaser/fosen/arshjul?ar={latest_day().year + 1}",
        "/kalender?maaned=9999-12",
        "/kalender?maaned=0001-01",
        f"/kalender?maaned={latest_day().year + 1}-01",
        "/kalender/sjekk-dato?dato=9999-12-31",
        "/kalender/sjekk-dato?dato=0001-01-01",
    ],
)
def test_calendar_addresses_outside_the_window_answer_400(browser, url):
    assert browser.get(url).status_code == 400


def test_calendar_addresses_at_the_ends_of_the_window_answer(browser):
    last = latest_day()
    for url in (
        "/kompetansebaser/fosen/arshjul?ar=2000",
        f"/kompetansebaser/fosen/arshjul?ar={last.year}",
        "/kalender?maaned=2000-01",
        f"/kalender?maaned={last:%Y-%m}",
        f"/kalender/sjekk-dato?dato={last.isoformat()}",
    ):
        assert browser.get(url).status_code == 200, url
