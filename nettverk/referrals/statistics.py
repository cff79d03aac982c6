"""Referral statistics of a base: counts and medians per family municipality and per tiltak, masked so
that no family in a small municipality can be recognised.

Read side only. A fixed number of queries whatever the data size (eight): the base's members and the
municipality history (to find referrals about merged municipalities under their successor), the
base's tiltak, three grouped counts (per municipality, per tiltak, the whole base), the waiting list
now, and the dates from which the medians are taken. Nothing here selects a case reference, a need or
any other free text; families are counted by `Referral.family_key`, a keyed hash that never leaves
the database.

Periods (see `Quarter`): only whole calendar quarters, and only once they have ended. Every number of a
quarter is counted as it stood when the quarter ended, so a quarter's table never changes once it is shown.
Why: the quarters do not overlap, so no two allowed queries can be subtracted from each other to get the
count of a shorter stretch of time (1 Nov–7 Dec minus 16 Nov–7 Dec is the count of 1–15 Nov); and since a
shown table never changes, watching it from day to day tells nothing either (a count that moves from 50 to 51
between two days would tell the day one family's referral was sent, accepted or withdrawn). Inside one
quarter's table, `mask` keeps small counts from being worked out from the totals (privacy.masking).

What is counted (a referral counts in a quarter by when it was sent; drafts never count):
- henvendelser: referrals sent in the period;
- familier: distinct families among them. A referral is about one family; the same family may be
  referred to several tiltak, and the sender marks it with its own case reference, so referrals from
  the same service with the same case reference (the same `family_key`, kept when the reference itself
  is erased after the retention period) are one family. A referral without one counts as a family of
  its own;
- barn: the children of those families (per family the largest `children_count` among its referrals);
- godtatt / avslått / trukket tilbake: referrals sent in the quarter that were accepted (also those that
  went straight to started), declined, withdrawn, by the end of the quarter;
- medians: whole days (Oslo calendar days) from sent to accepted, and from accepted to started, of those
  accepted (started) by the end of the quarter;
- på venteliste ved periodens slutt: referrals (sent at any time) accepted and not yet started or withdrawn
  when the quarter ended.

Masking (`mask`): the rules of privacy.masking, see `mask`'s docstring.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from statistics import median

from sqlalchemy import String, and_, case, cast, func, literal, or_
from sqlmodel import Session, select

from nettverk.privacy.masking import SHOWN, THRESHOLD, mark_text, mask_columns_with_one_total
from nettverk.referrals.models import INTERVENTION_STATUSES, Intervention, InterventionStatus, Referral, ReferralStatus
from nettverk.registry.models import BaseMembership, CompetenceBase, Municipality, MunicipalityChange
from nettverk.text import norwegian_key
from nettverk.timeutil import oslo_midnight, to_oslo

NO_MEDIAN = "–"  # a median of fewer than THRESHOLD referrals
COUNTS = {
    "referrals": "Henvendelser",
    "families": "Familier",
    "children": "Barn",
    "accepted": "Godtatt",
    "declined": "Avslått",
    "withdrawn": "Trukket tilbake",
    "waiting": "På venteliste ved periodens slutt",
}
MEDIANS = {
    "days_to_accept": "Median dager fra sendt til godtatt",
    "days_to_start": "Median dager fra godtatt til oppstart",
}
OTHER = 0  # the row of family municipalities that are not members of the base
OTHER_LABEL = "Kommuner utenfor basen"
TOTAL_LABEL = "Hele basen"
FIRST_YEAR, LAST_YEAR = 2000, 2100


# Periods ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Whole Oslo days, both included."""

    first: date
    last: date

    @property
    def starts_at(self):
        return oslo_midnight(self.first)

    @property
    def ends_at(self):  # exclusive
        return oslo_midnight(self.last + timedelta(days=1))


