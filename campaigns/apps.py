from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("Programs and campaigns")

    def ready(self):
        # After Django (and the ASGI server or RQ before it) configured logging.
        from campaignid import log_masking

        log_masking.install()
