"""The registry through HTTP: browsing, admin changes, refused input, mergers and the activity log."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from factories import base, municipality, service, user_id
from sqlmodel import func, select

from nettverk.activity import ActivityLog
from nettverk.registry.models import (
    BaseMembership,
    CompetenceBase,
    Contact,
    County,
    Municipality,
    MunicipalityChange,
    PlannedMerger,
    PlannedMergerPart,
    Service,
    ServiceArea,
    Unit,
)

# Helpers ------------------------------------------------------------------------------------------


def page(response) -> str:
    return response.get_data(as_text=True)


def redirected(response) -> str:
    """Assert that a form was accepted (answered with a redirect) and return where it leads."""
    assert response.status_code == 302, page(response)[-3000:]
    return response.headers["Location"]


def refused(response, status: int, message: str) -> None:
    assert response.status_code == status, page(response)[-3000:]
    assert message in page(response)


def count(db, model) -> int:
    return db.exec(select(func.count()).select_from(model)).one()


def ids(db, *numbers: str) -> list[int]:
    return [municipality(db, number).id for number in numbers]


def members(db, slug: str) -> set[str]:
    return set(
        db.exec(select(Municipality.number).join(BaseMembership).where(BaseMembership.base_id == base(db, slug).id))
    )


def served(db, service_id: int) -> set[str]:
    return set(db.exec(select(Municipality.number).join(ServiceArea).where(ServiceArea.service_id == service_id)))


def trondelag(db) -> int:
    return db.exec(select(County).where(County.number == "50")).one().id


def create_municipality(admin, db, number: str, name: str) -> None:
    redirected(admin.post("/admin/kommuner/ny", {"number": number, "name": name, "county_id": trondelag(db)}))


def merger_fields(predecessor_ids: list[int], successor_id: int | str, effective_date: str) -> dict:
    return {"predecessor_ids": predecessor_ids, "successor_id": successor_id, "effective_date": effective_date}


def merge(admin, predecessor_ids: list[int], successor_id: int, effective_date: str = "2026-01-01"):
    """Choose, see the preview, confirm (as the admin does): the answer to the confirmation, or to the choice
    if that was refused. The default date has passed, so the merger is carried out at once."""
    fields = merger_fields(predecessor_ids, successor_id, effective_date)
    preview = admin.post("/admin/kommuner/sammenslaing", fields)
    if preview.status_code != 200:
        return preview
    assert "Se over sammenslåingen" in page(preview)
    return admin.post("/admin/kommuner/sammenslaing", {**fields, "bekreft": "ja"})


def service_fields(db, **fields) -> dict:
    host = municipality(db, "5041").id
    return {
        "name": "Barnevern Snåsa og Lierne",
        "kind": "barnevern",
        "host_municipality_id": host,
        "served_ids": ids(db, "5042"),
        **fields,
    }


# Browsing -----------------------------------------------------------------------------------------


def test_bases_page_lists_the_six_bases(browser):
    text = page(browser.get("/kompetansebaser"))
    for name in ("Namdalen", "Innherred", "Fosen", "Kystregionen", "Trondheimsregionen", "Fjellregionen"):
        assert f'href="/kompetansebaser/{name.lower()}">{name}</a>' in text


def test_base_page_lists_its_municipalities(browser):
    text = page(browser.get("/kompetansebaser/fosen"))
    assert 'href="/kommuner/5054">Indre Fosen</a>' in text
    assert "Trondheim" not in text.split("<h2>Kommuner i kompetansebasen</h2>")[1]


def test_municipality_page_shows_bases_county_and_services(browser):
    text = page(browser.get("/kommuner/5054"))
    assert 'href="/kompetansebaser/fosen">Fosen</a>' in text
    assert 'href="/kompetansebaser/trondheimsregionen">Trondheimsregionen</a>' in text
    assert "<dt>Fylke</dt><dd>Trøndelag</dd>" in text
    for slug in ("fosen-barnevern", "ppt-fosen", "helsestasjon-indre-fosen", "grunnskolen-indre-fosen"):
        assert f'href="/tjenester/{slug}"' in text
    assert 'href="/tjenester/innherred-barnevern"' not in text


def test_municipality_page_shows_the_sami_name_with_its_language(browser):
    text = page(browser.get("/kommuner/5041"))
    assert '<dd lang="sma">Snåase</dd>' in text


def test_municipality_list_hides_merged_municipalities(browser):
    text = page(browser.get("/kommuner"))
    assert 'href="/kommuner/5054"' in text
    assert 'href="/kommuner/5030"' not in text  # Klæbu, merged into Trondheim in 2020


def test_municipality_list_shows_merged_municipalities_on_request(browser):
    text = page(browser.get("/kommuner?vis=alle"))
    assert 'href="/kommuner/5030">Klæbu</a>' in text
    assert "Avviklet tirsdag 31. desember 2019" in text


def test_successor_page_lists_its_history(browser):
    text = page(browser.get("/kommuner/5055"))
    assert '<a href="/kommuner/5011">5011 Hemne</a> ble en del av Heim' in text
    assert '<a href="/kommuner/1571">1571 Halsa</a> ble en del av Heim' in text
    assert 'en del av <a href="/kommuner/5012">5012 Snillfjord</a> ble en del av Heim' in text


def test_split_municipality_page_names_all_its_successors(browser):
    text = page(browser.get("/kommuner/5012"))
    assert "Snillfjord er slått sammen med andre kommuner" in text
    for number, name in (("5059", "Orkland"), ("5055", "Heim"), ("5056", "Hitra")):
        assert f'Snillfjord ble en del av <a href="/kommuner/{number}">{number} {name}</a>' in text


# Admin changes ------------------------------------------------------------------------------------


def test_admin_creates_a_county(as_role, db):
    redirected(as_role("admin").post("/admin/fylker", {"number": "46", "name": "Vestland"}))
    assert db.exec(select(County.name).where(County.number == "46")).one() == "Vestland"


def test_admin_creates_a_municipality_that_then_is_listed(as_role, db):
    admin = as_role("admin")
    create_municipality(admin, db, "9901", "Nordvik")
    db.rollback()
    assert municipality(db, "9901").county_id == trondelag(db)
    assert 'href="/kommuner/9901">Nordvik</a>' in page(admin.get("/kommuner"))


def test_admin_edits_a_municipality(as_role, db):
    redirected(
        as_role("admin").post(
            "/kommuner/5020/rediger",
            {"number": "5020", "name": "Osen kommune", "sami_name": "Åsen", "county_id": trondelag(db)},
        )
    )
    db.rollback()
    osen = municipality(db, "5020")
    assert (osen.name, osen.sami_name) == ("Osen kommune", "Åsen")


def test_admin_creates_a_base_with_a_folded_slug(as_role, db):
    location = redirected(
        as_role("admin").post(
            "/admin/kompetansebaser/ny", {"name": "Sør-Østerdal og Ærøy Å", "description": "Prøvebase."}
        )
    )
    assert location.endswith("/kompetansebaser/sor-osterdal-og-aeroy-a")
    assert base(db, "sor-osterdal-og-aeroy-a").name == "Sør-Østerdal og Ærøy Å"


def test_admin_adds_a_municipality_to_a_base(as_role, db):
    redirected(as_role("admin").post("/kompetansebaser/fosen/medlemmer", {"municipality_id": ids(db, "5049")[0]}))
    db.rollback()
    assert members(db, "fosen") == {"5054", "5057", "5058", "5020", "5049"}


def test_admin_removes_a_municipality_from_a_base(as_role, db):
    redirected(as_role("admin").post("/kompetansebaser/fosen/medlemmer/5020/fjern"))
    db.rollback()
    assert members(db, "fosen") == {"5054", "5057", "5058"}


def test_coordinator_adds_a_municipality_to_their_base(as_role, db):
    redirected(
        as_role("coordinator").post("/kompetansebaser/namdalen/medlemmer", {"municipality_id": ids(db, "5041")[0]})
    )
    db.rollback()
    assert "5041" in members(db, "namdalen")


def test_coordinator_removes_a_municipality_from_their_base(as_role, db):
    redirected(as_role("coordinator").post("/kompetansebaser/namdalen/medlemmer/5043/fjern"))
    db.rollback()
    assert "5043" not in members(db, "namdalen")
    assert "5044" in members(db, "namdalen")


def test_coordinator_of_another_base_may_not_change_members(as_role, db):
    before = members(db, "namdalen")
    fosen_coordinator = as_role("coordinator_fosen")
    add = fosen_coordinator.post("/kompetansebaser/namdalen/medlemmer", {"municipality_id": ids(db, "5041")[0]})
    remove = fosen_coordinator.post("/kompetansebaser/namdalen/medlemmer/5043/fjern")
    assert (add.status_code, remove.status_code) == (403, 403)
    db.rollback()
    assert members(db, "namdalen") == before


def test_admin_creates_a_service_that_always_serves_its_host(as_role, db):
    location = redirected(as_role("admin").post("/admin/tjenester/ny", service_fields(db)))
    db.rollback()
    created = service(db, location.rsplit("/", 1)[1])
    assert (created.name, created.kind) == ("Barnevern Snåsa og Lierne", "barnevern")
    assert created.host_municipality_id == municipality(db, "5041").id
    assert served(db, created.id) == {"5041", "5042"}


def test_admin_edits_a_service(as_role, db):
    redirected(
        as_role("admin").post(
            "/tjenester/fosen-barnevern/rediger",
            {
                "name": "Fosen barnevern og familie",
                "kind": "barnevern",
                "host_municipality_id": ids(db, "5054")[0],
                "served_ids": ids(db, "5058"),
                "email": "post@fosen.example",
            },
        )
    )
    db.rollback()
    fosen_barnevern = service(db, "fosen-barnevern")
    assert (fosen_barnevern.name, fosen_barnevern.email) == ("Fosen barnevern og familie", "post@fosen.example")
    assert served(db, fosen_barnevern.id) == {"5054", "5058"}  # Osen left out, the host kept


def test_admin_adds_a_unit_to_a_service(as_role, db):
    admin = as_role("admin")
    redirected(
        admin.post(
            "/tjenester/fosen-barnevern/enheter/ny",
            {"name": "Fosen barneverntjeneste, kontor Osen", "municipality_id": ids(db, "5020")[0]},
        )
    )
    db.rollback()
    unit = db.exec(select(Unit).where(Unit.name == "Fosen barneverntjeneste, kontor Osen")).one()
    assert (unit.service_id, unit.municipality_id) == (service(db, "fosen-barnevern").id, ids(db, "5020")[0])
    assert "Fosen barneverntjeneste, kontor Osen" in page(admin.get("/tjenester/fosen-barnevern"))


def contact(db, name: str) -> Contact | None:
    return db.exec(select(Contact).where(Contact.name == name)).first()


def test_municipality_contact_adds_a_contact(as_role, db):
    redirected(
        as_role("municipality_contact").post(
            "/kommuner/5054/kontakter/ny",
            {"name": "Jon Rissa", "role": "BTI-koordinator", "email": "Jon.Rissa@Indrefosen.example", "service_id": ""},
        )
    )
    db.rollback()
    added = contact(db, "Jon Rissa")
    assert (added.municipality_id, added.role, added.email) == (
        ids(db, "5054")[0],
        "BTI-koordinator",
        "jon.rissa@indrefosen.example",
    )


def test_municipality_contact_edits_a_contact(as_role, db):
    ingrid = contact(db, "Ingrid Aunøien")
    redirected(
        as_role("municipality_contact").post(
            f"/kontakter/{ingrid.id}/rediger",
            {"name": "Ingrid Aunøien", "role": "Kommunalsjef oppvekst", "phone": "73 85 27 00"},
        )
    )
    db.rollback()
    ingrid = contact(db, "Ingrid Aunøien")
    assert (ingrid.role, ingrid.phone) == ("Kommunalsjef oppvekst", "73 85 27 00")


def test_municipality_contact_deletes_a_contact(as_role, db):
    marit = contact(db, "Marit Hovdan")
    redirected(as_role("municipality_contact").post(f"/kontakter/{marit.id}/slett"))
    db.rollback()
    assert contact(db, "Marit Hovdan") is None


def test_municipality_contact_may_not_touch_another_municipality(as_role, db):
    guro = contact(db, "Guro Sætervik")  # Osen (5020)
    keeper = as_role("municipality_contact")
    responses = [
        keeper.post("/kommuner/5020/kontakter/ny", {"name": "Ny i Osen"}),
        keeper.post(f"/kontakter/{guro.id}/rediger", {"name": "Guro Endret"}),
        keeper.post(f"/kontakter/{guro.id}/slett"),
    ]
    assert [r.status_code for r in responses] == [403, 403, 403]
    db.rollback()
    assert contact(db, "Guro Sætervik") is not None
    assert contact(db, "Ny i Osen") is None


# Refused input: 4xx, a Norwegian message, nothing saved ------------------------------------------


def test_duplicate_municipality_number_is_refused(as_role, db):
    before = count(db, Municipality), count(db, ActivityLog)
    response = as_role("admin").post(
        "/admin/kommuner/ny", {"number": "5054", "name": "Fosen by", "county_id": trondelag(db)}
    )
    refused(response, 409, "Kommunenummer 5054 er allerede brukt av Indre Fosen.")
    db.rollback()
    assert (count(db, Municipality), count(db, ActivityLog)) == before


@pytest.mark.parametrize("number", ["50a1", "123", "12345"])
def test_municipality_number_must_be_four_digits(as_role, db, number):
    before = count(db, Municipality), count(db, ActivityLog)
    response = as_role("admin").post(
        "/admin/kommuner/ny", {"number": number, "name": "Feilvik", "county_id": trondelag(db)}
    )
    refused(response, 422, "Kommunenummeret må være nøyaktig fire sifre")
    db.rollback()
    assert (count(db, Municipality), count(db, ActivityLog)) == before


@pytest.mark.parametrize(
    ("url", "fields", "model"),
    [
        ("/admin/kommuner/ny", {"number": "9901"}, Municipality),
        ("/admin/kompetansebaser/ny", {"description": "Uten navn"}, CompetenceBase),
        ("/admin/tjenester/ny", {"kind": "ppt"}, Service),
    ],
)
def test_empty_name_is_refused(as_role, db, url, fields, model):
    fields = {"county_id": trondelag(db), "host_municipality_id": ids(db, "5041")[0], **fields, "name": "   "}
    before = count(db, model)
    refused(as_role("admin").post(url, fields), 422, "Dette feltet må fylles ut.")
    db.rollback()
    assert count(db, model) == before


def history_and_log(db) -> tuple[int, int, int]:
    return count(db, MunicipalityChange), count(db, ActivityLog), count(db, BaseMembership)


def test_merger_into_itself_is_refused(as_role, db):
    before = history_and_log(db)
    grong = ids(db, "5045")[0]
    refused(merge(as_role("admin"), [grong], grong), 422, "Grong kan ikke slås sammen med seg selv.")
    db.rollback()
    assert history_and_log(db) == before
    assert municipality(db, "5045").valid_to is None


def test_merger_into_an_ended_municipality_is_refused(as_role, db):
    admin = as_role("admin")
    create_municipality(admin, db, "9901", "Xvik")
    create_municipality(admin, db, "9902", "Yvik")
    db.rollback()
    xvik, yvik = ids(db, "9901", "9902")
    redirected(merge(admin, [xvik], yvik))
    db.rollback()
    before = history_and_log(db)
    refused(merge(admin, [yvik], xvik, "2028-01-01"), 422, "Xvik er selv avviklet og kan ikke være ny kommune.")
    db.rollback()
    assert history_and_log(db) == before
    assert municipality(db, "9902").valid_to is None


def test_merger_that_would_make_a_cycle_in_the_history_is_refused(as_role, db):
    admin = as_role("admin")
    create_municipality(admin, db, "9901", "Xvik")
    create_municipality(admin, db, "9902", "Yvik")
    db.rollback()
    xvik, yvik = ids(db, "9901", "9902")
    # A border adjustment: part of Xvik went to Yvik, and Xvik lives on.
    db.add(MunicipalityChange(predecessor_id=xvik, successor_id=yvik, effective_date=date(2024, 1, 1), partial=True))
    db.commit()
    before = history_and_log(db)
    refused(merge(admin, [yvik], xvik), 422, "Sammenslåingen ville gitt en sirkel i historikken til Yvik.")
    db.rollback()
    assert history_and_log(db) == before
    assert municipality(db, "9902").valid_to is None


def test_merger_of_an_ended_municipality_is_refused(as_role, db):
    before = history_and_log(db)
    response = merge(as_role("admin"), ids(db, "5012"), ids(db, "5059")[0])
    refused(response, 422, "Snillfjord ble avviklet 31.12.2019 og kan ikke slås sammen på nytt.")
    db.rollback()
    assert history_and_log(db) == before
    assert municipality(db, "5012").valid_to == date(2019, 12, 31)


def test_adding_a_merged_municipality_to_a_base_is_refused(as_role, db):
    before = count(db, BaseMembership), count(db, ActivityLog)
    response = as_role("admin").post("/kompetansebaser/fosen/medlemmer", {"municipality_id": ids(db, "5019")[0]})
    refused(response, 422, "Velg en kommune som finnes i dag.")  # Roan, part of Åfjord since 2020
    db.rollback()
    assert (count(db, BaseMembership), count(db, ActivityLog)) == before


def test_municipality_in_an_unknown_county_is_refused(as_role, db):
    before = count(db, Municipality)
    response = as_role("admin").post("/admin/kommuner/ny", {"number": "9901", "name": "Avik", "county_id": 9999})
    refused(response, 422, "Velg et fylke som finnes.")
    db.rollback()
    assert count(db, Municipality) == before


def test_unit_outside_the_service_area_is_refused(as_role, db):
    before = count(db, Unit)
    response = as_role("admin").post(
        "/tjenester/fosen-barnevern/enheter/ny", {"name": "Kontor Trondheim", "municipality_id": ids(db, "5001")[0]}
    )
    refused(response, 422, "Enheten må ligge i en kommune som Fosen barneverntjeneste betjener.")
    db.rollback()
    assert count(db, Unit) == before


def service_rows(db) -> tuple[int, int, int]:
    return count(db, Service), count(db, ServiceArea), count(db, ActivityLog)


def test_service_without_host_is_refused(as_role, db):
    before = service_rows(db)
    response = as_role("admin").post("/admin/tjenester/ny", service_fields(db, host_municipality_id=""))
    refused(response, 422, "En tjeneste må ha en vertskommune.")
    db.rollback()
    assert service_rows(db) == before


def test_service_of_unknown_kind_is_refused(as_role, db):
    before = service_rows(db)
    response = as_role("admin").post("/admin/tjenester/ny", service_fields(db, kind="trolldom"))
    refused(response, 422, "Velg en type tjeneste fra listen.")
    db.rollback()
    assert service_rows(db) == before


# A merger, as one operation -----------------------------------------------------------------------


@pytest.fixture
def storvik(as_role, db):
    """Nordvik (9901) and Sørvik (9902), with a base membership, a service, a unit and a contact, merged
    through the merger form into Storvik (9903) from 1 January 2026 (passed: carried out at once). Returns the
    service's id."""
    admin = as_role("admin")
    for number, name in (("9901", "Nordvik"), ("9902", "Sørvik"), ("9903", "Storvik")):
        create_municipality(admin, db, number, name)
    db.rollback()
    nordvik, sorvik, storvik = ids(db, "9901", "9902", "9903")
    redirected(admin.post("/kompetansebaser/innherred/medlemmer", {"municipality_id": nordvik}))
    service_url = redirected(
        admin.post(
            "/admin/tjenester/ny",
            {
                "name": "Barnevern Nordvik og Sørvik",
                "kind": "barnevern",
                "host_municipality_id": nordvik,
                "served_ids": [sorvik],
            },
        )
    )
    redirected(admin.post(f"{service_url}/enheter/ny", {"name": "Sørvik skole", "municipality_id": sorvik}))
    redirected(admin.post("/kommuner/9902/kontakter/ny", {"name": "Solveig Sørvik", "role": "Oppvekstsjef"}))
    assert redirected(merge(admin, [nordvik, sorvik], storvik)).endswith("/kommuner/9903")
    db.rollback()
    return db.exec(select(Service.id).where(Service.name == "Barnevern Nordvik og Sørvik")).one()


