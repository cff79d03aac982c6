"""Referral statistics of a base: the numbers for constructed data (the material's «7 weeks, 18
henvendelser, 7 families (9 children)» too), small counts masked with no recovery by subtraction, the CSV
equal to the page, who may see it, and that it never shows a case reference or a need."""

import csv
import io
import itertools
import random
import re
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser

import factories
import pytest
from factories import base, make_referral, make_tiltak, municipality_id, referral_action
from sqlalchemy import event, update

from nettverk.privacy.masking import HIDDEN, SHOWN, SMALL, THRESHOLD, mask_column
from nettverk.referrals import operations, statistics
from nettverk.referrals.models import Referral, ReferralStatus
from nettverk.referrals.statistics import Period
from nettverk.timeutil import to_oslo, utcnow

NEED = "Foreldrene trenger hjelp med rutiner og samspill i hverdagen"
PAGE = "/kompetansebaser/{slug}/henvendelsesstatistikk"
MATERIAL = Period(date(2026, 1, 5), date(2026, 2, 22))  # seven weeks, Monday to Sunday


# Setting up -----------------------------------------------------------------------------------------


class Clock:
    """operations.utcnow, moved by the test: referrals sent, accepted and started on chosen days."""

    def __init__(self):
        self.now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(operations, "utcnow", lambda: clock.now)
    return clock


class Referrals:
    """Referrals of one sender (a role of conftest.USERS) and service, made by the factories at the clock's time."""

    def __init__(self, db, clock, sender="service_staff_namdal", service="barnevern-midtre-namdal"):
        self.db, self.clock, self.sender, self.service = db, clock, sender, service

    def send(self, tiltak, number, at, case_reference="BV-1", children=1, need=NEED, send=True):
        self.clock.now = at
        return make_referral(
            self.db,
            ReferralStatus.SENT if send else ReferralStatus.DRAFT,
            tiltak=tiltak.slug,
            sender=self.sender,
            sender_service=self.service,
            municipality=number,
            case_reference=case_reference,
            children_count=children,
            child_birth_years=[2016 + n for n in range(children)],
            need=need,
            consent_date=at.date() - timedelta(days=1),
        )

    def act(self, referral, name, at, **fields):
        """The sender takes every step here, the provider's too: the statistics count steps, not who took them."""
        self.clock.now = at
        referral_action(self.db, referral, name, by=self.sender, **fields)

    def accept(self, referral, after_days, start_after_days=None):
        """Received and accepted `after_days` days after it was sent; started later if asked."""
        accepted = referral.sent_at + timedelta(days=after_days)
        self.act(referral, "receive", referral.sent_at + timedelta(hours=1))
        self.act(referral, "accept", accepted)
        if start_after_days is not None:
            self.act(referral, "start", accepted + timedelta(days=start_after_days))


def at(day: date, hour=10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def material_dataset(db, clock):
    """Seven weeks in Namdalen: 18 henvendelser about 7 families with 9 children, from the barneverntjeneste
    in Midtre Namdal to three tiltak. Families 1-4 go to all three tiltak, families 5-7 to two."""
    tiltak = [
        make_tiltak(db, name)
        for name in ("Testtiltak A foreldreveiledning", "Testtiltak B fosterhjem", "Testtiltak C foreldre uten omsorg")
    ]
    families = [  # case reference, municipality, children
        ("BV-2026-001", "5007", 2),
        ("BV-2026-002", "5007", 2),
        ("BV-2026-003", "5007", 1),
        ("BV-2026-004", "5047", 1),
        ("BV-2026-005", "5047", 1),
        ("BV-2026-006", "5049", 1),
        ("BV-2026-007", "5046", 1),
    ]
    referrals = Referrals(db, clock)
    made = []
    day = MATERIAL.first
    for n, (reference, number, children) in enumerate(families):
        for target in tiltak[: 3 if n < 4 else 2]:
            made.append(referrals.send(target, number, at(day), reference, children))
            day += timedelta(days=2)
    assert day <= MATERIAL.last + timedelta(days=2)
    return tiltak, made, referrals


# Reading the page -----------------------------------------------------------------------------------


class Tables(HTMLParser):
    """{table id: [[cell text, …] per row]}, and the bar charts {figure: [(label, value, has a bar)]}."""

    def __init__(self, html):
        super().__init__()
        self.tables, self.table, self.row, self.cell = {}, None, None, None
        self.charts, self.chart, self.item, self.spans = {}, None, None, []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id"):
            self.table = self.tables.setdefault(attrs["id"], [])
        elif tag == "tr" and self.table is not None:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
        elif tag == "figure":
            self.chart = self.charts.setdefault(attrs.get("aria-labelledby"), [])
        elif tag == "li" and self.chart is not None:
            self.item = {"bar-label": [], "bar-value": [], "bar": False}
        elif tag == "span" and self.item is not None:
            classes = (attrs.get("class") or "").split()
            self.spans.append(classes)
            self.item["bar"] = self.item["bar"] or "bar" in classes

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.table.append(self.row)
            self.row = None
        elif tag == "table":
            self.table = None
        elif tag == "span" and self.spans:
            self.spans.pop()
        elif tag == "li" and self.item is not None:
            self.chart.append(
                (
                    " ".join("".join(self.item["bar-label"]).split()),
                    "".join(self.item["bar-value"]).strip(),
                    self.item["bar"],
                )
            )
            self.item = None
        elif tag == "figure":
            self.chart = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)
        if self.item is not None:
            for part in ("bar-label", "bar-value"):
                if any(part in classes for classes in self.spans):
                    self.item[part].append(data)


