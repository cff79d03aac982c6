"""The region calendar, the date check and the annual wheel, through HTTP (and planning_warnings directly)."""

import re
from datetime import date, time, timedelta

import pytest
from factories import base, make_event, make_network, municipality
from sqlalchemy import event as sa_event

from nettverk.events import planning_views
from nettverk.events.operations import cancel_event, mark_held
from nettverk.events.planning import planning_warnings
from nettverk.policy import EVERYONE_SEES
from nettverk.registry.models import CompetenceBase
from nettverk.timeutil import format_date, to_oslo, utcnow

# Helpers ------------------------------------------------------------------------------------------


def page(response) -> str:
    return response.get_data(as_text=True)


def cell(html: str, day: date) -> str:
    """The month table's cell of one day."""
    match = re.search(r'<time datetime="' + day.isoformat() + r'"(.*?)</td>', html, re.S)
    assert match, f"no cell for {day}"
    return match.group(1)


def month(browser, value: str, **params) -> str:
    response = browser.get("/kalender", query_string={"maaned": value, **params})
    assert response.status_code == 200, page(response)[-2000:]
    return page(response)


def listing(browser, **params) -> str:
    response = browser.get("/kalender", query_string={"visning": "liste", **params})
    assert response.status_code == 200, page(response)[-2000:]
    return page(response)


# Month view ---------------------------------------------------------------------------------------


def test_month_view_shows_published_events_on_their_day_and_drafts_only_to_their_managers(db, browser, as_role):
    make_event(db, "Fagdag om BTI", date(2027, 3, 10))
    make_event(db, "Hemmelig utkast", date(2027, 3, 12), publish=False)

    html = month(browser, "2027-03")
    assert "Fagdag om BTI" in cell(html, date(2027, 3, 10))
    assert "Fagdag om BTI" not in cell(html, date(2027, 3, 11))
    assert "Hemmelig utkast" not in html
    # a real table: weekday column headers, Monday first
    headers = re.findall(r'<th scope="col">(\w+)</th>', html)
    assert headers[:7] == ["Mandag", "Tirsdag", "Onsdag", "Torsdag", "Fredag", "Lørdag", "Søndag"]
    assert "Mars 2027" in html

    fosen = month(as_role("coordinator_fosen"), "2027-03")
    assert "Hemmelig utkast" in cell(fosen, date(2027, 3, 12)) and "Utkast" in cell(fosen, date(2027, 3, 12))
    assert "Hemmelig utkast" in month(as_role("admin"), "2027-03")
    assert "Hemmelig utkast" not in month(as_role("coordinator"), "2027-03")  # Namdalen's coordinator
    assert "Hemmelig utkast" not in month(as_role("participant"), "2027-03")


def test_draft_network_meeting_is_shown_to_the_coordinators_of_the_networks_bases(db, as_role):
    network = make_network(db, "Testnettverk Fosen")
    make_event(
        db,
        "Nettverksmøte vår",
        date(2027, 3, 9),
        base=None,
        network_id=network.id,
        kind="nettverksmote",
        publish=False,
    )
    assert "Nettverksmøte vår" in month(as_role("coordinator_fosen"), "2027-03")
    assert "Nettverksmøte vår" not in month(as_role("coordinator"), "2027-03")
    assert "Nettverksmøte vår" not in month(as_role(None), "2027-03")


def test_month_navigation_keeps_filters(browser):
    html = month(browser, "2027-01", base="fosen")
    assert "/kalender?maaned=2026-12&amp;base=fosen" in html
    assert "/kalender?maaned=2027-02&amp;base=fosen" in html
    assert "Januar 2027" in html


def test_multi_day_and_all_day_events_appear_on_every_day_they_cover(db, browser):
    make_event(
        db,
        "Samling over månedsskiftet",
        date(2027, 3, 30),
        end_date=date(2027, 4, 2),
        start_time=time(10),
        end_time=time(14),
        kind="samling",
    )
    make_event(db, "Heldagskurs", date(2027, 5, 5), end_date=date(2027, 5, 6), all_day=True, kind="kurs")

    march = month(browser, "2027-03")
    assert "Samling over månedsskiftet" not in cell(march, date(2027, 3, 29))
    assert "fra 10.00" in cell(march, date(2027, 3, 30))
    assert "Samling over månedsskiftet" in cell(march, date(2027, 3, 31))
    april = month(browser, "2027-04")
    for day in (date(2027, 3, 30), date(2027, 3, 31), date(2027, 4, 1), date(2027, 4, 2)):
        assert "Samling over månedsskiftet" in cell(april, day)
    assert "til 14.00" in cell(april, date(2027, 4, 2))
    assert "Samling over månedsskiftet" not in cell(april, date(2027, 4, 3))

    may = month(browser, "2027-05")
    assert "Heldagskurs" in cell(may, date(2027, 5, 5)) and "hele dagen" in cell(may, date(2027, 5, 5))
    assert "Heldagskurs" in cell(may, date(2027, 5, 6))
    # ends_at is the exclusive midnight after the last day: not on the 7th
    assert "Heldagskurs" not in cell(may, date(2027, 5, 7))


