"""Beneficiaries into a campaign: the row rules every input is judged by, and the one write
that creates or updates them. The CSV/JSON import (campaigns/imports.py) and the DHIS2 sync
(campaigns/dhis2/sync.py) both use it, so a CSV line and a DHIS2 entity are judged and saved
alike.

A beneficiary is keyed by its `external_id`, unique in the campaign: writing a row twice
updates it, never duplicates it.
"""

import re
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaignid.bulk_sql import update_rows
from campaigns.models import Beneficiary, Campaign, OptOutSource
from campaigns.phones import InvalidPhone, phone_to_e164

NAME_MAX_LENGTH = 100
ID_MAX_LENGTH = 64
REQUIRED_COLUMNS = ("first_name", "last_name", "date_of_birth", "sex")
CONSENT_COLUMNS = ("consent_whatsapp", "consent_sms", "consent_wallet")
KNOWN_COLUMNS = (
    "external_id",
    *REQUIRED_COLUMNS,
    "phone_number",
    "mpi_id",
    *CONSENT_COLUMNS,
    "opted_out",
    "attributes",
)
# What an error's field is called on screen; the column name itself stays as typed.
FIELD_LABELS = {
    "external_id": gettext_lazy("external id"),
    "first_name": gettext_lazy("first name"),
    "last_name": gettext_lazy("last name"),
    "date_of_birth": gettext_lazy("date of birth"),
    "sex": gettext_lazy("sex"),
    "phone_number": gettext_lazy("phone"),
    "mpi_id": gettext_lazy("MPI ID"),
    "consent_whatsapp": gettext_lazy("WhatsApp consent"),
    "consent_sms": gettext_lazy("SMS consent"),
    "consent_wallet": gettext_lazy("wallet consent"),
    "opted_out": gettext_lazy("opted out"),
    "attributes": gettext_lazy("other columns"),
    "file": gettext_lazy("file"),
    "row": gettext_lazy("row"),
    "beneficiaries": gettext_lazy("rows"),
    "enrollment": gettext_lazy("enrollment"),
}


def field_label(field):
    """An import field's name in the user's language; an unknown column keeps its name."""
    return str(FIELD_LABELS.get(field, field))


# Input column -> Beneficiary field, where they differ.
MODEL_FIELD = {"phone_number": "phone"}

CONSENT_VALUES = {
    "yes": True, "true": True, "1": True, "oui": True,
    "no": False, "false": False, "0": False, "non": False, "": False,
}
ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
DMY_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
EARLIEST_BIRTH_YEAR = 1900
# Keeps each IN (...) well under the database's bound-parameter limits.
LOOKUP_CHUNK = 10_000
WRITE_BATCH = 1_000
# A row's other possible keys, best first (beneficiaries_upsert).
EXTERNAL_ID_CANDIDATES = "external_id_candidates"


@dataclass(frozen=True)
class UpsertResult:
    created: int
    updated: int
    unchanged: int = 0


# Checking one row ------------------------------------------------------------------------


def beneficiary_row_clean(values, *, region, today):
    """(cleaned values keyed by input column, [(field, message)]) for one row: a CSV line, a
    JSON row or a DHIS2 tracked entity's mapped attributes. `region` reads national phone
    numbers; `today` bounds the date of birth."""
    if "_too_many_values" in values:
        found, expected = values["_too_many_values"]
        return {}, [("row", _("row has %(found)s values but the header has %(expected)s columns")
                     % {"found": found, "expected": expected})]
    if "_not_an_object" in values:
        return {}, [("row", _("row is not an object of column names and values"))]

    cleaned, errors = {}, []
    for column in ("first_name", "last_name"):
        name, error = _clean_name(values.get(column), label=field_label(column))
        cleaned[column] = name
        if error:
            errors.append((column, error))

    cleaned["date_of_birth"], error = _clean_date_of_birth(values.get("date_of_birth"), today)
    if error:
        errors.append(("date_of_birth", error))

    sex = _text(values.get("sex")).upper()
    cleaned["sex"] = sex
    if not sex:
        errors.append(("sex", _("sex missing (use F or M)")))
    elif sex not in ("F", "M"):
        errors.append(("sex", _("sex not F/M: %(value)s") % {"value": _quote(sex)}))

    if "phone_number" in values:
        try:
            cleaned["phone_number"] = phone_to_e164(
                _text(values["phone_number"]), default_region=region
            )
        except InvalidPhone as exc:
            errors.append(("phone_number", str(exc)))

    for column in ("external_id", "mpi_id"):
        if column in values:
            cleaned[column] = _text(values[column])
            if len(cleaned[column]) > ID_MAX_LENGTH:
                errors.append((column, _("%(column)s too long (at most %(limit)s characters)")
                               % {"column": column, "limit": ID_MAX_LENGTH}))

    for column in CONSENT_COLUMNS:
        if column in values:
            cleaned[column], error = _clean_consent(values[column], column)
            if error:
                errors.append((column, error))

    if "opted_out" in values:
        cleaned["opted_out"], error = _clean_consent(values["opted_out"], "opted_out")
        if error:
            errors.append(("opted_out", error))

    attributes, error = _attributes(values)
    cleaned["attributes"] = attributes
    if error:
        errors.append(("attributes", error))
    return cleaned, errors


def _text(value):
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else str(value).strip()


def _quote(value, limit=20):
    return f"“{value[:limit]}…”" if len(value) > limit else f"“{value}”"


