"""Networks through HTTP: create and edit with a cadence (RFC 5545 RRULE), members, planning meetings
from the cadence (idempotent, moved and skipped meetings stay as they are, DST dates reported), the BTI
coverage page of a base, and who may do what. Dates are computed from today, so the tests do not age."""

import re
from datetime import date, datetime, time, timedelta

import pytest
from factories import base_id
from sqlalchemy import event as sa_event
from sqlmodel import select

from nettverk.accounts.models import User
from nettverk.activity import ActivityLog
from nettverk.events.models import Event, Registration
from nettverk.networks.models import Network, NetworkBase, NetworkMember
from nettverk.registry.models import Municipality, Service, ServiceArea, Unit
from nettverk.timeutil import OSLO, to_oslo

BTI_RULE = "FREQ=YEARLY;BYMONTH=3,10;BYDAY=2TU"


def today() -> date:
    return datetime.now(OSLO).date()


def network(db, slug: str) -> Network:
    db.expire_all()
    return db.exec(select(Network).where(Network.slug == slug)).one()


def meetings(db, network_id: int) -> list[Event]:
    db.expire_all()
    return list(db.exec(select(Event).where(Event.network_id == network_id).order_by(Event.series_date)))


def second_tuesday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(1 - first.weekday()) % 7 + 7)


def network_form(db, **fields) -> dict:
    data = {
        "name": "BTI-nettverk Overhalla",
        "kind": "bti",
        "description": "",
        "base_ids": [base_id(db, "namdalen")],
        "cadence": BTI_RULE,
        "cadence_start": today().isoformat(),
        "meeting_start": "09:00",
        "meeting_minutes": "180",
        "venue_name": "Overhalla kommunehus",
        "venue_address": "",
        "host_municipality_id": "",
    }
    data.update(fields)
    return data


@pytest.fixture
def coordinator(as_role):
    return as_role("coordinator")  # Namdalen


def create(browser, db, **fields) -> Network:
    response = browser.post("/nettverk/nytt", network_form(db, **fields))
    assert response.status_code == 302, response.get_data(as_text=True)
    return network(db, response.headers["Location"].rsplit("/", 1)[1])


