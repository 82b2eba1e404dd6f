"""Forms of the Card Studio page: a campaign's card design and the program's logo.

The design form speaks the operator's words (colours, title, fields to print) and turns them
into Card Studio `template_options`, keeping only what differs from the template's defaults,
so a later change of template brings that template's own colours and title.
"""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from campaigns import studio
from campaigns.lifecycle import MAX_CARD_VALIDITY_MONTHS
from campaigns.models import CampaignType
from cards.studio_services import LOGO_MAX_BYTES

REQUIRED = _("This field is required.")
INVALID_CHOICE = _("Choose one of the options shown.")
COLOUR_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")
VALUE_PREFIX = studio.VALUE_PARAM_PREFIX


def value_field_name(key):
    return VALUE_PREFIX + key


class ColourInput(forms.TextInput):
    """A native colour picker; browsers without one show a text box that takes #RRGGBB."""

    input_type = "color"


class CardDesignForm(forms.Form):
    template_id = forms.ChoiceField(
        label=_("Card template"),
        choices=[(value, label) for value, label in CampaignType.choices
                 if value in studio.TEMPLATES],
        error_messages={"required": REQUIRED, "invalid_choice": INVALID_CHOICE},
    )
    primary_colour = forms.CharField(
        label=_("Main colour"),
        help_text=_("The band at the top of the card."),
        widget=ColourInput,
        error_messages={"required": REQUIRED},
    )
    accent_colour = forms.CharField(
        label=_("Accent colour"),
        help_text=_("The thin line under the band."),
        widget=ColourInput,
        error_messages={"required": REQUIRED},
    )
    title = forms.CharField(
        label=_("Title printed on the card"),
        required=False,
        max_length=studio.TITLE_MAX_LENGTH,
        help_text=_("Leave empty for the template's own title."),
        # The validator fills in %(limit_value)d, in the language of the request.
        error_messages={"max_length": _("At most %(limit_value)d characters.")},
    )
    show_fields = forms.MultipleChoiceField(
        label=_("Optional fields printed on the card"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Name, date of birth, card code and issue date are always printed."),
        error_messages={"invalid_choice": _("Choose among the fields shown.")},
    )
    logo = forms.BooleanField(label=_("Print the program's logo"), required=False)
    card_validity_months = forms.IntegerField(
        label=_("Card validity (months)"),
        required=False,
        help_text=_("Cards expire this many months after their issue date; leave empty for "
                    "cards that do not expire."),
        error_messages={"invalid": _("A whole number of months.")},
        widget=forms.NumberInput(attrs={"min": 1, "max": MAX_CARD_VALIDITY_MONTHS}),
    )
    # The template the field checkboxes were drawn for: when the operator picks another
    # template, its own fields and colours replace the previous template's.
    fields_for = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, campaign, **kwargs):
        self.campaign = campaign
        super().__init__(*args, **kwargs)
        if self.is_bound:
            self.data = self._with_template_defaults(self.data.copy())
        template_id = self._template_id()
        self.fields["show_fields"].choices = studio.optional_field_choices(
            template_id, campaign.language
        )
        self.fields["title"].widget.attrs["placeholder"] = (
            studio.TEMPLATES[template_id].titles[campaign.language]
        )
        # One box per template field: a campaign-level value printed on every card whose
        # person has no value of their own in that import column.
        for key, labels, sample in studio.import_columns(template_id):
            self.fields[value_field_name(key)] = forms.CharField(
                label=labels[campaign.language],
                required=False,
                max_length=studio.VALUE_MAX_LENGTH,
                help_text=_("Import column %(column)s; empty: each person's column.")
                % {"column": key},
                error_messages={"max_length": _("At most %(limit_value)d characters.")},
                widget=forms.TextInput(attrs={"placeholder": str(sample)}),
            )

    def value_fields(self):
        """The bound boxes of the campaign-level values, in printing order."""
        return [self[name] for name in self.fields if name.startswith(VALUE_PREFIX)]

    @classmethod
    def initial_for(cls, campaign):
        template_id = studio.template_for_campaign(campaign)
        design = studio.card_design(
            template_id=template_id, language=campaign.language,
            options=campaign.template_options,
        )
        return {
            "template_id": template_id,
            "primary_colour": design.primary_colour.lower(),
            "accent_colour": design.accent_colour.lower(),
            "title": (campaign.template_options or {}).get("title", ""),
            "show_fields": list(design.show_fields),
            "logo": design.logo,
            "card_validity_months": campaign.card_validity_months,
            "fields_for": template_id,
            **{value_field_name(key): value for key, value in design.values.items()},
        }

    def _template_id(self):
        if self.is_bound and self.data.get("template_id") in studio.TEMPLATES:
            return self.data["template_id"]
        return self.initial.get("template_id") or studio.template_for_campaign(self.campaign)

    def _with_template_defaults(self, data):
        """A template switched since the page was drawn: its fields all print and its
        colours replace the previous template's defaults (colours the operator chose stay)."""
        new, old = data.get("template_id"), data.get("fields_for")
        if new not in studio.TEMPLATES or old not in studio.TEMPLATES or old == new:
            return data
        data.setlist("show_fields", list(studio.optional_field_keys(new)))
        for name in ("primary_colour", "accent_colour"):
            if data.get(name, "").upper() == getattr(studio.TEMPLATES[old], name):
                data[name] = getattr(studio.TEMPLATES[new], name).lower()
        data["fields_for"] = new
        return data

    def _clean_colour(self, name):
        value = self.cleaned_data[name].strip()
        if not COLOUR_RE.match(value):
            raise ValidationError(
                _("A colour like #0E7490 (# and six hexadecimal digits)."), code="invalid"
            )
        return value.upper()

    def clean_primary_colour(self):
        return self._clean_colour("primary_colour")

    def clean_accent_colour(self):
        return self._clean_colour("accent_colour")

    def clean_card_validity_months(self):
        # The bounds of campaigns.lifecycle, checked here too so that a preview shows them.
        months = self.cleaned_data["card_validity_months"]
        if months is not None and not 1 <= months <= MAX_CARD_VALIDITY_MONTHS:
            raise ValidationError(
                _("Between 1 and %(max)s months, or empty for cards that do not expire.")
                % {"max": MAX_CARD_VALIDITY_MONTHS},
                code="invalid",
            )
        return months

    def clean_title(self):
        return " ".join(self.cleaned_data["title"].split())

    def template_options(self):
        """The cleaned choices as Card Studio options, without what equals a default."""
        data = self.cleaned_data
        template = studio.TEMPLATES[data["template_id"]]
        options = {}
        for name in ("primary_colour", "accent_colour"):
            if data[name] != getattr(template, name):
                options[name] = data[name]
        if data["title"] and data["title"] != template.titles[self.campaign.language]:
            options["title"] = data["title"]
        all_fields = list(studio.optional_field_keys(template.id))
        shown = [key for key in all_fields if key in data["show_fields"]]
        if shown != all_fields:
            options["show_fields"] = shown
        if not data["logo"]:
            options["logo"] = False
        values = self._values()
        if values:
            options["values"] = values
        return options

    def _values(self):
        return {
            name.removeprefix(VALUE_PREFIX): " ".join(value.split())
            for name, value in self.cleaned_data.items()
            if name.startswith(VALUE_PREFIX) and value.strip()
        }

    def preview_params(self):
        """The unsaved choices as the query string of the preview image."""
        data = self.cleaned_data
        return {
            "template_id": data["template_id"],
            "primary_colour": data["primary_colour"],
            "accent_colour": data["accent_colour"],
            "title": data["title"],
            "show_fields": ",".join(data["show_fields"]),
            "logo": "true" if data["logo"] else "false",
            "card_validity_months": data["card_validity_months"] or "",
            # Every box, empty ones too: an emptied box clears the saved value in the preview.
            **{name: value for name, value in data.items() if name.startswith(VALUE_PREFIX)},
        }


class ProgramLogoForm(forms.Form):
    logo = forms.FileField(
        label=_("Program logo"),
        help_text=_("PNG or JPEG, at most 1 MB. It is resized to 600 pixels at most."),
        error_messages={
            "required": _("Choose a PNG or JPEG image."),
            "empty": _("The file is empty."),
            "invalid": _("Choose a PNG or JPEG image."),
        },
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"}),
    )

    def __init__(self, *args, **kwargs):
        # The design form's "print the logo" box is id_logo on the same page: a label for
        # one must not tick the other.
        kwargs.setdefault("auto_id", "id_upload_%s")
        super().__init__(*args, **kwargs)

    def clean_logo(self):
        logo = self.cleaned_data["logo"]
        if logo.size > LOGO_MAX_BYTES:
            raise ValidationError(_("The logo must be at most 1 MB; this file is larger."))
        return logo
