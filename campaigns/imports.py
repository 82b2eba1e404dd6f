"""Beneficiary import: a CSV file or JSON rows into a campaign, all or nothing.

Every row is checked before anything is written, and every bad row is reported, so an
operator fixes the whole file in one pass; one bad row saves nothing. A row whose
`external_id` already exists in the campaign updates that beneficiary, so a corrected file
can simply be imported again. The row rules and the write are campaigns/beneficiary_upsert.py,
shared with the DHIS2 sync.

Limits: IMPORT_MAX_BYTES (a CSV file, or the JSON body) and IMPORT_MAX_ROWS, the same for
the browser and the API; a larger input raises ImportTooLarge, whose message names the limit
in the user's language, before any row is checked.

Line numbers: for CSV the physical line in the file (the header is line 1); for JSON rows
the 1-based position in the list. Errors that concern the whole input (no rows, a missing
column, a file that is not UTF-8) name the field `file` or the column, on line 1 for CSV
and line 0 for JSON.
"""

import csv
import io
import re
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from campaignid.limits import size_text
from campaigns.beneficiary_upsert import (
    REQUIRED_COLUMNS,
    beneficiaries_upsert,
    beneficiary_row_clean,
    field_label,
)

# Headers people commonly write for a known column.
COLUMN_ALIASES = {"phone": "phone_number"}


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int

    @property
    def total(self):
        return self.created + self.updated


class ImportRejected(Exception):
    """Nothing was saved. `errors` is a list of {"line", "field", "message"}, in line order."""

    def __init__(self, errors, *, whole_input=False):
        self.errors = sorted(errors, key=lambda error: error["line"])
        for error in self.errors:
            error.setdefault("field_label", field_label(error["field"]))
        self.whole_input = whole_input
        super().__init__(self.message)

    @property
    def rejected_rows(self):
        return len({error["line"] for error in self.errors})

    @property
    def message(self):
        if self.whole_input:
            problems = "; ".join(error["message"] for error in self.errors)
            return _("Nothing was imported: %(problems)s.") % {"problems": problems}
        count = self.rejected_rows
        return ngettext(
            "%(count)s row was rejected; nothing was imported.",
            "%(count)s rows were rejected; nothing was imported.",
            count,
        ) % {"count": number_format(count, force_grouping=True)}


class ImportTooLarge(ImportRejected):
    """More bytes or rows than one import takes; nothing was read further, nothing saved."""

    def __init__(self, text, *, field, line):
        self.text = text
        super().__init__([{"line": line, "field": field, "message": text}], whole_input=True)

    @property
    def message(self):
        return self.text


def too_many_bytes(field="file"):
    return ImportTooLarge(
        _("The import is larger than %(limit)s, the most one import takes: split it into "
          "smaller files. Nothing was imported.")
        % {"limit": size_text(settings.IMPORT_MAX_BYTES)},
        field=field, line=1 if field == "file" else 0,
    )


def too_many_rows(field="file"):
    return ImportTooLarge(
        _("The import has more than %(limit)s rows, the most one import takes: split it into "
          "smaller files. Nothing was imported.")
        % {"limit": number_format(settings.IMPORT_MAX_ROWS, force_grouping=True)},
        field=field, line=1 if field == "file" else 0,
    )


def beneficiaries_import(*, campaign, rows=None, csv_file=None):
    """Import `rows` (list of dicts) or `csv_file` (bytes or a file object) into `campaign`.

    Returns ImportResult(created, updated); raises ImportRejected (ImportTooLarge over the
    limits), having saved nothing.
    """
    if (rows is None) == (csv_file is None):
        raise TypeError("beneficiaries_import takes either rows or csv_file.")
    if csv_file is not None:
        records, unit = _csv_records(csv_file), "line"
    else:
        records, unit = _json_records(rows), "row"

    region = campaign.program.country
    today = timezone.localdate()
    valid, errors = [], []
    first_line_of = {}
    for line, values in records:
        cleaned, row_errors = beneficiary_row_clean(values, region=region, today=today)
        external_id = cleaned.get("external_id")
        if external_id:
            if external_id in first_line_of:
                row_errors.append((
                    "external_id",
                    _duplicate_message(unit, first_line_of[external_id]),
                ))
            else:
                first_line_of[external_id] = line
        errors.extend({"line": line, "field": f, "message": m} for f, m in row_errors)
        if not row_errors:
            valid.append(cleaned)
    if errors:
        raise ImportRejected(errors)
    written = beneficiaries_upsert(campaign_id=campaign.pk, rows=valid)
    return ImportResult(created=written.created, updated=written.updated)