def page(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


# Creating and editing -----------------------------------------------------------------------------


def test_a_network_with_an_invalid_rule_is_refused_and_nothing_is_saved(coordinator, db):
    before = db.exec(select(Network)).all()
    for rule, message in [
        ("FREQ=YEARLY;BYMONTH=13;BYDAY=2TU", "BYMONTH=13"),
        ("annenhver tirsdag", "er ikke på formen NAVN=VERDI"),
        ("FREQ=FORTNIGHTLY", "FREQ=FORTNIGHTLY kan ikke brukes"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "Ingen av månedene har den datoen"),
    ]:
        response = coordinator.post("/nettverk/nytt", network_form(db, cadence=rule))
        assert response.status_code == 422, rule
        assert message in response.get_data(as_text=True)
        assert 'aria-invalid="true"' in response.get_data(as_text=True)
    db.expire_all()
    assert db.exec(select(Network)).all() == before
    assert db.exec(select(ActivityLog).where(ActivityLog.action == "network.created")).all() == []


def test_a_coordinator_creates_a_network_and_its_page_tells_the_cadence(coordinator, browser, db):
    created = create(coordinator, db, cadence="rrule:freq=yearly;bymonth=3,10;byday=2tu")
    assert created.slug == "bti-nettverk-overhalla"
    assert created.cadence == BTI_RULE  # normalised
    assert set(db.exec(select(NetworkBase.base_id).where(NetworkBase.network_id == created.id))) == {
        base_id(db, "namdalen")
    }
    text = page(browser.get(f"/nettverk/{created.slug}"))
    assert "Andre tirsdag i mars og oktober" in text
    march, october = second_tuesday(today().year + 1, 3), second_tuesday(today().year + 1, 10)
    for day in (march, october):
        assert f"{day.day}. {'mars' if day.month == 3 else 'oktober'} {day.year}" in text
    listing = page(browser.get("/nettverk"))
    assert "BTI-nettverk" in listing and "BTI-nettverk Overhalla" in listing and "Namdalen" in listing


def test_a_coordinator_can_only_put_a_network_in_their_own_bases(coordinator, db):
    response = coordinator.post("/nettverk/nytt", network_form(db, base_ids=[base_id(db, "fosen")]))
    assert response.status_code == 403
    assert "bare velge kompetansebaser du er koordinator for" in response.get_data(as_text=True)
    response = coordinator.post("/nettverk/nytt", network_form(db, base_ids=[]))
    assert response.status_code == 422
    assert "Velg minst én kompetansebase" in response.get_data(as_text=True)


def test_editing_keeps_the_bases_of_other_coordinators(coordinator, db):
    shared = network(db, "barnevernledernettverket-i-trondelag")
    bases_before = set(db.exec(select(NetworkBase.base_id).where(NetworkBase.network_id == shared.id)))
    response = coordinator.post(
        f"/nettverk/{shared.slug}/rediger",
        network_form(
            db,
            name=shared.name,
            kind="ledere",
            base_ids=[base_id(db, "namdalen")],
            cadence="FREQ=MONTHLY;BYDAY=1TH",
            meeting_start="10:00",
            meeting_minutes="120",
        ),
    )
    assert response.status_code == 302
    db.expire_all()
    assert set(db.exec(select(NetworkBase.base_id).where(NetworkBase.network_id == shared.id))) == bases_before
    assert network(db, shared.slug).cadence == "FREQ=MONTHLY;BYDAY=1TH"


def test_a_duplicate_name_is_refused(coordinator, db):
    response = coordinator.post("/nettverk/nytt", network_form(db, name="bti-nettverk namdalen"))
    assert response.status_code == 409
    assert "finnes allerede et nettverk som heter BTI-nettverk Namdalen" in response.get_data(as_text=True)


# Members ------------------------------------------------------------------------------------------


def test_members_are_added_by_email_also_without_an_account(coordinator, db):
    created = create(coordinator, db)
    otteroy = db.exec(select(Unit).where(Unit.name == "Otterøy barnehage")).one()
    url = f"/nettverk/{created.slug}/medlemmer"
    response = coordinator.post(
        url,
        {
            "email": "Ny.Person@Overhalla.kommune.example",
            "name": "Ny Person",
            "unit_id": otteroy.id,
            "kind": "ressursperson",
            "joined_on": "",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db.expire_all()
    user = db.exec(select(User).where(User.email == "ny.person@overhalla.kommune.example")).one()
    assert user.password_hash is None and user.name == "Ny Person"
    member = db.exec(select(NetworkMember).where(NetworkMember.network_id == created.id)).one()
    assert (member.user_id, member.unit_id, member.kind, member.joined_on) == (
        user.id,
        otteroy.id,
        "ressursperson",
        today(),
    )
    assert "Ny Person" in page(coordinator.get(url))

    again = coordinator.post(url, {"email": "ny.person@overhalla.kommune.example", "kind": "leder"})
    assert again.status_code == 409
    assert "er allerede medlem" in again.get_data(as_text=True)

    nameless = coordinator.post(url, {"email": "ukjent@overhalla.kommune.example", "kind": "annet"})
    assert nameless.status_code == 422
    assert "Skriv navnet" in nameless.get_data(as_text=True)

    fosen_unit = db.exec(select(Unit).where(Unit.name == "Rissa skole")).one()
    elsewhere = coordinator.post(
        url, {"email": "hanne.vikstrand@namsos.kommune.example", "unit_id": fosen_unit.id, "kind": "ressursperson"}
    )
    assert elsewhere.status_code == 422
    assert "Velg en enhet i en tjeneste som betjener" in elsewhere.get_data(as_text=True)

    removed = coordinator.post(f"{url}/fjern", {"member_id": member.id})
    assert removed.status_code == 302
    db.expire_all()
    assert db.exec(select(NetworkMember).where(NetworkMember.network_id == created.id)).all() == []


def test_members_are_shown_only_to_managers_and_members(as_role, browser, db):
    url = "/nettverk/bti-nettverk-namdalen"
    assert "Solveig Brattli" not in page(browser.get(url))
    assert "Solveig Brattli" not in page(as_role("coordinator_fosen").get(url))
    assert "Solveig Brattli" in page(as_role("participant").get(url))  # Hanne is a member
    assert "Solveig Brattli" in page(as_role("coordinator").get(url))


# Planning from the cadence ------------------------------------------------------------------------


def expected_bti_dates(first: date, last: date) -> list[date]:
    return [
        day
        for year in range(first.year, last.year + 1)
        for day in (second_tuesday(year, 3), second_tuesday(year, 10))
        if first <= day <= last
    ]


def test_planning_makes_the_twice_yearly_meetings_once(coordinator, db):
    created = create(coordinator, db)
    response = coordinator.post(f"/nettverk/{created.slug}/planlegg", {"until": ""}, follow_redirects=True)
    assert response.status_code == 200
    horizon = date(today().year + 1, 12, 31)  # the default: to the end of next year
    expected = expected_bti_dates(today(), horizon)
    if today() <= date(2027, 3, 9):
        assert date(2027, 3, 9) in expected and date(2027, 10, 12) in expected
    assert f"{len(expected)} møter er laget som utkast" in page(response)

    made = meetings(db, created.id)
    assert [e.series_date for e in made] == expected
    for meeting in made:
        local = to_oslo(meeting.starts_at)
        assert (local.date(), local.time()) == (meeting.series_date, time(9, 0))
        assert to_oslo(meeting.ends_at).time() == time(12, 0)
        assert (meeting.kind, meeting.status, meeting.audience) == ("nettverksmote", "draft", "network")
        assert meeting.venue_name == "Overhalla kommunehus"
    assert made[-1].title == f"BTI-nettverk Overhalla – oktober {horizon.year}"

    again = coordinator.post(f"/nettverk/{created.slug}/planlegg", {"until": ""}, follow_redirects=True)
    assert "Ingen nye møter" in page(again)
    assert [e.id for e in meetings(db, created.id)] == [e.id for e in made]


def test_planning_further_ahead_adds_only_the_new_dates(coordinator, db):
    created = create(coordinator, db)
    first_horizon = today() + timedelta(days=400)
    coordinator.post(f"/nettverk/{created.slug}/planlegg", {"until": first_horizon.isoformat()})
    assert [e.series_date for e in meetings(db, created.id)] == expected_bti_dates(today(), first_horizon)
    longer = today() + timedelta(days=1000)
    coordinator.post(f"/nettverk/{created.slug}/planlegg", {"until": longer.isoformat()})
    assert [e.series_date for e in meetings(db, created.id)] == expected_bti_dates(today(), longer)


def event_form(meeting: Event, day: date) -> dict:
    return {
        "kind": "nettverksmote",
        "title": meeting.title,
        "base_id": "",
        "network_id": meeting.network_id,
        "audience": "network",
        "start_date": day.isoformat(),
        "start_time": "10:00",
        "end_date": day.isoformat(),
        "end_time": "13:00",
        "description": "",
        "programme": "",
        "venue_name": "Flyttet sted",
        "venue_address": "",
        "venue_municipality_id": "",
        "online_url": "",
        "host_municipality_id": "",
        "capacity": "",
        "quota_per_municipality": "",
        "registration_opens_at": "",
        "registration_closes_at": "",
    }


def test_a_moved_meeting_is_not_made_again_at_its_original_date(coordinator, db):
    created = create(coordinator, db)
    coordinator.post(f"/nettverk/{created.slug}/planlegg", {"until": ""})
    made = meetings(db, created.id)
    moved, original = made[0], made[0].series_date
    new_day = original + timedelta(days=2)
    response = coordinator.post(f"/arrangementer/{moved.id}/rediger", event_form(moved, new_day))
    assert response.status_code == 302, response.get_data(as_text=True)
    db.expire_all()
    assert to_oslo(db.get(Event, moved.id).starts_at).date() == new_day
    assert db.get(Event, moved.id).series_date == original  # the edit keeps the occurrence it stands for

    coordinator.post(f"/nettverk/{created.slug}/planlegg", {"until": ""})
    after = meetings(db, created.id)
    assert len(after) == len(made)
    assert [to_oslo(e.starts_at).date() for e in after if e.series_date == original] == [new_day]
    assert "(flyttet)" in page(coordinator.get(f"/nettverk/{created.slug}"))


def test_a_skipped_meeting_stays_cancelled_and_is_not_made_again(coordinator, browser, db):
    created = create(coordinator, db)
    coordinator.post(f"/nettverk/{created.slug}/planlegg", {"until": ""})
    made = meetings(db, created.id)
    skipped = made[1]
    response = coordinator.post(f"/nettverk/{created.slug}/moter/{skipped.id}/hopp-over", {})
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Event, skipped.id).status == "cancelled"
    assert db.get(Event, skipped.id).series_date == skipped.series_date

    coordinator.post(f"/nettverk/{created.slug}/planlegg", {"until": ""})
    after = meetings(db, created.id)
    assert len(after) == len(made)
    assert [e.status for e in after if e.series_date == skipped.series_date] == ["cancelled"]
    assert coordinator.post(f"/nettverk/{created.slug}/moter/{skipped.id}/hopp-over", {}).status_code == 409
    assert "Hoppet over" in page(coordinator.get(f"/nettverk/{created.slug}"))
    assert skipped.title not in page(browser.get(f"/nettverk/{created.slug}"))  # drafts are not public


def test_a_meeting_of_another_network_cannot_be_skipped_through_this_one(coordinator, db):
    first, second = create(coordinator, db), create(coordinator, db, name="BTI-nettverk Grong")
    coordinator.post(f"/nettverk/{second.slug}/planlegg", {"until": ""})
    other = meetings(db, second.id)[0]
    assert coordinator.post(f"/nettverk/{first.slug}/moter/{other.id}/hopp-over", {}).status_code == 404
    db.expire_all()
    assert db.get(Event, other.id).status == "draft"


def test_planning_reports_dates_that_do_not_exist_because_of_daylight_saving_time(coordinator, db):
    created = create(
        coordinator,
        db,
        name="Nattnettverket",
        cadence="FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
        meeting_start="02:30",
        meeting_minutes="60",
    )
    response = coordinator.post(f"/nettverk/{created.slug}/planlegg", {"until": ""}, follow_redirects=True)
    assert response.status_code == 200
    text = page(response)
    assert "Disse datoene ble ikke laget" in text
    for year in range(today().year, today().year + 2):
        last_sunday = date(year, 3, 31) - timedelta(days=(date(year, 3, 31).weekday() + 1) % 7)
        if last_sunday >= today():
            assert f"søndag {last_sunday.day}. mars {year}" in text
    assert "finnes ikke" in text
    assert meetings(db, created.id) == []


def test_planning_without_a_cadence_or_too_far_ahead_is_refused(coordinator, db):
    created = create(coordinator, db, name="Uten rytme", cadence="")
    response = coordinator.post(f"/nettverk/{created.slug}/planlegg", {"until": ""})
    assert response.status_code == 409
    assert "ingen møterytme" in response.get_data(as_text=True)
    bti = create(coordinator, db)
    far = coordinator.post(f"/nettverk/{bti.slug}/planlegg", {"until": (today() + timedelta(days=2000)).isoformat()})
    assert far.status_code == 422
    assert "høyst 3 år" in far.get_data(as_text=True)
    assert meetings(db, bti.id) == []


# Coverage -----------------------------------------------------------------------------------------


@pytest.fixture
def overhalla_units(db):
    """A school service in Overhalla (Namdalen) with two schools; no demo members there."""
    overhalla = db.exec(select(Municipality).where(Municipality.number == "5047")).one()
    service = Service(
        slug="skolene-i-overhalla", name="Skolene i Overhalla", kind="skole", host_municipality_id=overhalla.id
    )
    db.add(service)
    db.flush()
    db.add(ServiceArea(service_id=service.id, municipality_id=overhalla.id))
    units = {
        name: Unit(service_id=service.id, name=name, municipality_id=overhalla.id)
        for name in ("Skage skole", "Ranemsletta skole")
    }
    db.add_all(units.values())
    db.commit()
    return units


def add(browser, slug, email, name, unit, kind="ressursperson", joined_on=""):
    response = browser.post(
        f"/nettverk/{slug}/medlemmer",
        {"email": email, "name": name, "unit_id": unit.id if unit else "", "kind": kind, "joined_on": joined_on},
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def section(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end)]


def attended(db, network_id: int, email: str, kind: str, days_ago: int) -> None:
    db.expire_all()  # end the read transaction: SQLite cannot write from an old snapshot
    moment = datetime.now(OSLO) - timedelta(days=days_ago)
    meeting = Event(
        uid=f"{email}-{kind}-{days_ago}@test",
        kind=kind,
        title=f"{kind} for {email}",
        starts_at=moment,
        ends_at=moment + timedelta(hours=3),
        network_id=network_id,
        status="held",
    )
    db.add(meeting)
    db.flush()
    db.add(Registration(event_id=meeting.id, name=email, email=email, status="confirmed", attended=True))
    db.commit()


def test_coverage_lists_units_with_fewer_than_two_resource_persons(coordinator, db, overhalla_units):
    skage, ranemsletta = overhalla_units["Skage skole"], overhalla_units["Ranemsletta skole"]
    created = create(coordinator, db)
    add(coordinator, created.slug, "en@overhalla.kommune.example", "Eli En", skage)
    add(coordinator, created.slug, "leder@overhalla.kommune.example", "Lars Leder", skage, kind="leder")
    add(coordinator, created.slug, "to@overhalla.kommune.example", "Tor To", ranemsletta)
    add(coordinator, created.slug, "tre@overhalla.kommune.example", "Tone Tre", ranemsletta)
    # The same person in two BTI networks of the base is one ressursperson.
    add(coordinator, "bti-nettverk-namdalen", "en@overhalla.kommune.example", "", skage)

    text = page(coordinator.get("/kompetansebaser/namdalen/dekning"))
    units = section(text, 'id="enheter"', 'id="sist-deltatt"')
    assert re.search(r"Skage skole</th> <td>.*?Skolene i Overhalla.*?Overhalla.*?<td class=\"num\">1</td>", units)
    assert "Ranemsletta skole" not in units
    assert re.search(r"Namdalseid barnehage</th>.*?<td class=\"num\">0</td>", units)  # demo unit without any
    assert "Otterøy barnehage" not in units  # two demo ressurspersoner


def test_coverage_lists_resource_persons_not_seen_for_a_year_and_untrained_newcomers(coordinator, db, overhalla_units):
    skage = overhalla_units["Skage skole"]
    created = create(coordinator, db)
    long_ago = (today() - timedelta(days=800)).isoformat()
    add(coordinator, created.slug, "fersk@overhalla.kommune.example", "Frida Fersk", skage)
    add(coordinator, created.slug, "gammel@overhalla.kommune.example", "Gunnar Gammel", skage, joined_on=long_ago)
    add(coordinator, created.slug, "aldri@overhalla.kommune.example", "Aldri Møtt", skage, joined_on=long_ago)
    add(coordinator, created.slug, "kurset@overhalla.kommune.example", "Kari Kurset", skage)
    attended(db, created.id, "fersk@overhalla.kommune.example", "nettverksmote", days_ago=30)
    attended(db, created.id, "gammel@overhalla.kommune.example", "nettverksmote", days_ago=400)
    attended(db, created.id, "kurset@overhalla.kommune.example", "kurs", days_ago=10)

    text = page(coordinator.get("/kompetansebaser/namdalen/dekning"))
    stale = section(text, 'id="sist-deltatt"', 'id="nyansatte"')
    assert "Gunnar Gammel" in stale and "Aldri Møtt" in stale
    assert re.search(r"Aldri Møtt</th>.*?<td>aldri</td>", stale)
    assert "Frida Fersk" not in stale and "Kari Kurset" not in stale
    newcomers = text[text.index('id="nyansatte"') :]
    assert "Frida Fersk" in newcomers  # joined today, met but never at a course
    assert "Kari Kurset" not in newcomers and "Gunnar Gammel" not in newcomers


def test_coverage_uses_the_same_number_of_queries_for_more_units_and_people(app, coordinator, db, overhalla_units):
    created = create(coordinator, db)
    statements = []

    def count(*_args):
        statements.append(1)

    def queries_for_page() -> int:
        statements.clear()
        engine = app.extensions["nettverk.engine"]
        sa_event.listen(engine, "before_cursor_execute", count)
        try:
            assert coordinator.get("/kompetansebaser/namdalen/dekning").status_code == 200
        finally:
            sa_event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    add(coordinator, created.slug, "a@overhalla.kommune.example", "A", overhalla_units["Skage skole"])
    small = queries_for_page()
    service_id = overhalla_units["Skage skole"].service_id
    for number in range(6):
        db.expire_all()
        unit = Unit(
            service_id=service_id,
            name=f"Skole {number}",
            municipality_id=overhalla_units["Skage skole"].municipality_id,
        )
        db.add(unit)
        db.commit()
        add(coordinator, created.slug, f"p{number}@overhalla.kommune.example", f"P {number}", unit)
        attended(db, created.id, f"p{number}@overhalla.kommune.example", "nettverksmote", days_ago=500)
    assert queries_for_page() == small


# Permissions --------------------------------------------------------------------------------------


def test_the_fosen_coordinator_cannot_manage_a_namdalen_network(as_role, db):
    fosen = as_role("coordinator_fosen")
    slug = "bti-nettverk-namdalen"
    assert fosen.get(f"/nettverk/{slug}/rediger").status_code == 403
    assert fosen.post(f"/nettverk/{slug}/rediger", network_form(db, name="Kapret")).status_code == 403
    assert fosen.get(f"/nettverk/{slug}/medlemmer").status_code == 403
    assert fosen.post(f"/nettverk/{slug}/planlegg", {"until": ""}).status_code == 403
    assert fosen.get("/kompetansebaser/namdalen/dekning").status_code == 403
    assert network(db, slug).name == "BTI-nettverk Namdalen"
    assert meetings(db, network(db, slug).id) == []


def test_anonymous_visitors_see_networks_but_must_log_in_to_manage_them(browser):
    assert browser.get("/nettverk").status_code == 200
    assert browser.get("/nettverk/bti-nettverk-namdalen").status_code == 200
    for url in (
        "/nettverk/nytt",
        "/nettverk/bti-nettverk-namdalen/rediger",
        "/nettverk/bti-nettverk-namdalen/medlemmer",
        "/kompetansebaser/namdalen/dekning",
    ):
        response = browser.get(url)
        assert response.status_code == 302 and "/logg-inn" in response.headers["Location"], url
    response = browser.post("/nettverk/bti-nettverk-namdalen/planlegg", {"until": ""})
    assert response.status_code == 302 and "/logg-inn" in response.headers["Location"]


def test_an_unknown_network_is_404(browser):
    assert browser.get("/nettverk/finnes-ikke").status_code == 404