def test_times_are_shown_in_oslo_time_in_winter_summer_and_on_dst_days(db, browser):
    make_event(db, "Vintermøte", date(2027, 1, 12), end_time=time(11))
    make_event(db, "Sommermøte", date(2027, 6, 15), end_time=time(11))
    make_event(db, "Sommertid begynner", date(2027, 3, 28), end_time=time(11))
    make_event(db, "Heldag på sommertidsdagen", date(2027, 3, 28), all_day=True)
    make_event(db, "Vintertid begynner", date(2027, 10, 31), end_time=time(11))

    january = cell(month(browser, "2027-01"), date(2027, 1, 12))
    assert "09.00–11.00" in january and "08.00" not in january  # stored as 08.00 UTC
    june = cell(month(browser, "2027-06"), date(2027, 6, 15))
    assert "09.00–11.00" in june and "07.00" not in june  # stored as 07.00 UTC
    march = month(browser, "2027-03")
    assert "09.00–11.00" in cell(march, date(2027, 3, 28))
    assert "Heldag på sommertidsdagen" in cell(march, date(2027, 3, 28))
    assert "Heldag på sommertidsdagen" not in cell(march, date(2027, 3, 27))
    assert "Heldag på sommertidsdagen" not in cell(march, date(2027, 3, 29))
    assert "09.00–11.00" in cell(month(browser, "2027-10"), date(2027, 10, 31))


def test_cancelled_events_are_struck_through_and_held_events_shown(db, browser):
    cancelled = make_event(db, "Avlyst fagdag", date(2027, 3, 16))
    cancel_event(db, None, cancelled, "Sykdom")
    today = to_oslo(utcnow()).date()
    held = make_event(db, "Fagdag som er holdt", today - timedelta(days=2))
    mark_held(db, None, held)
    db.commit()

    march = cell(month(browser, "2027-03"), date(2027, 3, 16))
    assert "<s>Avlyst fagdag</s>" in march and "Avlyst</strong>" in march
    this_month = month(browser, f"{today - timedelta(days=2):%Y-%m}")
    assert "Fagdag som er holdt" in cell(this_month, today - timedelta(days=2))
    assert "Gjennomført" in cell(this_month, today - timedelta(days=2))


def test_empty_month_says_so(browser):
    assert "Ingen arrangementer i januar 2031." in month(browser, "2031-01")


def test_new_event_link_only_for_coordinators(as_role):
    assert "Nytt arrangement" not in month(as_role(None), "2027-03")
    assert "Nytt arrangement" not in month(as_role("participant"), "2027-03")
    assert 'href="/arrangementer/nytt"' in month(as_role("coordinator"), "2027-03")
    assert 'href="/arrangementer/nytt?base=fosen"' in month(as_role("coordinator_fosen"), "2027-03", base="fosen")


# Filters ------------------------------------------------------------------------------------------


def test_filters_by_base_network_kind_and_municipality_with_its_predecessors(db, browser):
    namsos, indre_fosen = municipality(db, "5007"), municipality(db, "5054")
    namdalseid = municipality(db, "5040")  # merged into Namsos in 2020
    assert namdalseid.valid_to is not None
    network = make_network(db, "Testnettverk Fosen")
    make_event(db, "Fosens fagdag", date(2027, 3, 3), host_municipality_id=indre_fosen.id)
    make_event(db, "Namdalens kurs", date(2027, 3, 4), base="namdalen", kind="kurs", host_municipality_id=namsos.id)
    make_event(
        db,
        "Gammel Namdalseid-samling",
        date(2027, 3, 5),
        base="namdalen",
        kind="samling",
        host_municipality_id=namdalseid.id,
    )
    make_event(db, "Nettverksmøtet", date(2027, 3, 9), base=None, network_id=network.id, kind="nettverksmote")
    titles = ("Fosens fagdag", "Namdalens kurs", "Gammel Namdalseid-samling", "Nettverksmøtet")

    def shown(**params):
        html = month(browser, "2027-03", **params)
        return {title for title in titles if title in html}

    assert shown() == set(titles)
    # a base's calendar includes the meetings of its networks
    assert shown(base="fosen") == {"Fosens fagdag", "Nettverksmøtet"}
    assert shown(base="namdalen") == {"Namdalens kurs", "Gammel Namdalseid-samling"}
    assert shown(nettverk=network.slug) == {"Nettverksmøtet"}
    assert shown(type="kurs") == {"Namdalens kurs"}
    assert shown(kommune="5007") == {"Namdalens kurs", "Gammel Namdalseid-samling"}
    assert shown(kommune="5054") == {"Fosens fagdag"}
    assert shown(base="namdalen", type="samling") == {"Gammel Namdalseid-samling"}
    # the chosen filter stays selected in the form
    assert '<option value="5007" selected>' in month(browser, "2027-03", kommune="5007")