def _duplicate_message(unit, line):
    if unit == "line":
        return _("external_id duplicates an earlier row (line %(line)s)") % {"line": line}
    return _("external_id duplicates an earlier row (row %(line)s)") % {"line": line}


# Reading the input ---------------------------------------------------------------------


def _normalise_column(name):
    column = re.sub(r"[\s\-]+", "_", str(name).strip().lower())
    return COLUMN_ALIASES.get(column, column)


def _rejected(line, field, message):
    return ImportRejected([{"line": line, "field": field, "message": message}], whole_input=True)


def _read_text(csv_file):
    limit = settings.IMPORT_MAX_BYTES
    if isinstance(csv_file, bytes | bytearray | memoryview | str):
        data = csv_file
    else:
        if (getattr(csv_file, "size", None) or 0) > limit:
            raise too_many_bytes()
        # An upload that a form already looked into must be read from its start.
        if getattr(csv_file, "seekable", lambda: False)():
            csv_file.seek(0)
        data = csv_file.read(limit + 1)
    if len(data) > limit:
        raise too_many_bytes()
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    data = bytes(data)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _rejected(
            line, "file", _("file is not UTF-8 text (save it as “CSV UTF-8” and try again)")
        ) from None


def _csv_records(csv_file):
    """[(physical line, {column: raw text})] for every non-blank data line."""
    text = _read_text(csv_file)
    header_line = text.split("\n", 1)[0]
    if not header_line.strip():
        raise _rejected(1, "file", _("file is empty: the first line must be the column names"))
    # Excel writes ';' where the decimal mark is a comma (fr_SN, fr_CI...): take the one used.
    delimiter = max((",", ";", "\t"), key=header_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        columns = [_normalise_column(name) for name in next(reader)]
        _check_header(columns)
        records = []
        previous_line = reader.line_num
        for values in reader:
            # A quoted value may span lines; the row is reported where it starts.
            line, previous_line = previous_line + 1, reader.line_num
            if not any(value.strip() for value in values):
                continue
            if len(records) >= settings.IMPORT_MAX_ROWS:
                raise too_many_rows()
            extra = [value for value in values[len(columns):] if value.strip()]
            if extra:
                # Reported through the row checks so other bad rows are still listed.
                values = {"_too_many_values": (len(values), len(columns))}
            else:
                values = {c: v for c, v in zip(columns, values, strict=False) if c}
            records.append((line, values))
    except csv.Error as exc:
        raise _rejected(
            reader.line_num, "file", _("file is not valid CSV: %(error)s") % {"error": exc}
        ) from None
    if not records:
        raise _rejected(1, "file", _("file has column names but no beneficiary rows"))
    return records


def _check_header(columns):
    errors = []
    seen = set()
    for column in columns:
        if column and column in seen:
            errors.append({"line": 1, "field": column,
                           "message": _("column %(column)s appears twice") % {"column": column}})
        seen.add(column)
    errors.extend(
        {"line": 1, "field": column,
         "message": _("column %(column)s missing from the header") % {"column": column}}
        for column in REQUIRED_COLUMNS
        if column not in seen
    )
    if errors:
        raise ImportRejected(errors, whole_input=True)


def _json_records(rows):
    if not isinstance(rows, list | tuple):
        raise _rejected(0, "beneficiaries", _("beneficiaries must be a list of rows"))
    if not rows:
        raise _rejected(
            0, "beneficiaries", _("beneficiaries is empty: there is nothing to import")
        )
    if len(rows) > settings.IMPORT_MAX_ROWS:
        raise too_many_rows("beneficiaries")
    records = []
    for position, row in enumerate(rows, start=1):
        if isinstance(row, dict):
            values = {_normalise_column(key): value for key, value in row.items()}
        else:
            values = {"_not_an_object": True}
        records.append((position, values))
    return records
