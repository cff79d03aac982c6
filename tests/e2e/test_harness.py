"""The harness itself: the live server answers in chromium, axe runs and finds what it should, screenshots
are written."""


def test_front_page_in_both_sizes(page_for, check_axe, shot):
    for device in ("desktop", "phone"):
        page = page_for(device)
        page.goto("/")
        assert page.get_by_role("main").is_visible()
        check_axe(page, "forside")
        assert shot(page, "forside").stat().st_size > 1000


def test_axe_finds_a_violation(desktop, run_axe):
    desktop.goto("/")
    desktop.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"data:,\">')")
    assert "image-alt" in [violation["id"] for violation in run_axe(desktop)]