def _clean_name(value, *, label):
    raw = "" if value is None else str(value)
    if not raw:
        return "", _("%(field)s missing") % {"field": label}
    # Doubled or stray spaces come from spreadsheets; a card shows the name once, tidily.
    name = " ".join(raw.split())
    if not name:
        return "", _("%(field)s only spaces") % {"field": label}
    if len(name) > NAME_MAX_LENGTH:
        return name, _("%(field)s too long (%(length)s characters, at most %(limit)s)") % {
            "field": label, "length": len(name), "limit": NAME_MAX_LENGTH}
    return name, None


def _clean_date_of_birth(value, today):
    text = _text(value)
    if not text:
        return None, _("date of birth missing (use YYYY-MM-DD)")
    if match := ISO_DATE.match(text):
        year, month, day = match.groups()
    elif match := DMY_DATE.match(text):
        day, month, year = match.groups()
    else:
        return None, _("date of birth not a date: %(value)s (use YYYY-MM-DD or DD/MM/YYYY)") % {
            "value": _quote(text)}
    try:
        born = date(int(year), int(month), int(day))
    except ValueError:
        return None, _("date of birth not a date: %(value)s (no such day)") % {
            "value": _quote(text)}
    if born > today:
        return None, _("date of birth in the future: %(date)s") % {"date": born.isoformat()}
    if born.year < EARLIEST_BIRTH_YEAR:
        return None, _("date of birth before %(year)s: %(date)s") % {
            "year": EARLIEST_BIRTH_YEAR, "date": born.isoformat()}
    return born, None


def _clean_consent(value, column):
    if isinstance(value, bool):
        return value, None
    text = _text(value).lower()
    if text in CONSENT_VALUES:
        return CONSENT_VALUES[text], None
    if column == "opted_out":
        return False, _("opted_out not yes/no: %(value)s (use yes or no)") % {
            "value": _quote(text)}
    return False, _("consent not yes/no: %(column)s is %(value)s (use yes or no)") % {
        "column": column, "value": _quote(text)}


def _attributes(values):
    """Columns the import does not know (e.g. district) go to the template's attributes."""
    attributes = {}
    given = values.get("attributes")
    if given not in (None, ""):
        if not isinstance(given, dict):
            return {}, _("attributes must be an object of names and values")
        attributes.update(given)
    for column, value in values.items():
        if column and column not in KNOWN_COLUMNS:
            attributes[column] = value.strip() if isinstance(value, str) else value
    return attributes, None



# Writing ---------------------------------------------------------------------------------


def beneficiaries_upsert(*, campaign_id, rows, skip_unchanged=False):
    """Creates or updates the campaign's beneficiaries from rows cleaned by
    beneficiary_row_clean, in one transaction; returns UpsertResult.

    A row updates the beneficiary with its `external_id`. A row may name instead
    EXTERNAL_ID_CANDIDATES, best first: the first the campaign already has is updated, else
    the row is created under the first. Columns absent from a row keep their value; template
    attributes merge. With `skip_unchanged`, a row equal to what is saved writes nothing and
    counts as unchanged.

    `opted_out` true opts the person out (source "import") unless they already are, keeping
    the earlier date and source; false clears nothing (campaigns/opt_out.py).
    """
    keys = []
    for row in rows:
        keys.extend(row.get(EXTERNAL_ID_CANDIDATES)
                    or ([row["external_id"]] if row.get("external_id") else []))
    keys = list(dict.fromkeys(keys))
    with transaction.atomic():
        # Two writers (two imports, an import and a DHIS2 sync) must not both create the
        # same external_id: each holds the campaign row until it commits.
        list(Campaign.objects.select_for_update().filter(pk=campaign_id).values_list("pk"))
        existing = {}
        for start in range(0, len(keys), LOOKUP_CHUNK):
            existing.update(
                (beneficiary.external_id, beneficiary)
                for beneficiary in Beneficiary.objects.filter(
                    campaign_id=campaign_id, external_id__in=keys[start : start + LOOKUP_CHUNK]
                )
            )
        now = timezone.now()
        to_create, to_update, unchanged = [], [], 0
        updated_fields = {"attributes", "updated_at"}
        for row in rows:
            values = dict(row)
            attributes = values.pop("attributes")
            opt_out = values.pop("opted_out", False)
            candidates = values.pop(EXTERNAL_ID_CANDIDATES, None)
            fields = {MODEL_FIELD.get(column, column): value for column, value in values.items()}
            if candidates:
                external_id = next((uid for uid in candidates if uid in existing), candidates[0])
            else:
                external_id = fields.get("external_id")
            beneficiary = existing.get(external_id)
            if beneficiary is None:
                if candidates:
                    fields["external_id"] = external_id
                if opt_out:
                    fields.update(opted_out_at=now, opted_out_source=OptOutSource.IMPORT)
                to_create.append(
                    Beneficiary(campaign_id=campaign_id, attributes=attributes, **fields)
                )
                continue
            if opt_out and beneficiary.opted_out_at is None:
                fields.update(opted_out_at=now, opted_out_source=OptOutSource.IMPORT)
            merged = {**beneficiary.attributes, **attributes}
            if skip_unchanged and merged == beneficiary.attributes and all(
                getattr(beneficiary, field) == value for field, value in fields.items()
            ):
                unchanged += 1
                continue
            for field, value in fields.items():
                setattr(beneficiary, field, value)
            beneficiary.attributes = merged
            beneficiary.updated_at = now
            updated_fields.update(fields)
            to_update.append(beneficiary)
        Beneficiary.objects.bulk_create(to_create, batch_size=WRITE_BATCH)
        for start in range(0, len(to_update), WRITE_BATCH):
            update_rows(Beneficiary.objects.all(), to_update[start : start + WRITE_BATCH],
                        sorted(updated_fields))
    return UpsertResult(created=len(to_create), updated=len(to_update), unchanged=unchanged)
