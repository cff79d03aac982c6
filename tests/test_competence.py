"""Competence over HTTP: records a person keeps (with bad input refused beside the field and nothing saved),
records from course attendance (exactly one per attendance), the base matrix and its files (counts that
match the records, expired ones left out), the search for people who can guide, and the rule that a person
who has not opted in never appears by name anywhere: pages, search, exports, API, mail."""

import csv
import io
from datetime import date, datetime, timedelta
from functools import partial

import factories
import pytest
from conftest import USERS, outbox
from dateutil.relativedelta import relativedelta
from factories import area, make_event, make_record, municipality, user
from openpyxl import load_workbook
from sqlalchemy.exc import IntegrityError
from sqlmodel import func, select
from test_api import assert_matches, openapi_document

from nettverk.competence.models import CompetenceProfile, CompetenceRecord
from nettverk.events.models import Event
from nettverk.registry.models import Service
from nettverk.timeutil import OSLO, utcnow

PARTICIPANT, STAFF, LEADER = USERS["participant"], USERS["service_staff"], USERS["service_leader"]
CONTACT = USERS["municipality_contact"]
TODAY = datetime.now(OSLO).date()


# Set-up -------------------------------------------------------------------------------------------


def records(db, email: str | None = None) -> list[CompetenceRecord]:
    db.expire_all()
    query = select(CompetenceRecord).order_by(CompetenceRecord.id)
    if email:
        query = query.where(CompetenceRecord.user_id == user(db, email).id)
    return list(db.exec(query))


def record_form(slug_id: int, **fields) -> dict:
    data = {
        "area_id": str(slug_id),
        "level": "certified",
        "achieved_on": "2024-05-02",
        "issued_by": "RBUP Midt-Norge",
        "expires_on": "",
    }
    data.update(fields)
    return data


# Own records --------------------------------------------------------------------------------------


def test_a_person_records_sees_exports_and_deletes_their_own_competence(as_role, db):
    browser = as_role("service_staff")
    pmto = area(db, "pmto")
    response = browser.post("/kompetanse/ny", record_form(pmto.id))
    assert response.status_code == 302, response.get_data(as_text=True)
    [row] = records(db, STAFF)
    assert (row.level, row.achieved_on, row.source) == ("certified", date(2024, 5, 2), "self")
    # PMTO certification expires after the area's months; the area says 24.
    assert row.expires_on == date(2026, 5, 2)
    # The profile came from the staff member's role: Fosen barneverntjeneste, hosted by Indre Fosen.
    profile = db.get(CompetenceProfile, user(db, STAFF).id)
    assert profile.municipality_id == municipality(db, "5054").id and profile.contactable is False

    page = browser.get("/kompetanse").get_data(as_text=True)
    assert "PMTO" in page and "Sertifisert" in page and "RBUP Midt-Norge" in page

    exported = browser.get("/kompetanse/min-kompetanse.csv")
    assert exported.headers["Content-Disposition"].startswith("attachment")
    lines = list(csv.reader(io.StringIO(exported.get_data().decode("utf-8-sig")), delimiter=";"))
    assert lines[0][0] == "Kompetanseområde" and lines[1][:4] == [
        "PMTO",
        "Foreldreprogram",
        "Sertifisert",
        "2024-05-02",
    ]

    # Someone else can neither change nor delete it, nor learn that it exists.
    other = as_role("participant")
    assert other.get(f"/kompetanse/{row.id}/rediger").status_code == 404
    assert other.post(f"/kompetanse/{row.id}/slett").status_code == 404
    assert len(records(db, STAFF)) == 1

    assert browser.post(f"/kompetanse/{row.id}/slett").status_code == 302
    assert records(db, STAFF) == []


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"expires_on": "2024-05-01"}, "expires_on", "Utløpsdatoen kan ikke være før datoen for opplæringen."),
        ({"area_id": "999999"}, "area_id", "Velg et kompetanseområde fra listen."),
        ({"area_id": "ikke-et-tall"}, "area_id", "Velg et kompetanseområde fra listen."),
        ({"area_id": ""}, "area_id", "Velg et kompetanseområde fra listen."),
        ({"level": "guru"}, "level", "Velg et nivå fra listen."),
        ({"achieved_on": "2024-02-30"}, "achieved_on", "Skriv datoen som år-måned-dag."),
        ({"achieved_on": (TODAY + timedelta(days=2)).isoformat()}, "achieved_on", "fram i tid"),
        ({"issued_by": "x" * 201}, "issued_by", "200"),
    ],
)
def test_bad_records_are_refused_beside_the_field_and_nothing_is_saved(as_role, db, fields, field, message):
    browser = as_role("service_staff")
    response = browser.post("/kompetanse/ny", record_form(area(db, "pmto").id, **fields))
    page = response.get_data(as_text=True)
    assert 400 <= response.status_code < 500
    assert f'id="{field}-error"' in page and message in page, page
    assert records(db) == []
    assert db.exec(select(func.count()).select_from(CompetenceProfile)).one() == 0


