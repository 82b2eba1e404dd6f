from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VerificationConfig(AppConfig):
    name = "verification"
    verbose_name = _("Verification")

    def ready(self):
        # Every generation job's artifacts include the offline portal (cards/packaging.py).
        from cards.packaging import EXTRA_ARTIFACT_BUILDERS
        from verification.portal import portal_build

        if portal_build not in EXTRA_ARTIFACT_BUILDERS:
            EXTRA_ARTIFACT_BUILDERS.append(portal_build)