def test_merger_ends_the_predecessors_the_day_before(storvik, db):
    assert municipality(db, "9901").valid_to == date(2025, 12, 31)
    assert municipality(db, "9902").valid_to == date(2025, 12, 31)
    assert municipality(db, "9903").valid_to is None


def test_merger_writes_the_history(storvik, db):
    changes = db.exec(
        select(Municipality.number, MunicipalityChange.effective_date)
        .join(MunicipalityChange, MunicipalityChange.predecessor_id == Municipality.id)
        .where(MunicipalityChange.successor_id == ids(db, "9903")[0])
    )
    assert sorted(changes) == [("9901", date(2026, 1, 1)), ("9902", date(2026, 1, 1))]


def test_merger_moves_base_membership_to_the_successor(storvik, db):
    assert "9903" in members(db, "innherred")
    assert "9901" not in members(db, "innherred")


def test_merger_moves_service_area_and_host_to_the_successor(storvik, db):
    assert served(db, storvik) == {"9903"}
    assert db.get(Service, storvik).host_municipality_id == ids(db, "9903")[0]


def test_successor_page_shows_contact_unit_and_history(storvik, browser):
    text = page(browser.get("/kommuner/9903"))
    assert "Solveig Sørvik" in text
    assert "Sørvik skole" in text
    assert '<a href="/kommuner/9901">9901 Nordvik</a> ble en del av Storvik' in text
    assert '<a href="/kommuner/9902">9902 Sørvik</a> ble en del av Storvik' in text


