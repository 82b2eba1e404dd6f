"""WhatsApp Business Cloud API: settings (app_secret and verify_token serve the webhook)."""

from django.utils.translation import gettext_lazy

from distribution.providers.spec import ConfigField, ProviderSpec

WHATSAPP = ProviderSpec(
    code="whatsapp",
    adapter="distribution.providers.whatsapp.adapter.WhatsAppChannel",
    fields=(
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
    account_field="phone_number_id",
    consent_field="consent_whatsapp",
    needs_phone=True,
    card_extras="distribution.providers.whatsapp.payload.card_extras",
    test_image=True,
)
