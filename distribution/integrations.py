"""A program's provider settings: validation per channel, encryption at rest, masking, the
"Test" button, and the configured adapter a dispatcher sends through.

Secrets are write-only: reads show them masked (`••••abcd`), and a save that omits a secret,
or sends back its masked form, keeps the stored one.
"""

import io
import re
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from PIL import Image

from campaignid.sealed_settings import kept_secret, masked, seal, unseal
from campaigns.phones import InvalidPhone, phone_to_e164
from distribution.models import ChannelCode, ProviderIntegration
from distribution.providers.adapter import CardDetails, OutboundMessage
from distribution.providers.registry import adapter_class, provider


class IntegrationNotConfigured(Exception):
    """The program has no saved settings (or they are disabled) for this channel."""


def fields(channel):
    """The channel's settings, in the order a form shows them."""
    return provider(channel).fields


def integration_get(*, program, channel):
    return ProviderIntegration.objects.for_program(program).filter(channel=channel).first()


def integration_config(*, integration):
    """The decrypted config dict (secrets in clear: for adapters, never for responses)."""
    if integration is None:
        return {}
    return unseal(integration.config_encrypted)


def integration_view(*, program, channel):
    """What GET shows: every field of the channel, secrets masked, blanks for unset fields."""
    integration = integration_get(program=program, channel=channel)
    stored = integration_config(integration=integration)
    config = {}
    for spec in fields(channel):
        value = stored.get(spec.name, "")
        config[spec.name] = masked(value, label=spec.mask_label) if spec.secret else value
    return {
        "channel": channel,
        "enabled": bool(integration and integration.enabled),
        "configured": bool(stored),
        "config": config,
        "updated_at": integration.updated_at if integration else None,
    }


def integration_save(*, program, channel, config, enabled=None):
    """Validates and stores a program's settings for `channel`; returns the integration.

    Raises ValidationError whose message_dict names each bad field as `config.<name>`.
    """
    with transaction.atomic():
        integration = (
            ProviderIntegration.objects.select_for_update()
            .filter(program=program, channel=channel).first()
        )
        stored = integration_config(integration=integration)
        cleaned = clean_config(channel=channel, config=config, stored=stored)
        if integration is None:
            integration = ProviderIntegration(program=program, channel=channel)
        if enabled is not None:
            integration.enabled = bool(enabled)
        integration.account_id = cleaned.get(provider(channel).account_field, "")
        integration.config_encrypted = seal(cleaned)
        integration.save()
    return integration


def clean_config(*, channel, config, stored=None):
    """The config to store: stripped, validated, omitted or masked secrets taken from `stored`."""
    stored = stored or {}
    if not isinstance(config, dict):
        raise ValidationError({"config": [_("Must be an object of the channel's settings.")]})
    specs = {spec.name: spec for spec in fields(channel)}
    errors = {}
    for name in config:
        if name not in specs:
            errors[f"config.{name}"] = [_("Unknown setting for this channel.")]
    cleaned = {}
    for name, spec in specs.items():
        value = config.get(name)
        value = "" if value is None else str(value).strip()
        if spec.normalize:
            value = spec.normalize(value)
        if spec.secret:
            value = kept_secret(value, stored.get(name, ""))
        if not value:
            if spec.required:
                errors[f"config.{name}"] = [_("This setting is required.")]
            continue
        problem = _field_problem(spec, value)
        if problem:
            errors[f"config.{name}"] = [problem]
        cleaned[name] = value
    if errors:
        raise ValidationError(errors)
    return cleaned


def channel_for(*, program, channel, require_enabled=True):
    """The program's configured adapter for `channel`, ready to `send`."""
    integration = integration_get(program=program, channel=channel)
    config = integration_config(integration=integration)
    if not config or (require_enabled and not integration.enabled):
        raise IntegrationNotConfigured(
            _("%(channel)s is not set up (or not enabled) for this program.") % {"channel": channel}
        )
    return adapter_class(channel)(config)


def integration_test(*, program, channel, phone_number=""):
    """Sends one test message (Wallet: makes one test pass link); returns the SendResult.

    Works before the integration is enabled, so settings can be tried first.
    Raises ValidationError naming `phone_number`, or IntegrationNotConfigured.
    """
    adapter = channel_for(program=program, channel=channel, require_enabled=False)
    spec = provider(channel)
    if not spec.needs_phone:  # a pass provider: a test pass link for a sample card
        checked = adapter.check_credentials()
        if not checked.ok:
            return checked
        return adapter.send(message=_test_card(program))
    try:
        to = phone_to_e164(phone_number, default_region=program.country)
    except InvalidPhone as exc:
        raise ValidationError({"phone_number": [str(exc)]}) from None
    if not to:
        raise ValidationError({"phone_number": [_("A phone number is needed for the test.")]})
    text = _("CampaignID test from %(program)s: the %(channel)s settings work.") % {
        "program": program.name, "channel": ChannelCode(channel).label,
    }
    message = OutboundMessage(
        to=to, text=text, language=_language(),
        image_png=_test_png(program) if spec.test_image else None,
        template_params=(program.name,),
        idempotency_key=f"test-{secrets.token_hex(8)}",
    )
    return adapter.send(message=message)


def _field_problem(spec, value):
    if spec.pattern and not re.match(spec.pattern, value):
        return _("Must be %(hint)s.") % {"hint": spec.hint}
    return spec.check(value) if spec.check else ""


def _language():
    return (get_language() or settings.LANGUAGE_CODE)[:2]


def _test_card(program):
    code = f"TEST-{secrets.token_hex(4).upper()}"
    return OutboundMessage(
        card_code=code,
        verification_url=f"{settings.PUBLIC_BASE_URL}/v/c/{code}",
        language=_language(),
        card=CardDetails(title=program.name, holder_name=_("Test card"),
                         background_color=program.brand_colour),
        idempotency_key=f"test-{code}",
    )


def _test_png(program):
    """A small card-sized PNG in the program's colour: the test exercises the media upload."""
    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), program.brand_colour).save(buffer, format="PNG")
    return buffer.getvalue()