@dataclass(frozen=True)
class Quarter:
    """A calendar quarter, the only period the statistics are shown for (see the module's docstring).
    Written like Statistics Norway does, «2026K3»."""

    year: int
    number: int  # 1–4

    @classmethod
    def parse(cls, text: str) -> "Quarter | None":
        match = QUARTER_PATTERN.fullmatch(text.strip())
        return cls(int(match[1]), int(match[2])) if match else None

    @classmethod
    def of(cls, day: date) -> "Quarter":
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def period(self) -> Period:
        first = date(self.year, 3 * self.number - 2, 1)
        after = date(self.year + 1, 1, 1) if self.number == 4 else date(self.year, 3 * self.number + 1, 1)
        return Period(first, after - timedelta(days=1))

    def previous(self) -> "Quarter":
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)

    def is_complete(self, today: date) -> bool:
        """Shown from the day after it ends: a quarter still under way would grow from day to day."""
        return self.period.last < today

    def __str__(self) -> str:
        return f"{self.year}K{self.number}"

    @property
    def label(self) -> str:
        return f"{self.number}. kvartal {self.year}"


QUARTER_PATTERN = re.compile(r"(\d{4})[Kk]([1-4])")


def last_quarter(today: date) -> Quarter:
    """The latest quarter that has ended: the default."""
    return Quarter.of(today).previous()


def recent_quarters(today: date, count: int = 20) -> list[Quarter]:
    """The `count` latest quarters that have ended, newest first (the choices on the page)."""
    quarters = [last_quarter(today)]
    while len(quarters) < count:
        quarters.append(quarters[-1].previous())
    return quarters


# The numbers --------------------------------------------------------------------------------------


@dataclass
class Row:
    key: int
    label: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    days_to_accept: list[int] = field(default_factory=list)
    days_to_start: list[int] = field(default_factory=list)
    municipality: Municipality | None = None
    intervention: Intervention | None = None
    note: str = ""


@dataclass
class Breakdown:
    rows: list[Row]
    total: Row


@dataclass
class Statistics:
    base: CompetenceBase
    period: Period
    by_municipality: Breakdown
    by_intervention: Breakdown


def _municipality_groups(session: Session, base_id: int) -> tuple[list[Municipality], dict[int, int]]:
    """The base's members, and {municipality id: the member it is counted under}: each member and the
    municipalities merged into it (in steps too). A predecessor split between two members counts
    under the first of them by name."""
    members = sorted(
        session.exec(
            select(Municipality)
            .join(BaseMembership, BaseMembership.municipality_id == Municipality.id)
            .where(BaseMembership.base_id == base_id)
        ),
        key=lambda m: norwegian_key(m.name),
    )
    edges = defaultdict(list)
    for predecessor_id, successor_id in session.exec(
        select(MunicipalityChange.predecessor_id, MunicipalityChange.successor_id)
    ):
        edges[successor_id].append(predecessor_id)
    groups = {m.id: m.id for m in members}
    for member in members:
        todo = [member.id]
        while todo:
            for predecessor_id in edges[todo.pop()]:
                if predecessor_id not in groups:
                    groups[predecessor_id] = member.id
                    todo.append(predecessor_id)
    return members, groups


def _municipality_group(groups: dict[int, int]):
    """SQL: the member a referral's family municipality counts under, OTHER for the rest."""
    if not groups:
        return literal(OTHER)
    return case(groups, value=Referral.family_municipality_id, else_=OTHER)


def _family_key():
    """SQL: one value per family (see the module's docstring). Never leaves the database."""
    return case((Referral.family_key != "", Referral.family_key), else_=literal("#") + cast(Referral.id, String))


def _in_base_and_period(query, base_id: int, period: Period):
    return query.join(Intervention, Intervention.id == Referral.intervention_id).where(
        Intervention.base_id == base_id,
        Referral.sent_at.is_not(None),
        Referral.sent_at >= period.starts_at,
        Referral.sent_at < period.ends_at,
    )