def test_predecessor_page_points_to_the_successor(storvik, browser):
    text = page(browser.get("/kommuner/9901"))
    assert 'Nordvik ble en del av <a href="/kommuner/9903">9903 Storvik</a>' in text


def test_api_lists_what_the_successor_was_merged_from(storvik, browser):
    data = browser.get("/api/v1/municipalities/9903").get_json()
    assert sorted((m["number"], m["effective_date"], m["current"]) for m in data["merged_from"]) == [
        ("9901", "2026-01-01", False),
        ("9902", "2026-01-01", False),
    ]


def test_merging_seeded_municipalities_moves_their_base_membership(as_role, browser, db):
    namsskogan, royrvik, grong = ids(db, "5044", "5043", "5045")
    redirected(merge(as_role("admin"), [namsskogan, royrvik], grong))
    db.rollback()
    assert {"5045"} <= members(db, "namdalen")
    assert not {"5043", "5044"} & members(db, "namdalen")
    text = page(browser.get("/kompetansebaser/namdalen"))
    assert 'href="/kommuner/5045"' in text
    assert 'href="/kommuner/5043"' not in text


# A merger dated in the future is planned, carried out on its date by the scheduler, or cancelled --------

MERGER_URL = "/admin/kommuner/sammenslaing"
FUTURE = date(date.today().year + 2, 1, 1)  # always ahead, also when the suite runs as if on another day


