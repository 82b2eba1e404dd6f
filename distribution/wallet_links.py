"""A card's Google Wallet link, kept on the card (WalletLink): the save link Google opens
(`https://pay.google.com/gp/v/save/<jwt>`, ~1,000 characters) and our short link to it,
`<PUBLIC_BASE_URL>/w/<token>`, which is what a Wallet step texts (one SMS segment).

The token is made when the link is first sent (before the carrier is called) and never
changes, so a link already sent keeps working when the save link is made again. The short
link's page only redirects: it names neither the person nor the program. A save link not
recorded yet (the sender stopped between the carrier's answer and the record) is made when
the short link is first opened.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from campaignid.outbound_http import TransportError
from campaigns.access import people_visible
from campaigns.models import Program
from distribution.card_messages import outbound_message
from distribution.dispatch import clock
from distribution.integrations import IntegrationNotConfigured, channel_for
from distribution.message_templates import template_body
from distribution.models import ChannelCode, WalletLink
from distribution.providers.adapter import ChannelError

logger = logging.getLogger(__name__)

CSV_COLUMNS = ("card_code", "enrollment_id", "short_link", "save_link", "made_at")


def short_link(token):
    return f"{settings.PUBLIC_BASE_URL}/w/{token}"


def tokens_for(*, card_ids):
    """{card id: short-link token} for these cards, the missing rows made (one insert)."""
    card_ids = list(dict.fromkeys(card_ids))
    found = dict(WalletLink.objects.filter(card_id__in=card_ids).values_list("card_id", "token"))
    missing = [pk for pk in card_ids if pk not in found]
    if missing:
        # Another sender (or the CSV) may make the same card's row meanwhile: the first wins.
        WalletLink.objects.bulk_create([WalletLink(card_id=pk) for pk in missing],
                                       ignore_conflicts=True)
        found.update(WalletLink.objects.filter(card_id__in=missing)
                     .values_list("card_id", "token"))
    return found


def record_links(*, made):
    """Stores the save links made: `made` is [(card id, save url, object id)]."""
    if not made:
        return
    now = clock.now()
    by_card = {card_id: (url, object_id) for card_id, url, object_id in made}
    with transaction.atomic():
        rows = list(WalletLink.objects.filter(card_id__in=by_card))
        for row in rows:
            row.save_url, row.object_id = by_card[row.card_id]
            row.made_at = now
        WalletLink.objects.bulk_update(rows, ["save_url", "object_id", "made_at"])


def link_keep(*, card_id, save_url, object_id):
    """Keep a save link made outside a dispatch (a single send, a DHIS2 request) on its card,
    so the operators' CSV lists it and the card's short link opens it."""
    tokens_for(card_ids=[card_id])
    record_links(made=[(card_id, save_url, object_id)])


def save_url_for(token):
    """The save link behind a short link; made (and stored) when not stored yet. None when
    the token is unknown, the card revoked or replaced, or the link cannot be made now."""
    row = (WalletLink.objects.filter(token=token)
           .select_related("card__beneficiary", "card__campaign__program").first())
    if row is None:
        return None
    card = row.card
    if card.revoked_at or card.superseded_at or card.campaign.deleted_at:
        return None
    if row.save_url:
        return row.save_url
    return _make(card)


def _make(card):
    campaign, program = card.campaign, card.campaign.program
    try:
        adapter = channel_for(program=program, channel=ChannelCode.WALLET)
        outbound = outbound_message(channel=ChannelCode.WALLET, card=card,
                                    beneficiary=card.beneficiary, campaign=campaign,
                                    program=program, to="", body=template_body(campaign=campaign),
                                    key=f"wallet-{card.code}")
        link = adapter.links([outbound])[0]
    except (IntegrationNotConfigured, ChannelError, TransportError) as exc:
        logger.warning("card %s: the Wallet link cannot be made now (%s)", card.pk,
                       type(exc).__name__)
        return None
    record_links(made=[(card.pk, link.url, link.object_ids[0])])
    return link.url


def logo_url(program):
    """The absolute public address of the program's logo for a Wallet pass (Google fetches
    it), or "" without a logo. The address holds a keyed digest of the stored file's name:
    it cannot be guessed, and a new logo gets a new address."""
    if not program.logo:
        return ""
    path = reverse("wallet-logo", kwargs={"program": program.pk, "key": _logo_key(program)})
    return f"{settings.PUBLIC_BASE_URL}{path}"


def program_for_logo(*, program, key):
    """The Program whose public logo address this is, or None."""
    found = Program.objects.filter(pk=program).exclude(logo="").first()
    if found is None or not constant_time_compare(key, _logo_key(found)):
        return None
    return found


def _logo_key(program):
    return salted_hmac("distribution.wallet-logo", program.logo.name).hexdigest()[:24]


def csv_rows(*, access, campaign):
    """The campaign's Wallet links that the caller may see, as CSV_COLUMNS rows."""
    rows = people_visible(access, WalletLink.objects.filter(card__campaign=campaign))
    rows = rows.select_related("card__beneficiary").order_by("card_id")
    for row in rows.iterator(chunk_size=500):
        yield (row.card.code, row.card.beneficiary.external_id, short_link(row.token),
               row.save_url, row.made_at)
