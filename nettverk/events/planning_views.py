"""Calendar pages: the region calendar (month and list), a date check for planners, and the annual
wheel (årshjul) of a base. All public; drafts are shown only to those who may manage them."""

import re
from datetime import date

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from nettverk import loaders, policy
from nettverk.db import get_session
from nettverk.events import planning
from nettverk.events.models import EVENT_KINDS
from nettverk.networks.queries import network_by_slug
from nettverk.policy import requires
from nettverk.registry.queries import base_by_slug, municipality_by_number
from nettverk.timeutil import EARLIEST_DAY, check_day, latest_day, parse_day, to_oslo, utcnow

bp = Blueprint("calendar", __name__)

MONTH_PATTERN = re.compile(r"(\d{4})-(\d{1,2})")
FILTER_ARGS = ("base", "nettverk", "type", "kommune")


def _today() -> date:
    return to_oslo(utcnow()).date()


def _parse_month(value: str | None) -> date:
    if not value:
        return _today().replace(day=1)
    match = MONTH_PATTERN.fullmatch(value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or not 1 <= int(match.group(1)):
        raise ValueError(f"Måneden må skrives som år og måned, for eksempel {_today():%Y-%m}.")
    first = date(int(match.group(1)), int(match.group(2)), 1)
    return check_day(first, EARLIEST_DAY, latest_day().replace(day=1))  # the window of every date (timeutil)


def _parse_year(value: str | None) -> int:
    if not value:
        return _today().year
    value = value.strip()
    first, last = _years()
    if not value.isdigit() or not first <= int(value) <= last:
        raise ValueError(f"Året må være et årstall mellom {first} og {last}, for eksempel {_today().year}.")
    return int(value)


def _years() -> tuple[int, int]:
    """The years of the window of every date (timeutil.check_day)."""
    return EARLIEST_DAY.year, latest_day().year


def _filters(session, errors: dict[str, str]) -> planning.Filters:
    """The filter form's values; an unknown value gets a message beside its field."""
    filters = planning.Filters()
    args = request.args
    if slug := args.get("base", "").strip():
        filters.base = base_by_slug(session, slug)
        if filters.base is None:
            errors["base"] = "Vi fant ikke den kompetansebasen. Velg en fra listen."
    if slug := args.get("nettverk", "").strip():
        filters.network = network_by_slug(session, slug)
        if filters.network is None:
            errors["nettverk"] = "Vi fant ikke det nettverket. Velg et fra listen."
    if kind := args.get("type", "").strip():
        if kind in EVENT_KINDS:
            filters.kind = kind
        else:
            errors["type"] = "Velg en type arrangement fra listen."
    if number := args.get("kommune", "").strip():
        municipality = municipality_by_number(session, number)
        if municipality is None:
            errors["kommune"] = "Vi fant ingen kommune med det kommunenummeret. Velg en fra listen."
        else:
            planning.with_municipality(session, filters, municipality)
    return filters


@bp.get("/kalender")
@requires("public")
def region_calendar():
    session = get_session()
    errors: dict[str, str] = {}
    view = request.args.get("visning", "maaned")
    if view not in ("maaned", "liste"):
        errors["visning"] = "Velg visning måned eller liste."
        view = "maaned"
    first = _today().replace(day=1)
    if view == "maaned":  # the list always starts today
        try:
            first = _parse_month(request.args.get("maaned"))
        except ValueError as error:
            errors["maaned"] = str(error)
    page = 1
    if view == "liste":
        page_text = request.args.get("side", "1").strip() or "1"
        if page_text.isdigit() and 0 < int(page_text) < 100_000:
            page = int(page_text)
        else:
            errors["side"] = "Sidetallet må være et helt tall fra 1 og oppover."
    filters = _filters(session, errors)
    month = listing = None
    if not errors:
        if view == "liste":
            listing = planning.upcoming(session, utcnow(), policy.visible_events(current_user), filters, page=page)
        else:
            month = planning.month_view(session, first, policy.visible_events(current_user), filters)
    # The filters to keep in the links to other months and views.
    query = {
        name: request.args[name].strip()
        for name in FILTER_ARGS
        if request.args.get(name, "").strip() and name not in errors
    }
    html = render_template(
        "calendar/region.html",
        view=view,
        first=first,
        month=month,
        listing=listing,
        groups=listing.groups if listing else None,
        LIST_PER_PAGE=planning.LIST_PER_PAGE,
        filters=filters,
        choices=planning.filter_choices(session),
        errors=errors,
        today=_today(),
        args=request.args,
        query=query,
    )
    return html, 400 if errors else 200


@bp.get("/kalender/sjekk-dato")
@requires("public")
def check_date():
    session = get_session()
    errors: dict[str, str] = {}
    day = base = None
    warnings = None
    if value := request.args.get("dato", "").strip():
        try:
            day = parse_day(value)
        except ValueError as error:
            errors["dato"] = str(error)
    if slug := request.args.get("base", "").strip():
        base = base_by_slug(session, slug)
        if base is None:
            errors["base"] = "Vi fant ikke den kompetansebasen. Velg en fra listen."
    if day is not None and not errors:
        # Draft titles are named only to those who may see the drafts.
        warnings = planning.planning_warnings(
            session, day, {base.id} if base else set(), visible=policy.visible_events(current_user)
        )
    page = render_template(
        "calendar/check_date.html",
        day=day,
        base=base,
        warnings=warnings,
        errors=errors,
        value=value,
        choices=planning.filter_choices(session),
    )
    return page, 400 if errors else 200


@bp.get("/kompetansebaser/<slug>/arshjul")
@requires("public", load=loaders.base)
def annual_wheel(base):
    try:
        year = _parse_year(request.args.get("ar"))
    except ValueError as error:
        abort(400, str(error))
    wheel = planning.annual_wheel(get_session(), base, year, policy.visible_events(current_user), today=_today())
    return render_template(
        "calendar/annual_wheel.html", wheel=wheel, base=base, year=year, first_year=_years()[0], last_year=_years()[1]
    )