def test_an_attendance_record_edited_by_its_owner_becomes_theirs(as_role, db):
    event = course(db)
    registration = register(db, event, STAFF)
    coordinator = as_role("coordinator_fosen")
    coordinator.post(f"/arrangementer/{event.id}/oppmote", {"moette": [str(registration.id)]})
    [row] = records(db, STAFF)
    browser = as_role("service_staff")
    assert browser.get(f"/kompetanse/{row.id}/rediger").status_code == 200
    response = browser.post(
        f"/kompetanse/{row.id}/rediger",
        record_form(area(db, "marte-meo").id, level="certified", achieved_on=row.achieved_on.isoformat()),
    )
    assert response.status_code == 302
    coordinator.post(f"/arrangementer/{event.id}/oppmote", {})  # attendance unmarked afterwards
    [kept] = records(db, STAFF)
    assert (kept.id, kept.source, kept.level) == (row.id, "self", "certified")


# Records from course attendance -------------------------------------------------------------------


def course(db, kind: str = "kurs", slug: str | None = "marte-meo") -> Event:
    """A published Fosen course (linked to an area) that started an hour ago."""
    area_id = area(db, slug).id if slug else None
    event = make_event(db, "Grunnkurs i Marte Meo", days=10, kind=kind, competence_area_id=area_id)
    event.starts_at = utcnow() - timedelta(hours=1)
    db.add(event)
    db.commit()
    return event


# The coordinator puts people on the list, with the municipality they work in.
register = partial(factories.register, by=USERS["coordinator_fosen"], municipality="5057")


def test_attendance_at_a_linked_course_creates_exactly_one_training_record(app, as_role, db):
    event = course(db)
    staff = register(db, event, STAFF)
    participant = register(db, event, PARTICIPANT)
    guest = register(db, event, "gjest@example.no")  # no account: no record
    absent = register(db, event, LEADER)
    coordinator = as_role("coordinator_fosen")
    came = {"moette": [str(staff.id), str(participant.id), str(guest.id)]}
    for _ in range(2):  # marked twice: still one record each
        assert coordinator.post(f"/arrangementer/{event.id}/oppmote", came).status_code == 302
    rows = records(db)
    assert sorted(r.user_id for r in rows) == sorted([user(db, STAFF).id, user(db, PARTICIPANT).id])
    for row in rows:
        assert (row.area_id, row.level, row.source, row.event_id) == (
            area(db, "marte-meo").id,
            "trained",
            "attendance",
            event.id,
        )
        assert row.achieved_on == event.starts_at.astimezone(OSLO).date() and row.expires_on is None
    assert not [r for r in rows if r.user_id == user(db, LEADER).id] and absent.id
    # The participant had no workplace; the course registration's municipality (Ørland) is used.
    assert db.get(CompetenceProfile, user(db, PARTICIPANT).id).municipality_id == municipality(db, "5057").id
    # The staff member's role decides theirs (Indre Fosen), not the registration.
    assert db.get(CompetenceProfile, user(db, STAFF).id).municipality_id == municipality(db, "5054").id

    # Unmarking removes the attendance record; marking again gives one again.
    coordinator.post(f"/arrangementer/{event.id}/oppmote", {"moette": [str(staff.id)]})
    assert [r.user_id for r in records(db)] == [user(db, STAFF).id]
    coordinator.post(f"/arrangementer/{event.id}/oppmote", came)
    assert len(records(db)) == 2

    # A record the person deleted is not brought back by saving the attendance list again.
    own = as_role("participant")
    [mine] = records(db, PARTICIPANT)
    own.post(f"/kompetanse/{mine.id}/slett")
    coordinator.post(f"/arrangementer/{event.id}/oppmote", came)
    assert records(db, PARTICIPANT) == []


