"""The one CSV writer: every CSV the system hands out (campaign export, message logs, DHIS2
skipped entities...) is written here, so no cell reaches a spreadsheet as a formula.

- A text cell starting with = + - @ TAB or CR gets a leading apostrophe (OWASP "CSV
  injection"): names, provider texts and DHIS2 values come from outside. A number that is a
  real int, float or Decimal stays a number, negative ones included.
- Every text cell is quoted: a French-locale spreadsheet splits a comma CSV on ";", and
  "Awa;=HYPERLINK(...)" must stay one cell rather than become a formula cell of its own.
- Dates and times are written in ISO 8601; None is an empty cell.
"""

import csv
from datetime import date, datetime, time
from decimal import Decimal

from django.http import HttpResponse, StreamingHttpResponse

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CONTENT_TYPE = "text/csv; charset=utf-8"


def safe_cell(value):
    """`value` as a cell a spreadsheet shows and never runs."""
    if value is None:
        return ""
    if isinstance(value, bool):  # as the API's JSON writes it
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return value
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text


class _Line:
    """A file-like whose write() hands the line back: csv.writer then yields lines."""

    def write(self, value):
        return value


def csv_lines(header, rows):
    """The CSV text line by line, header first; `rows` is any iterable of cell sequences
    (a queryset iterator, a generator), read lazily."""
    writer = csv.writer(_Line(), quoting=csv.QUOTE_NONNUMERIC)
    yield writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        yield writer.writerow([safe_cell(cell) for cell in row])


def csv_response(header, rows, *, filename, stream=True):
    """An attachment response holding the CSV; streamed unless `stream` is False (for the
    small files a client reads as `.content`)."""
    lines = csv_lines(header, rows)
    if stream:
        response = StreamingHttpResponse(lines, content_type=CONTENT_TYPE)
    else:
        response = HttpResponse("".join(lines), content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
