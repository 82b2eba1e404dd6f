"""A fictional card of a campaign, for previews and for building a renderer's palette."""

import datetime

from campaigns import studio
from cards.qr import qr_base_url, qr_matrix
from cards.tokens import NAME_MAX_BYTES, SIGNATURE_SIZE, V2_FIXED_SIZE, decimal_digits
from cards.validity import add_months

SAMPLE_PERSON = {
    "first_name": "Aïssatou",
    "last_name": "N'Diaye",
    "date_of_birth": datetime.date(2019, 5, 17),
    "sex": "F",
    "mpi_id": "MPI-100234567",
}


SAMPLE_ISSUED_ON = datetime.date(2025, 1, 15)


def sample_card(campaign, campaign_values=None):
    """A fictional card of this campaign, for previews and for building the palette. Its
    person has no own value for the fields the campaign sets, so the campaign's value shows."""
    template = studio.get_template(studio.template_for_campaign(campaign))
    campaign_values = campaign_values or {}
    code = f"{campaign.prefix or 'DEMO'}-SAMPLE00"
    # A token as long as the longest real one, so the sample QR is as dense as a real one.
    digits = decimal_digits(V2_FIXED_SIZE + NAME_MAX_BYTES + SIGNATURE_SIZE)
    url = f"{qr_base_url()}/V/C/{code}#{('1234567890' * 30)[:digits]}"
    issued = SAMPLE_ISSUED_ON
    return {
        **SAMPLE_PERSON,
        "code": code,
        "attributes": {
            f.key: f.sample for f in template.fields if f.key not in campaign_values
        } if template else {},
        "issued_on": issued,
        # As issued cards: the campaign's validity after the issue date, none without one.
        "expires_on": sample_expiry(issued, getattr(campaign, "card_validity_months", None)),
        "qr": qr_matrix(url),
    }


def sample_expiry(issued, months):
    return add_months(issued, months) if months else None