def test_the_database_allows_one_record_per_person_and_attendance(db):
    event = course(db)
    person = user(db, STAFF)
    row = dict(
        user_id=person.id,
        area_id=area(db, "marte-meo").id,
        level="trained",
        achieved_on=TODAY,
        source="attendance",
        event_id=event.id,
    )
    db.add(CompetenceRecord(**row))
    db.commit()
    db.add(CompetenceRecord(**row))
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()
    # Records typed in (no event) may repeat.
    for _ in range(2):
        db.add(CompetenceRecord(**{**row, "event_id": None, "source": "self"}))
    db.commit()
    assert len(records(db, STAFF)) == 3


def test_attendance_at_an_unlinked_gathering_creates_no_record(app, as_role, db):
    event = course(db, slug=None)
    staff = register(db, event, STAFF)
    as_role("coordinator_fosen").post(f"/arrangementer/{event.id}/oppmote", {"moette": [str(staff.id)]})
    assert records(db) == []


def test_the_event_form_links_only_a_kurs_to_an_existing_area(app, as_role, db):
    event = course(db, kind="fagdag", slug=None)
    coordinator = as_role("coordinator_fosen")
    form = coordinator.get(f"/arrangementer/{event.id}/rediger").get_data(as_text=True)
    assert 'name="competence_area_id"' in form and "Marte Meo" in form
    day = event.starts_at.astimezone(OSLO).date().isoformat()
    fields = {
        "kind": "fagdag",
        "title": "Fagdag",
        "base_id": str(event.base_id),
        "audience": "region",
        "start_date": day,
        "end_date": day,
        "start_time": "09:00",
        "end_time": "15:00",
        "competence_area_id": str(area(db, "pmto").id),
    }
    response = coordinator.post(f"/arrangementer/{event.id}/rediger", fields)
    assert response.status_code == 422
    assert "Bare kurs/opplæring kan knyttes til et kompetanseområde." in response.get_data(as_text=True)
    response = coordinator.post(
        f"/arrangementer/{event.id}/rediger", {**fields, "competence_area_id": "424242", "kind": "kurs"}
    )
    assert response.status_code == 422 and "Velg et kompetanseområde fra listen." in response.get_data(as_text=True)
    response = coordinator.post(f"/arrangementer/{event.id}/rediger", {**fields, "kind": "kurs"})
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Event, event.id).competence_area_id == area(db, "pmto").id


# The matrix ---------------------------------------------------------------------------------------


def matrix_cells(page: str, municipality_name: str) -> list[str]:
    """The cells of one municipality's row in the matrix, as text."""
    import re

    row = re.search(r"<tr>\s*<th scope=\"row\">" + re.escape(municipality_name) + r".*?</tr>", page, re.S).group(0)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def area_index(page: str, name: str) -> int:
    import re

    head = re.search(r"<thead>.*?</thead>", page, re.S).group(0)
    names = [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)]
    return names.index(name) - 1