def _grouped_counts(session: Session, base_id: int, period: Period, group) -> dict[int, dict[str, int]]:
    """{group: counts} in one query. The group and family expressions are labelled in a subquery
    first, so the outer GROUP BY names columns (PostgreSQL cannot match parameterised expressions)."""
    facts = _in_base_and_period(
        select(
            group.label("g"),
            _family_key().label("family"),
            Referral.children_count.label("children"),
            case((Referral.accepted_at < period.ends_at, 1), else_=0).label("accepted"),
            case(
                (and_(Referral.status == ReferralStatus.DECLINED, Referral.finished_at < period.ends_at), 1), else_=0
            ).label("declined"),
            case(
                (and_(Referral.status == ReferralStatus.WITHDRAWN, Referral.finished_at < period.ends_at), 1), else_=0
            ).label("withdrawn"),
        ),
        base_id,
        period,
    ).subquery()
    families = (
        select(
            facts.c.g,
            func.count().label("referrals"),
            func.max(facts.c.children).label("children"),
            func.sum(facts.c.accepted).label("accepted"),
            func.sum(facts.c.declined).label("declined"),
            func.sum(facts.c.withdrawn).label("withdrawn"),
        )
        .group_by(facts.c.g, facts.c.family)
        .subquery()
    )
    rows = session.exec(
        select(
            families.c.g,
            func.sum(families.c.referrals),
            func.count(),
            func.sum(families.c.children),
            func.sum(families.c.accepted),
            func.sum(families.c.declined),
            func.sum(families.c.withdrawn),
        ).group_by(families.c.g)
    )
    names = ("referrals", "families", "children", "accepted", "declined", "withdrawn")
    return {int(g): {name: int(value or 0) for name, value in zip(names, values, strict=True)} for g, *values in rows}


def _days(later, earlier) -> int:
    return (to_oslo(later).date() - to_oslo(earlier).date()).days


def base_statistics(session: Session, base: CompetenceBase, period: Period) -> Statistics:
    members, groups = _municipality_groups(session, base.id)
    municipality = _municipality_group(groups)
    interventions = sorted(
        session.exec(select(Intervention).where(Intervention.base_id == base.id)), key=lambda i: norwegian_key(i.name)
    )

    by_municipality = {m.id: Row(m.id, m.display_name, municipality=m) for m in members}
    by_municipality[OTHER] = Row(OTHER, OTHER_LABEL)
    by_intervention = {
        i.id: Row(
            i.id,
            i.name,
            intervention=i,
            note="" if i.status == InterventionStatus.ACTIVE else INTERVENTION_STATUSES.get(i.status, i.status),
        )
        for i in interventions
    }
    total = Row(0, TOTAL_LABEL)

    for rows, group in ((by_municipality, municipality), (by_intervention, Referral.intervention_id)):
        for key, counts in _grouped_counts(session, base.id, period, group).items():
            rows[key].counts.update(counts)
    for counts in _grouped_counts(session, base.id, period, literal(0)).values():
        total.counts.update(counts)

    # The waiting list when the period ended (referrals sent at any time): one grouped query, added up per row.
    end = period.ends_at
    waiting = (
        select(municipality.label("g"), Referral.intervention_id.label("intervention_id"))
        .join(Intervention, Intervention.id == Referral.intervention_id)
        .where(
            Intervention.base_id == base.id,
            Referral.accepted_at < end,
            or_(Referral.started_at.is_(None), Referral.started_at >= end),
            or_(Referral.finished_at.is_(None), Referral.finished_at >= end),
        )
        .subquery()
    )
    for g, intervention_id, n in session.exec(
        select(waiting.c.g, waiting.c.intervention_id, func.count()).group_by(waiting.c.g, waiting.c.intervention_id)
    ):
        for row in (by_municipality[int(g)], by_intervention[intervention_id], total):
            row.counts["waiting"] += int(n)

    # Medians need the single durations: their dates only, one query; what happened by the period's end.
    dates = session.exec(
        _in_base_and_period(
            select(municipality, Referral.intervention_id, Referral.sent_at, Referral.accepted_at, Referral.started_at),
            base.id,
            period,
        ).where(Referral.accepted_at < end)
    )
    for g, intervention_id, sent_at, accepted_at, started_at in dates:
        for row in (by_municipality[int(g)], by_intervention[intervention_id], total):
            row.days_to_accept.append(_days(accepted_at, sent_at))
            if started_at is not None and started_at < end:
                row.days_to_start.append(_days(started_at, accepted_at))

    municipality_rows = [by_municipality[m.id] for m in members]
    other = by_municipality[OTHER]
    if any(other.counts.values()):
        municipality_rows.append(other)
    return Statistics(
        base,
        period,
        Breakdown(municipality_rows, total),
        Breakdown([by_intervention[i.id] for i in interventions], total),
    )


