"""A program's provider settings: validation per channel, encryption at rest, masking, the
"Test" button, and the configured adapter a dispatcher sends through.

Secrets are write-only: reads show them masked (`••••abcd`), and a save that omits a secret,
or sends back its masked form, keeps the stored one.
"""

import io
import json
import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from PIL import Image

from campaignid.crypto import decrypt, encrypt
from campaigns.phones import InvalidPhone, phone_to_e164
from distribution.channels import channel_class
from distribution.channels.base import CardDetails, OutboundMessage
from distribution.channels.google_wallet import is_rsa_private_key
from distribution.models import ChannelCode, ProviderIntegration

MASK = "••••"
# Orange: at most 11 characters; letters and digits (the hyphen of `SANTE-SN` in Orange's own
# examples is accepted), at least one letter so it is not mistaken for a number.
SENDER_NAME = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9-]{1,11}$")


class IntegrationNotConfigured(Exception):
    """The program has no saved settings (or they are disabled) for this channel."""


@dataclass(frozen=True)
class ConfigField:
    name: str
    secret: bool = False
    required: bool = True
    pattern: str = ""
    hint: str = ""  # says what `pattern` wants, in words
    label: str = ""  # the field's name on screen


FIELDS = {
    ChannelCode.WHATSAPP: (
        ConfigField("phone_number_id", pattern=r"^\d{5,20}$", hint=gettext_lazy("digits"),
                    label=gettext_lazy("Phone number ID")),
        ConfigField("access_token", secret=True, label=gettext_lazy("Access token")),
        ConfigField("app_secret", secret=True, label=gettext_lazy("App secret")),
        ConfigField("verify_token", secret=True, label=gettext_lazy("Webhook verify token")),
        ConfigField("template_name", pattern=r"^[a-z0-9_]{1,512}$",
                    hint=gettext_lazy("lower-case letters, digits and _"),
                    label=gettext_lazy("Template name")),
        ConfigField("template_language", pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$",
                    hint=gettext_lazy("a language code such as fr or en_US"),
                    label=gettext_lazy("Template language")),
    ),
    ChannelCode.SMS: (
        ConfigField("client_id", label=gettext_lazy("Client ID")),
        ConfigField("client_secret", secret=True, label=gettext_lazy("Client secret")),
        ConfigField("sender_address", pattern=r"^tel:\+\d{3,15}$",
                    hint=gettext_lazy("tel:+ then digits"), label=gettext_lazy("Sender address")),
        ConfigField("sender_name", required=False, pattern=SENDER_NAME.pattern,
                    hint=gettext_lazy("at most 11 letters or digits"),
                    label=gettext_lazy("Sender name")),
    ),
    ChannelCode.WALLET: (
        ConfigField("issuer_id", pattern=r"^\d{5,25}$", hint=gettext_lazy("digits"),
                    label=gettext_lazy("Issuer ID")),
        ConfigField("service_account_email", label=gettext_lazy("Service account e-mail")),
        ConfigField("private_key", secret=True, label=gettext_lazy("Private key")),
        ConfigField("class_suffix", pattern=r"^[A-Za-z0-9._-]{1,100}$",
                    hint=gettext_lazy("letters, digits, '.', '_' and '-'"),
                    label=gettext_lazy("Class suffix")),
    ),
}
# The provider's own name for the account, kept in clear on the row (see the model).
ACCOUNT_FIELD = {
    ChannelCode.WHATSAPP: "phone_number_id",
    ChannelCode.SMS: "sender_address",
    ChannelCode.WALLET: "issuer_id",
}


def integration_get(*, program, channel):
    return ProviderIntegration.objects.for_program(program).filter(channel=channel).first()


def integration_config(*, integration):
    """The decrypted config dict (secrets in clear: for adapters, never for responses)."""
    if integration is None or not integration.config_encrypted:
        return {}
    return json.loads(decrypt(integration.config_encrypted))


def integration_view(*, program, channel):
    """What GET shows: every field of the channel, secrets masked, blanks for unset fields."""
    integration = integration_get(program=program, channel=channel)
    stored = integration_config(integration=integration)
    config = {}
    for spec in FIELDS[channel]:
        value = stored.get(spec.name, "")
        config[spec.name] = mask_secret(spec.name, value) if spec.secret else value
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
        integration.account_id = cleaned.get(ACCOUNT_FIELD[channel], "")
        integration.config_encrypted = encrypt(json.dumps(cleaned).encode("utf-8"))
        integration.save()
    return integration


def clean_config(*, channel, config, stored=None):
    """The config to store: stripped, validated, omitted or masked secrets taken from `stored`."""
    stored = stored or {}
    if not isinstance(config, dict):
        raise ValidationError({"config": [_("Must be an object of the channel's settings.")]})
    specs = {spec.name: spec for spec in FIELDS[channel]}
    errors = {}
    for name in config:
        if name not in specs:
            errors[f"config.{name}"] = [_("Unknown setting for this channel.")]
    cleaned = {}
    for name, spec in specs.items():
        value = config.get(name)
        value = "" if value is None else str(value).strip()
        if name == "private_key" and "\\n" in value and "\n" not in value:
            # Pasted from the service account's JSON key file, where newlines are escaped.
            value = value.replace("\\n", "\n")
        if spec.secret and (not value or value.startswith(MASK)):
            value = stored.get(name, "")
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
    return channel_class(channel)(config)


def integration_test(*, program, channel, phone_number=""):
    """Sends one test message (Wallet: makes one test pass link); returns the SendResult.

    Works before the integration is enabled, so settings can be tried first.
    Raises ValidationError naming `phone_number`, or IntegrationNotConfigured.
    """
    adapter = channel_for(program=program, channel=channel, require_enabled=False)
    if channel == ChannelCode.WALLET:
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
        image_png=_test_png(program) if channel == ChannelCode.WHATSAPP else None,
        template_params=(program.name,),
        idempotency_key=f"test-{secrets.token_hex(8)}",
    )
    return adapter.send(message=message)


def mask_secret(name, value):
    if not value:
        return ""
    if name == "private_key":
        return f"{MASK} RSA private key"
    return f"{MASK}{value[-4:]}" if len(value) >= 12 else MASK


def _field_problem(spec, value):
    if spec.pattern and not re.match(spec.pattern, value):
        return _("Must be %(hint)s.") % {"hint": spec.hint}
    if spec.name == "service_account_email":
        try:
            validate_email(value)
        except ValidationError:
            return _("Must be the service account's e-mail address.")
    if spec.name == "private_key" and not is_rsa_private_key(value):
        return _("Must be an unencrypted RSA private key in PEM form (BEGIN PRIVATE KEY).")
    return ""


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