def test_list_view_groups_upcoming_events_by_month(db, browser):
    today = to_oslo(utcnow()).date()
    soon, later = today + timedelta(days=3), today + timedelta(days=70)
    make_event(db, "Snart fagdag", soon, venue_municipality_id=municipality(db, "5054").id)
    make_event(db, "Senere kurs", later, kind="kurs", base="namdalen")
    make_event(db, "Utkast i lista", soon, publish=False)
    make_event(db, "Forbi", today - timedelta(days=5))

    html = listing(browser)
    assert "Snart fagdag" in html and "Senere kurs" in html
    assert "Utkast i lista" not in html and "Forbi" not in html
    assert format_date(soon) in html and format_date(later) in html
    assert "Kurs/opplæring" in html and "Indre Fosen" in html and "Namdalen" in html
    month_names = re.findall(r'<h3 id="maaned-(\d{4}-\d{2})">', html)
    assert month_names[0] == f"{soon:%Y-%m}" and month_names[-1] == f"{later:%Y-%m}"
    assert html.index("Snart fagdag") < html.index("Senere kurs")

    assert "Senere kurs" not in listing(browser, base="fosen")
    assert "Ingen kommende arrangementer som passer filtrene." in listing(browser, base="fjellregionen", type="samling")


# Planning warnings --------------------------------------------------------------------------------


def test_planning_warnings_name_holidays_weekends_and_the_bases_own_events(db):
    fosen, namdalen = base(db, "fosen").id, base(db, "namdalen").id
    assert planning_warnings(db, date(2028, 5, 17), set()) == ["Onsdag 17. mai er Grunnlovsdag, en offentlig fridag."]
    assert planning_warnings(db, date(2027, 5, 17), set()) == [
        "Mandag 17. mai er Andre pinsedag og Grunnlovsdag, en offentlig fridag."
    ]
    assert planning_warnings(db, date(2027, 12, 25), set()) == [
        "Lørdag 25. desember er Første juledag, en offentlig fridag.",
        "Lørdag 25. desember er en helgedag.",
    ]
    # Sundays are not holidays in themselves (the library counts them unless told not to), but weekend days
    assert planning_warnings(db, date(2027, 5, 9), set()) == ["Søndag 9. mai er en helgedag."]
    assert planning_warnings(db, date(2027, 3, 13), set()) == ["Lørdag 13. mars er en helgedag."]
    sunday_holiday = planning_warnings(db, date(2026, 5, 17), set())
    assert sunday_holiday == ["Søndag 17. mai er Grunnlovsdag, en offentlig fridag.", "Søndag 17. mai er en helgedag."]
    assert planning_warnings(db, date(2027, 3, 10), {fosen}) == []

    event = make_event(db, "Fagdag om BTI", date(2027, 3, 10))
    warnings = planning_warnings(db, date(2027, 3, 10), {fosen})
    assert warnings == ["Fosen har allerede «Fagdag om BTI» denne dagen (09.00–15.00)."]
    assert planning_warnings(db, date(2027, 3, 10), {namdalen}) == []
    assert planning_warnings(db, date(2027, 3, 10), {fosen}, exclude_event_id=event.id) == []

    network = make_network(db, "Testnettverk Fosen")
    make_event(
        db,
        "Nettverksmøte",
        date(2027, 3, 11),
        base=None,
        network_id=network.id,
        publish=False,
        kind="nettverksmote",
    )
    assert planning_warnings(db, date(2027, 3, 11), {fosen}) == [
        "Testnettverk Fosen har allerede «Nettverksmøte» denne dagen (09.00–15.00, utkast)."
    ]
    assert planning_warnings(db, date(2027, 3, 11), {fosen}, visible=EVERYONE_SEES) == []

    cancel_event(db, None, event)
    db.commit()
    assert planning_warnings(db, date(2027, 3, 10), {fosen}) == []


