"""Card Studio: what a campaign makes of its template (campaigns/studio_catalogue.py). An
operator customises a campaign's card without HTML through `campaign.template_options`
(colours, title, which optional fields show, logo on/off, and `values`: campaign-level values
of the template's fields, such as the vaccine of a measles round), checked by
`template_options_validate`; `card_design` is what the renderer (cards/rendering/) reads.
"""

import datetime
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from campaigns.studio_catalogue import (
    COMMON_LABELS,
    LANGUAGES,
    OPTIONAL_COMMON_FIELDS,
    TEMPLATES,
    CardTemplate,
)

TEMPLATE_OPTION_KEYS = (
    "primary_colour", "accent_colour", "title", "show_fields", "logo", "values",
)
TITLE_MAX_LENGTH = 40
# A campaign value prints in a ~30 mm column: longer text would be cut on every card.
VALUE_MAX_LENGTH = 60
# The design form's boxes and the preview's query parameters of campaign values: value_vaccine.
VALUE_PARAM_PREFIX = "value_"
_COLOUR_RE = re.compile(r"^#(?:[0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})$")


def get_template(template_id):
    """The template, or None for an unknown id."""
    return TEMPLATES.get(template_id)


def template_for_campaign(campaign):
    """A campaign's template id: its `template_id`, or its type's template when left blank."""
    return campaign.template_id or campaign.campaign_type


def optional_field_keys(template_id):
    """The keys `show_fields` may list for this template, in printing order."""
    return (*OPTIONAL_COMMON_FIELDS, *TEMPLATES[template_id].field_keys)


def optional_field_choices(template_id, language="fr"):
    """[(key, label)] of the fields an operator may show or hide, for the wizard's checkboxes."""
    template = TEMPLATES[template_id]
    labels = {f.key: f.labels for f in template.fields} | COMMON_LABELS
    return [(key, labels[key][language]) for key in optional_field_keys(template_id)]


def _clean_colour(value, name):
    if not isinstance(value, str) or not _COLOUR_RE.match(value.strip()):
        raise ValidationError(
            {name: f"{name} must be a colour like #0E7490, not {value!r}."}
        )
    value = value.strip().upper()
    if len(value) == 4:  # #RGB -> #RRGGBB, so the CSS and contrast checks see one form
        value = "#" + "".join(c * 2 for c in value[1:])
    return value


def template_options_validate(options, template_id):
    """Check an operator's Card Studio choices; returns them cleaned (colours as #RRGGBB,
    title stripped, show_fields deduplicated). Raises ValidationError naming the field."""
    if template_id not in TEMPLATES:
        raise ValidationError(
            {"template_id": f"Unknown card template {template_id!r}; "
             f"choose one of {', '.join(TEMPLATES)}."}
        )
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise ValidationError({"template_options": "Template options must be an object."})
    unknown = sorted(set(options) - set(TEMPLATE_OPTION_KEYS))
    if unknown:
        raise ValidationError(
            {unknown[0]: f"Unknown template option {unknown[0]!r}; "
             f"known options: {', '.join(TEMPLATE_OPTION_KEYS)}."}
        )
    cleaned = {}
    for name in ("primary_colour", "accent_colour"):
        if options.get(name) not in (None, ""):
            cleaned[name] = _clean_colour(options[name], name)
    title = options.get("title")
    if title not in (None, ""):
        if not isinstance(title, str):
            raise ValidationError({"title": "title must be text."})
        title = " ".join(title.split())
        if len(title) > TITLE_MAX_LENGTH:
            raise ValidationError(
                {"title": f"title must be at most {TITLE_MAX_LENGTH} characters."}
            )
        if title:
            cleaned["title"] = title
    if "show_fields" in options and options["show_fields"] is not None:
        show = options["show_fields"]
        if not isinstance(show, list | tuple) or not all(isinstance(k, str) for k in show):
            raise ValidationError({"show_fields": "show_fields must be a list of field keys."})
        allowed = optional_field_keys(template_id)
        for key in show:
            if key not in allowed:
                raise ValidationError(
                    {"show_fields": f"Unknown field {key!r} for the {template_id} template; "
                     f"choose among {', '.join(allowed)}."}
                )
        cleaned["show_fields"] = list(dict.fromkeys(show))
    if "logo" in options and options["logo"] is not None:
        if not isinstance(options["logo"], bool):
            raise ValidationError({"logo": "logo must be true or false."})
        cleaned["logo"] = options["logo"]
    values = _clean_values(options.get("values"), template_id)
    if values:
        cleaned["values"] = values
    return cleaned


