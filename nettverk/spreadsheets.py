"""Tables as CSV and XLSX files, and their download: the one writer every export uses (participant lists,
competence, referral statistics).

Both formats are safe against spreadsheet formula injection (OWASP): a text cell starting with =, +, -, @,
tab or a line break gets a leading single quote, so a name like =HYPERLINK(...) stays text (safe_text). The
CSV is for Excel in Norway: UTF-8 with a byte order mark, semicolons between fields.
"""

import csv
import io
import unicodedata
from datetime import datetime

from flask import Response
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_STARTS = ("=", "+", "-", "@", "\u2212")  # U+2212 (minus sign): spreadsheets read it as "-" too
DATE_FORMAT = "%d.%m.%Y %H:%M"  # Oslo time, as a Norwegian spreadsheet shows it
XLSX_DATE_FORMAT = "dd.mm.yyyy hh:mm"
MAX_COLUMN_WIDTH = 50


def safe_text(value: str) -> str:
    """A cell's text that no spreadsheet will run as a formula. Spreadsheets skip leading blanks and
    read fullwidth forms (＝ U+FF1D, ＋, －, ＠, and the small forms) as the ASCII ones, so the check
    looks at the first visible character, folded with NFKC; a tab or line break first is itself a start."""
    if value[:1] in ("\t", "\r", "\n"):
        return "'" + value
    first = next((c for c in value if not c.isspace() and unicodedata.category(c) != "Cf"), "")
    return "'" + value if unicodedata.normalize("NFKC", first).startswith(FORMULA_STARTS) else value


def table_csv(columns: list[str], rows: list[list]) -> bytes:
    """Any table as CSV for Excel: UTF-8 with BOM, semicolon-separated, CRLF lines; texts made safe,
    date-times as Oslo wall-clock, numbers as they are."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([safe_text(name) for name in columns])
    for values in rows:
        writer.writerow(
            [
                value.strftime(DATE_FORMAT)
                if isinstance(value, datetime)
                else value
                if isinstance(value, int | float)
                else safe_text(value)
                for value in values
            ]
        )
    return out.getvalue().encode("utf-8-sig")


def table_xlsx(title: str, columns: list[str], rows: list[list]) -> bytes:
    """Any table as an Excel workbook: bold, frozen header row with a filter, columns wide enough for
    their content, date-times as real date-time cells, numbers as numbers, texts made safe."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append([safe_text(name) for name in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    widths = [len(name) for name in columns]
    for row in rows:
        values = []
        for index, value in enumerate(row):
            if isinstance(value, datetime):
                widths[index] = max(widths[index], len(XLSX_DATE_FORMAT))
            elif isinstance(value, int | float):
                widths[index] = max(widths[index], len(str(value)))
            else:
                # Control characters are not allowed in the file format (openpyxl refuses them). After
                # safe_text no text starts with "=", so openpyxl stores every text as text, not a formula.
                value = safe_text(ILLEGAL_CHARACTERS_RE.sub("", value)) or None
                widths[index] = max(widths[index], len(value or ""))
            values.append(value)
        sheet.append(values)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, datetime):
                cell.number_format = XLSX_DATE_FORMAT
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(width + 2, MAX_COLUMN_WIDTH)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(sheet.max_row, 1)}"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def attachment(content: bytes, mimetype: str, filename: str) -> Response:
    """A file download (an ASCII `filename`): saved, never shown inline, and never kept in a cache,
    since these files hold names or counts for the people allowed to see them."""
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
