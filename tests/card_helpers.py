"""A card as the renderer takes it, without a database: unsaved Program and Campaign
instances, a card's data as a plain dict, and a renderer for them. Shared by the tests that
render cards (tests/test_card_rendering.py and those that need a rendered card)."""

import datetime

from campaigns.models import Campaign, CampaignType, Program
from cards.qr import qr_matrix
from cards.rendering.renderer import CardRenderer

# The printed link of a version 2 token (cards/qr.py): 227 digits, a 17-byte name's.
URL = "HTTPS://VERIFY.EXAMPLE.ORG/V/C/DKR-VAC-9XQ7LM2A#" + ("0123456789" * 23)[:227]


def qr_modules(url=URL):
    # The module matrix, no quiet zone (the card has it).
    return qr_matrix(url)


def program(**kwargs):
    return Program(name="Ministère de la Santé - PEV Sénégal", slug="msas", **kwargs)


def campaign(*, campaign_type=CampaignType.VACCINATION, **kwargs):
    defaults = {"name": "Rougeole Dakar", "prefix": "DKR-VAC", "language": "fr",
                "card_validity_months": 24}
    defaults.update(kwargs)
    return Campaign(program=program(), campaign_type=campaign_type, **defaults)


def card(**kwargs):
    data = {
        "code": "DKR-VAC-9XQ7LM2A",
        "first_name": "Aïssatou",
        "last_name": "N'Diaye",
        "date_of_birth": datetime.date(2019, 5, 17),
        "sex": "F",
        "mpi_id": "MPI-100234567",
        "attributes": {"vaccine": "Penta 3", "doses": 2},
        "issued_on": datetime.date(2025, 3, 1),
        "expires_on": datetime.date(2027, 3, 1),
        "qr": qr_modules(),
    }
    data.update(kwargs)
    return data


def renderer(camp=None, *, dpi=300, include_mpi_id=True):
    camp = camp or campaign()
    return CardRenderer(campaign=camp, program=camp.program, dpi=dpi,
                        include_mpi_id=include_mpi_id)
