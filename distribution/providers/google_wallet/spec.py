"""Google Wallet: settings (a service account's key, checked when saved)."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from distribution.providers.google_wallet.keys import is_rsa_private_key
from distribution.providers.spec import ConfigField, ProviderSpec


def _email_problem(value):
    try:
        validate_email(value)
    except ValidationError:
        return _("Must be the service account's e-mail address.")
    return ""


def _key_problem(value):
    if is_rsa_private_key(value):
        return ""
    return _("Must be an unencrypted RSA private key in PEM form (BEGIN PRIVATE KEY).")


def _unescape_newlines(value):
    # Pasted from the service account's JSON key file, where newlines are escaped.
    return value.replace("\\n", "\n") if "\\n" in value and "\n" not in value else value


GOOGLE_WALLET = ProviderSpec(
    code="wallet",
    adapter="distribution.providers.google_wallet.adapter.GoogleWalletChannel",
    fields=(
        ConfigField("issuer_id", pattern=r"^\d{5,25}$", hint=gettext_lazy("digits"),
                    label=gettext_lazy("Issuer ID")),
        ConfigField("service_account_email", label=gettext_lazy("Service account e-mail"),
                    check=_email_problem),
        ConfigField("private_key", secret=True, label=gettext_lazy("Private key"),
                    check=_key_problem, normalize=_unescape_newlines,
                    mask_label="RSA private key"),
        ConfigField("class_suffix", pattern=r"^[A-Za-z0-9._-]{1,100}$",
                    hint=gettext_lazy("letters, digits, '.', '_' and '-'"),
                    label=gettext_lazy("Class suffix")),
    ),
    account_field="issuer_id",
    consent_field="consent_wallet",
    needs_phone=False,
    card_extras="distribution.providers.google_wallet.payload.card_extras",
)
