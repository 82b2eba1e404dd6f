"""What a public surface may say about a card's campaign: the card page, the offline portal,
the texts sent with a card and Wallet passes are seen by whoever scans or holds the phone.

A sensitive campaign (HIV, or any campaign flagged sensitive) is named there only by the
neutral label "Health programme", never by its name or its type. Cards issued before the
neutral type existed carry `hiv` in their token: they still verify, shown with the same
label. The offline portal has its own copy of these labels (static/verification/portal/
portal.js), since it runs without the server.
"""

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from campaigns.models import SENSITIVE_CAMPAIGN_TYPES, CampaignType
from cards.tokens import CAMPAIGN_TYPE_CODES, NEUTRAL_TYPE

NEUTRAL_LABEL = _("Health programme")
# Token types shown with the neutral label: the neutral type itself, and the types that name
# a condition (old HIV cards).
NEUTRAL_TYPES = frozenset({NEUTRAL_TYPE, *SENSITIVE_CAMPAIGN_TYPES})


def type_labels() -> dict[str, str]:
    """Every token type's label in the active language, for the card page's script."""
    names = dict(CampaignType.choices)
    return {
        code: str(NEUTRAL_LABEL if code in NEUTRAL_TYPES else names[code])
        for code in CAMPAIGN_TYPE_CODES
    }


def neutral_label(language) -> str:
    with translation.override(language):
        return str(NEUTRAL_LABEL)


def public_campaign_name(campaign) -> str:
    """The campaign's name, or the neutral label (in the campaign's language) for a
    sensitive one: its name often says what the holders are treated for."""
    return neutral_label(campaign.language) if campaign.is_sensitive else campaign.name