def test_date_check_page(db, as_role):
    make_event(db, "Fagdag om BTI", date(2027, 3, 10))
    make_event(db, "Planlagt utkast", date(2027, 3, 17), publish=False)
    anonymous = as_role(None)

    assert anonymous.get("/kalender/sjekk-dato").status_code == 200
    html = page(anonymous.get("/kalender/sjekk-dato?dato=2028-05-17"))
    assert "Onsdag 17. mai er Grunnlovsdag" in html
    html = page(anonymous.get("/kalender/sjekk-dato?dato=2027-03-10&base=fosen"))
    assert "Fosen har allerede «Fagdag om BTI» denne dagen" in html
    html = page(anonymous.get("/kalender/sjekk-dato?dato=2027-03-09&base=fosen"))
    assert "Ingen varsler" in html
    # a draft is named only to those who may see it
    draft_day = "/kalender/sjekk-dato?dato=2027-03-17&base=fosen"
    assert "Planlagt utkast" not in page(anonymous.get(draft_day))
    assert "Planlagt utkast" in page(as_role("coordinator_fosen").get(draft_day))
    assert "Planlagt utkast" not in page(as_role("coordinator").get(draft_day))


# Annual wheel -------------------------------------------------------------------------------------


def test_annual_wheel_lists_twelve_months_with_events_and_network_meetings(db, browser, as_role, monkeypatch):
    monkeypatch.setattr(planning_views, "_today", lambda: date(2027, 1, 15))  # every meeting of 2027 is ahead
    db.add(CompetenceBase(slug="testbasen", name="Testbasen"))
    db.commit()
    network = make_network(db, "Testnettverket", bases=["testbasen"], cadence="FREQ=YEARLY;BYMONTH=3,10;BYDAY=2TU")
    make_event(db, "Vårens fagdag", date(2027, 4, 20), base="testbasen")
    # the March occurrence (9 March) was moved to the 11th; it still stands for its series date
    make_event(
        db,
        "Nettverksmøte i mars",
        date(2027, 3, 11),
        base=None,
        network_id=network.id,
        kind="nettverksmote",
        series_date=date(2027, 3, 9),
    )
    make_event(db, "Utkast til høstsamling", date(2027, 9, 1), base="testbasen", publish=False, kind="samling")
    make_event(db, "Fosens fagdag", date(2027, 5, 5))
    make_event(db, "Fjorårets fagdag", date(2026, 4, 20), base="testbasen")

    response = browser.get("/kompetansebaser/testbasen/arshjul?ar=2027")
    assert response.status_code == 200
    html = page(response)
    months = re.findall(r'<h2 id="maaned-\d+">(\w+)</h2>', html)
    assert months == [
        "Januar",
        "Februar",
        "Mars",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Desember",
    ]
    assert html.count("Ingen samlinger") == 9  # all but March, April and October

    def section(number: int) -> str:
        return html[html.index(f'id="maaned-{number}"') : html.index(f'id="maaned-{number + 1}"')]

    assert "Vårens fagdag" in section(4) and "Fagdag" in section(4)
    assert "Nettverksmøte i mars" in section(3) and "Testnettverket (fast møte)" in section(3)
    assert "ikke opprettet" not in section(3)  # the occurrence has its event, moved to another day
    assert "Nettverksmøte i Testnettverket" in section(10) and 'datetime="2027-10-12"' in section(10)
    assert "ikke opprettet" in section(10)
    assert "Fosens fagdag" not in html and "Fjorårets fagdag" not in html
    assert "Utkast til høstsamling" not in html
    admin = page(as_role("admin").get("/kompetansebaser/testbasen/arshjul?ar=2027"))
    assert "Utkast til høstsamling" in admin and "Utkast" in admin
    assert "/kompetansebaser/testbasen/arshjul?ar=2026" in html and "/kompetansebaser/testbasen/arshjul?ar=2028" in html


def test_annual_wheel_shows_drafts_to_the_bases_coordinator_only(db, as_role):
    make_event(db, "Fosens utkast", date(2027, 9, 1), publish=False)
    make_event(db, "Fosens fagdag", date(2027, 9, 2))
    url = "/kompetansebaser/fosen/arshjul?ar=2027"
    assert "Fosens utkast" in page(as_role("coordinator_fosen").get(url))
    for role in (None, "participant", "coordinator"):
        html = page(as_role(role).get(url))
        assert "Fosens fagdag" in html and "Fosens utkast" not in html


