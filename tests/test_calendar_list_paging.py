"""The region calendar's list view in pages (issue 8: nationally the next year holds ~1,000 events)."""

from factories import make_event

from nettverk.events import planning


def test_the_list_shows_a_page_at_a_time_with_links_that_keep_the_filters(db, browser, monkeypatch):
    monkeypatch.setattr(planning, "LIST_PER_PAGE", 2)
    for n, days in enumerate((10, 20, 30, 40, 50), start=1):
        make_event(db, f"Fagdag nummer {n}", days=days)

    first = browser.get("/kalender?visning=liste&base=fosen").get_data(as_text=True)
    assert "Fagdag nummer 1" in first and "Fagdag nummer 2" in first and "Fagdag nummer 3" not in first
    assert "Side 1 av 3." in first and "5 i alt, 2 per side" in first
    assert 'href="/kalender?visning=liste&amp;side=2&amp;base=fosen" rel="next"' in first
    assert 'rel="prev"' not in first

    last = browser.get("/kalender?visning=liste&base=fosen&side=3").get_data(as_text=True)
    assert "Fagdag nummer 5" in last and "Fagdag nummer 4" not in last
    assert 'href="/kalender?visning=liste&amp;side=2&amp;base=fosen" rel="prev"' in last and 'rel="next"' not in last

    beyond = browser.get("/kalender?visning=liste&base=fosen&side=9").get_data(as_text=True)
    assert "Fagdag nummer" not in beyond and "Ingen kommende arrangementer" in beyond


def test_a_bad_page_number_gets_a_norwegian_message_and_400(browser):
    response = browser.get("/kalender?visning=liste&side=to")
    assert response.status_code == 400
    assert "Sidetallet må være et helt tall fra 1 og oppover." in response.get_data(as_text=True)
