"""What the rest of distribution knows about a provider without loading its adapter: its
settings, which consent it needs, whether it needs a phone number, where its adapter is."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ConfigField:
    name: str
    secret: bool = False
    required: bool = True
    pattern: str = ""
    hint: str = ""  # says what `pattern` wants, in words
    label: str = ""  # the field's name on screen
    # Extra checks past `pattern`: the value -> a problem for people, or "".
    check: Callable[[str], str] | None = None
    # Applied to the value as typed, before any check (e.g. a pasted key's escaped newlines).
    normalize: Callable[[str], str] | None = None
    # A secret whose last characters say nothing is shown as the mask and this text.
    mask_label: str = ""


@dataclass(frozen=True)
class ProviderSpec:
    code: str  # the channel code stored on integrations, recipients and messages
    adapter: str  # dotted path of its `adapter.Channel` subclass, imported on first use
    fields: tuple[ConfigField, ...]
    # The provider's own name for the account, kept in clear on the integration row.
    account_field: str
    consent_field: str  # the Beneficiary flag that allows this channel
    needs_phone: bool
    # Dotted path of `card_extras(*, card, beneficiary, campaign, program, images)`: the
    # OutboundMessage fields this provider needs past the text (a PNG, pass details), or "".
    card_extras: str = ""
    # Its settings test sends a small PNG too (the media upload is part of what is tested).
    test_image: bool = False
    # The URL name of its delivery-receipt webhook when the address holds the integration's
    # token (shown to the program's admins to register with the provider), else "".
    webhook_url_name: str = ""