def test_the_matrix_counts_valid_competence_per_municipality(as_role, db):
    make_record(db, STAFF, "pmto", municipality="5054")
    make_record(db, LEADER, "pmto", municipality="5054")
    make_record(db, CONTACT, "pmto", municipality="5054", expires_on=TODAY - timedelta(days=1))  # expired: not counted
    make_record(db, CONTACT, "marte-meo", municipality="5054", level="awareness")  # below the default level (opplært)
    make_record(db, PARTICIPANT, "marte-meo", municipality="5057", expires_on=TODAY)  # valid through today
    make_record(db, PARTICIPANT, "marte-meo", municipality="5057", level="instructor")  # the same person twice: one
    browser = as_role("participant")
    response = browser.get("/kompetansebaser/fosen/kompetanse")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    pmto, marte_meo, tras = (area_index(page, n) for n in ("PMTO", "Marte Meo", "TRAS"))
    indre_fosen, orland, osen = (matrix_cells(page, n) for n in ("Indre Fosen", "Ørland", "Osen"))
    assert (indre_fosen[pmto], indre_fosen[marte_meo], indre_fosen[tras]) == ("2", "0 (ingen)", "0 (ingen)")
    assert (orland[pmto], orland[marte_meo]) == ("0 (ingen)", "1 (sårbar)")
    assert osen[pmto] == "0 (ingen)"
    totals = matrix_cells(page.replace("<tfoot>\n          <tr>", "<tr>"), "Hele Fosen")
    assert (totals[pmto], totals[marte_meo]) == ("2", "1 (sårbar)")
    assert 'scope="col"' in page and "<caption" in page

    # Filters: the level, the service kind (only Fosen barneverntjeneste's people), the area kind.
    page = browser.get("/kompetansebaser/fosen/kompetanse?niva=awareness").get_data(as_text=True)
    assert matrix_cells(page, "Indre Fosen")[area_index(page, "Marte Meo")] == "1 (sårbar)"
    db.get(CompetenceProfile, user(db, STAFF).id).service_id = None  # make_record took it from the role
    leader = db.get(CompetenceProfile, user(db, LEADER).id)  # the only one with a service (barnevern)
    leader.service_id = db.exec(select(Service).where(Service.slug == "fosen-barnevern")).one().id
    db.commit()
    page = browser.get("/kompetansebaser/fosen/kompetanse?tjeneste=barnevern").get_data(as_text=True)
    assert matrix_cells(page, "Indre Fosen")[area_index(page, "PMTO")] == "1 (sårbar)"
    page = browser.get("/kompetansebaser/fosen/kompetanse?type=screening").get_data(as_text=True)
    assert "TRAS" in page and ">PMTO<" not in page

    for bad in ("tjeneste=rakett", "type=rakett", "niva=guru"):
        response = browser.get(f"/kompetansebaser/fosen/kompetanse?{bad}")
        assert response.status_code == 400 and "fra listen" in response.get_data(as_text=True)
        assert browser.get(f"/kompetansebaser/fosen/kompetanse.csv?{bad}").status_code == 400
    assert browser.get("/kompetansebaser/fosen/kompetanse.pdf").status_code == 404
    assert browser.get("/kompetansebaser/finnes-ikke/kompetanse").status_code == 404


def test_the_matrix_files_hold_the_same_counts_and_no_names(as_role, db):
    make_record(db, STAFF, "pmto", municipality="5054", contactable=False)
    make_record(db, LEADER, "pmto", municipality="5054", contactable=True)
    make_record(db, PARTICIPANT, "pmto", municipality="5057", contactable=False)
    browser = as_role("participant")
    response = browser.get("/kompetansebaser/fosen/kompetanse.csv")
    assert response.status_code == 200 and response.headers["Content-Disposition"].startswith("attachment")
    text = response.get_data().decode("utf-8-sig")
    rows = {line[1]: line for line in csv.reader(io.StringIO(text), delimiter=";")}
    header = rows["Kommune"]
    pmto = header.index("PMTO")
    assert rows["Indre Fosen"][pmto] == "2" and rows["Ørland"][pmto] == "1 (sårbar)"
    assert rows["Osen"][pmto] == "0 (ingen)" and rows["Hele kompetansebasen"][pmto] == "3"

    response = browser.get("/kompetansebaser/fosen/kompetanse.xlsx")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    values = {row[1]: row for row in sheet.iter_rows(values_only=True)}
    assert values["Indre Fosen"][pmto] == 2 and values["Ørland"][pmto] == "1 (sårbar)"
    assert values["Hele kompetansebasen"][pmto] == 3
    for email in (STAFF, LEADER, PARTICIPANT):
        person = user(db, email)
        assert person.name not in text and email not in text
        assert all(person.name not in str(v) for row in sheet.iter_rows(values_only=True) for v in row)


