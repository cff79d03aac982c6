"""Seeding: the facts of Trøndelag, idempotent runs, edits that survive, and no demo data in production."""

from datetime import date, timedelta

import pytest
from factories import municipality
from sqlmodel import SQLModel, func, select

from nettverk import create_app
from nettverk.config import DEV_SECRET, ConfigError
from nettverk.db import get_session
from nettverk.registry.models import BaseMembership, CompetenceBase, Contact, County, Municipality, MunicipalityChange
from nettverk.seeding import load_demo, seed_reference

# Trøndelag's municipalities since 2020, the source facts of seeds/reference.json (docs/ARCHITECTURE.md §1).
CURRENT_TRONDELAG = {
    "5001": "Trondheim",
    "5006": "Steinkjer",
    "5007": "Namsos",
    "5014": "Frøya",
    "5020": "Osen",
    "5021": "Oppdal",
    "5022": "Rennebu",
    "5025": "Røros",
    "5026": "Holtålen",
    "5027": "Midtre Gauldal",
    "5028": "Melhus",
    "5029": "Skaun",
    "5031": "Malvik",
    "5032": "Selbu",
    "5033": "Tydal",
    "5034": "Meråker",
    "5035": "Stjørdal",
    "5036": "Frosta",
    "5037": "Levanger",
    "5038": "Verdal",
    "5041": "Snåsa",
    "5042": "Lierne",
    "5043": "Røyrvik",
    "5044": "Namsskogan",
    "5045": "Grong",
    "5046": "Høylandet",
    "5047": "Overhalla",
    "5049": "Flatanger",
    "5052": "Leka",
    "5053": "Inderøy",
    "5054": "Indre Fosen",
    "5055": "Heim",
    "5056": "Hitra",
    "5057": "Ørland",
    "5058": "Åfjord",
    "5059": "Orkland",
    "5060": "Nærøysund",
    "5061": "Rindal",
}
SAMI_NAMES = {"5025": "Rossen", "5041": "Snåase", "5042": "Lïerne", "5043": "Raarvihke"}
# predecessor -> its successors
MERGED_INTO = {
    "1718": {"5054"},
    "1624": {"5054"},
    "5004": {"5006"},
    "5039": {"5006"},
    "5005": {"5007"},
    "5040": {"5007"},
    "5048": {"5007"},
    "5050": {"5060"},
    "5051": {"5060"},
    "5015": {"5057"},
    "5017": {"5057"},
    "5018": {"5058"},
    "5019": {"5058"},
    "5030": {"5001"},
    "5024": {"5059"},
    "5016": {"5059"},
    "5023": {"5059"},
    "5011": {"5055"},
    "1571": {"5055"},
    "5013": {"5056"},
    "5012": {"5059", "5055", "5056"},
}


def row_counts(db) -> dict[str, int]:
    db.rollback()
    return {
        table.name: db.exec(select(func.count()).select_from(table)).one() for table in SQLModel.metadata.sorted_tables
    }


def reseed(app) -> dict[str, int]:
    """Run both seeders again, as `nettverk seed` and `nettverk demo` would; returns what seed_reference made."""
    with app.app_context():
        session = get_session()
        created = seed_reference(session)
        load_demo(session)
        session.commit()
    return created


def members(db, slug: str) -> set[str]:
    return set(
        db.exec(
            select(Municipality.number).join(BaseMembership).join(CompetenceBase).where(CompetenceBase.slug == slug)
        )
    )


# The reference data -------------------------------------------------------------------------------


def test_the_38_current_trondelag_municipalities_are_seeded(db):
    rows = db.exec(
        select(Municipality.number, Municipality.name)
        .join(County)
        .where(County.number == "50", Municipality.valid_to.is_(None))
    )
    assert dict(rows.all()) == CURRENT_TRONDELAG
    assert len(CURRENT_TRONDELAG) == 38


def test_sami_parallel_names_are_seeded(db):
    rows = db.exec(select(Municipality.number, Municipality.sami_name).where(Municipality.sami_name.is_not(None)))
    assert dict(rows.all()) == SAMI_NAMES


