"""The CSV template of a campaign's beneficiary import: the standard columns, then the card
template's own columns (what its cards print per person), and one example row.

Holds no person: reading it needs only the campaign (Need.READ)."""

from campaigns import studio
from campaigns.beneficiary_upsert import KNOWN_COLUMNS
from campaigns.csv_export import csv_response

# "attributes" is the JSON import's object of extra values, not a CSV column.
STANDARD_COLUMNS = tuple(c for c in KNOWN_COLUMNS if c != "attributes")
EXAMPLE = {
    "external_id": "EXT-0001",
    "first_name": "Aïssatou",
    "last_name": "Diallo",
    "date_of_birth": "2019-05-17",
    "sex": "F",
    "phone_number": "00221771234567",  # 00: international whatever the program's region
    "mpi_id": "",
    "consent_whatsapp": "yes",
    "consent_sms": "yes",
    "consent_wallet": "no",
    "opted_out": "no",
}


def template_columns(campaign):
    """[(key, label)] of the import columns the campaign's card template prints, in printing
    order, with the campaign-level value that prints when a person's column is empty."""
    template_id = studio.template_for_campaign(campaign)
    if template_id not in studio.TEMPLATES:
        return []
    design = studio.card_design(
        template_id=template_id, language=campaign.language, options=campaign.template_options
    )
    return [
        {"key": key, "label": labels[design.language], "campaign_value": design.values.get(key)}
        for key, labels, _sample in studio.import_columns(template_id)
    ]


def import_template(campaign):
    """(header, [example row]). A template column the campaign sets a value for is left
    empty in the example: empty prints the campaign's value."""
    template_id = studio.template_for_campaign(campaign)
    extra = studio.import_columns(template_id) if template_id in studio.TEMPLATES else []
    values = {c["key"]: c["campaign_value"] for c in template_columns(campaign)}
    header = [*STANDARD_COLUMNS, *(key for key, _labels, _sample in extra)]
    row = [EXAMPLE.get(c, "") for c in STANDARD_COLUMNS] + [
        "" if values.get(key) else _sample_text(sample) for key, _labels, sample in extra
    ]
    return header, [row]


def import_template_response(campaign):
    """The CSV file as a download (campaigns.csv_export writes every CSV handed out)."""
    header, rows = import_template(campaign)
    filename = f"{campaign.prefix or 'campaign'}-import-template.csv"
    return csv_response(header, rows, filename=filename, stream=False)


def _sample_text(sample):
    return ", ".join(map(str, sample)) if isinstance(sample, list | tuple) else str(sample)