# Nobody who has not opted in appears by name --------------------------------------------------------


def test_search_finds_only_people_who_opted_in(as_role, db):
    make_record(db, LEADER, "marte-meo", level="instructor", municipality="5054", contactable=True)
    make_record(db, STAFF, "marte-meo", level="certified", municipality="5054", contactable=False)
    make_record(
        db, CONTACT, "marte-meo", level="trained", municipality="5054", contactable=True
    )  # below the level asked for
    leader, staff, contact = user(db, LEADER), user(db, STAFF), user(db, CONTACT)
    browser = as_role("participant")
    page = browser.get("/kompetanse/sok?omrade=marte-meo&base=fosen").get_data(as_text=True)
    assert leader.name in page and LEADER in page and "Veileder/instruktør" in page and "Indre Fosen" in page
    assert staff.name not in page and STAFF not in page
    assert contact.name not in page
    assert "1 person til har kompetansen" in page
    page = browser.get("/kompetanse/sok?omrade=marte-meo&base=fosen&niva=trained").get_data(as_text=True)
    assert contact.name in page and staff.name not in page
    page = browser.get("/kompetanse/sok?omrade=marte-meo&base=alle").get_data(as_text=True)
    assert leader.name in page and staff.name not in page
    page = browser.get("/kompetanse/sok?omrade=marte-meo&base=namdalen").get_data(as_text=True)
    assert leader.name not in page

    for bad in ("omrade=finnes-ikke", "omrade=pmto&base=atlantis", "omrade=pmto&niva=guru"):
        response = browser.get(f"/kompetanse/sok?{bad}")
        assert response.status_code == 400 and "fra listen" in response.get_data(as_text=True)

    # Opting in on one's own page makes the staff member findable.
    own = as_role("service_staff")
    fosen_service = db.get(CompetenceProfile, staff.id).service_id
    response = own.post(
        "/kompetanse/profil",
        {
            "municipality_id": str(municipality(db, "5054").id),
            "service_id": str(fosen_service or ""),
            "contactable": "y",
        },
    )
    assert response.status_code == 302
    page = browser.get("/kompetanse/sok?omrade=marte-meo&base=fosen").get_data(as_text=True)
    assert staff.name in page and "person til" not in page


def test_expiring_certifications_name_only_people_who_opted_in(as_role, db, app):
    soon = TODAY + relativedelta(months=2)
    make_record(db, LEADER, "pmto", municipality="5054", expires_on=soon, contactable=True)
    make_record(db, STAFF, "pmto", municipality="5054", expires_on=soon, contactable=False)
    make_record(
        db, CONTACT, "pmto", municipality="5054", expires_on=TODAY + relativedelta(months=7)
    )  # later: not listed
    coordinator = as_role("coordinator_fosen")
    page = coordinator.get("/kompetansebaser/fosen/kompetanse/utloper").get_data(as_text=True)
    assert user(db, LEADER).name in page and page.count("Vises ikke") == 1
    assert user(db, STAFF).name not in page and STAFF not in page and user(db, CONTACT).name not in page

    from nettverk.scheduler.runner import run_job

    run_job("competence_expiry", app=app, now=utcnow())
    mails = outbox(db)
    to_coordinator = [m for m in mails if m.to_address == USERS["coordinator_fosen"]]
    assert len(to_coordinator) == 1 and user(db, LEADER).name in to_coordinator[0].body_text
    assert user(db, STAFF).name not in to_coordinator[0].body_text + to_coordinator[0].body_html
    assert STAFF not in to_coordinator[0].body_text + to_coordinator[0].body_html
    # Each person whose certification expires is told themselves, once.
    assert {m.to_address for m in mails} >= {LEADER, STAFF} and CONTACT not in {m.to_address for m in mails}
    run_job("competence_expiry", app=app, now=utcnow())
    assert len(outbox(db)) == len(mails)