def test_historic_municipalities_have_an_end_and_successors(db):
    edges = db.exec(select(MunicipalityChange))
    merged_into: dict[str, set[str]] = {}
    for change in edges:
        predecessor = db.get(Municipality, change.predecessor_id)
        merged_into.setdefault(predecessor.number, set()).add(db.get(Municipality, change.successor_id).number)
        assert predecessor.valid_to == change.effective_date - timedelta(days=1)
        assert change.partial == (predecessor.number == "5012")  # only Snillfjord was split
    assert merged_into == MERGED_INTO
    ended = set(db.exec(select(Municipality.number).where(Municipality.valid_to.is_not(None))))
    assert ended == set(MERGED_INTO)


def test_indre_fosen_was_formed_in_2018(db):
    assert municipality(db, "1718").valid_to == date(2017, 12, 31)
    assert municipality(db, "1624").valid_to == date(2017, 12, 31)


# Idempotence and edits that survive ---------------------------------------------------------------


def test_seeding_twice_gives_the_same_rows(app, db):
    before = row_counts(db)
    reseed(app)
    assert row_counts(db) == before
    assert before["municipality"] > 0 and before["user_account"] > 0


def test_a_second_seed_creates_nothing(app):
    assert set(reseed(app).values()) == {0}


def test_a_renamed_base_survives_a_reseed(app, as_role, db):
    response = as_role("admin").post("/kompetansebaser/fosen/rediger", {"name": "Fosenbasen", "description": "Ny."})
    assert response.status_code == 302, response.get_data(as_text=True)
    reseed(app)
    db.rollback()
    names = set(db.exec(select(CompetenceBase.name)))
    assert "Fosenbasen" in names
    assert "Fosen" not in names
    assert len(names) == 6


def test_a_removed_membership_survives_a_reseed(app, as_role, db):
    response = as_role("admin").post("/kompetansebaser/fosen/medlemmer/5020/fjern")
    assert response.status_code == 302, response.get_data(as_text=True)
    reseed(app)
    db.rollback()
    assert members(db, "fosen") == {"5054", "5057", "5058"}


def test_a_renamed_municipality_survives_a_reseed(app, as_role, db):
    county_id = db.exec(select(County.id).where(County.number == "50")).one()
    response = as_role("admin").post(
        "/kommuner/5020/rediger", {"number": "5020", "name": "Osen kommune", "county_id": county_id}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    reseed(app)
    db.rollback()
    assert municipality(db, "5020").name == "Osen kommune"


# The demo command and production ------------------------------------------------------------------


def delete_contact(db, name: str) -> None:
    db.delete(db.exec(select(Contact).where(Contact.name == name)).one())
    db.commit()


def contact_exists(db, name: str) -> bool:
    db.rollback()
    return db.exec(select(Contact).where(Contact.name == name)).first() is not None


@pytest.fixture
def production_app(database_url):
    app = create_app(
        env={"NETTVERK_ENV": "production", "NETTVERK_SECRET_KEY": "x" * 40, "NETTVERK_DATABASE_URL": database_url}
    )
    yield app
    app.extensions["nettverk.engine"].dispose()


def test_demo_command_loads_demo_data_outside_production(app, db):
    delete_contact(db, "Guro Sætervik")
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert contact_exists(db, "Guro Sætervik")


def test_demo_command_refuses_in_production(production_app, db):
    delete_contact(db, "Guro Sætervik")
    result = production_app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code != 0
    assert "Demodata lages aldri i produksjon" in result.output
    assert not contact_exists(db, "Guro Sætervik")


@pytest.mark.parametrize("secret", [None, "for-kort", DEV_SECRET])
def test_production_refuses_to_start_without_a_real_secret_key(database_url, secret):
    env = {"NETTVERK_ENV": "production", "NETTVERK_DATABASE_URL": database_url}
    if secret is not None:
        env["NETTVERK_SECRET_KEY"] = secret
    with pytest.raises(ConfigError, match="NETTVERK_SECRET_KEY"):
        create_app(env=env)
