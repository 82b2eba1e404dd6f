"""Card Studio: the card templates, one per campaign type, as data.

A template is declared, not coded: its titles and back-side purpose in each language, its
default colours, its icon and the fields it reads from a beneficiary's `attributes`. An
operator customises a campaign's card without HTML through `campaign.template_options`
(colours, title, which optional fields show, logo on/off, and `values`: campaign-level values
of the template's fields, such as the vaccine of a measles round), checked by
`template_options_validate`. The renderer (cards/rendering/) reads only this module.

Wolof wording is a best effort and should be reviewed by a native speaker.
"""

import datetime
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

LANGUAGES = ("fr", "en", "wo")


@dataclass(frozen=True)
class CardField:
    """A template-specific value read from `beneficiary.attributes[key]`."""

    key: str
    labels: dict  # language -> label
    sample: object  # shown on previews
    kind: str = "text"  # "text", "date" (ISO string or date) or "list" (joined with commas)


@dataclass(frozen=True)
class CardTemplate:
    id: str
    titles: dict  # language -> title printed on the front
    purpose: dict  # language -> one sentence on the back: what the card is for
    primary_colour: str
    accent_colour: str
    icon_path: str  # SVG path data in a 24x24 box, drawn in the band's text colour
    fields: tuple = field(default_factory=tuple)

    @property
    def field_keys(self):
        return tuple(f.key for f in self.fields)

    def icon_svg(self, colour):
        return (
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="24" height="24">'
            f'<path fill="{colour}" fill-rule="evenodd" d="{self.icon_path}"/></svg>'
        )


# Labels of what every card prints, whatever its type.
COMMON_LABELS = {
    "name": {"fr": "Nom", "en": "Name", "wo": "Tur"},
    "date_of_birth": {"fr": "Né(e) le", "en": "Date of birth", "wo": "Bésu juddu"},
    "sex": {"fr": "Sexe", "en": "Sex", "wo": "Góor/Jigéen"},
    "code": {"fr": "Code carte", "en": "Card code", "wo": "Kodu kàrt"},
    "issued": {"fr": "Délivrée le", "en": "Issued", "wo": "Bésu joxe"},
    "expiry": {"fr": "Expire le", "en": "Expires", "wo": "Bésu jeex"},
    "mpi_id": {"fr": "ID MPI", "en": "MPI ID", "wo": "ID MPI"},
}

SEX_VALUES = {
    "F": {"fr": "Féminin", "en": "Female", "wo": "Jigéen"},
    "M": {"fr": "Masculin", "en": "Male", "wo": "Góor"},
}

# Back-side wording shared by every template (the address printed is PUBLIC_BASE_URL/v).
BACK_TEXTS = {
    "verify_at": {"fr": "Vérifier sur", "en": "Verify at", "wo": "Seetal ci"},
    "how_to_verify": {
        "fr": "Scannez le QR code au recto avec un téléphone, ou ouvrez l'adresse ci-dessous "
        "et saisissez le code de la carte.",
        "en": "Scan the QR code on the front with a phone, or open the address below and "
        "enter the card code.",
        "wo": "Scanner QR code bi ci kanam gi ak sa telefoon, walla ubbi adrees bi ci suuf te "
        "bind kodu kàrt bi.",
    },
    "notice": {
        "fr": "Carte personnelle et gratuite. Si vous la trouvez, remettez-la au poste de "
        "santé le plus proche.",
        "en": "This card is personal and free. If found, please hand it to the nearest "
        "health post.",
        "wo": "Kàrt bii boroom bi rekk la moom te amul pay. Ku ko gis, yóbbu ko ci poste de "
        "santé bi gën a jege.",
    },
}

# Fields every template may hide through `show_fields`; name, birth date, code and issue
# date always print. The MPI id prints only when the generation job also asks for it; a job
# asks for it by default when the campaign's design shows it (prints_mpi_id).
OPTIONAL_COMMON_FIELDS = ("sex", "expiry", "mpi_id")


def _f(key, fr, en, wo, sample, kind="text"):
    return CardField(key=key, labels={"fr": fr, "en": en, "wo": wo}, sample=sample, kind=kind)


