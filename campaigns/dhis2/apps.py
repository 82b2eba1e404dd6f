from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Dhis2Config(AppConfig):
    name = "campaigns.dhis2"
    # The models' tables keep their campaigns_ names (they moved here from campaigns).
    label = "dhis2"
    verbose_name = _("DHIS2")
