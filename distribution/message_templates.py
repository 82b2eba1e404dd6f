"""The text that goes with a card (SMS body, WhatsApp caption), per campaign and language.

`{card_link}` is the card page's short address (`<PUBLIC_BASE_URL>/v/c/<code>`, verified
online by code): the default SMS texts use it so that, with a realistic name, programme and
server address, they fit one GSM-7 segment (160 characters) with room left for the opt-out
hint. `{verification_url}` adds the signed token (`#<token>`, ~230 digits more) for a
check offline.

A template is plain text with `{variable}` placeholders from VARIABLES only: no attribute
access, indexing, conversion or format spec, so a template can never reach into an object.
`{{` and `}}` write literal braces.

`{wallet_link}` is the card's Google Wallet short link (`<PUBLIC_BASE_URL>/w/<token>`,
distribution.wallet_links), filled in a dispatch's Wallet step only (empty elsewhere). A
Wallet step sends the campaign's own text when it holds `{wallet_link}`, else the built-in
WALLET_TEMPLATES: a card's usual text, without the link, would reach nobody's wallet.

A campaign without its own template for a language uses
the built-in default, written to stay in the GSM-7 alphabet (one SMS segment is 160
characters instead of 70) and ending with how to opt out (reply STOP; in Wolof BAYIL).
"""

import string

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from campaigns.models import Language
from distribution.models import MessageTemplate
from verification.public import neutral_label

VARIABLES = (
    "first_name", "last_name", "card_code", "programme_name", "issue_date", "verification_url",
    "card_link", "wallet_link",
)
MAX_LENGTH = 1000

DEFAULT_TEMPLATES = {
    "fr": "Bonjour {first_name}, votre carte {programme_name} : {card_link}\n"
          "STOP pour ne plus recevoir",
    "en": "Hello {first_name}, your {programme_name} card: {card_link}\nSTOP to opt out",
    # BAYIL is the Wolof STOP word (campaigns/opt_out.py); "ngir taxawal" = "to stop it".
    # Draft: awaits a native speaker's review, like the word itself.
    "wo": "Salaam {first_name}, sa kart {programme_name} a ngi fii: {card_link}\n"
          "BAYIL ngir taxawal",
}
# What a Wallet step sends by SMS or WhatsApp (one GSM-7 segment, like the defaults above).
WALLET_TEMPLATES = {
    "fr": "Bonjour {first_name}, votre carte {programme_name} dans Google Wallet : "
          "{wallet_link}\nSTOP pour ne plus recevoir",
    "en": "Hello {first_name}, add your {programme_name} card to Google Wallet: {wallet_link}\n"
          "STOP to opt out",
    # Draft, like the Wolof default above: awaits a native speaker's review.
    "wo": "Salaam {first_name}, duggalal sa kart {programme_name} ci Google Wallet: "
          "{wallet_link}\nBAYIL ngir taxawal",
}
# The words each default ends with, telling people how to stop (checked by the tests).
OPT_OUT_HINTS = {"fr": "STOP pour ne plus recevoir", "en": "STOP to opt out",
                 "wo": "BAYIL ngir taxawal"}

_formatter = string.Formatter()


def template_problems(body):
    """Sentences naming what is wrong with `body` (empty when it can be saved)."""
    if not body or not body.strip():
        return [_("The message cannot be empty.")]
    if len(body) > MAX_LENGTH:
        return [_("The message is longer than %(max)s characters.") % {"max": MAX_LENGTH}]
    try:
        parts = list(_formatter.parse(body))
    except ValueError:
        return [_("A { or } is not closed; write {{ or }} for a literal brace.")]
    problems = []
    for _literal, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in VARIABLES:
            problems.append(
                _("Unknown variable {%(name)s}; use one of %(allowed)s.")
                % {"name": field, "allowed": ", ".join(f"{{{v}}}" for v in VARIABLES)}
            )
        elif spec or conversion:
            problems.append(_("Write {%(name)s} without a format.") % {"name": field})
    return problems


def validate_template(body):
    problems = template_problems(body)
    if problems:
        raise ValidationError({"body": problems})


def render(body, variables):
    """`body` with its placeholders filled; `body` must have passed validate_template."""
    return body.format_map({name: variables.get(name, "") for name in VARIABLES})


def programme_name(*, campaign, program):
    """What {programme_name} says: the program's name, or for a sensitive campaign the neutral
    label in its language. A message is read on a lock screen or a shared phone before anyone
    opens it, and a program may be named after the condition it treats."""
    return neutral_label(campaign.language) if campaign.is_sensitive else program.name


def template_body(*, campaign, language=None):
    """The text a campaign's messages use in `language` (default: the campaign's)."""
    language = language or campaign.language
    saved = MessageTemplate.objects.filter(campaign=campaign, language=language).first()
    return saved.body if saved else DEFAULT_TEMPLATES.get(language, DEFAULT_TEMPLATES["fr"])


def wallet_template_body(*, campaign, language=None):
    """The text of a campaign's Wallet step: its own template when that holds {wallet_link},
    else the built-in Wallet text."""
    language = language or campaign.language
    body = template_body(campaign=campaign, language=language)
    if "{wallet_link}" in body:
        return body
    return WALLET_TEMPLATES.get(language, WALLET_TEMPLATES["fr"])


def templates_for(*, campaign):
    """[{language, body, is_default}] for every language."""
    saved = {t.language: t for t in MessageTemplate.objects.filter(campaign=campaign)}
    return [
        {"language": code, "body": saved[code].body if code in saved else DEFAULT_TEMPLATES[code],
         "is_default": code not in saved, "updated_at": saved[code].updated_at
         if code in saved else None}
        for code in Language.values
    ]


def template_save(*, campaign, language, body):
    """Stores the campaign's template for `language`; ValidationError names `body`."""
    if language not in Language.values:
        raise ValidationError({"language": [_("Must be one of fr, en, wo.")]})
    body = (body or "").replace("\r\n", "\n").strip()
    validate_template(body)
    with transaction.atomic():
        template, _created = MessageTemplate.objects.update_or_create(
            campaign=campaign, language=language, defaults={"body": body}
        )
    return template


def template_reset(*, campaign, language):
    """Back to the built-in default for `language`."""
    MessageTemplate.objects.filter(campaign=campaign, language=language).delete()