@pytest.mark.parametrize(
    "today, expected",
    [
        (date(2027, 1, 1), 12),  # the 1st itself is still to come
        (date(2027, 3, 15), 9),  # April to December
        (date(2027, 12, 1), 1),
        (date(2027, 12, 7), 0),  # nothing left this year: the wheel shows the year, no planned meetings
    ],
)
def test_annual_wheel_defaults_to_this_year_and_leaves_out_past_occurrences(db, browser, monkeypatch, today, expected):
    monkeypatch.setattr(planning_views, "_today", lambda: today)
    db.add(CompetenceBase(slug="testbasen", name="Testbasen"))
    db.commit()
    make_network(db, "Testnettverket", bases=["testbasen"], cadence="FREQ=MONTHLY;BYMONTHDAY=1")
    html = page(browser.get("/kompetansebaser/testbasen/arshjul"))
    assert f"Årshjul {today.year} for Testbasen" in html
    planned = re.findall(r'<time datetime="(\d{4}-\d{2}-\d{2})">', html)
    assert all(date.fromisoformat(day) >= today for day in planned)
    assert len(planned) == expected


def test_annual_wheel_of_unknown_base_is_404(browser):
    assert browser.get("/kompetansebaser/finnes-ikke/arshjul").status_code == 404


# Bad input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, message",
    [
        ("/kalender?maaned=xyz", "Måneden må skrives som år og måned"),
        ("/kalender?maaned=2027-13", "Måneden må skrives som år og måned"),
        ("/kalender?maaned=99999-01", "Måneden må skrives som år og måned"),
        ("/kalender?visning=uke", "Velg visning måned eller liste."),
        ("/kalender?base=finnes-ikke", "Vi fant ikke den kompetansebasen."),
        ("/kalender?nettverk=finnes-ikke", "Vi fant ikke det nettverket."),
        ("/kalender?type=fest", "Velg en type arrangement fra listen."),
        ("/kalender?kommune=9999", "Vi fant ingen kommune med det kommunenummeret."),
        ("/kalender/sjekk-dato?dato=2027-02-30", "Datoen må skrives som år-måned-dag"),
        ("/kalender/sjekk-dato?dato=1200-01-01", "Velg en dato mellom 1. januar 2000 og"),
        ("/kalender/sjekk-dato?dato=2027-03-10&base=finnes-ikke", "Vi fant ikke den kompetansebasen."),
        ("/kompetansebaser/fosen/arshjul?ar=abc", "Året må være et årstall mellom 2000 og"),
        ("/kompetansebaser/fosen/arshjul?ar=99999", "Året må være et årstall mellom 2000 og"),
    ],
)
def test_bad_parameters_get_400_with_a_norwegian_message(browser, url, message):
    response = browser.get(url)
    assert response.status_code == 400, page(response)[-2000:]
    assert message in page(response)


# A fixed number of queries per page -----------------------------------------------------------------


def _queries(app, browser, url: str) -> int:
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = app.extensions["nettverk.engine"]
    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        assert browser.get(url).status_code == 200
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def test_pages_use_a_fixed_number_of_queries_whatever_the_number_of_events(app, db, as_role):
    network = make_network(db, "Testnettverk Fosen", cadence="FREQ=YEARLY;BYMONTH=3,10;BYDAY=2TU")
    today = to_oslo(utcnow()).date()
    browser = as_role("coordinator_fosen")
    urls = [
        "/kalender?maaned=2027-03",
        "/kalender?maaned=2027-03&kommune=5007",
        "/kalender?visning=liste",
        "/kompetansebaser/fosen/arshjul?ar=2027",
    ]
    make_event(db, "Første", date(2027, 3, 2), venue_municipality_id=municipality(db, "5054").id)
    make_event(db, "Første i lista", today + timedelta(days=2))
    before = [_queries(app, browser, url) for url in urls]
    for n in range(12):
        make_event(
            db,
            f"Fagdag {n}",
            date(2027, 3, 3 + n),
            publish=n % 2 == 0,
            venue_municipality_id=municipality(db, "5007").id,
            host_municipality_id=municipality(db, "5040").id,
        )
        make_event(db, f"Møte {n}", date(2027, 3, 3 + n), base=None, network_id=network.id, kind="nettverksmote")
        make_event(db, f"Kommende {n}", today + timedelta(days=3 + n))
    after = [_queries(app, browser, url) for url in urls]
    assert after == before
