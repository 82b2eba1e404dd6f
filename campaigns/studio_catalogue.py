"""Card Studio's catalogue: the card templates, one per campaign type, as data.

A template is declared, not coded: its titles and back-side purpose in each language, its
default colours, its icon and the fields it reads from a beneficiary's `attributes`. What a
campaign may change of it, and how, is campaigns/studio.py.

Wolof wording is a best effort and should be reviewed by a native speaker.
"""

from dataclasses import dataclass, field

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
