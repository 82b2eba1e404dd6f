"""Forms of the DHIS2 pages. They only collect input: the services check it (against DHIS2
for the link) and their errors are put back on the matching field with `add_service_errors`.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from campaignid.sealed_settings import MASK

REQUIRED = _("This field is required.")
INVALID_CHOICE = _("Choose one of the options shown.")
NOT_MAPPED = ("", _("— not mapped —"))


class ConnectionForm(forms.Form):
    base_url = forms.CharField(
        label=_("DHIS2 address"), max_length=300, error_messages={"required": REQUIRED},
        help_text=_("The DHIS2 root, e.g. https://dhis2.example.org (without /api)."),
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    auth = forms.ChoiceField(
        label=_("Authentication"), widget=forms.RadioSelect,
        choices=[("token", _("Personal access token")), ("basic", _("User name and password"))],
        error_messages={"required": REQUIRED},
    )
    token = forms.CharField(
        label=_("Personal access token"), required=False,
        help_text=_("d2pat_… — create it in DHIS2 under Profile > Personal access tokens. "
                    "Leave empty to keep the saved one."),
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
    username = forms.CharField(label=_("User name"), required=False,
                               widget=forms.TextInput(attrs={"autocomplete": "off"}))
    password = forms.CharField(
        label=_("Password"), required=False,
        help_text=_("Leave empty to keep the saved one."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    enabled = forms.BooleanField(label=_("Enabled"), required=False)

    def __init__(self, *args, masked=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The saved secrets show only as their mask: a placeholder, never a value.
        for name in ("token", "password"):
            if (masked or {}).get(name, "").startswith(MASK):
                self.fields[name].widget.attrs["placeholder"] = masked[name]

    def config(self):
        data = self.cleaned_data
        return {name: data.get(name, "") for name in ("base_url", "auth", "token", "username",
                                                        "password")}


class LinkForm(forms.Form):
    """The program and org unit selects, and one attribute select per beneficiary field;
    the choices come from DHIS2 (see views.campaign_dhis2)."""

    program_uid = forms.ChoiceField(
        label=_("DHIS2 tracker program"),
        error_messages={"required": REQUIRED, "invalid_choice": INVALID_CHOICE},
    )
    org_unit_uid = forms.ChoiceField(
        label=_("Organisation unit"),
        error_messages={"required": REQUIRED, "invalid_choice": INVALID_CHOICE},
        help_text=_("Tracked entities enrolled here and in every org unit below it."),
    )

    def __init__(self, *args, programs=(), org_units=(), attributes=(), fields=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program_uid"].choices = [("", _("Choose a program…"))] + [
            (p["id"], p["displayName"]) for p in programs
        ]
        self.fields["org_unit_uid"].choices = [("", _("Choose an org unit…"))] + [
            (ou["id"], "\u2003" * max(0, (ou.get("level") or 1) - 1) + (ou.get("displayName")
                                                                        or ou["id"]))
            for ou in org_units
        ]
        attribute_choices = [NOT_MAPPED] + [
            (a["id"], f"{a['displayName']} ({a['valueType']})") for a in attributes
        ]
        self.mapping_names = []
        for field in fields:
            name = f"map_{field['key']}"
            self.mapping_names.append(name)
            self.fields[name] = forms.ChoiceField(
                label=field["label"], choices=attribute_choices, required=False,
                error_messages={"invalid_choice": INVALID_CHOICE},
                help_text=_("Card template field") if field["template"] else "",
            )
            self.fields[name].is_required_mapping = field["required"]

    def mapping_fields(self):
        return [self[name] for name in self.mapping_names]

    def mapping(self):
        return {name.removeprefix("map_"): self.cleaned_data.get(name, "")
                for name in self.mapping_names}


def add_service_errors(form, exc, *, prefix_map):
    """Puts a service ValidationError's messages on the form's fields: `prefix_map` turns a
    service key prefix (`config.`, `mapping.`) into the form's field name prefix."""
    for key, messages in exc.message_dict.items():
        name = key
        for prefix, replacement in prefix_map.items():
            if key.startswith(prefix):
                name = replacement + key.removeprefix(prefix)
        for message in messages:
            form.add_error(name if name in form.fields else None, message)
