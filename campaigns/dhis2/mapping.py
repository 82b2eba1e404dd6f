"""A campaign's DHIS2 link: which tracker program and org unit feed it, and which tracked-entity
attribute fills each beneficiary field. Saving checks every uid against DHIS2 itself: the
program exists, the org unit (or one below it) is assigned to the program, and every mapped
attribute belongs to the program.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from campaigns.dhis2.client import UID, Dhis2Error
from campaigns.dhis2.models import CampaignDhis2Link
from campaigns.imports import COLUMN_ALIASES
from campaigns.studio import get_template, template_for_campaign

REQUIRED_FIELDS = ("first_name", "last_name", "date_of_birth", "sex")
OPTIONAL_FIELDS = ("phone_number", "mpi_id", "consent_whatsapp", "consent_sms", "consent_wallet")
FIELD_LABELS = {
    "first_name": gettext_lazy("First name"),
    "last_name": gettext_lazy("Last name"),
    "date_of_birth": gettext_lazy("Date of birth"),
    "sex": gettext_lazy("Sex"),
    "phone_number": gettext_lazy("Phone number"),
    "mpi_id": gettext_lazy("MPI identifier"),
    "consent_whatsapp": gettext_lazy("Consents to WhatsApp"),
    "consent_sms": gettext_lazy("Consents to SMS"),
    "consent_wallet": gettext_lazy("Consents to Google Wallet"),
}
# Above this many ancestors the org unit list shows the program's own org units only.
MAX_ANCESTOR_LOOKUP = 300


def template_fields(campaign):
    """(key, label) of the fields the campaign's card template reads from `attributes`."""
    template = get_template(template_for_campaign(campaign))
    if template is None:
        return []
    language = (get_language() or "fr")[:2]
    return [(f.key, f.labels.get(language) or f.labels.get("en") or f.key) for f in template.fields]


def mappable_fields(campaign):
    """Every field a mapping may name, in the order the page shows them."""
    fields = [
        {"key": key, "label": str(FIELD_LABELS[key]), "required": key in REQUIRED_FIELDS,
         "template": False}
        for key in (*REQUIRED_FIELDS, *OPTIONAL_FIELDS)
    ]
    fields += [
        {"key": key, "label": label, "required": False, "template": True}
        for key, label in template_fields(campaign)
    ]
    return fields


def link_get(*, campaign):
    return CampaignDhis2Link.objects.filter(campaign=campaign).first()


def link_view(*, campaign):
    link = link_get(campaign=campaign)
    if link is None:
        return {"configured": False, "program_uid": "", "org_unit_uid": "", "mapping": {},
                "program_name": "", "org_unit_name": "", "attributes": {}, "updated_at": None}
    labels = link.labels or {}
    return {
        "configured": True,
        "program_uid": link.program_uid,
        "org_unit_uid": link.org_unit_uid,
        "mapping": link.mapping,
        "program_name": labels.get("program", ""),
        "org_unit_name": labels.get("org_unit", ""),
        "attributes": labels.get("attributes", {}),
        "updated_at": link.updated_at,
    }