def namsos_world(db) -> tuple:
    """What a merger of Namsos would touch: its bases, served-by services, units, contacts, history rows."""
    db.expire_all()
    namsos = ids(db, "5007")[0]
    return (
        municipality(db, "5007").valid_to,
        sorted(db.exec(select(BaseMembership.base_id).where(BaseMembership.municipality_id == namsos))),
        sorted(db.exec(select(ServiceArea.service_id).where(ServiceArea.municipality_id == namsos))),
        sorted(db.exec(select(Unit.id).where(Unit.municipality_id == namsos))),
        sorted(db.exec(select(Contact.id).where(Contact.municipality_id == namsos))),
        count(db, MunicipalityChange),
    )


def plan_namsos(admin, db) -> None:
    """Namsos into Overhalla from 1 January in two years, through the form, its preview and «Bekreft»."""
    namsos, overhalla = ids(db, "5007", "5047")
    assert redirected(merge(admin, [namsos], overhalla, FUTURE.isoformat())).endswith(MERGER_URL)
    db.rollback()


def carry_out(app, moment: datetime):
    from nettverk.scheduler.runner import run_job

    result = run_job("mergers", now=moment, app=app)
    assert result.status == "ok", result.message
    return result


def oslo_time(day: date, hour: int, minute: int = 0) -> datetime:
    from nettverk.timeutil import OSLO

    return datetime.combine(day, time(hour, minute), tzinfo=OSLO).astimezone(UTC)