def page_tables(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    parsed = Tables(response.get_data(as_text=True))
    return parsed.tables, parsed.charts


def rows_by_label(table):
    """{row label: {column header: text}} for a parsed table (header row first)."""
    header = table[0]
    return {row[0]: dict(zip(header[1:], row[1:], strict=True)) for row in table[1:]}


def stats_url(slug="namdalen", quarter="2026K1", suffix=""):
    """The page (or CSV) of one quarter; MATERIAL lies in 2026K1."""
    return PAGE.format(slug=slug) + suffix + f"?kvartal={quarter}"


# The numbers ----------------------------------------------------------------------------------------


def test_the_materials_example_seven_weeks_18_referrals_7_families_9_children(db, clock, as_role):
    material_dataset(db, clock)
    stats = statistics.base_statistics(db, base(db, "namdalen"), MATERIAL)
    total = stats.by_municipality.total.counts
    assert (total["referrals"], total["families"], total["children"]) == (18, 7, 9)
    by_name = {row.label: row.counts for row in stats.by_municipality.rows}
    assert (by_name["Namsos"]["referrals"], by_name["Namsos"]["families"], by_name["Namsos"]["children"]) == (9, 3, 5)
    assert (by_name["Overhalla"]["referrals"], by_name["Overhalla"]["families"]) == (5, 2)
    assert (by_name["Flatanger"]["referrals"], by_name["Høylandet"]["referrals"]) == (2, 2)
    by_tiltak = {row.label: row.counts for row in stats.by_intervention.rows}
    assert (
        by_tiltak["Testtiltak C foreldre uten omsorg"]["referrals"],
        by_tiltak["Testtiltak C foreldre uten omsorg"]["families"],
        by_tiltak["Testtiltak C foreldre uten omsorg"]["children"],
    ) == (4, 4, 6)

    tables, _ = page_tables(as_role("coordinator").get(stats_url()))
    municipalities = rows_by_label(tables["kommune-tall"])
    whole = municipalities["Hele basen"]
    assert (whole["Henvendelser"], whole["Familier"], whole["Barn"]) == ("18", "7", "9")
    assert (municipalities["Namsos"]["Familier"], municipalities["Namsos"]["Barn"]) == ("3", "5")
    assert municipalities["Flatanger"]["Henvendelser"] == "<3"
    assert municipalities["Høylandet"]["Henvendelser"] == "<3"
    # Flatanger and Høylandet have 2 each: two "<3" that make 18 − 9 − 5 = 4 would both be 2, so the
    # smallest shown cell (Overhalla's 5) is hidden too.
    assert municipalities["Overhalla"]["Henvendelser"] == "skjult"
    assert municipalities["Namsos"]["Henvendelser"] == "9"
    assert municipalities["Lierne (Lïerne)"]["Henvendelser"] == "0"
    tiltak = rows_by_label(tables["tiltak-tall"])
    assert (tiltak["Hele basen"]["Henvendelser"], tiltak["Hele basen"]["Familier"], tiltak["Hele basen"]["Barn"]) == (
        "18",
        "7",
        "9",
    )
    assert tiltak["Testtiltak A foreldreveiledning"]["Henvendelser"] == "7"


def test_counts_medians_and_statuses_for_a_constructed_dataset(db, clock):
    tiltak = make_tiltak(db, "Testtiltak medianer")
    other_base = make_tiltak(db, "Testtiltak Fosen", base="fosen")
    referrals = Referrals(db, clock)
    first = date(2026, 3, 2)
    period = Period(first, date(2026, 3, 31))
    r = [
        referrals.send(tiltak, "5007", at(first + timedelta(days=n)), f"N-{n}", children)
        for n, children in enumerate((1, 2, 1, 1, 3, 1))
    ]
    referrals.accept(r[0], 2, start_after_days=3)
    referrals.accept(r[1], 4, start_after_days=5)
    referrals.accept(r[2], 9)  # waits
    referrals.act(r[3], "receive", at(first + timedelta(days=4)))
    referrals.act(r[3], "decline", at(first + timedelta(days=5)), reason="Passer ikke for tiltaket")
    referrals.act(r[4], "withdraw", at(first + timedelta(days=6)))
    referrals.act(r[5], "receive", at(first + timedelta(days=6)))
    referrals.act(r[5], "start", at(first + timedelta(days=11)))  # accepted and started in one step: 6 days, 0 days
    overhalla = [referrals.send(tiltak, "5047", at(first + timedelta(days=n)), f"O-{n}") for n in (10, 11)]
    for referral in overhalla:
        referrals.accept(referral, 1)
    # Not counted: a draft, one sent before the period, one to another base's tiltak (Osen is not Namdalen's).
    referrals.send(tiltak, "5007", at(first + timedelta(days=3)), "D-1", send=False)
    referrals.send(tiltak, "5007", at(first - timedelta(days=1)), "B-1")
    Referrals(db, clock, "service_staff", "fosen-barnevern").send(other_base, "5054", at(first), "F-1")

    stats = statistics.base_statistics(db, base(db, "namdalen"), period)
    total = stats.by_municipality.total
    assert total.counts == {
        "referrals": 8,
        "families": 8,
        "children": 11,
        "accepted": 6,
        "declined": 1,
        "withdrawn": 1,
        "waiting": 3,
    }
    assert sorted(total.days_to_accept) == [1, 1, 2, 4, 6, 9]
    assert sorted(total.days_to_start) == [0, 3, 5]
    namsos = next(row for row in stats.by_municipality.rows if row.label == "Namsos")
    assert namsos.counts == {
        "referrals": 6,
        "families": 6,
        "children": 9,
        "accepted": 4,
        "declined": 1,
        "withdrawn": 1,
        "waiting": 1,
    }
    assert statistics.format_days(namsos.days_to_accept) == "5"  # 2, 4, 6, 9
    assert statistics.format_days(total.days_to_accept) == "3"  # 1, 1, 2, 4, 6, 9
    assert statistics.format_days(total.days_to_start) == "3"  # 0, 3, 5
    overhalla_row = next(row for row in stats.by_municipality.rows if row.label == "Overhalla")
    assert statistics.format_days(overhalla_row.days_to_accept) == "–"  # only two
    assert statistics.format_days([1, 2, 5, 6]) == "3,5"
    row = next(row for row in stats.by_intervention.rows if row.label == "Testtiltak medianer")
    assert row.counts["referrals"] == 8
    assert stats.by_intervention.total.counts == total.counts


def test_same_family_referred_to_two_tiltak_is_one_family_with_its_children_once(db, clock):
    a, b = make_tiltak(db, "Testtiltak en"), make_tiltak(db, "Testtiltak to")
    referrals = Referrals(db, clock)
    period = Period(date(2026, 4, 1), date(2026, 4, 30))
    referrals.send(a, "5007", at(date(2026, 4, 2)), "SAK 17", children=3)
    referrals.send(b, "5007", at(date(2026, 4, 3)), "sak 17", children=3)  # the same case, the same family
    referrals.send(b, "5007", at(date(2026, 4, 4)), "SAK 18", children=1)
    referrals.send(b, "5007", at(date(2026, 4, 5)), "", children=2)  # no reference: a family of its own
    stats = statistics.base_statistics(db, base(db, "namdalen"), period)
    total = stats.by_municipality.total.counts
    assert (total["referrals"], total["families"], total["children"]) == (4, 3, 6)
    rows = {row.label: row.counts for row in stats.by_intervention.rows}
    assert (rows["Testtiltak to"]["referrals"], rows["Testtiltak to"]["families"]) == (3, 3)


def test_a_referral_about_a_merged_municipality_counts_under_its_successor(db, clock):
    tiltak = make_tiltak(db, "Testtiltak sammenslåing")
    referrals = Referrals(db, clock)
    made = [referrals.send(tiltak, "5007", at(date(2026, 5, 4) + timedelta(days=n)), f"M-{n}") for n in range(3)]
    # As if it had been sent before Namdalseid became part of Namsos.
    db.execute(
        update(Referral).where(Referral.id == made[0].id).values(family_municipality_id=municipality_id(db, "5040"))
    )
    db.commit()
    stats = statistics.base_statistics(db, base(db, "namdalen"), Period(date(2026, 5, 1), date(2026, 5, 31)))
    namsos = next(row for row in stats.by_municipality.rows if row.label == "Namsos")
    assert namsos.counts["referrals"] == 3
    assert statistics.OTHER_LABEL not in {row.label for row in stats.by_municipality.rows}


def test_statistics_take_a_fixed_number_of_queries(app, db, clock):
    """Whatever the number of referrals: the same queries, grouped in the database."""
    tiltak = make_tiltak(db, "Testtiltak spørringer")
    referrals = Referrals(db, clock)
    base = factories.base(db, "namdalen")
    period = Period(date(2026, 6, 1), date(2026, 6, 30))
    engine = app.extensions["nettverk.engine"]
    counted = []

    def count(*_args):
        counted[-1] += 1

    def queries():
        counted.append(0)
        event.listen(engine, "before_cursor_execute", count)
        try:
            db.expire_all()
            statistics.base_statistics(db, base, period)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return counted[-1]

    referral = referrals.send(tiltak, "5007", at(date(2026, 6, 2)), "Q-0")
    referrals.accept(referral, 2)
    few = queries()
    for n in range(1, 25):
        referral = referrals.send(
            tiltak, ("5007", "5047", "5049")[n % 3], at(date(2026, 6, 2) + timedelta(hours=n)), f"Q-{n}"
        )
        if n % 2:
            referrals.accept(referral, 3, start_after_days=1)
    assert queries() == few <= 10


# Masking --------------------------------------------------------------------------------------------


def _feasible(values, marks, total, total_mark, bound):
    """Every assignment of the masked cells consistent with what is shown: "<3" is 1 or 2, "skjult" is
    at least 3 (up to `bound`), shown cells are exact, and the cells add up to the total when it is shown
    (to 1 or 2 when it is "<3")."""
    options = [
        [v] if m == SHOWN else ([1, 2] if m == SMALL else range(3, bound + 1))
        for v, m in zip(values, marks, strict=True)
    ]
    for combination in itertools.product(*options):
        if total_mark == SHOWN and sum(combination) != total:
            continue
        if total_mark == SMALL and sum(combination) not in (1, 2):
            continue
        yield combination


def _recoverable(values, marks, total, total_mark):
    """The masked "<3" cells whose exact value can be worked out from the rest."""
    seen = [set() for _ in values]
    bound = total if total_mark == SHOWN else total + 3
    for combination in _feasible(values, marks, total, total_mark, bound):
        for i, value in enumerate(combination):
            seen[i].add(value)
    return [i for i, mark in enumerate(marks) if mark == SMALL and len(seen[i]) < 2]


@pytest.mark.parametrize(
    ("values", "expected", "total_mark"),
    [
        ([0, 4, 7], [SHOWN, SHOWN, SHOWN], SHOWN),  # nothing small
        ([1, 5, 0], [SMALL, HIDDEN, SHOWN], SHOWN),  # one "<3" under a shown total: a second cell is hidden
        ([1, 2, 9], [SMALL, SMALL, SHOWN], SHOWN),  # 12 − 9 = 3 is 1 + 2 or 2 + 1: safe
        ([2, 2, 9], [SMALL, SMALL, HIDDEN], SHOWN),  # 13 − 9 = 4 would be 2 + 2
        ([1, 1, 4, 6], [SMALL, SMALL, HIDDEN, SHOWN], SHOWN),  # 12 − 4 − 6 = 2 would be 1 + 1; hiding 4 is enough
        ([1, 3, 8], [SMALL, HIDDEN, HIDDEN], SHOWN),  # hiding 3 is not enough (1 + 3 = 4 is the least)
        ([2], [SMALL], SMALL),  # the total is "<3" too
        ([1, 3], [SMALL, HIDDEN], HIDDEN),  # nothing left to hide: the total is hidden
        ([1, 1, 1], [SMALL, SMALL, SMALL], HIDDEN),  # three "<3" under a total of 3 are all 1
        ([1, 1], [SMALL, SMALL], HIDDEN),  # two "<3" under a "<3" total are both 1
    ],
)
def test_small_counts_are_masked_and_cannot_be_subtracted_from_the_total(values, expected, total_mark):
    marks, shown_total, _ = mask_column(values, sum(values))
    assert (marks, shown_total) == (expected, total_mark)
    assert _recoverable(values, marks, sum(values), shown_total) == []


def test_no_column_of_small_numbers_lets_a_masked_cell_be_recovered():
    rng = random.Random(20261123)
    for _ in range(300):
        values = [rng.choice([0, 0, 1, 1, 2, 2, 3, 4, 5]) for _ in range(rng.randint(1, 4))]
        marks, total_mark, _ = mask_column(values, sum(values))
        assert all((m == SMALL) == (0 < v < 3) for v, m in zip(values, marks, strict=True)), values
        assert _recoverable(values, marks, sum(values), total_mark) == [], values
        assert total_mark != HIDDEN or not any(m == SHOWN and v >= 3 for v, m in zip(values, marks, strict=True))


def test_a_hidden_total_is_hidden_in_both_tables_with_the_other_tables_cells(db, clock):
    """Three families, one in each of three municipalities, to one tiltak: the per-municipality column
    (three "<3" under a total of 3) can only be protected by hiding the total, and then the per-tiltak
    table must not give it away (its one cell would be the total)."""
    tiltak = make_tiltak(db, "Testtiltak tre kommuner")
    referrals = Referrals(db, clock)
    for n, number in enumerate(("5007", "5047", "5049")):
        referrals.send(tiltak, number, at(date(2026, 7, 6) + timedelta(days=n)), f"T-{n}")
    stats = statistics.base_statistics(db, base(db, "namdalen"), Period(date(2026, 7, 1), date(2026, 7, 31)))
    by_municipality, by_intervention = statistics.mask(stats)
    assert by_municipality.total.cells["referrals"].text == "skjult"
    assert by_intervention.total.cells["referrals"].text == "skjult"
    row = next(row for row in by_intervention.rows if row.label == "Testtiltak tre kommuner")
    assert row.cells["referrals"].text == "skjult"
    assert [r.cells["referrals"].text for r in by_municipality.rows if r.label in ("Namsos", "Overhalla")] == [
        "<3",
        "<3",
    ]


def test_page_and_csv_never_show_1_or_2_and_csv_equals_the_page(db, clock, as_role):
    tiltak, made, referrals = material_dataset(db, clock)
    referrals.accept(made[0], 3, start_after_days=2)
    referrals.accept(made[1], 5)
    browser = as_role("coordinator")
    tables, charts = page_tables(browser.get(stats_url()))
    counts = list(statistics.COUNTS.values())
    for table_id in ("kommune-tall", "tiltak-tall"):
        for label, row in rows_by_label(tables[table_id]).items():
            for column in counts:
                assert row[column] not in ("1", "2"), (table_id, label, column)
    for chart in charts.values():
        for label, value, has_bar in chart:
            assert value not in ("1", "2")
            assert has_bar == (value not in ("<3", "skjult", "0")), (label, value)

    response = browser.get(stats_url(suffix=".csv"))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    assert "henvendelsesstatistikk-namdalen-2026K1.csv" in response.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    header, rows = lines[0], lines[1:]
    assert header[2:] == [*counts, *statistics.MEDIANS.values()]
    page_rows = [["Kommune", *row] for row in tables["kommune-tall"][1:]] + [
        ["Tiltak", *row] for row in tables["tiltak-tall"][1:]
    ]
    assert [row[2:] for row in rows] == [row[2:] for row in page_rows]
    for csv_row, page_row in zip(rows, page_rows, strict=True):
        assert csv_row[0] == page_row[0]
        assert page_row[1].startswith(re.sub(r" \(.*\)$", "", csv_row[1]))
    assert ["Kommune", "Hele basen", "18", "7", "9"] == rows[[r[1] for r in rows].index("Hele basen")][:5]


def test_medians_from_fewer_than_3_referrals_are_not_shown(db, clock, as_role):
    tiltak = make_tiltak(db, "Testtiltak median")
    referrals = Referrals(db, clock)
    made = [referrals.send(tiltak, "5007", at(date(2026, 8, 3) + timedelta(days=n)), f"MD-{n}") for n in range(4)]
    for n, referral in enumerate(made[:2]):
        referrals.accept(referral, 2 + n)
    tables, _ = page_tables(as_role("coordinator").get(stats_url(quarter="2026K3")))
    row = rows_by_label(tables["tiltak-tall"])["Testtiltak median"]
    assert row["Henvendelser"] == "4"
    assert row["Median dager fra sendt til godtatt"] == "–"
    referrals.accept(made[2], 9)
    tables, _ = page_tables(as_role("coordinator").get(stats_url(quarter="2026K3")))
    assert rows_by_label(tables["tiltak-tall"])["Testtiltak median"]["Median dager fra sendt til godtatt"] == "3"


# Differencing: no two allowed queries, and no query on two days --------------------------------------

ADDITIVE = [c for c in statistics.COUNTS if c != "waiting"]  # counted over the days of the period


def masked_cells(by_municipality, by_intervention):
    """{(table, row label, column): text} of the two masked tables."""
    return {
        (kind, f"{row.label} {row.note.lower()}" if row.note else row.label, column): row.cells[column].text
        for kind, table in (("kommune", by_municipality), ("tiltak", by_intervention))
        for row in [*table.rows, table.total]
        for column in ADDITIVE
    }


def page_cells(response):
    """The same, read from the page."""
    tables, _ = page_tables(response)
    header = list(statistics.COUNTS.values())
    return {
        (kind, label, column): row[header[list(statistics.COUNTS).index(column)]]
        for kind in ("kommune", "tiltak")
        for label, row in rows_by_label(tables[f"{kind}-tall"]).items()
        for column in ADDITIVE
    }


def revealed(queries):
    """What pairs of queries give away: for periods A inside B (both shown exactly, row by row), B − A is the
    exact count of the days of B outside A; a difference of 1 or 2 is a small count that no page may show."""
    found = []
    for (a, cells_a), (b, cells_b) in itertools.permutations(queries, 2):
        if b.first <= a.first and a.last <= b.last and a != b:
            for key, text_a in cells_a.items():
                text_b = cells_b.get(key, "0")
                if text_a.isdigit() and text_b.isdigit() and 0 < int(text_b) - int(text_a) < THRESHOLD:
                    found.append((key, a, b, int(text_b) - int(text_a)))
    return found


def test_no_pair_of_allowed_queries_reveals_a_masked_cell(db, clock, as_role):
    """Referrals over seven quarters in three municipalities to two tiltak. The queries the page allows are
    the quarters that have ended (nothing else answers 200); they do not overlap, so no pair of them is a
    difference of anything, and inside each page no "<3" can be worked out from the totals. The same check
    finds the leak of the issue with the periods of any two days that the page allowed before."""
    rng = random.Random(17)
    tiltak = [make_tiltak(db, "Testtiltak differanse A"), make_tiltak(db, "Testtiltak differanse B")]
    referrals = Referrals(db, clock)
    first, last = statistics.Quarter(2025, 1), statistics.Quarter(2026, 3)
    day, n = first.period.first, 0
    while day <= last.period.last:
        if rng.random() < 0.07:
            referral = referrals.send(
                rng.choice(tiltak), rng.choice(("5007", "5007", "5047", "5049")), at(day), f"D-{n}"
            )
            n += 1
            if rng.random() < 0.5:
                referrals.accept(referral, rng.randint(1, 40))
        day += timedelta(days=1)
    base = factories.base(db, "namdalen")
    browser = as_role("coordinator")
    today = to_oslo(utcnow()).date()

    # The allowed queries over the range: exactly the quarters that have ended.
    allowed, quarter = [], first
    candidates = [statistics.Quarter(year, number) for year in range(2025, today.year + 2) for number in (1, 2, 3, 4)]
    for quarter in candidates:
        status = browser.get(stats_url(quarter=str(quarter))).status_code
        assert status == (200 if quarter.is_complete(today) else 422), quarter
        if first.period.first <= quarter.period.first <= last.period.first:
            allowed.append(quarter)
    assert len(allowed) == 7 and n > 20
    for one_day in (date(2025, 11, 1), date(2025, 11, 16)):  # the two periods
        assert browser.get(PAGE.format(slug="namdalen") + f"?fra={one_day}&til=2026-09-30").status_code == 422

    queries = []
    for quarter in allowed:
        cells = page_cells(browser.get(stats_url(quarter=str(quarter))))
        stats = statistics.base_statistics(db, base, quarter.period)
        assert cells == masked_cells(*statistics.mask(stats))  # the page is the masked table
        for table in (stats.by_municipality, stats.by_intervention):  # nothing to subtract inside one page
            for column in ADDITIVE:
                values = [row.counts[column] for row in table.rows]
                marks, total_mark, _ = mask_column(values, table.total.counts[column])
                assert _recoverable(values, marks, table.total.counts[column], total_mark) == [], (quarter, column)
        queries.append((quarter.period, cells))
    assert any("<3" in cells.values() for _, cells in queries)  # there are masked cells to protect
    for (a, _), (b, _) in itertools.combinations(queries, 2):
        assert a.last < b.first or b.last < a.first  # no two allowed queries overlap
    assert revealed(queries) == []

    # What the page allowed before (any two days): the same check finds small counts by subtraction.
    ends = Period(date(2025, 1, 1), date(2026, 9, 30))
    days = [Period(ends.first + timedelta(days=offset), ends.last) for offset in range(0, 600, 15)]
    before = [(period, masked_cells(*statistics.mask(statistics.base_statistics(db, base, period)))) for period in days]
    assert revealed(before)


def test_a_quarters_numbers_never_change_once_it_is_shown(db, clock, as_role):
    """Statuses are counted as they stood when the quarter ended: what happens later (an acceptance, a
    withdrawal, a start, a new referral) leaves the quarter's page as it was, so watching it tells nothing."""
    tiltak = make_tiltak(db, "Testtiltak fryst")
    referrals = Referrals(db, clock)
    made = [
        referrals.send(tiltak, number, at(date(2026, 6, day)), f"F-{day}")
        for day, number in ((3, "5007"), (10, "5007"), (17, "5007"), (24, "5007"))
    ]
    referrals.accept(made[0], 5)
    browser = as_role("coordinator")
    before = browser.get(stats_url(quarter="2026K2")).get_data(as_text=True)
    assert "Hele basen" in before

    referrals.accept(made[1], 25)  # in July
    referrals.accept(made[3], 20)
    referrals.act(made[0], "start", at(date(2026, 7, 20)))
    referrals.act(made[2], "withdraw", at(date(2026, 7, 21)))
    referrals.send(tiltak, "5047", at(date(2026, 7, 22)), "F-ny")
    after = browser.get(stats_url(quarter="2026K2")).get_data(as_text=True)
    assert page_tables_text(after) == page_tables_text(before)
    row = rows_by_label(Tables(after).tables["tiltak-tall"])["Testtiltak fryst"]
    assert (row["Henvendelser"], row["Godtatt"], row["Trukket tilbake"]) == ("4", "<3", "0")
    assert row["På venteliste ved periodens slutt"] == "<3"  # made[0], accepted in June, started in July


def page_tables_text(html):
    return Tables(html).tables


# The page ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("coordinator", 200),
        ("admin", 200),
        ("coordinator_fosen", 403),
        ("service_staff", 403),
        ("service_leader", 403),
        ("provider", 403),
        ("participant", 403),
        ("municipality_contact", 403),
    ],
)
@pytest.mark.parametrize("suffix", ["", ".csv"])
def test_only_the_bases_coordinators_and_the_admin_see_the_statistics(as_role, role, status, suffix):
    response = as_role(role).get(PAGE.format(slug="namdalen") + suffix)
    assert response.status_code == status


