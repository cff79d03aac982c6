"""Pages around gatherings, through HTTP as people use them: the participant list as CSV and XLSX,
planning warnings on the event page, the menus that lead to calendar, årshjul and networks, the
network list of a base, refusal of NUL characters, CSRF and caching rules, and meeting planning
pressed by several coordinators at once (the database keeps one meeting per cadence date)."""

import csv
import io
import json
import re
import threading
from datetime import date, datetime, time, timedelta

import pytest
from conftest import USERS, Browser
from factories import base_id, make_event, user_id
from openpyxl import load_workbook
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from nettverk.activity import ActivityLog
from nettverk.events.models import Event, Registration
from nettverk.networks.cadence import occurrences
from nettverk.networks.models import Network
from nettverk.timeutil import OSLO

FORMULA_NAME = '=HYPERLINK("http://x")'
NORWEGIAN_NAME = "Ærlig Øystein Åsen"
HEADER = [
    "Navn",
    "E-post",
    "Kommune",
    "Arbeidssted",
    "Stilling",
    "Status",
    "Allergier/spesialkost",
    "Lunsj",
    "Møtte",
    "Påmeldt",
]
WEEKDAYS = ["Mandag", "Tirsdag", "Onsdag", "Torsdag", "Fredag", "Lørdag", "Søndag"]
NUL_MESSAGE = "ugyldig tegn (NUL)"


# Helpers ------------------------------------------------------------------------------------------


def today() -> date:
    return datetime.now(OSLO).date()


def plain_weekday() -> date:
    """The first Wednesday of September next year: no Norwegian public holiday falls in September."""
    first = date(today().year + 1, 9, 1)
    return first + timedelta(days=(2 - first.weekday()) % 7)


def event_form(db, day: date, **fields) -> dict:
    """The coordinator's "Nytt arrangement" form for a Fosen fagdag on `day`."""
    form = {
        "kind": "fagdag",
        "title": "Fagdag",
        "base_id": str(base_id(db, "fosen")),
        "audience": "region",
        "start_date": day.isoformat(),
        "start_time": "09:00",
        "end_date": day.isoformat(),
        "end_time": "15:00",
        "capacity": "30",
    }
    form.update(fields)
    return form


def create_event(browser, db, day: date, **fields) -> int:
    response = browser.post("/arrangementer/nytt", event_form(db, day, **fields))
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/arrangementer/(\d+)$", response.headers["Location"]).group(1))


def count(db, model) -> int:
    db.expire_all()
    return len(db.exec(select(model)).all())


def text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def hrefs(response) -> set[str]:
    return set(re.findall(r'href="([^"]+)"', response.get_data(as_text=True).replace("&amp;", "&")))


def export_log(db, event: Event) -> list[ActivityLog]:
    db.expire_all()
    return list(
        db.exec(
            select(ActivityLog).where(
                ActivityLog.action == "event.participants_exported", ActivityLog.object_id == event.id
            )
        )
    )


def attachment_name(response) -> str:
    match = re.fullmatch(r'attachment; filename="([^"]+)"', response.headers["Content-Disposition"])
    assert match, response.headers["Content-Disposition"]
    return match.group(1)


# 1. Participant list export -----------------------------------------------------------------------


@pytest.fixture
def registered_event(as_role, db):
    """A Fosen fagdag with three confirmed people: a name that is a spreadsheet formula and a
    Norwegian name (both put on by the coordinator), and the demo participant herself."""
    event = make_event(db, "Fagdag om BTI på Ørland", plain_weekday())
    coordinator = as_role("coordinator_fosen")
    for name, email in [(FORMULA_NAME, "formel@example.no"), (NORWEGIAN_NAME, "oystein@example.no")]:
        response = coordinator.post(f"/arrangementer/{event.id}/deltakere/ny", {"name": name, "email": email})
        assert response.status_code == 302, response.get_data(as_text=True)
    assert as_role("participant").post(f"/arrangementer/{event.id}/pamelding", {}).status_code == 302
    return event


