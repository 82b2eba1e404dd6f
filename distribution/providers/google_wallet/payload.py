"""What a Google Wallet pass shows about the card."""

from distribution.providers.adapter import CardDetails
from verification.public import public_campaign_name


def card_extras(*, card, beneficiary, campaign, program, images):
    return {"card": CardDetails(
        title=program.name,
        holder_name=f"{beneficiary.first_name} {beneficiary.last_name}".strip(),
        # A pass sits in the phone's wallet: a sensitive campaign shows the neutral label.
        subtitle=public_campaign_name(campaign),
        valid_from=card.issued_on,
        valid_until=card.expires_on,
        background_color=program.brand_colour,
    )}