@pytest.mark.parametrize("suffix", ["", ".csv"])
def test_anonymous_visitors_are_sent_to_login(as_role, suffix):
    response = as_role(None).get(PAGE.format(slug="namdalen") + suffix)
    assert response.status_code == 302
    assert "/logg-inn" in response.headers["Location"]


def test_unknown_base_is_404(as_role):
    assert as_role("admin").get(PAGE.format(slug="finnes-ikke")).status_code == 404


def test_the_base_page_links_to_the_statistics_for_its_coordinator_only(as_role):
    link = PAGE.format(slug="namdalen")
    assert link in as_role("coordinator").get("/kompetansebaser/namdalen").get_data(as_text=True)
    assert link not in as_role("coordinator_fosen").get("/kompetansebaser/namdalen").get_data(as_text=True)
    assert link not in as_role("participant").get("/kompetansebaser/namdalen").get_data(as_text=True)


def test_no_content_reaches_the_statistics(db, clock, as_role):
    tiltak, made, referrals = material_dataset(db, clock)
    referrals.act(made[2], "receive", at(date(2026, 2, 1)))
    referrals.act(made[2], "decline", at(date(2026, 2, 2)), reason="Avslagsgrunn som er fritekst")
    for role in ("coordinator", "admin"):
        browser = as_role(role)
        for suffix in ("", ".csv"):
            body = browser.get(stats_url(suffix=suffix)).get_data(as_text=True)
            assert "Hele basen" in body
            for secret in (NEED, "BV-2026-00", "Avslagsgrunn", *(r.public_id for r in made)):
                assert secret not in body, (role, suffix, secret)


