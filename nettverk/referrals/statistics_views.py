"""The referral statistics of a base, as a page with charts and tables and as CSV.

Only the base's coordinators and the admin (rule referral.statistics). The page and the file show the
same masked numbers (statistics.mask); neither ever shows a case reference, a need or other free text,
and neither writes referral audit rows: no referral is read, only counts.
"""

from datetime import date

from flask import Blueprint, abort, render_template, request

from nettverk.db import get_session
from nettverk.events.exports import CSV_MIMETYPE, attachment, table_csv
from nettverk.policy import requires
from nettverk.referrals import statistics
from nettverk.referrals.statistics import COUNTS, FIRST_YEAR, LAST_YEAR, MEDIANS, MaskedTable, Period
from nettverk.registry.views import load_base
from nettverk.timeutil import to_oslo, utcnow

bp = Blueprint("referral_statistics", __name__)


def _today() -> date:
    return to_oslo(utcnow()).date()


def _parse_day(value: str, name: str, errors: dict[str, str]) -> date | None:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        errors[name] = "Skriv datoen som år-måned-dag, for eksempel 2026-01-31."
        return None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        errors[name] = f"Velg en dato mellom år {FIRST_YEAR} og {LAST_YEAR}."
        return None
    return day


def _period(errors: dict[str, str]) -> tuple[Period, dict[str, str]]:
    """The period from ?fra=…&til=… (Oslo days, both included); the last 12 months by default.
    Returns the period to show and the values to put back in the form."""
    default = statistics.default_period(_today())
    values = {"fra": request.args.get("fra", "").strip(), "til": request.args.get("til", "").strip()}
    first = _parse_day(values["fra"], "fra", errors) if values["fra"] else default.first
    last = _parse_day(values["til"], "til", errors) if values["til"] else default.last
    if first and last and last < first:
        errors["til"] = "Til-datoen kan ikke være før fra-datoen."
    if errors:
        return default, values
    return Period(first, last), {"fra": first.isoformat(), "til": last.isoformat()}


@bp.get("/kompetansebaser/<slug>/henvendelsesstatistikk")
@requires("referral.statistics", load=load_base)
def statistics_page(base, slug):
    errors: dict[str, str] = {}
    period, values = _period(errors)
    by_municipality = by_intervention = None
    if not errors:
        by_municipality, by_intervention = statistics.mask(statistics.base_statistics(get_session(), base, period))
    page = render_template("referrals/statistics.html", base=base, period=period, values=values, errors=errors,
                           by_municipality=by_municipality, by_intervention=by_intervention,
                           quick=statistics.quick_periods(_today()), COUNTS=COUNTS, MEDIANS=MEDIANS)
    return page, 400 if errors else 200


CSV_COLUMNS = ["Inndeling", "Navn", *COUNTS.values(), *MEDIANS.values()]


def _csv_rows(kind: str, table: MaskedTable) -> list[list[str]]:
    rows = []
    for row in [*table.rows, table.total]:
        label = f"{row.label} ({row.note.lower()})" if row.note else row.label
        rows.append([kind, label, *(row.cells[c].text for c in COUNTS),
                     *(row.medians[m] for m in MEDIANS)])
    return rows


def statistics_csv_bytes(by_municipality: MaskedTable, by_intervention: MaskedTable) -> bytes:
    """The two tables as one CSV for Excel in Norway, as the page shows them; table_csv makes every cell safe."""
    return table_csv(CSV_COLUMNS, _csv_rows("Kommune", by_municipality) + _csv_rows("Tiltak", by_intervention))


@bp.get("/kompetansebaser/<slug>/henvendelsesstatistikk.csv")
@requires("referral.statistics", load=load_base)
def statistics_csv(base, slug):
    errors: dict[str, str] = {}
    period, _ = _period(errors)
    if errors:
        abort(400, " ".join(errors.values()))
    tables = statistics.mask(statistics.base_statistics(get_session(), base, period))
    filename = f"henvendelsesstatistikk-{base.slug}-{period.first.isoformat()}-{period.last.isoformat()}.csv"
    return attachment(statistics_csv_bytes(*tables), CSV_MIMETYPE, filename)