def matrix_has_row(browser, municipality_name: str) -> bool:
    text = page(browser.get("/kompetansebaser/namdalen/kompetanse"))
    return f'<th scope="row">{municipality_name}' in text


def test_the_merger_form_preselects_no_successor(as_role, db):
    admin = as_role("admin")
    select_html = page(admin.get(MERGER_URL)).split('name="successor_id"')[1].split("</select>")[0]
    assert select_html.split("<option")[1].startswith(' selected value="">Velg kommune</option>')
    assert select_html.count("selected") == 1  # no municipality chosen for the admin
    before = history_and_log(db)
    refused(
        admin.post(MERGER_URL, merger_fields(ids(db, "5007"), "", FUTURE.isoformat())),
        422,
        "Velg kommunen det slås sammen til.",
    )
    db.rollback()
    assert history_and_log(db) == before


def test_the_preview_lists_what_moves_and_changes_nothing(as_role, db):
    before, logged = namsos_world(db), count(db, ActivityLog)
    namsos, overhalla = ids(db, "5007", "5047")
    response = as_role("admin").post(MERGER_URL, merger_fields([namsos], overhalla, FUTURE.isoformat()))
    assert response.status_code == 200
    text = page(response)
    _, bases, served_by, units, contacts, _ = before
    hosted = len(db.exec(select(Service.id).where(Service.host_municipality_id == namsos)).all())
    for name, number in (
        ("bases", len(bases)),
        ("served_by", len(served_by)),
        ("hosted", hosted),
        ("units", len(units)),
        ("contacts", len(contacts)),
    ):
        assert f'<td data-count="{name}">{number}</td>' in text
    assert len(units) == 3 and "Spillum barnehage" in text and "Namdalen" in text
    assert f"gjennomføres automatisk 1. januar {FUTURE.year}" in text
    assert 'name="bekreft"' in text and 'name="csrf_token"' in text
    assert f'<input type="hidden" name="predecessor_ids" value="{namsos}">' in text
    db.rollback()
    assert namsos_world(db) == before
    assert count(db, ActivityLog) == logged
    assert count(db, PlannedMerger) == 0


