"""What a card prints: its rows, in order, and the text of each for one card."""

from campaigns import studio, studio_catalogue
from campaigns.studio import format_date

MISSING_VALUE = "—"


def printed_rows(design, campaign, include_mpi_id):
    """The rows of this campaign's cards, in printing order."""
    show = design.show_fields
    keys = ["date_of_birth"]
    keys += [key for key in ("sex",) if key in show]
    keys += [key for key in design.template.field_keys if key in show]
    keys.append("issued")
    # No expiry row on cards that never expire.
    if "expiry" in show and getattr(campaign, "card_validity_months", None):
        keys.append("expiry")
    if include_mpi_id and "mpi_id" in show:
        keys.append("mpi_id")
    return tuple(keys)


def row_texts(design, row_keys, card):
    """The text of each row of one card, before it is cut to fit; a dash when empty."""
    lang = design.language
    attributes = card.get("attributes") or {}
    fields = {f.key: f for f in design.template.fields}
    texts = []
    for key in row_keys:
        if key == "date_of_birth":
            value = card.get("date_of_birth") and format_date(card["date_of_birth"])
        elif key == "sex":
            value = studio_catalogue.SEX_VALUES.get(card.get("sex") or "", {}).get(lang)
        elif key == "issued":
            value = card.get("issued_on") and format_date(card["issued_on"])
        elif key == "expiry":
            value = card.get("expires_on") and format_date(card["expires_on"])
        elif key == "mpi_id":
            value = card.get("mpi_id")
        else:
            value = studio.field_text(design, fields[key], attributes)
        texts.append(str(value) if value else MISSING_VALUE)
    return texts


def card_texts(*, campaign, card, include_mpi_id=False):
    """{row key: text} a card of this campaign prints for `card` (a card data dict)."""
    design = studio.card_design(
        template_id=studio.template_for_campaign(campaign), language=campaign.language,
        options=campaign.template_options,
    )
    keys = printed_rows(design, campaign, include_mpi_id)
    return dict(zip(keys, row_texts(design, keys, card), strict=True))
