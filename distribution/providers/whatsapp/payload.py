"""What a WhatsApp message carries beyond the text: the card's PNG, the template's parameters."""


def card_extras(*, card, beneficiary, campaign, program, images):
    return {
        "image_png": images.png(card),
        # The approved template ("card_ready") has one body parameter: the first name.
        "template_params": (beneficiary.first_name,),
    }
