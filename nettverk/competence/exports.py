"""Competence as files: a person's own records (CSV) and the base matrix (CSV and XLSX), written by the
table writer in nettverk/spreadsheets.py (safe against formula injection, CSV for Excel in Norway).
The matrix files hold counts only, never names."""

from nettverk.competence.models import AREA_KINDS, LEVELS, SOURCES
from nettverk.competence.queries import Cell, Matrix, OwnRecord
from nettverk.spreadsheets import CSV_MIMETYPE, XLSX_MIMETYPE, table_csv, table_xlsx

__all__ = ["CSV_MIMETYPE", "XLSX_MIMETYPE", "matrix_csv", "matrix_xlsx", "own_records_csv"]

OWN_COLUMNS = ["Kompetanseområde", "Type", "Nivå", "Dato", "Gitt av", "Utløper", "Gyldig", "Kilde", "Kurs"]


def own_records_csv(rows: list[OwnRecord]) -> bytes:
    return table_csv(
        OWN_COLUMNS,
        [
            [
                row.area.name,
                AREA_KINDS.get(row.area.kind, row.area.kind),
                LEVELS.get(row.record.level, row.record.level),
                row.record.achieved_on.isoformat(),
                row.record.issued_by,
                row.record.expires_on.isoformat() if row.record.expires_on else "",
                "Ja" if row.valid else "Nei (utløpt)",
                SOURCES.get(row.record.source, row.record.source),
                row.event.title if row.event else "",
            ]
            for row in rows
        ],
    )


def _value(cell: Cell):
    """A count as a number, or as its text when it is marked (0 ingen, 1 sårbar), as the page shows it."""
    return cell.text if cell.mark else cell.count


def _matrix_rows(table: Matrix) -> tuple[list[str], list[list]]:
    columns = ["Kommunenummer", "Kommune", *(a.name for a in table.areas)]
    rows = [[m.number, m.display_name, *(_value(c) for c in cells)] for m, cells in table.rows()]
    rows.append(["", "Hele kompetansebasen", *(_value(c) for c in table.totals())])
    return columns, rows


def matrix_csv(table: Matrix) -> bytes:
    return table_csv(*_matrix_rows(table))


def matrix_xlsx(table: Matrix) -> bytes:
    return table_xlsx("Kompetanse", *_matrix_rows(table))
