"""Orange SMS API: settings."""

import re

from django.utils.translation import gettext_lazy

from distribution.providers.spec import ConfigField, ProviderSpec

# Orange: at most 11 characters; letters and digits (the hyphen of `SANTE-SN` in Orange's own
# examples is accepted), at least one letter so it is not mistaken for a number.
SENDER_NAME = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9-]{1,11}$")

ORANGE_SMS = ProviderSpec(
    code="sms",
    adapter="distribution.providers.orange_sms.adapter.OrangeSmsChannel",
    fields=(
        ConfigField("client_id", label=gettext_lazy("Client ID")),
        ConfigField("client_secret", secret=True, label=gettext_lazy("Client secret")),
        ConfigField("sender_address", pattern=r"^tel:\+\d{3,15}$",
                    hint=gettext_lazy("tel:+ then digits"), label=gettext_lazy("Sender address")),
        ConfigField("sender_name", required=False, pattern=SENDER_NAME.pattern,
                    hint=gettext_lazy("at most 11 letters or digits"),
                    label=gettext_lazy("Sender name")),
    ),
    account_field="sender_address",
    consent_field="consent_sms",
    needs_phone=True,
    webhook_url_name="webhook-orange",
)