# Masking ------------------------------------------------------------------------------------------


@dataclass
class Cell:
    text: str
    value: int | None  # the number when it is shown (for the bar); None when masked
    kind: str  # privacy.masking's SHOWN, SMALL ("<3") or HIDDEN ("skjult")


@dataclass
class MaskedRow:
    label: str
    cells: dict[str, Cell]
    medians: dict[str, str]
    municipality: Municipality | None = None
    intervention: Intervention | None = None
    note: str = ""


@dataclass
class MaskedTable:
    rows: list[MaskedRow]
    total: MaskedRow

    def chart(self, column: str = "referrals") -> list[tuple[MaskedRow, Cell, int]]:
        """(row, cell, bar width in percent, in steps of 5) for a bar chart of one column; a masked
        cell or 0 gets no bar."""
        shown = [row.cells[column].value or 0 for row in self.rows]
        top = max(shown, default=0)
        return [
            (row, row.cells[column], max(5, round(value / top * 20) * 5) if value and top else 0)
            for row, value in zip(self.rows, shown, strict=True)
        ]


def _cell(value: int, mark: str) -> Cell:
    return Cell(mark_text(value, mark), value if mark == SHOWN else None, mark)


def format_days(days: list[int]) -> str:
    """The median of whole days ("4", "4,5"), or "–" when it rests on fewer than THRESHOLD referrals."""
    if len(days) < THRESHOLD:
        return NO_MEDIAN
    value = median(days)
    return str(int(value)) if value == int(value) else f"{value:.1f}".replace(".", ",")


def mask(statistics: Statistics) -> tuple[MaskedTable, MaskedTable]:
    """The two tables (per municipality, per tiltak) with every count masked by privacy.masking: each
    column of each table under its total (`mask_column`: "<3", and "skjult" where the total would give a
    "<3" away), and the two tables together, since they share the base's total
    (`mask_columns_with_one_total`). A median is shown only when it rests on at least THRESHOLD
    referrals, otherwise "–". Rows have no totals: the columns count different things (a family, a
    child, an acceptance) that do not add up, so a row gives nothing to subtract from. Families and
    children per tiltak do not add up to the total (one family can be referred to two tiltak); they
    are masked by the same rules, which is then stricter than needed.
    """
    tables = (statistics.by_municipality, statistics.by_intervention)
    marks: list[dict[str, tuple[list[str], str]]] = [{}, {}]
    for column in COUNTS:
        columns = [([row.counts[column] for row in table.rows], table.total.counts[column]) for table in tables]
        for i, column_marks in enumerate(mask_columns_with_one_total(columns)):
            marks[i][column] = column_marks

    masked = []
    for i, table in enumerate(tables):

        def masked_row(row: Row, position: int | None, i=i) -> MaskedRow:
            cells = {}
            for column in COUNTS:
                cell_marks, total_mark = marks[i][column]
                cells[column] = _cell(row.counts[column], total_mark if position is None else cell_marks[position])
            medians = {
                "days_to_accept": format_days(row.days_to_accept),
                "days_to_start": format_days(row.days_to_start),
            }
            return MaskedRow(row.label, cells, medians, row.municipality, row.intervention, row.note)

        masked.append(
            MaskedTable([masked_row(row, n) for n, row in enumerate(table.rows)], masked_row(table.total, None))
        )
    return masked[0], masked[1]
