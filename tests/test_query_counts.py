"""The number of SQL statements of each key page does not grow with the data: every page and call of the
benchmark (nettverk/scale/bench.py) is opened on a small and on a larger synthetic dataset, made by the same
generator as the national one, by the same kind of user, and must issue exactly as many statements on both."""

import pytest
from conftest import _empty_all_tables, make_app
from sqlalchemy import func
from sqlmodel import select

from nettverk.competence.models import CompetenceProfile, CompetenceRecord
from nettverk.db import get_session
from nettverk.materials.models import Material
from nettverk.registry.models import BaseMembership, CompetenceBase
from nettverk.scale import bench
from nettverk.scale.national import PASSWORD, SCALES, Scale, generate

SEED = 3
# Two sizes of the same shape; the larger has three to five times the rows of every kind.
SMALL = SCALES["tiny"]
LARGER = Scale(
    municipalities=80,
    counties=5,
    bases=12,
    services=90,
    units=450,
    users=2200,
    years=3,
    events=500,
    registrations=12000,
    referrals=1500,
    competence_records=4000,
    materials=120,
)
PAGES = [name for name, *_ in bench.pages({k: "x" for k in ("base", "coordinator", "event_id", "leader")})]
FEED_ROWS = ("kald", "samme ETag (304), ny arbeider", "samme ETag (304), kjent")
FEEDS = [f"Feed {bench.FEED_NAMES[kind]}, {row}" for kind in bench.FEEDS for row in FEED_ROWS]


def _statements(database_url: str, scale: Scale) -> tuple[dict[str, int], dict]:
    app = make_app(database_url)
    engine = app.extensions["nettverk.engine"]
    _empty_all_tables(engine)
    with app.app_context():
        generate(get_session(), scale, SEED)
    counter = bench.StatementCounter(engine)
    found = bench.targets(app, SEED)
    with app.app_context():  # what the base's matrix and library pages hold
        s = get_session()
        base_id = s.exec(select(CompetenceBase.id).where(CompetenceBase.slug == found["base"])).one()
        found["base_materials"] = s.exec(
            select(func.count()).select_from(Material).where(Material.base_id == base_id)
        ).one()
        found["base_records"] = s.exec(
            select(func.count())
            .select_from(CompetenceRecord)
            .join(CompetenceProfile, CompetenceProfile.user_id == CompetenceRecord.user_id)
            .join(BaseMembership, BaseMembership.municipality_id == CompetenceProfile.municipality_id)
            .where(BaseMembership.base_id == base_id)
        ).one()
    clients = {}

    def client_of(email):
        if email not in clients:
            clients[email] = app.test_client()
            if email:
                bench.login(clients[email], email, PASSWORD)
        return clients[email]

    counts = {}
    for name, email, url, headers in bench.pages(found):
        counts[name] = bench.measure(app, counter, client_of(email), url, headers, runs=1)["statements"]

    for kind, url_of in bench.FEEDS.items():
        for row in bench.feed_rows(app, counter, client_of(None), kind, url_of(found), runs=1):
            counts[row["name"]] = row["statements"]
    engine.dispose()
    return counts, found


@pytest.fixture(scope="module")
def measured(database_url):
    small, small_targets = _statements(database_url, SMALL)
    larger, larger_targets = _statements(database_url, LARGER)
    return small, larger, small_targets, larger_targets


def test_the_larger_dataset_is_larger_where_the_pages_look(measured):
    """The comparison means something only if the larger pages hold more: more referrals of the service,
    more competence records in the base's municipalities (the matrix), more materials in its library."""
    _, _, small_targets, larger_targets = measured
    assert larger_targets["service_referrals"] > 2 * small_targets["service_referrals"]
    assert larger_targets["base_records"] > 2 * small_targets["base_records"]
    assert larger_targets["base_materials"] > 2 * small_targets["base_materials"] > 0


@pytest.mark.parametrize("page", PAGES + FEEDS)
def test_statements_do_not_grow_with_the_data(measured, page):
    small, larger, _, _ = measured
    assert small[page] > 0
    assert larger[page] == small[page], (
        f"{page}: {small[page]} statements on the small dataset, {larger[page]} on the larger"
    )