def test_a_future_merger_is_planned_and_changes_nothing_today(as_role, browser, db):
    before = namsos_world(db)
    assert matrix_has_row(as_role("participant"), "Namsos")
    plan_namsos(as_role("admin"), db)
    assert namsos_world(db) == before  # still current, with its memberships, services, units and contacts
    assert matrix_has_row(as_role("participant"), "Namsos")  # its column in the competence matrix stays
    coming = f'Slås sammen med <a href="/kommuner/5047">Overhalla</a> fra 1. januar {FUTURE.year}'
    assert coming in page(browser.get("/kommuner/5007"))
    assert f"slås sammen med Overhalla fra 1. januar {FUTURE.year}" in page(browser.get("/kommuner/5047"))
    assert f"fra 1. januar {FUTURE.year}" in page(as_role("admin").get(MERGER_URL))
    assert browser.get("/api/v1/municipalities/5007").get_json()["valid_to"] is None


def test_the_job_carries_out_a_planned_merger_on_its_date_once(app, as_role, db):
    plan_namsos(as_role("admin"), db)
    _, bases, served_by, units, contacts, changes = namsos_world(db)
    assert carry_out(app, oslo_time(FUTURE - timedelta(days=1), 23, 55)).sent == 0  # the evening before
    assert municipality(db, "5007").valid_to is None
    assert carry_out(app, oslo_time(FUTURE, 0, 5)).sent == 1
    assert carry_out(app, oslo_time(FUTURE, 0, 5)).sent == 0  # a second run finds it done
    assert namsos_world(db) == (FUTURE - timedelta(days=1), [], [], [], [], changes + 1)
    overhalla = ids(db, "5047")[0]
    assert set(bases) <= set(db.exec(select(BaseMembership.base_id).where(BaseMembership.municipality_id == overhalla)))
    assert set(units) <= set(db.exec(select(Unit.id).where(Unit.municipality_id == overhalla)))
    assert set(contacts) <= set(db.exec(select(Contact.id).where(Contact.municipality_id == overhalla)))
    assert db.exec(select(PlannedMerger.status)).all() == ["done"]
    assert not matrix_has_row(as_role("participant"), "Namsos")


