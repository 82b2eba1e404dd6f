"""Rendered previews of a card design: a campaign's sample card (front above back), with its
saved Card Studio options or unsaved ones, and a small front per template for the wizard.

Rendering one takes ~0.2 s of WeasyPrint and pdfium, and a design page asks again at every
change, so each PNG is kept in Django's cache under everything it depends on: the campaign's
`updated_at` (its language, template and options), the options asked for, the program's
name and logo file (the logo is stored under a content hash, see studio_services).
"""

import copy
import hashlib
import io
import json
from urllib.parse import urlencode

from django.core.cache import cache
from django.http import HttpResponse
from django.urls import reverse
from PIL import Image

from campaigns import studio, studio_catalogue
from campaigns.models import Campaign, Program
from cards.rendering.preview import render_preview_png

CACHE_SECONDS = 24 * 3600
THUMBNAIL_WIDTH = 340
# Enough for a template's two colours, its text and their anti-aliasing on a thumbnail.
THUMBNAIL_COLOURS = 64


_SAVED = object()


def campaign_preview(*, campaign, template_id=None, template_options=None,
                     card_validity_months=_SAVED):
    """(PNG bytes, cache key) of the campaign's sample card with its saved design, or with
    the unsaved `template_id` / `template_options` / `card_validity_months` given. Bad
    options raise ValidationError naming the option; a design that cannot render raises
    cards.rendering.errors.CardRenderError."""
    template_id = template_id or studio.template_for_campaign(campaign)
    options = campaign.template_options if template_options is None else template_options
    options = studio.template_options_validate(options, template_id)
    program = campaign.program
    if card_validity_months is _SAVED:
        card_validity_months = campaign.card_validity_months
    key = _key(
        "campaign",
        campaign.pk,
        campaign.updated_at.isoformat() if campaign.updated_at else "",
        template_id,
        options,
        program.name,
        program.logo.name or "",
        card_validity_months,
    )
    png = cache.get(key)
    if png is None:
        if template_id != studio.template_for_campaign(campaign) or (
            card_validity_months != campaign.card_validity_months
        ):
            # The renderer reads the template and the validity from the campaign: an unsaved
            # copy carries those asked for, nothing is written.
            campaign = copy.copy(campaign)
            campaign.template_id = template_id
            campaign.card_validity_months = card_validity_months
        png = render_preview_png(campaign=campaign, program=program, template_options=options)
        cache.set(key, png, CACHE_SECONDS)
    return png, key


def template_sample(*, template_id, language):
    """(PNG bytes, cache key) of the front of a template's sample card with its default
    colours, for a fictional program: the wizard shows one per template before any campaign
    exists. Unknown template ids raise KeyError."""
    template = studio.TEMPLATES[template_id]
    language = language if language in studio_catalogue.LANGUAGES else "fr"
    key = _key("template", template.id, language)
    png = cache.get(key)
    if png is None:
        program = Program(name=_sample_program_name(language), slug="sample")
        campaign = Campaign(
            program=program,
            name=template.titles[language],
            campaign_type=template.id,
            template_id=template.id,
            prefix="DEMO",
            language=language,
            card_validity_months=24,
        )
        sheet = Image.open(io.BytesIO(render_preview_png(campaign=campaign, program=program)))
        png = _front_thumbnail(sheet)
        cache.set(key, png, CACHE_SECONDS)
    return png, key


def png_response(request, png, key):
    """The PNG with an ETag from its cache key; an unchanged image answers 304."""
    tag = '"' + key.rsplit(":", 1)[-1] + '"'
    if request.headers.get("If-None-Match") == tag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(png, content_type="image/png")
    response["ETag"] = tag
    # Revalidated at each use: the same address shows a new logo or a newly saved design.
    response["Cache-Control"] = "private, no-cache"
    return response


def _front_thumbnail(sheet):
    # The preview sheet is the front above the back, two sides of one size: the front is
    # in the upper half whatever margins the renderer draws around them.
    front = sheet.convert("RGB").crop((0, 0, sheet.width, sheet.height // 2))
    height = round(front.height * THUMBNAIL_WIDTH / front.width)
    front = front.resize((THUMBNAIL_WIDTH, height), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    front.quantize(THUMBNAIL_COLOURS, dither=Image.Dither.NONE).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


# Printed on the sample cards in the card's language, whatever the interface language.
SAMPLE_PROGRAM_NAMES = {
    "fr": "Programme de santé",
    "en": "Health programme",
    "wo": "Prograam wér-gi-yaram",
}


def _sample_program_name(language):
    return SAMPLE_PROGRAM_NAMES.get(language, SAMPLE_PROGRAM_NAMES["fr"])


def _key(*parts):
    digest = hashlib.sha256(
        json.dumps(parts, sort_keys=True, default=str).encode()
    ).hexdigest()[:32]
    return f"card-preview:{digest}"


def campaign_preview_url(campaign, params=None):
    """The API address of the campaign's preview, with `params` (unsaved options) in its
    query string; `v` changes with every save so a browser never shows a stale image."""
    version = int(campaign.updated_at.timestamp() * 1_000_000) if campaign.updated_at else 0
    query = {**(params or {}), "v": version}
    return reverse("api-campaign-preview", kwargs={"pk": campaign.pk}) + "?" + urlencode(query)


def template_sample_url(template_id, language):
    return reverse("template-preview", kwargs={"template_id": template_id}) + "?" + urlencode(
        {"lang": language}
    )
