"""What goes to the provider for one card: the text from the campaign's template, and what
the provider adds (distribution/providers/<name>/payload.py: WhatsApp's PNG, a Wallet pass)."""

import logging
import zipfile

from django.core.files.storage import default_storage

from cards.qr import card_link, verification_url
from distribution.message_templates import programme_name, render
from distribution.providers.adapter import OutboundMessage
from distribution.providers.registry import card_extras

logger = logging.getLogger(__name__)

DATE_FORMAT = "%d/%m/%Y"


def text_variables(*, card, beneficiary, campaign, program):
    return {
        "first_name": beneficiary.first_name,
        "last_name": beneficiary.last_name,
        "card_code": card.code,
        "programme_name": programme_name(campaign=campaign, program=program),
        "issue_date": card.issued_on.strftime(DATE_FORMAT) if card.issued_on else "",
        "verification_url": verification_url(card),
        "card_link": card_link(card.code),
    }


def outbound_message(*, channel, card, beneficiary, campaign, program, to, body, key,
                     images=None):
    """The OutboundMessage for `card` over `channel`; `body` is a validated template."""
    variables = text_variables(card=card, beneficiary=beneficiary, campaign=campaign,
                               program=program)
    message = {
        "to": to,
        "text": render(body, variables),
        "card_code": card.code,
        "verification_url": variables["verification_url"],
        "language": campaign.language,
        "idempotency_key": key,
    }
    extras = card_extras(channel)
    if extras is not None:
        message.update(extras(card=card, beneficiary=beneficiary, campaign=campaign,
                              program=program, images=images or CardImages()))
    return OutboundMessage(**message)


class CardImages:
    """Each card's PNG: read from its generation job's ZIP (one open archive per job), or
    rendered when the card has no job archive (a card issued one by one)."""

    def __init__(self):
        self._archives = {}
        self._renderers = {}

    def png(self, card):
        archive = self._archive(card.job_id) if card.job_id else None
        if archive is not None:
            try:
                return archive.read(f"{card.code}.png")
            except KeyError:
                logger.warning("card %s is missing from job %s's ZIP", card.code, card.job_id)
        return self._render(card)

    def close(self):
        for archive in self._archives.values():
            if archive is not None:
                archive.close()
        self._archives.clear()

    def _archive(self, job_id):
        if job_id not in self._archives:
            from campaigns.models import Job

            name = Job.objects.filter(pk=job_id).values_list("zip", flat=True).first()
            try:
                self._archives[job_id] = (
                    zipfile.ZipFile(default_storage.open(name, "rb")) if name else None
                )
            except (OSError, zipfile.BadZipFile):
                logger.warning("job %s's ZIP cannot be read; rendering its cards", job_id)
                self._archives[job_id] = None
        return self._archives[job_id]

    def _render(self, card):
        from cards.models import Card
        from cards.packaging import card_render_data
        from cards.rendering.renderer import CardRenderer

        # A claimed card carries only what the message needs: read the rest for rendering.
        card = Card.objects.select_related("beneficiary", "campaign__program").get(pk=card.pk)
        campaign = card.campaign
        renderer = self._renderers.get(campaign.pk)
        if renderer is None:
            renderer = CardRenderer(campaign=campaign, program=campaign.program, dpi=campaign.dpi)
            self._renderers[campaign.pk] = renderer
        _pdf, pngs = renderer.render_fronts([card_render_data(card)])
        return pngs[0]