def test_two_schedulers_with_the_same_merger_in_hand_carry_it_out_once(app, as_role, db):
    """Both read the merger as planned before either writes: the claim lets only the first carry it out."""
    from sqlmodel import Session

    from nettverk.registry.operations import carry_out_merger

    plan_namsos(as_role("admin"), db)
    changes = count(db, MunicipalityChange)
    engine = app.extensions["nettverk.engine"]
    with (
        app.app_context(),
        Session(engine, expire_on_commit=False) as first,
        Session(engine, expire_on_commit=False) as second,
    ):
        in_hand = []
        for session in (first, second):
            in_hand.append(session.exec(select(PlannedMerger)).one())
            session.commit()  # what each read stays in hand; no transaction left open
        assert carry_out_merger(first, in_hand[0]) is True
        first.commit()
        assert carry_out_merger(second, in_hand[1]) is False
        second.commit()
    db.rollback()
    assert count(db, MunicipalityChange) == changes + 1


def test_the_job_runs_from_the_command_line(app, db):
    """A merger whose day has come (planned earlier, as the form cannot plan one for a past day)."""
    namsos, overhalla = ids(db, "5007", "5047")
    merger = PlannedMerger(successor_id=overhalla, effective_date=date.today() - timedelta(days=1))
    db.add(merger)
    db.flush()
    db.add(PlannedMergerPart(merger_id=merger.id, municipality_id=namsos))
    db.commit()
    result = app.test_cli_runner().invoke(args=["scheduler", "run", "mergers"])
    assert result.exit_code == 0, result.output
    assert "sendt/utført 1" in result.output
    assert municipality(db, "5007").valid_to == date.today() - timedelta(days=2)


