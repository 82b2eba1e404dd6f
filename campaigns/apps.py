from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Programs and campaigns"

    def ready(self):
        # After Django (and the ASGI server or RQ before it) configured logging.
        from campaignid import log_masking

        log_masking.install()