def test_the_tables_of_the_search_and_the_expiring_list_are_named_for_screen_readers(as_role, db):
    """The scrolling region around each table is named by what it holds (a screen reader's landmark list),
    not by template code: the e2e journey found «om {{ area.name }}» read out literally."""
    make_record(
        db,
        LEADER,
        "marte-meo",
        level="instructor",
        municipality="5054",
        contactable=True,
        expires_on=TODAY + relativedelta(months=2),
    )
    coordinator = as_role("coordinator_fosen")
    page = coordinator.get("/kompetanse/sok?omrade=marte-meo&base=fosen").get_data(as_text=True)
    assert 'role="region" aria-label="Personer som kan kontaktes om Marte Meo"' in page
    assert "{{" not in page
    page = coordinator.get("/kompetansebaser/fosen/kompetanse/utloper").get_data(as_text=True)
    assert 'role="region" aria-label="Kompetanse som utløper de neste 6 månedene"' in page
    assert "{{" not in page


def test_pages_and_api_never_name_people_who_did_not_opt_in(as_role, db):
    make_record(db, STAFF, "pmto", municipality="5054", contactable=False)
    staff = user(db, STAFF)
    browser = as_role("coordinator_fosen")
    for url in (
        "/kompetansebaser/fosen/kompetanse",
        "/kompetanse/sok?omrade=pmto&base=fosen",
        "/kompetanse/sok?omrade=pmto&base=alle&niva=awareness",
        "/kompetansebaser/fosen/kompetanse/utloper",
        "/api/v1/bases/fosen/competence-matrix",
        "/api/v1/competence-areas",
        "/kompetanseomrader",
        "/kompetansebaser/fosen/kompetanse.csv",
        "/kompetansebaser/fosen",
    ):
        response = browser.get(url)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        assert staff.name not in body and STAFF not in body, url


# API ----------------------------------------------------------------------------------------------


def test_api_lists_areas_and_the_matrix_as_counts(as_role, db, browser):
    make_record(db, STAFF, "pmto", municipality="5054")
    make_record(db, LEADER, "pmto", municipality="5054", expires_on=TODAY - timedelta(days=3))
    areas = browser.get("/api/v1/competence-areas").get_json()["items"]
    pmto = next(a for a in areas if a["slug"] == "pmto")
    assert pmto["kind"] == "parent_programme" and pmto["expires_after_months"] == 24 and len(areas) == 17
    assert browser.get("/api/v1/competence-areas?kind=rakett").status_code == 400
    assert browser.get("/api/v1/bases/fosen/competence-matrix").status_code == 401

    api = as_role("participant")
    response = api.get("/api/v1/bases/fosen/competence-matrix")
    document = openapi_document(api)
    assert_matches(document, "/api/v1/bases/{slug}/competence-matrix", "get", response)
    assert_matches(document, "/api/v1/competence-areas", "get", browser.get("/api/v1/competence-areas?kind=course"))
    data = response.get_json()
    indre_fosen = next(m for m in data["municipalities"] if m["number"] == "5054")
    assert indre_fosen["counts"]["pmto"] == 1 and data["totals"]["pmto"] == 1
    assert next(m for m in data["municipalities"] if m["number"] == "5020")["counts"]["pmto"] == 0
    response = api.get("/api/v1/bases/fosen/competence-matrix?min_level=guru")
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert_matches(document, "/api/v1/bases/{slug}/competence-matrix", "get", response)
    assert api.get("/api/v1/bases/atlantis/competence-matrix").status_code == 404