def test_csv_export_is_excel_friendly_and_defuses_formulas(as_role, db, registered_event):
    response = as_role("coordinator_fosen").get(f"/arrangementer/{registered_event.id}/deltakere.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and response.mimetype_params.get("charset") == "utf-8"
    filename = attachment_name(response)
    assert filename.isascii() and filename.startswith("deltakere-") and filename.endswith(".csv")
    assert "orland" in filename  # "Ørland" spelled in ASCII, not dropped
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    body = data.decode("utf-8-sig")
    assert body.splitlines()[0] == ";".join(HEADER)
    rows = list(csv.reader(io.StringIO(body, newline=""), delimiter=";"))
    by_email = {row[1]: row for row in rows[1:]}
    assert set(by_email) == {"formel@example.no", "oystein@example.no", USERS["participant"]}
    assert by_email["formel@example.no"][0] == "'" + FORMULA_NAME
    assert by_email["oystein@example.no"][0] == NORWEGIAN_NAME
    assert by_email[USERS["participant"]][0] == "Hanne Vikstrand"
    assert {row[5] for row in rows[1:]} == {"Påmeldt"}


def test_xlsx_export_has_the_same_rows_and_the_formula_stays_text(as_role, db, registered_event):
    coordinator = as_role("coordinator_fosen")
    csv_rows = list(
        csv.reader(
            io.StringIO(
                coordinator.get(f"/arrangementer/{registered_event.id}/deltakere.csv").get_data().decode("utf-8-sig"),
                newline="",
            ),
            delimiter=";",
        )
    )
    response = coordinator.get(f"/arrangementer/{registered_event.id}/deltakere.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    filename = attachment_name(response)
    assert filename.isascii() and filename.startswith("deltakere-") and filename.endswith(".xlsx")
    assert response.headers["Cache-Control"] == "no-store"
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == HEADER
    # Same people, same texts in the same order (the CSV's registration time is text, the XLSX's a date).
    assert [row[:9] for row in rows[1:]] == [[value or None for value in row[:9]] for row in csv_rows[1:]]
    assert all(isinstance(row[9], datetime) for row in rows[1:])
    [formula_cell] = [row[0] for row in sheet.iter_rows(min_row=2) if row[1].value == "formel@example.no"]
    assert formula_cell.value == "'" + FORMULA_NAME
    assert formula_cell.data_type == "s"  # a string, not "f" (formula)
    assert NORWEGIAN_NAME in [row[0] for row in rows]


def test_each_download_is_logged_and_refusals_are_not(as_role, db, registered_event):
    """Once downloaded the list is outside our access control, so every download leaves a trace."""
    coordinator = as_role("coordinator_fosen")
    assert export_log(db, registered_event) == []
    coordinator.get(f"/arrangementer/{registered_event.id}/deltakere.csv")
    coordinator.get(f"/arrangementer/{registered_event.id}/deltakere.xlsx")
    logged = export_log(db, registered_event)
    assert len(logged) == 2
    assert {row.actor_id for row in logged} == {user_id(db, "coordinator_fosen")}
    assert {row.object_type for row in logged} == {"Event"}
    assert sorted(row.summary.split(",")[0] for row in logged) == ["csv", "xlsx"]
    assert coordinator.get(f"/arrangementer/{registered_event.id}/deltakere.pdf").status_code == 404
    assert as_role("coordinator").get(f"/arrangementer/{registered_event.id}/deltakere.csv").status_code == 403
    assert len(export_log(db, registered_event)) == 2


def test_only_the_events_coordinators_may_download_the_list(as_role, db, registered_event):
    url = f"/arrangementer/{registered_event.id}/deltakere"
    for extension in ("csv", "xlsx"):
        namdalen = as_role("coordinator").get(f"{url}.{extension}")
        assert namdalen.status_code == 403
        assert FORMULA_NAME.encode() not in namdalen.get_data()
        assert as_role("participant").get(f"{url}.{extension}").status_code == 403
        anonymous = as_role(None).get(f"{url}.{extension}")
        assert anonymous.status_code == 302 and "/logg-inn" in anonymous.headers["Location"]
    assert as_role("coordinator_fosen").get("/arrangementer/999999/deltakere.csv").status_code == 404


# 2. Planning warnings on the event page -----------------------------------------------------------


def test_a_gathering_on_17_may_warns_the_coordinator_only(as_role, db):
    """The warnings help the planner; participants only need the date itself."""
    coordinator = as_role("coordinator_fosen")
    may_17 = date(today().year + 1, 5, 17)
    event_id = create_event(coordinator, db, may_17, title="Fagdag på nasjonaldagen")
    page = text(coordinator.get(f"/arrangementer/{event_id}"))
    assert f"{WEEKDAYS[may_17.weekday()]} 17. mai er " in page
    assert "Grunnlovsdag, en offentlig fridag." in page
    assert "planning-warnings" in page
    assert coordinator.post(f"/arrangementer/{event_id}/publiser").status_code == 302
    assert "Grunnlovsdag, en offentlig fridag." in text(coordinator.get(f"/arrangementer/{event_id}"))
    for role in (None, "participant"):
        seen = text(as_role(role).get(f"/arrangementer/{event_id}"))
        assert "Fagdag på nasjonaldagen" in seen
        assert "offentlig fridag" not in seen and "planning-warnings" not in seen


def test_a_second_gathering_of_fosen_on_the_same_day_is_pointed_out(as_role, db):
    day = plain_weekday()
    make_event(db, day=day)
    coordinator = as_role("coordinator_fosen")
    event_id = create_event(coordinator, db, day, title="Kurs i samtaleverktøy", start_time="12:00")
    page = text(coordinator.get(f"/arrangementer/{event_id}"))
    assert "Fosen har allerede «Fagdag om BTI» denne dagen (09.00–15.00)." in page
    assert "offentlig fridag" not in page and "helgedag" not in page
    assert coordinator.post(f"/arrangementer/{event_id}/publiser").status_code == 302
    for role in (None, "participant"):
        seen = text(as_role(role).get(f"/arrangementer/{event_id}"))
        assert "Kurs i samtaleverktøy" in seen and "har allerede" not in seen


def test_an_ordinary_free_weekday_shows_no_warning_box(as_role, db):
    coordinator = as_role("coordinator_fosen")
    event_id = create_event(coordinator, db, plain_weekday(), title="Fagdag en vanlig onsdag")
    page = text(coordinator.get(f"/arrangementer/{event_id}"))
    assert "For koordinator" in page  # the coordinator's box is there, only without warnings
    assert "notice-warning" not in page and "planning-warnings" not in page and "Tenk deg om" not in page


# 3. Navigation ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [None, "participant", "coordinator_fosen"])
def test_main_menu_leads_to_calendar_and_networks_and_own_registrations_when_logged_in(as_role, role):
    links = hrefs(as_role(role).get("/kalender"))
    assert {"/kalender", "/nettverk"} <= links
    assert ("/mine-pameldinger" in links) == (role is not None)


def test_base_page_links_to_the_bases_wheel_calendar_and_networks(as_role):
    links = hrefs(as_role(None).get("/kompetansebaser/fosen"))
    assert {"/kompetansebaser/fosen/arshjul", "/kalender?base=fosen", "/nettverk?base=fosen"} <= links
    assert as_role(None).get("/kompetansebaser/fosen/arshjul").status_code == 200


def test_base_page_offers_coverage_and_planning_to_its_coordinator_only(as_role):
    manager_links = {"/kompetansebaser/fosen/dekning", "/arrangementer/nytt?base=fosen"}
    assert manager_links <= hrefs(as_role("coordinator_fosen").get("/kompetansebaser/fosen"))
    for role in ("participant", "coordinator", None):
        assert not manager_links & hrefs(as_role(role).get("/kompetansebaser/fosen")), role
    coordinator = as_role("coordinator_fosen")
    assert coordinator.get("/kompetansebaser/fosen/dekning").status_code == 200
    new_event = coordinator.get("/arrangementer/nytt?base=fosen").get_data(as_text=True)
    assert re.search(
        r'<option selected value="[^"]+">Fosen</option>|<option value="[^"]+" selected>Fosen</option>', new_event
    )


# 4. Networks of one base --------------------------------------------------------------------------


def test_network_list_of_a_base_shows_only_that_bases_networks(browser):
    page = text(browser.get("/nettverk?base=fosen"))
    for name in ("BTI-nettverk Fosen", "Drøftingsteam Indre Fosen", "Barnevernledernettverket i Trøndelag"):
        assert name in page
    assert "BTI-nettverk Namdalen" not in page
    everything = text(browser.get("/nettverk"))
    assert "BTI-nettverk Namdalen" in everything and "BTI-nettverk Fosen" in everything


def test_network_list_of_an_unknown_base_is_404(browser):
    assert browser.get("/nettverk?base=finnes-ikke").status_code == 404


# 5. NUL characters --------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/kalender?base=%00", "/nettverk?base=fosen%00", "/kalender?maaned=2027-05%00"])
def test_a_nul_in_the_address_is_a_400_in_norwegian(browser, url):
    response = browser.get(url)
    assert response.status_code == 400
    assert NUL_MESSAGE in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/api/v1/events?base=%00", "/api/v1/bases/fosen%00"])
def test_a_nul_in_an_api_address_is_a_400_problem_document(browser, url):
    response = browser.get(url)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert "(NUL)" in response.get_json()["detail"]


def test_a_nul_in_the_login_form_is_a_400_and_nobody_is_logged_in(browser):
    response = browser.post("/logg-inn", {"email": USERS["participant"] + "\x00", "password": "demo-passord-2026"})
    assert response.status_code == 400
    assert NUL_MESSAGE in response.get_data(as_text=True)
    mine = browser.get("/mine-pameldinger")
    assert mine.status_code == 302 and "/logg-inn" in mine.headers["Location"]


def test_a_nul_in_a_new_event_or_network_saves_nothing(as_role, db):
    coordinator = as_role("coordinator_fosen")
    events_before, networks_before = count(db, Event), count(db, Network)
    response = coordinator.post("/arrangementer/nytt", event_form(db, plain_weekday(), title="Fagdag\x00"))
    assert response.status_code == 400 and NUL_MESSAGE in response.get_data(as_text=True)
    response = coordinator.post(
        "/nettverk/nytt",
        {
            "name": "Nettverk\x00Fosen",
            "kind": "bti",
            "description": "",
            "base_ids": [str(base_id(db, "fosen"))],
            "cadence": "",
            "cadence_start": "",
            "meeting_start": "09:00",
            "meeting_minutes": "120",
            "venue_name": "",
            "venue_address": "",
            "host_municipality_id": "",
        },
    )
    assert response.status_code == 400 and NUL_MESSAGE in response.get_data(as_text=True)
    assert (count(db, Event), count(db, Network)) == (events_before, networks_before)
    # The same forms without the NUL are accepted, so the 400 above came from the character.
    create_event(coordinator, db, plain_weekday(), title="Fagdag")
    assert count(db, Event) == events_before + 1


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
@pytest.mark.parametrize("field", ["role", "dietary"])
def test_a_nul_in_an_api_json_body_is_refused_as_a_problem_document(as_role, db, field, encoding):
    """An escaped NUL ("\\u0000") in a JSON body is refused with a problem document, never stored and
    never a 500: also in UTF-16, which JSON allows and where the escape is not the UTF-8 bytes."""
    event = make_event(db, "Fagdag om BTI på Ørland", plain_weekday())
    participant = as_role("participant")
    response = participant.client.post(
        f"/api/v1/events/{event.id}/registration",
        data=json.dumps({field: "Lærer\u0000"}).encode(encoding),
        content_type="application/json",
        headers={"X-CSRFToken": participant.csrf_token()},
    )
    assert response.status_code in (400, 422), response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == response.status_code
    assert NUL_MESSAGE in body["detail"] or body.get("field") == field, body
    db.expire_all()
    assert db.exec(select(Registration).where(Registration.event_id == event.id)).all() == []
    # The same body without the NUL registers, so the refusal above came from the character.
    clean = participant.client.post(
        f"/api/v1/events/{event.id}/registration",
        data=json.dumps({field: "Lærer"}).encode(encoding),
        content_type="application/json",
        headers={"X-CSRFToken": participant.csrf_token()},
    )
    assert clean.status_code == 201, clean.get_data(as_text=True)


# 6. CSRF ------------------------------------------------------------------------------------------


def test_api_registration_without_the_csrf_header_is_refused(as_role, db):
    event = make_event(db, "Fagdag om BTI på Ørland", plain_weekday())
    participant = as_role("participant")
    url = f"/api/v1/events/{event.id}/registration"
    response = participant.client.post(url, json={})
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert "X-CSRFToken" in response.get_json()["detail"]
    db.expire_all()
    assert db.exec(select(Registration).where(Registration.event_id == event.id)).all() == []
    accepted = participant.client.post(url, json={}, headers={"X-CSRFToken": participant.csrf_token()})
    assert accepted.status_code == 201, accepted.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/kalender", "/nettverk", "/kompetansebaser/fosen"])
def test_only_logged_in_pages_carry_the_csrf_meta_tag(as_role, url):
    """Scripts read the token from the page to call the API; anonymous visitors have no session to protect."""
    meta = re.compile(r'<meta name="csrf-token" content="[^"]+">')
    assert meta.search(as_role("participant").get(url).get_data(as_text=True))
    assert not meta.search(as_role(None).get(url).get_data(as_text=True))
    assert 'name="csrf-token"' not in as_role(None).get(url).get_data(as_text=True)


# 7. Caching ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/kalender", "/nettverk", "/mine-pameldinger", "/kompetansebaser/fosen"])
def test_logged_in_pages_are_private_and_not_stored(as_role, url):
    """A shared cache must never hand one person's page (menu, registrations) to another."""
    response = as_role("participant").get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("url", ["/kalender", "/nettverk", "/kompetansebaser/fosen"])
def test_anonymous_public_pages_may_be_cached(browser, url):
    response = browser.get(url)
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")


# 8. Conflicts -------------------------------------------------------------------------------------


def test_planning_pressed_six_times_at_once_makes_each_meeting_once(app, db):
    """Six coordinators' browsers (the same person in six tabs, or a double-click storm) plan the
    same network at the same moment, each request on its own database connection."""
    network = db.exec(select(Network).where(Network.slug == "droftingsteam-indre-fosen")).one()
    browsers = []
    for _ in range(6):
        browser = Browser(app.test_client())
        browser.login_as("coordinator_fosen")
        browser.csrf_token()
        browsers.append(browser)
    start = threading.Barrier(len(browsers))
    answers = []

    def press(browser):
        start.wait()
        answers.append(browser.post(f"/nettverk/{network.slug}/planlegg", {"until": ""}).status_code)

    threads = [threading.Thread(target=press, args=(b,)) for b in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 6 and set(answers) <= {302, 409}, answers
    assert 302 in answers
    db.expire_all()
    series = [e.series_date for e in db.exec(select(Event).where(Event.network_id == network.id))]
    expected = occurrences(network, today(), date(today().year + 1, 12, 31))
    assert len(expected) > 2
    assert sorted(series) == expected  # every date of the cadence once, none twice


def meeting(network_id: int, day: date | None, uid: str) -> Event:
    moment = datetime.combine(day or plain_weekday(), time(12, 30), OSLO)
    return Event(
        uid=uid,
        kind="nettverksmote",
        title=f"Møte {uid}",
        starts_at=moment,
        ends_at=moment + timedelta(hours=2),
        network_id=network_id,
        series_date=day,
    )


def test_the_database_refuses_two_meetings_for_one_cadence_date(db):
    """The unique index is the last guard when two planners race past the application's checks."""
    network_id = db.exec(select(Network).where(Network.slug == "droftingsteam-indre-fosen")).one().id
    day = plain_weekday()
    db.add(meeting(network_id, day, "dobbel-1@test"))
    db.commit()
    db.add(meeting(network_id, day, "dobbel-2@test"))
    with pytest.raises(IntegrityError) as refused:
        db.commit()
    assert "uq_event_network_series_date" in str(refused.value) or "series_date" in str(refused.value)
    db.rollback()
    # Meetings outside the series (series_date NULL) never collide.
    db.add_all([meeting(network_id, None, "fri-1@test"), meeting(network_id, None, "fri-2@test")])
    db.commit()
    db.expire_all()
    assert len(db.exec(select(Event).where(Event.network_id == network_id)).all()) == 3


# Reminders per event ------------------------------------------------------------------------------


def test_the_coordinator_chooses_the_reminder_days_of_an_event(as_role, db):
    coordinator = as_role("coordinator_fosen")
    event_id = create_event(coordinator, db, plain_weekday(), reminder_days="14; 2, 14")
    db.expire_all()
    assert db.get(Event, event_id).reminder_days == "14,2"
    assert 'value="14, 2"' in text(coordinator.get(f"/arrangementer/{event_id}/rediger"))
    form = event_form(db, plain_weekday(), reminder_days="")
    assert coordinator.post(f"/arrangementer/{event_id}/rediger", form).status_code == 302
    db.expire_all()
    assert db.get(Event, event_id).reminder_days == ""


@pytest.mark.parametrize("value", ["en uke", "0", "61", "7, -1"])
def test_unreadable_reminder_days_are_refused_and_nothing_is_saved(as_role, db, value):
    before = count(db, Event)
    response = as_role("coordinator_fosen").post(
        "/arrangementer/nytt", event_form(db, plain_weekday(), reminder_days=value)
    )
    assert response.status_code == 422
    assert "dager før arrangementet" in text(response)
    assert count(db, Event) == before


def test_a_meeting_link_with_a_line_break_is_refused(as_role, db):
    response = as_role("coordinator_fosen").post(
        "/arrangementer/nytt", event_form(db, plain_weekday(), online_url="https://meet.example/x\nX-INJECT:1")
    )
    assert response.status_code == 422
    assert "Skriv teksten på én linje, uten linjeskift." in text(response)  # every form's character rule