def _clean_values(values, template_id):
    """Campaign-level values of the template's fields ({"vaccine": "RR1"}): text or a number,
    whitespace collapsed; an empty value is dropped (each person's column then prints)."""
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ValidationError({"values": _("values must be an object of field keys and values.")})
    allowed = TEMPLATES[template_id].field_keys
    cleaned = {}
    for key, value in values.items():
        if key not in allowed:
            raise ValidationError(
                {"values": _("Unknown field “%(key)s” for the %(template)s template; choose "
                             "among %(allowed)s.")
                 % {"key": key, "template": template_id, "allowed": ", ".join(allowed)}}
            )
        if isinstance(value, bool) or not isinstance(value, str | int | float | type(None)):
            raise ValidationError(
                {"values": _("The value of “%(key)s” must be text or a number.") % {"key": key}}
            )
        text = " ".join(str(value).split()) if value is not None else ""
        if len(text) > VALUE_MAX_LENGTH:
            raise ValidationError(
                {"values": _("The value of “%(key)s” must be at most %(limit)s characters.")
                 % {"key": key, "limit": VALUE_MAX_LENGTH}}
            )
        if text:
            cleaned[key] = text
    return cleaned


def import_columns(template_id):
    """The template's own import columns, in printing order: [(key, label, sample)]."""
    return [(f.key, f.labels, f.sample) for f in TEMPLATES[template_id].fields]


def format_date(value):
    # dd/mm/yyyy reads the same in French, English and Wolof.
    return f"{value.day:02d}/{value.month:02d}/{value.year}"


def attribute_text(field, value):
    if value is None or value == "" or value == []:
        return ""
    if field.kind == "list" and isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value if v not in (None, ""))
    if field.kind == "date":
        if isinstance(value, datetime.date):
            return format_date(value)
        try:
            return format_date(datetime.date.fromisoformat(str(value)[:10]))
        except ValueError:
            return str(value)
    return " ".join(str(value).split())


def field_text(design, field, attributes):
    """What a card prints for a template field: the person's own value (an import column)
    wins, else the campaign's value, else "" (the card prints a dash)."""
    own = attribute_text(field, (attributes or {}).get(field.key))
    return own or design.values.get(field.key, "")


def field_texts(design, attributes):
    """{key: printed text} of the design's template fields for one person's attributes."""
    return {f.key: field_text(design, f, attributes) for f in design.template.fields}


@dataclass(frozen=True)
class CardDesign:
    """A campaign's template with the operator's options applied: what the renderer draws."""

    template: CardTemplate
    language: str
    primary_colour: str
    accent_colour: str
    band_text_colour: str
    ink_colour: str  # brand colour for text on white, or near-black when it is too light
    title: str
    show_fields: tuple
    logo: bool
    values: dict = field(default_factory=dict)  # campaign-level values of template fields

    def label(self, key):
        if key in COMMON_LABELS:
            return COMMON_LABELS[key][self.language]
        for f in self.template.fields:
            if f.key == key:
                return f.labels[self.language]
        raise KeyError(key)


DARK_TEXT = "#111827"


def _is_light(colour):
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b > 160


def card_design(*, template_id, language, options):
    """Resolve a template and cleaned options into a CardDesign (ValidationError if bad)."""
    options = template_options_validate(options, template_id)
    template = TEMPLATES[template_id]
    language = language if language in LANGUAGES else "fr"
    primary = options.get("primary_colour", template.primary_colour)
    return CardDesign(
        template=template,
        language=language,
        primary_colour=primary,
        accent_colour=options.get("accent_colour", template.accent_colour),
        # Light operator colours get dark band text so the title stays readable.
        band_text_colour=DARK_TEXT if _is_light(primary) else "#FFFFFF",
        ink_colour=DARK_TEXT if _is_light(primary) else primary,
        title=options.get("title") or template.titles[language],
        show_fields=tuple(options.get("show_fields", optional_field_keys(template_id))),
        logo=options.get("logo", True),
        values=options.get("values", {}),
    )


def prints_mpi_id(campaign):
    """The campaign's MPI-ID choice, made on the design page ("mpi_id" among the fields
    shown): what a generation job prints unless the API asks otherwise."""
    try:
        design = card_design(
            template_id=template_for_campaign(campaign), language=campaign.language,
            options=campaign.template_options,
        )
    except ValidationError:
        return False  # a design saved before a rule changed: the default, no MPI id
    return "mpi_id" in design.show_fields