def link_save(*, campaign, program_uid, org_unit_uid, mapping, client):
    """Checks the link against DHIS2 through `client` and saves it; returns the link.

    Raises ValidationError naming `program_uid`, `org_unit_uid` or `mapping.<field>`, or
    Dhis2Error when DHIS2 cannot be asked (unreachable, credentials refused...).
    """
    program_uid, org_unit_uid = _text(program_uid), _text(org_unit_uid)
    mapping = clean_mapping(campaign=campaign, mapping=mapping)
    errors = {}
    for name, value in (("program_uid", program_uid), ("org_unit_uid", org_unit_uid)):
        if not UID.match(value):
            errors[name] = [_("Must be a DHIS2 uid: 11 letters and digits, the first a letter.")]
    if errors:
        raise ValidationError(errors)

    try:
        program = client.program(program_uid)
    except Dhis2Error as exc:
        if exc.code == "program_not_found":
            raise ValidationError({"program_uid": [str(exc)]}) from None
        raise
    try:
        org_unit = client.org_unit(org_unit_uid)
    except Dhis2Error as exc:
        if exc.code == "org_unit_not_found":
            raise ValidationError({"org_unit_uid": [str(exc)]}) from None
        raise
    if not _org_unit_in_program(org_unit_uid, program):
        errors["org_unit_uid"] = [
            _("The organisation unit %(org_unit)s is not assigned to the program %(program)s, "
              "and none below it is.")
            % {"org_unit": org_unit.get("displayName") or org_unit_uid,
               "program": program["displayName"]}
        ]
    attributes = {a["id"]: a for a in program["attributes"]}
    for key, uid in mapping.items():
        if uid not in attributes:
            errors[f"mapping.{key}"] = [
                _("%(uid)s is not an attribute of the program %(program)s.")
                % {"uid": uid, "program": program["displayName"]}
            ]
    if errors:
        raise ValidationError(errors)

    labels = {
        "program": program["displayName"],
        "org_unit": org_unit.get("displayName") or org_unit_uid,
        "attributes": {
            uid: {"displayName": attributes[uid]["displayName"],
                  "valueType": attributes[uid]["valueType"]}
            for uid in sorted(set(mapping.values()))
        },
    }
    with transaction.atomic():
        link, _created = CampaignDhis2Link.objects.select_for_update().get_or_create(
            campaign=campaign,
            defaults={"program_uid": program_uid, "org_unit_uid": org_unit_uid,
                      "mapping": mapping, "labels": labels},
        )
        link.program_uid, link.org_unit_uid = program_uid, org_unit_uid
        link.mapping, link.labels = mapping, labels
        link.save()
    return link


def clean_mapping(*, campaign, mapping):
    """{field: attribute uid} with known field names, uid-shaped values and every required
    field present; raises ValidationError naming `mapping.<field>`."""
    if not isinstance(mapping, dict):
        raise ValidationError({"mapping": [_("Must be an object of field names and DHIS2 "
                                             "attribute uids.")]})
    allowed = {field["key"] for field in mappable_fields(campaign)}
    cleaned, errors = {}, {}
    for raw_key, raw_uid in mapping.items():
        key = str(raw_key).strip().lower()
        key = COLUMN_ALIASES.get(key, key)
        uid = _text(raw_uid)
        if not uid:
            continue  # an empty select: the field is not mapped
        if key not in allowed:
            template_keys = ", ".join(k for k, _label in template_fields(campaign))
            errors[f"mapping.{raw_key}"] = [
                _("Not a beneficiary field nor a field of this campaign's card template "
                  "(%(fields)s).") % {"fields": template_keys or "—"}
            ]
        elif not UID.match(uid):
            errors[f"mapping.{raw_key}"] = [
                _("Must be a DHIS2 attribute uid: 11 letters and digits, the first a letter.")
            ]
        else:
            cleaned[key] = uid
    for key in REQUIRED_FIELDS:
        if key not in cleaned and f"mapping.{key}" not in errors:
            errors[f"mapping.{key}"] = [_("Required: choose the DHIS2 attribute that holds it.")]
    if errors:
        raise ValidationError(errors)
    return cleaned


def org_unit_choices(*, client, program):
    """[{"id", "displayName", "level"}] the page offers: the org units assigned to the program
    and those above them (a district covers its facilities), by level then name."""
    assigned = {ou["id"] for ou in program["org_units"]}
    ancestors = set()
    for ou in program["org_units"]:
        ancestors.update(part for part in ou["path"].split("/") if part)
    wanted = ancestors if len(ancestors) <= MAX_ANCESTOR_LOOKUP else assigned
    units = client.org_units(wanted) if wanted else []
    found = {ou.get("id") for ou in units}
    units += [{"id": uid, "displayName": uid, "level": None} for uid in assigned - found]
    return sorted(units, key=lambda ou: (ou.get("level") or 99, ou.get("displayName") or ""))


def _org_unit_in_program(org_unit_uid, program):
    for ou in program["org_units"]:
        if ou["id"] == org_unit_uid or f"/{org_unit_uid}/" in f"{ou['path']}/":
            return True
    return False


def _text(value):
    return "" if value is None else str(value).strip()
