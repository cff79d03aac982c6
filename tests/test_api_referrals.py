"""The catalog and referral API through HTTP: the list is exactly what the pages show, everyone else
gets a 403 problem for the list and a 404 problem for a referral, every read is audited, and
coordinators and the admin never see content. Also the logged-in half of the OpenAPI checks."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from conftest import USERS
from factories import make_material, make_tiltak, service, user
from sqlmodel import select
from test_api import assert_matches, assert_problem, openapi_document
from test_referral_statistics import Clock, Referrals, at

from nettverk.referrals import operations
from nettverk.referrals.models import ReferralAudit

NEED_FOSEN = "Mor ønsker veiledning i grensesetting etter en vanskelig høst"
NEED_NAMDAL = "Fosterforeldrene trenger faste samtaler det første året"
NOT_READERS = ["coordinator", "coordinator_fosen", "admin", "participant", "municipality_contact"]


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(operations, "utcnow", lambda: clock.now)
    return clock


@pytest.fixture
def world(db, clock):
    """Fosen barneverntjeneste refers families to a tiltak in Fosen that Innherred's team delivers (one
    sent, one draft, one in progress, one waiting); Midtre Namdal refers one family to Innherred's team
    and one to a tiltak of its own team."""
    fosen_tiltak = make_tiltak(db, "API-tiltak Fosen", base="fosen", capacity=1)
    namdal_tiltak = make_tiltak(db, "API-tiltak Namdalen")
    own_team = make_tiltak(db, "API-tiltak eget team", provider="barnevern-midtre-namdal")
    fosen = Referrals(db, clock, "service_staff", "fosen-barnevern")
    namdal = Referrals(db, clock)
    day = date(2026, 9, 1)
    r = {
        "sent": fosen.send(fosen_tiltak, "5054", at(day), "FOSEN-2026-1", need=NEED_FOSEN),
        "draft": fosen.send(fosen_tiltak, "5020", at(day), "FOSEN-2026-2", need=NEED_FOSEN, send=False),
        "started": fosen.send(fosen_tiltak, "5054", at(day), "FOSEN-2026-3", children=2, need=NEED_FOSEN),
        "waiting": fosen.send(fosen_tiltak, "5020", at(day), "FOSEN-2026-4", need=NEED_FOSEN),
        "namdal": namdal.send(namdal_tiltak, "5007", at(day), "NAMDAL-2026-1", need=NEED_NAMDAL),
        "own_team": namdal.send(own_team, "5047", at(day), "NAMDAL-2026-2", need=NEED_NAMDAL),
    }
    fosen.accept(r["started"], 2, start_after_days=1)
    fosen.accept(r["waiting"], 3)
    return {"referrals": r, "tiltak": {"fosen": fosen_tiltak, "namdal": namdal_tiltak, "own_team": own_team}}


def public_ids(world, *names):
    return {world["referrals"][name].public_id for name in names}


@pytest.fixture
def login(app, db):
    """login(key) -> a Browser logged in as USERS[key]."""
    from conftest import Browser

    def make(key):
        browser = Browser(app.test_client())
        browser.login(user(db, key).email)
        return browser

    return make


def listed(browser, query=""):
    response = browser.get("/api/v1/referrals" + query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return {item["public_id"]: item for item in response.get_json()["items"]}


def on_the_page(browser) -> set[str]:
    """The referrals the HTML list links to."""
    page = browser.get("/henvendelser").get_data(as_text=True)
    return set(re.findall(r'href="/henvendelser/([A-Za-z0-9_-]{16,})"', page))


def audit_rows(db, action):
    db.expire_all()
    return list(db.exec(select(ReferralAudit).where(ReferralAudit.action == action)))


# The list ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("service_staff", ("sent", "draft", "started", "waiting")),
        ("service_leader", ("sent", "draft", "started", "waiting")),
        ("provider", ("sent", "started", "waiting", "namdal")),  # to the team's tiltak, not the draft
        ("service_staff_namdal", ("namdal", "own_team")),
    ],
)
def test_the_list_is_exactly_what_the_pages_show(world, login, key, expected):
    browser = login(key)
    items = listed(browser)
    assert set(items) == public_ids(world, *expected)
    assert set(items) == on_the_page(browser)


def test_a_provider_team_without_referrals_gets_an_empty_list(world, db, login):
    if "provider_fosen" not in USERS:
        pytest.skip("no provider in another team in the demo data")
    assert listed(login("provider_fosen")) == {}


@pytest.mark.parametrize("key", NOT_READERS)
def test_who_neither_sends_nor_provides_gets_a_403_problem_and_no_content(world, login, key):
    response = login(key).get("/api/v1/referrals")
    body = assert_problem(response, 403)
    assert_matches(openapi_document(login(key)), "/api/v1/referrals", "get", response)
    text = response.get_data(as_text=True)
    assert NEED_FOSEN not in text and "FOSEN-2026" not in text
    assert body["instance"] == "/api/v1/referrals"


def test_anonymous_callers_get_401_problems(world, browser):
    assert_problem(browser.get("/api/v1/referrals"), 401)
    assert_problem(browser.get("/api/v1/interventions"), 401)
    assert_problem(browser.get(f"/api/v1/interventions/{world['tiltak']['fosen'].slug}"), 401)


def test_list_items_carry_content_dates_and_the_callers_actions(world, login):
    sender = listed(login("service_staff"))
    item = sender[world["referrals"]["sent"].public_id]
    assert item["case_reference"] == "FOSEN-2026-1"
    assert item["need"] == NEED_FOSEN
    assert item["status"] == "sent"
    assert item["intervention"]["slug"] == world["tiltak"]["fosen"].slug
    assert item["family_municipality"] == {"number": "5054", "name": "Indre Fosen"}
    assert item["sending_service"]["slug"] == "fosen-barnevern"
    assert item["child_birth_years"] == [2016]
    assert item["sent_at"].startswith("2026-09-01T12:00:00+02:00")
    assert (item["my_sides"], item["allowed_actions"]) == (["sender"], ["withdraw"])
    assert sender[world["referrals"]["draft"].public_id]["allowed_actions"] == ["send", "withdraw"]
    started = sender[world["referrals"]["started"].public_id]
    assert (started["status"], started["children_count"], started["child_birth_years"]) == (
        "in_progress",
        2,
        [2016, 2017],
    )
    assert started["accepted_at"] and started["started_at"]

    provider = listed(login("provider"))
    assert provider[world["referrals"]["sent"].public_id]["allowed_actions"] == ["receive"]
    assert provider[world["referrals"]["started"].public_id]["allowed_actions"] == ["close"]
    assert provider[world["referrals"]["sent"].public_id]["my_sides"] == ["provider"]
    assert provider[world["referrals"]["namdal"].public_id]["need"] == NEED_NAMDAL


def test_the_list_filters_by_status(world, login):
    browser = login("service_staff")
    assert set(listed(browser, "?status=draft")) == public_ids(world, "draft")
    response = browser.get("/api/v1/referrals?status=trolldom")
    assert "Ukjent status «trolldom»" in assert_problem(response, 400)["detail"]
    assert_matches(openapi_document(browser), "/api/v1/referrals", "get", response)


def test_every_listed_referral_is_audited_as_listed(world, db, login):
    listed(login("service_staff"))
    rows = audit_rows(db, "listed")
    per = user(db, "service_staff")
    assert {row.referral_id for row in rows} == {
        world["referrals"][n].id for n in ("sent", "draft", "started", "waiting")
    }
    assert {row.actor_id for row in rows} == {per.id}
    assert {row.actor_service_id for row in rows} == {service(db, "fosen-barnevern").id}
    listed(login("provider"))
    provider_rows = [row for row in audit_rows(db, "listed") if row.actor_id != per.id]
    assert len(provider_rows) == 4
    assert {row.actor_service_id for row in provider_rows} == {service(db, "innherred-barnevern").id}


def test_refused_lists_write_no_audit_rows(world, db, login):
    for key in NOT_READERS:
        login(key).get("/api/v1/referrals")
    assert audit_rows(db, "listed") == []


# One referral -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "status"),
    [
        ("service_staff", 200),
        ("service_leader", 200),
        ("provider", 200),
        ("service_staff_namdal", 404),  # another service's staff
        *((key, 404) for key in NOT_READERS),
    ],
)
def test_a_referral_is_seen_by_its_two_sides_and_is_404_for_everyone_else(world, login, key, status):
    browser = login(key)
    url = f"/api/v1/referrals/{world['referrals']['sent'].public_id}"
    response = browser.get(url)
    document = openapi_document(browser)
    assert_matches(document, "/api/v1/referrals/{public_id}", "get", response)
    text = response.get_data(as_text=True)
    if status == 200:
        assert response.get_json()["need"] == NEED_FOSEN
        return
    unknown = browser.get("/api/v1/referrals/finnes-ikke-i-det-hele-tatt")
    assert_problem(response, 404)
    assert {k: v for k, v in response.get_json().items() if k != "instance"} == {
        k: v for k, v in unknown.get_json().items() if k != "instance"
    }
    assert NEED_FOSEN not in text and "FOSEN-2026" not in text and "Indre Fosen" not in text


def test_a_draft_is_404_for_the_providing_team_and_anonymous(world, login, browser):
    draft = world["referrals"]["draft"].public_id
    assert_problem(login("provider").get(f"/api/v1/referrals/{draft}"), 404)
    assert_problem(browser.get(f"/api/v1/referrals/{draft}"), 404)
    assert login("service_staff").get(f"/api/v1/referrals/{draft}").status_code == 200


def test_the_detail_has_consent_and_history_and_is_audited_as_viewed(world, db, login):
    referral = world["referrals"]["started"]
    body = login("provider").get(f"/api/v1/referrals/{referral.public_id}").get_json()
    assert body["consent"] == {"given": True, "date": "2026-08-31", "form": "skriftlig", "form_label": "Skriftlig"}
    # (The test clock moves the later steps back in time; the draft step keeps the real time.)
    assert sorted(step["to_status"] for step in body["history"]) == sorted(
        ["draft", "sent", "received", "accepted", "in_progress"]
    )
    assert body["case_reference"] == "FOSEN-2026-3"
    rows = audit_rows(db, "viewed")
    assert [(row.referral_id, row.actor_id, row.actor_service_id) for row in rows] == [
        (referral.id, user(db, "provider").id, service(db, "innherred-barnevern").id)
    ]
    login("service_staff_namdal").get(f"/api/v1/referrals/{referral.public_id}")  # refused: not audited
    assert len(audit_rows(db, "viewed")) == 1


def test_erased_content_is_null(world, db, clock, login):
    referral = world["referrals"]["sent"]
    Referrals(db, clock, "service_staff", "fosen-barnevern").act(referral, "withdraw", at(date(2026, 9, 2)))
    operations.erase_expired(db, 12, now=datetime(2027, 10, 1, tzinfo=UTC))
    db.commit()
    body = login("service_staff").get(f"/api/v1/referrals/{referral.public_id}").get_json()
    assert (body["case_reference"], body["need"], body["content_erased"], body["status"]) == (
        None,
        None,
        True,
        "withdrawn",
    )


# The catalog ------------------------------------------------------------------------------------


def test_the_catalog_lists_load_waiting_and_estimated_waiting_weeks(world, login):
    browser = login("participant")
    items = {item["slug"]: item for item in browser.get("/api/v1/interventions").get_json()["items"]}
    fosen = items[world["tiltak"]["fosen"].slug]
    # capacity 1, one family in progress, one waiting: the next waits for both, 2 x 12 weeks
    assert (fosen["capacity"], fosen["load"], fosen["waiting"], fosen["free_places"]) == (1, 1, 1, 0)
    assert fosen["estimated_waiting_weeks"] == 24
    assert fosen["base"] == {"slug": "fosen", "name": "Fosen"}
    assert fosen["provider"]["slug"] == "innherred-barnevern"
    namdal = items[world["tiltak"]["namdal"].slug]
    assert (namdal["load"], namdal["waiting"], namdal["estimated_waiting_weeks"]) == (0, 0, 0)
    assert NEED_FOSEN not in browser.get("/api/v1/interventions").get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "check"),
    [
        ("?base=fosen", lambda item: item["base"]["slug"] == "fosen"),
        ("?method=foreldreveiledning", lambda item: item["method"] == "foreldreveiledning"),
        ("?q=api-tiltak", lambda item: item["name"].startswith("API-tiltak")),
    ],
)
def test_the_catalog_filters(world, login, query, check):
    items = login("service_staff").get("/api/v1/interventions" + query).get_json()["items"]
    assert items and all(check(item) for item in items)
    if query.startswith("?q="):
        assert len(items) == 3


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("?base=finnes-ikke", "Ukjent kompetansebase «finnes-ikke»"),
        ("?method=trolldom", "Ukjent metode «trolldom»"),
        ("?q=" + "x" * 101, "«q» kan ha høyst 100 tegn."),
    ],
)
def test_bad_catalog_filters_are_400_problems(login, query, detail):
    browser = login("participant")
    response = browser.get("/api/v1/interventions" + query)
    assert detail in assert_problem(response, 400)["detail"]
    assert_matches(openapi_document(browser), "/api/v1/interventions", "get", response)


def test_one_tiltak_lists_the_municipalities_that_may_request_it(world, login):
    browser = login("participant")
    body = browser.get(f"/api/v1/interventions/{world['tiltak']['fosen'].slug}").get_json()
    assert {m["number"] for m in body["municipalities"]} == {"5054", "5020", "5058", "5057"}
    assert body["estimated_waiting_weeks"] == 24
    assert_problem(browser.get("/api/v1/interventions/finnes-ikke"), 404)


# The OpenAPI document, logged in --------------------------------------------------------------------


def test_every_operation_that_needs_a_login_answers_200_as_documented(app, db, world, login):
    """The half of test_api.py's checks that needs a login: each such read, by someone who may make it."""
    examples = {
        "/api/v1/materials": ("participant", {}),
        "/api/v1/materials/{material_id}": ("participant", {"material_id": make_material(db, "Lysark").id}),
        "/api/v1/bases/{slug}/competence-matrix": ("participant", {"slug": "fosen"}),
        "/api/v1/interventions": ("participant", {}),
        "/api/v1/interventions/{slug}": ("participant", {"slug": world["tiltak"]["fosen"].slug}),
        "/api/v1/referrals": ("provider", {}),
        "/api/v1/referrals/{public_id}": ("service_staff", {"public_id": world["referrals"]["started"].public_id}),
    }
    document = openapi_document(login("participant"))
    secured = {path for path, item in document["paths"].items() if item.get("get", {}).get("security")}
    assert secured == set(examples), "a read that needs a login needs an example here"
    for path, (key, params) in examples.items():
        response = login(key).get(path.format(**params))
        assert response.status_code == 200, (path, response.get_data(as_text=True))
        assert_matches(document, path, "get", response)


def test_a_wrong_referral_body_does_not_validate(login):
    """The schema check above can fail."""
    from test_api import response_validator

    document = openapi_document(login("participant"))
    validator = response_validator(document, "/api/v1/referrals", "get", "200", "application/json")
    assert not validator.is_valid({"items": [{"public_id": "x", "status": "sent"}]})
    assert not validator.is_valid({"items": [{"public_id": "x", "status": "lost"}]})


def test_times_are_oslo_with_offset(world, login):
    item = listed(login("service_staff"))[world["referrals"]["sent"].public_id]
    parsed = datetime.fromisoformat(item["sent_at"])
    assert parsed.utcoffset() == timedelta(hours=2)  # CEST on 1 September
    assert parsed.astimezone(UTC) == world["referrals"]["sent"].sent_at