TEMPLATES = {
    t.id: t
    for t in (
        CardTemplate(
            id="vaccination",
            titles={"fr": "Carte de vaccination", "en": "Vaccination card", "wo": "Kàrtu pikiir"},
            purpose={
                "fr": "Cette carte enregistre les vaccins reçus par son titulaire.",
                "en": "This card records the vaccines its holder has received.",
                "wo": "Kàrt bii day denc pikiir yi boroom bi jot.",
            },
            primary_colour="#0E7490",
            accent_colour="#F59E0B",
            icon_path="M17 2l5 5-1.5 1.5-1-1-8 8-3.5-3.5 8-8-1-1zM8 13.5l2.5 2.5-2.5 2.5H6"
            "l-3.5 3.5L1 20.5 4.5 17v-2z",
            fields=(
                _f("vaccine", "Vaccin", "Vaccine", "Pikiir", "Penta 3"),
                _f("doses", "Doses reçues", "Doses received", "Pikiir yi mu jot", 3),
            ),
        ),
        CardTemplate(
            id="mild",
            titles={
                "fr": "Carte moustiquaires (MILDA)",
                "en": "Bed net card",
                "wo": "Kàrtu moustiquaire",
            },
            purpose={
                "fr": "Cette carte donne droit aux moustiquaires imprégnées attribuées au ménage.",
                "en": "This card entitles the household to its insecticide-treated bed nets.",
                "wo": "Kàrt bii day may kër gi mu jot moustiquaire yi ñu ko jagleel.",
            },
            primary_colour="#15803D",
            accent_colour="#FACC15",
            icon_path="M12 2L3 10h2v3h14v-3h2zM2 15h20v3h-2v3h-2v-3H6v3H4v-3H2z",
            fields=(
                _f("nets", "Moustiquaires", "Nets", "Moustiquaire yi", 3),
                _f("household_size", "Taille du ménage", "Household size", "Way ñi ci kër gi", 6),
            ),
        ),
        CardTemplate(
            id="nutrition",
            titles={"fr": "Carte de nutrition", "en": "Nutrition card", "wo": "Kàrtu lekk gu baax"},
            purpose={
                "fr": "Cette carte suit la prise en charge nutritionnelle de son titulaire.",
                "en": "This card follows its holder's nutrition care.",
                "wo": "Kàrt bii day topp lekk ak wér-gi-yaramu boroom bi.",
            },
            primary_colour="#C2410C",
            accent_colour="#84CC16",
            icon_path="M2 10h20c0 6-4.5 10-10 10S2 16 2 10zM11 2h2v6h-2zM7 4h2v4H7zM15 4h2v4h-2z",
            fields=(
                _f("muac", "PB (MUAC)", "MUAC", "MUAC", "118 mm"),
                _f("programme", "Programme", "Programme", "Prograam", "URENAS"),
            ),
        ),
        CardTemplate(
            id="antenatal",
            titles={
                "fr": "Carte de consultation prénatale",
                "en": "Antenatal care card",
                "wo": "Kàrtu topp ëmb",
            },
            purpose={
                "fr": "Cette carte accompagne le suivi de la grossesse.",
                "en": "This card follows the pregnancy check-ups.",
                "wo": "Kàrt bii day topp ëmb gi.",
            },
            primary_colour="#BE185D",
            accent_colour="#FDBA74",
            icon_path="M12 21l-1.4-1.3C5.4 15 2 12 2 8a5 5 0 0 1 10-1.5A5 5 0 0 1 22 8"
            "c0 4-3.4 7-8.6 11.7z",
            fields=(
                _f(
                    "expected_delivery", "Terme prévu", "Expected delivery", "Bésu wësin",
                    "2025-11-20", kind="date",
                ),
                _f("gestational_age", "Âge gestationnel", "Gestational age", "Weeru ëmb", "24 SA"),
            ),
        ),
        # Sensitive: the title, purpose and icon say "follow-up", never the condition, and
        # the only specific field is the follow-up site.
        CardTemplate(
            id="hiv",
            titles={"fr": "Carte de suivi", "en": "Care card", "wo": "Kàrtu topp"},
            purpose={
                "fr": "Cette carte permet le suivi médical de son titulaire.",
                "en": "This card supports its holder's medical follow-up.",
                "wo": "Kàrt bii day dimbali ci topp wér-gi-yaramu boroom bi.",
            },
            primary_colour="#4338CA",
            accent_colour="#A5B4FC",
            icon_path="M9 2h6v7h7v6h-7v7H9v-7H2V9h7z",
            fields=(_f("art_site", "Site de suivi", "Follow-up site", "Fu ñuy topp", "CS Ouakam"),),
        ),
        CardTemplate(
            id="insurance",
            titles={
                "fr": "Carte d'assurance maladie",
                "en": "Health insurance card",
                "wo": "Kàrtu assurance",
            },
            purpose={
                "fr": "Cette carte atteste l'affiliation de son titulaire au régime d'assurance "
                "maladie.",
                "en": "This card proves its holder's membership of the health insurance scheme.",
                "wo": "Kàrt bii day wone ne boroom bi bokk na ci assurance wér-gi-yaram.",
            },
            primary_colour="#1D4ED8",
            accent_colour="#34D399",
            icon_path="M12 2l8 3v6c0 5-3.5 9.5-8 11-4.5-1.5-8-6-8-11V5z",
            fields=(
                _f("policy_number", "N° de police", "Policy number", "Nimeróo police",
                   "MS-0042-7781"),
                _f("scheme", "Régime", "Scheme", "Régime", "CMU"),
            ),
        ),
        CardTemplate(
            id="refugee",
            titles={"fr": "Carte de réfugié", "en": "Refugee card", "wo": "Kàrtu réfugié"},
            purpose={
                "fr": "Cette carte identifie son titulaire auprès des services d'assistance.",
                "en": "This card identifies its holder to assistance services.",
                "wo": "Kàrt bii day xàmmal boroom bi ci ñiy dimbali.",
            },
            primary_colour="#0369A1",
            accent_colour="#FCD34D",
            icon_path="M12 3L1 21h22zM12 10l4.5 11h-3L12 17l-1.5 4h-3z",
            fields=(
                _f("case_number", "N° de dossier", "Case number", "Nimeróo dossier",
                   "SEN-23-04518"),
                _f("camp", "Camp", "Camp", "Kàmp", "Mbera"),
            ),
        ),
        CardTemplate(
            id="identity",
            titles={
                "fr": "Carte d'identification",
                "en": "Identification card",
                "wo": "Kàrtu xàmmee",
            },
            purpose={
                "fr": "Cette carte identifie son titulaire auprès des services de santé.",
                "en": "This card identifies its holder to health services.",
                "wo": "Kàrt bii day xàmmal boroom bi ci liggéeyu wér-gi-yaram.",
            },
            primary_colour="#334155",
            accent_colour="#38BDF8",
            icon_path="M2 5h20v14H2zM4.5 8v8h6V8zM13 9h6.5v1.5H13zM13 12h6.5v1.5H13z"
            "M13 15h4v1.5h-4z",
            fields=(
                _f("place_of_birth", "Lieu de naissance", "Place of birth", "Fu mu juddoo",
                   "Thiès"),
                _f("nin", "NIN", "NIN", "NIN", "1 751 1990 01234"),
            ),
        ),
        CardTemplate(
            id="lab",
            titles={
                "fr": "Carte de laboratoire", "en": "Laboratory card", "wo": "Kàrtu laboratoire"
            },
            purpose={
                "fr": "Cette carte relie son titulaire à ses prélèvements et analyses.",
                "en": "This card links its holder to their samples and test results.",
                "wo": "Kàrt bii day boole boroom bi ak ay analyse am.",
            },
            primary_colour="#6D28D9",
            accent_colour="#F472B6",
            icon_path="M9 2h6v2h-1v5l6 10c.8 1.4-.2 3-1.8 3H5.8c-1.6 0-2.6-1.6-1.8-3l6-10V4H9z",
            fields=(
                _f("sample_id", "N° d'échantillon", "Sample ID", "Nimeróo échantillon", "LB-55821"),
                _f("tests", "Analyses", "Tests", "Analyse yi", ["TDR", "NFS"], kind="list"),
            ),
        ),
        CardTemplate(
            id="cps",
            titles={
                "fr": "Carte CPS paludisme", "en": "Malaria SMC card", "wo": "Kàrtu CPS sibiru"
            },
            purpose={
                "fr": "Cette carte enregistre les cycles de chimioprévention du paludisme "
                "saisonnier reçus.",
                "en": "This card records the seasonal malaria chemoprevention cycles received.",
                "wo": "Kàrt bii day denc cycle yi mu jot ngir aar ko sibiru ci nawet.",
            },
            primary_colour="#B45309",
            accent_colour="#22D3EE",
            icon_path="M4.9 12.7l7.8-7.8a5 5 0 0 1 7.1 7.1l-7.8 7.8a5 5 0 0 1-7.1-7.1z",
            fields=(
                _f("cycles", "Cycles reçus", "Cycles received", "Cycle yi mu jot", 2),
                _f("district", "District", "District", "Distrik", "Kolda"),
            ),
        ),
        CardTemplate(
            id="farmercard",
            titles={"fr": "Carte de producteur", "en": "Farmer card", "wo": "Kàrtu beykat"},
            purpose={
                "fr": "Cette carte identifie le producteur auprès de sa coopérative et des "
                "programmes d'appui.",
                "en": "This card identifies the farmer to their cooperative and support "
                "programmes.",
                "wo": "Kàrt bii day xàmmal beykat bi ci koperatiif am ak prograam yiy dimbali.",
            },
            primary_colour="#4D7C0F",
            accent_colour="#FBBF24",
            icon_path="M20 3C9 3 4 8 4 16c0 1.5.3 3 .8 4l1.6-1.2C9 12 13 9 17 7c-4 3-7 6-9.5 12.5"
            " 1 .3 2 .5 3 .5 7 0 11-6 9.5-17z",
            fields=(
                _f("cooperative", "Coopérative", "Cooperative", "Koperatiif", "Coop. Niayes"),
                _f("crop", "Culture", "Crop", "Mbey", "Arachide"),
            ),
        ),
    )
}

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
