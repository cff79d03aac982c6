"""The referral statistics of a base, as a page with charts and tables and as CSV.

Only the base's coordinators and the admin (rule referral.statistics). The page and the file show the
same masked numbers (statistics.mask); neither ever shows a case reference, a need or other free text,
and neither writes referral audit rows: no referral is read, only counts. The period is one calendar quarter
that has ended (?kvartal=2026K3), never a span of days: see statistics' docstring for why.
"""

from datetime import date

from flask import Blueprint, abort, render_template, request

from nettverk import loaders
from nettverk.db import get_session
from nettverk.policy import requires
from nettverk.referrals import statistics
from nettverk.referrals.statistics import COUNTS, FIRST_YEAR, LAST_YEAR, MEDIANS, MaskedTable, Quarter
from nettverk.spreadsheets import CSV_MIMETYPE, attachment, table_csv
from nettverk.timeutil import to_oslo, utcnow

bp = Blueprint("referral_statistics", __name__)


def _today() -> date:
    return to_oslo(utcnow()).date()


DAYS_REFUSED = (
    "Statistikken vises bare for hele kvartaler som er avsluttet, ikke for valgfrie datoer: da "
    "kunne små tall regnes ut ved å trekke to perioder fra hverandre. Velg et kvartal."
)


def _quarter(errors: dict[str, str]) -> Quarter:
    """The quarter of ?kvartal=2026K3; the latest quarter that has ended by default. The old ?fra=…&til=…
    (any days) is refused with the reason, never quietly turned into something else."""
    today = _today()
    default = statistics.last_quarter(today)
    text = request.args.get("kvartal", "").strip()
    if "fra" in request.args or "til" in request.args:
        errors["kvartal"] = DAYS_REFUSED
        return default
    if not text:
        return default
    quarter = Quarter.parse(text)
    if quarter is None:
        errors["kvartal"] = "Skriv kvartalet som år, K og kvartalets nummer, for eksempel 2026K3."
    elif not FIRST_YEAR <= quarter.year <= LAST_YEAR:
        errors["kvartal"] = f"Velg et kvartal mellom år {FIRST_YEAR} og {LAST_YEAR}."
    elif not quarter.is_complete(today):
        errors["kvartal"] = (
            f"{quarter.label.capitalize()} er ikke avsluttet ennå. Tallene for et kvartal vises fra "
            "dagen etter at det er slutt, så de ikke endrer seg fra dag til dag."
        )
    return default if errors else quarter


@bp.get("/kompetansebaser/<slug>/henvendelsesstatistikk")
@requires("referral.statistics", load=loaders.base)
def statistics_page(base):
    errors: dict[str, str] = {}
    quarter = _quarter(errors)
    by_municipality = by_intervention = None
    if not errors:
        by_municipality, by_intervention = statistics.mask(
            statistics.base_statistics(get_session(), base, quarter.period)
        )
    page = render_template(
        "referrals/statistics.html",
        base=base,
        quarter=quarter,
        period=quarter.period,
        errors=errors,
        choices=statistics.recent_quarters(_today()),
        asked=request.args.get("kvartal", "").strip(),
        by_municipality=by_municipality,
        by_intervention=by_intervention,
        COUNTS=COUNTS,
        MEDIANS=MEDIANS,
    )
    return page, 422 if errors else 200


CSV_COLUMNS = ["Inndeling", "Navn", *COUNTS.values(), *MEDIANS.values()]


def _csv_rows(kind: str, table: MaskedTable) -> list[list[str]]:
    rows = []
    for row in [*table.rows, table.total]:
        label = f"{row.label} ({row.note.lower()})" if row.note else row.label
        rows.append([kind, label, *(row.cells[c].text for c in COUNTS), *(row.medians[m] for m in MEDIANS)])
    return rows


def statistics_csv_bytes(by_municipality: MaskedTable, by_intervention: MaskedTable) -> bytes:
    """The two tables as one CSV for Excel in Norway, as the page shows them; table_csv makes every cell safe."""
    return table_csv(CSV_COLUMNS, _csv_rows("Kommune", by_municipality) + _csv_rows("Tiltak", by_intervention))


@bp.get("/kompetansebaser/<slug>/henvendelsesstatistikk.csv")
@requires("referral.statistics", load=loaders.base)
def statistics_csv(base):
    errors: dict[str, str] = {}
    quarter = _quarter(errors)
    if errors:
        abort(422, " ".join(errors.values()))
    tables = statistics.mask(statistics.base_statistics(get_session(), base, quarter.period))
    filename = f"henvendelsesstatistikk-{base.slug}-{quarter}.csv"
    return attachment(statistics_csv_bytes(*tables), CSV_MIMETYPE, filename)