# The catalogue ------------------------------------------------------------------------------------


def test_coordinators_keep_the_catalogue(as_role, db):
    coordinator = as_role("coordinator")
    response = coordinator.post(
        "/kompetanseomrader/ny", {"name": "SATS", "kind": "screening", "description": "Språkkartlegging", "active": "y"}
    )
    assert response.status_code == 302
    sats = area(db, "sats")
    assert sats.kind == "screening" and sats.expires_after_months is None
    response = coordinator.post("/kompetanseomrader/ny", {"name": "SATS", "kind": "screening"})
    assert response.status_code == 409 and "finnes allerede" in response.get_data(as_text=True)
    response = coordinator.post("/kompetanseomrader/ny", {"name": "Noe", "kind": "rakett"})
    assert response.status_code == 422
    response = coordinator.post(
        "/kompetanseomrader/sats/rediger", {"name": "SATS", "kind": "screening", "expires_after_months": "0"}
    )
    assert response.status_code == 422 and "mellom 1 og 240" in response.get_data(as_text=True)
    coordinator.post("/kompetanseomrader/sats/rediger", {"name": "SATS", "kind": "screening"})  # retired
    db.expire_all()
    assert area(db, "sats").active is False
    # A retired area can no longer be chosen for a new record.
    response = as_role("participant").post("/kompetanse/ny", record_form(sats.id))
    assert response.status_code == 422 and records(db) == []
    assert as_role("participant").post("/kompetanseomrader/ny", {"name": "X", "kind": "course"}).status_code == 403


def test_a_coordinator_records_for_a_person_of_their_base_only(as_role, db):
    coordinator = as_role("coordinator_fosen")
    pmto = area(db, "pmto")
    response = coordinator.post("/kompetansebaser/fosen/kompetanse/registrer", {**record_form(pmto.id), "email": STAFF})
    assert response.status_code == 302
    [row] = records(db, STAFF)
    assert row.source == "coordinator" and row.recorded_by_id == user(db, USERS["coordinator_fosen"]).id

    # A person without a workplace needs one in the base; one working elsewhere is refused.
    fields = {**record_form(pmto.id), "email": PARTICIPANT}
    response = coordinator.post("/kompetansebaser/fosen/kompetanse/registrer", fields)
    assert response.status_code == 422 and "Velg kommunen personen jobber i" in response.get_data(as_text=True)
    namsos = municipality(db, "5007")
    response = coordinator.post(
        "/kompetansebaser/fosen/kompetanse/registrer", {**fields, "municipality_id": str(namsos.id)}
    )
    assert response.status_code == 422 and "Velg en kommune i kompetansebasen." in response.get_data(as_text=True)
    make_record(db, USERS["service_staff_namdal"], "icdp", municipality="5007")
    response = coordinator.post(
        "/kompetansebaser/fosen/kompetanse/registrer", {**record_form(pmto.id), "email": USERS["service_staff_namdal"]}
    )
    assert response.status_code == 403
    response = coordinator.post(
        "/kompetansebaser/fosen/kompetanse/registrer", {**record_form(pmto.id), "email": "ukjent@example.no"}
    )
    assert response.status_code == 422 and "Vi fant ingen aktiv bruker" in response.get_data(as_text=True)
    assert len(records(db)) == 2  # the staff member's, and the Namdal one set up above
    response = coordinator.post(
        "/kompetansebaser/fosen/kompetanse/registrer", {**fields, "municipality_id": str(municipality(db, "5020").id)}
    )
    assert response.status_code == 302
    db.expire_all()
    assert db.get(CompetenceProfile, user(db, PARTICIPANT).id).municipality_id == municipality(db, "5020").id
