"""Forms of the browser pages: the campaign wizard's steps, the list filters, the CSV import.

Error messages are our own gettext strings so that Wolof, which Django itself does not
translate, still reads every error in the user's language.
"""

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from campaigns import imports
from campaigns.beneficiary_facets import facets
from campaigns.models import (
    DPI_COST_FACTOR,
    Campaign,
    CampaignType,
    Dpi,
    Language,
    prefix_validator,
)
from campaigns.services import quota_cost

REQUIRED = _("This field is required.")
INVALID_CHOICE = _("Choose one of the options shown.")


def _messages(**extra):
    return {"required": REQUIRED, "invalid_choice": INVALID_CHOICE, **extra}


class CampaignGeneralForm(forms.Form):
    """Wizard step 1. Type and prefix are final once the campaign exists."""

    name = forms.CharField(
        label=_("Campaign name"),
        max_length=200,
        error_messages=_messages(max_length=_("At most 200 characters.")),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    campaign_type = forms.ChoiceField(
        label=_("Campaign type"),
        choices=[("", _("Choose a type…")), *CampaignType.choices],
        error_messages=_messages(),
        help_text=_("Decides the card template and its fields. It cannot change later."),
    )
    prefix = forms.CharField(
        label=_("Card code prefix"),
        max_length=8,
        error_messages=_messages(max_length=_("At most 8 characters.")),
        help_text=_(
            "3 to 8 characters: capital letters, digits and inner hyphens (e.g. DKR-VAC). "
            "Printed at the start of every card code; unique and final."
        ),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "class": "prefix-input",
                "data-uppercase": "",
            }
        ),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    sensitive = forms.BooleanField(
        label=_("Sensitive campaign"),
        required=False,
        help_text=_(
            "Its people, cards and files are seen only by members granted access to sensitive "
            "campaigns, and the verification page and messages show a neutral label. Always "
            "on for HIV; tick it for TB, mental health..."
        ),
    )

    def clean_prefix(self):
        # Operators type "dkr-vac "; the code printed on cards is upper case without spaces.
        prefix = self.cleaned_data["prefix"].strip().upper()
        try:
            prefix_validator(prefix)
        except ValidationError:
            raise ValidationError(
                _("3 to 8 characters: capital letters, digits and inner hyphens (e.g. DKR-VAC)."),
                code="invalid",
            ) from None
        # Unique across the installation (deleted campaigns included) so codes never collide.
        if Campaign.objects.filter(prefix=prefix).exists():
            raise ValidationError(
                _("This prefix is already taken; choose another one."), code="unique"
            )
        return prefix


class CampaignLanguageForm(forms.Form):
    """Wizard step 2: the language printed on the cards and used in messages."""

    language = forms.ChoiceField(
        label=_("Card language"),
        choices=Language.choices,
        widget=forms.RadioSelect,
        error_messages=_messages(),
    )


class CampaignTemplateForm(forms.Form):
    """Wizard step 3: one Card Studio template per campaign type; the ids are the type values."""

    template_id = forms.ChoiceField(
        label=_("Card template"),
        choices=CampaignType.choices,
        widget=forms.RadioSelect,
        error_messages=_messages(),
    )


class CampaignDpiForm(forms.Form):
    """Wizard step 4: print resolution, which sets the quota cost of each card."""

    dpi = forms.TypedChoiceField(
        label=_("Print resolution"),
        choices=Dpi.choices,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages=_messages(),
    )

    @staticmethod
    def options():
        """Each resolution with its quota cost, for the choice cards."""
        return {
            value: {
                "factor": DPI_COST_FACTOR[value],
                "per_thousand": quota_cost(cards=1000, dpi=value),
            }
            for value in Dpi.values
        }


# The browser's date picker reads and sends ISO days whatever the page's language.
DAY_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CampaignFilterForm(forms.Form):
    """The campaign list's search box and filters (GET); anything unknown is ignored."""

    # Values as the API's `archived` parameter; empty means "false", the default.
    ARCHIVED_CHOICES = [
        ("", _("Active campaigns")),
        ("true", _("Archived only")),
        ("all", _("Active and archived")),
    ]

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses")), *Campaign.Status.choices],
    )
    campaign_type = forms.ChoiceField(
        label=_("Type"),
        required=False,
        choices=[("", _("All types")), *CampaignType.choices],
    )
    archived = forms.ChoiceField(label=_("Archived"), required=False, choices=ARCHIVED_CHOICES)
    # Each choice as the API's (sort_field, sort_dir); empty is the API's default.
    SORTS = {
        "": ("created_at", "desc"),
        "created": ("created_at", "asc"),
        "name": ("name", "asc"),
        "-name": ("name", "desc"),
        "status": ("status", "asc"),
    }
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("", _("Newest first")),
            ("created", _("Oldest first")),
            ("name", _("Name, A to Z")),
            ("-name", _("Name, Z to A")),
            ("status", _("Status")),
        ],
    )
    date_from = forms.DateField(label=_("Created from"), required=False, widget=DAY_INPUT)
    date_to = forms.DateField(label=_("Created to"), required=False, widget=DAY_INPUT)
    # The trash: soft-deleted campaigns only, each with a Restore button.
    trash = forms.BooleanField(required=False, widget=forms.HiddenInput)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def filters(self):
        """Valid filters only: a bad value in the URL shows everything rather than an error."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {name: "" if name in self.errors else (data.get(name) or "") for name in self.fields}


class CampaignDuplicateForm(forms.Form):
    """A copy of a campaign's settings needs its own card code prefix; the name may change."""

    prefix = forms.CharField(
        label=_("Card code prefix of the copy"), max_length=20, error_messages=_messages(),
        widget=forms.TextInput(
            attrs={"class": "prefix-input", "data-uppercase": "", "autocomplete": "off"}
        ),
    )
    name = forms.CharField(label=_("Name of the copy"), required=False, max_length=200)


class BeneficiaryImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        error_messages={
            "required": _("Choose a CSV file to import."),
            "empty": _("The file is empty."),
            "invalid": _("Choose a CSV file to import."),
        },
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise ValidationError(imports.too_many_bytes().message)
        return upload


class BeneficiaryFilterForm(forms.Form):
    """The campaign page's beneficiary search (GET); a bad value in the URL is ignored."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    page = forms.IntegerField(required=False, min_value=1, max_value=10**7,
                              widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The facets (card, delivery...) between the search box and the page.
        page = self.fields.pop("page")
        for facet in facets():
            self.fields[facet.name] = forms.ChoiceField(
                label=facet.label, required=False, choices=[("", _("All")), *facet.choices]
            )
        self.fields["page"] = page

    def filter_names(self):
        return ["q", *(facet.name for facet in facets())]

    def facet_fields(self):
        return [self[facet.name] for facet in facets()]

    def filters(self):
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {name: None if name in self.errors else data.get(name) for name in self.fields}


class ProgramSwitchForm(forms.Form):
    program_id = forms.TypedChoiceField(coerce=int, error_messages=_messages())

    def __init__(self, *args, memberships, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program_id"].choices = [(m.program_id, m.program.name) for m in memberships]


class LoginForm(AuthenticationForm):
    """Django's login form with our own messages, which exist in Wolof too."""

    error_messages = {
        "invalid_login": _("Wrong username or password. Both are case-sensitive."),
        "inactive": _("This account is inactive."),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        for field in self.fields.values():
            field.error_messages["required"] = REQUIRED
