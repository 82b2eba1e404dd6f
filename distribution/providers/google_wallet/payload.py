"""What a Google Wallet pass shows about the card."""

from distribution.message_templates import programme_name
from distribution.providers.adapter import CardDetails
from distribution.wallet_links import logo_url
from verification.public import public_campaign_name


def card_extras(*, card, beneficiary, campaign, program, images):
    return {"card": CardDetails(
        # A pass sits in the phone's wallet: a sensitive campaign shows the neutral labels, as
        # its program may be named after the condition it treats.
        title=programme_name(campaign=campaign, program=program),
        holder_name=f"{beneficiary.first_name} {beneficiary.last_name}".strip(),
        subtitle=public_campaign_name(campaign),
        valid_from=card.issued_on,
        valid_until=card.expires_on,
        background_color=program.brand_colour,
        # The program's logo (a public address Google fetches); none on a sensitive
        # campaign's pass, whose program's logo may say what it treats.
        logo_url="" if campaign.is_sensitive else logo_url(program),
    )}