def test_the_default_is_the_last_quarter_that_has_ended_and_the_current_one_is_not_shown(db, clock, as_role):
    tiltak = make_tiltak(db, "Testtiltak periode")
    referrals = Referrals(db, clock)
    today = to_oslo(utcnow()).date()
    last = statistics.last_quarter(today)
    for n, day in enumerate((last.period.first, last.period.last, last.previous().period.last, today)):
        referrals.send(tiltak, "5007", at(day, hour=9), f"P-{n}")  # 09:00 UTC is the same day in Oslo
    browser = as_role("coordinator")
    response = browser.get(PAGE.format(slug="namdalen"))
    tables, _ = page_tables(response)
    assert rows_by_label(tables["tiltak-tall"])["Testtiltak periode"]["Henvendelser"] == "<3"
    html = response.get_data(as_text=True)
    assert f'<option value="{last}" selected>{last.label}</option>' in html
    assert f'value="{statistics.Quarter.of(today)}"' not in html  # the quarter under way is not offered
    current = browser.get(PAGE.format(slug="namdalen") + f"?kvartal={statistics.Quarter.of(today)}")
    assert current.status_code == 422 and "er ikke avsluttet ennå" in current.get_data(as_text=True)
    assert browser.get(stats_url(quarter=str(last), suffix=".csv")).status_code == 200


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("kvartal=2026K5", "Skriv kvartalet som år, K og kvartalets nummer, for eksempel 2026K3."),
        ("kvartal=1850K1", "Velg et kvartal mellom år 2000 og 2100."),
        ("kvartal=2099K1", "1. kvartal 2099 er ikke avsluttet ennå."),
        # The old links with any two days are refused with the reason, never quietly turned into a quarter.
        ("fra=2026-11-01&til=2026-12-07", "Statistikken vises bare for hele kvartaler som er avsluttet"),
        ("fra=2026-01-01&til=2026-03-31", "Statistikken vises bare for hele kvartaler som er avsluttet"),
        ("til=2026-06-30", "ikke for valgfrie datoer"),
    ],
)
def test_a_bad_period_is_explained_next_to_the_field(as_role, query, message):
    browser = as_role("coordinator")
    response = browser.get(PAGE.format(slug="namdalen") + "?" + query)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert "Hele basen" not in response.get_data(as_text=True)
    csv_response = browser.get(PAGE.format(slug="namdalen") + ".csv?" + query)
    assert csv_response.status_code == 422 and message in csv_response.get_data(as_text=True)


def test_a_tiltak_name_that_looks_like_a_formula_stays_text_in_the_csv(db, as_role):
    make_tiltak(db, '=HYPERLINK("http://example.invalid")')
    body = as_role("coordinator").get(PAGE.format(slug="namdalen") + ".csv").data.decode("utf-8-sig")
    assert "'=HYPERLINK" in body