def test_the_admin_cancels_a_planned_merger_and_nothing_happens_on_its_date(app, as_role, browser, db):
    admin = as_role("admin")
    before = namsos_world(db)
    plan_namsos(admin, db)
    merger_id = db.exec(select(PlannedMerger.id)).one()
    assert redirected(admin.post(MERGER_URL, {"avbryt": merger_id})).endswith(MERGER_URL)
    assert carry_out(app, oslo_time(FUTURE, 0, 5)).sent == 0
    assert namsos_world(db) == before
    assert "Slås sammen med" not in page(browser.get("/kommuner/5007"))
    assert "Ingen sammenslåinger er planlagt." in page(admin.get(MERGER_URL))
    refused(admin.post(MERGER_URL, {"avbryt": merger_id}), 409, "Bare en planlagt sammenslåing")


def test_a_municipality_in_a_planned_merger_cannot_be_merged_again(as_role, db):
    admin = as_role("admin")
    plan_namsos(admin, db)
    before = namsos_world(db), count(db, PlannedMerger)
    namsos, grong = ids(db, "5007", "5045")
    refused(
        merge(admin, [namsos], grong),
        422,
        f"Namsos er med i en planlagt sammenslåing fra 1. januar {FUTURE.year}. Avbryt den først.",
    )
    db.rollback()
    assert (namsos_world(db), count(db, PlannedMerger)) == before


def test_only_the_admin_may_cancel(as_role, db):
    plan_namsos(as_role("admin"), db)
    merger_id = db.exec(select(PlannedMerger.id)).one()
    assert as_role("coordinator").post(MERGER_URL, {"avbryt": merger_id}).status_code == 403
    db.expire_all()
    assert db.get(PlannedMerger, merger_id).status == "planned"


# Activity log -------------------------------------------------------------------------------------


def test_a_change_is_logged_with_its_actor(as_role, db):
    redirected(
        as_role("admin").post(
            "/kommuner/5020/rediger", {"number": "5020", "name": "Osen kommune", "county_id": trondelag(db)}
        )
    )
    db.rollback()
    entry = db.exec(select(ActivityLog).where(ActivityLog.action == "municipality.updated")).one()
    assert (entry.actor_id, entry.object_type, entry.object_id) == (
        user_id(db, "admin"),
        "Municipality",
        ids(db, "5020")[0],
    )
    assert "Osen kommune" in entry.summary


def test_a_contact_change_is_logged_with_the_municipality_contact_as_actor(as_role, db):
    redirected(as_role("municipality_contact").post("/kommuner/5054/kontakter/ny", {"name": "Jon Rissa"}))
    db.rollback()
    entry = db.exec(select(ActivityLog).where(ActivityLog.action == "contact.created")).one()
    assert entry.actor_id == user_id(db, "municipality_contact")
    assert entry.object_id == contact(db, "Jon Rissa").id
