from django.apps import AppConfig


class VerificationConfig(AppConfig):
    name = "verification"

    def ready(self):
        # Every generation job's artifacts include the offline portal (cards/packaging.py).
        from cards.packaging import EXTRA_ARTIFACT_BUILDERS
        from verification.portal import portal_build

        if portal_build not in EXTRA_ARTIFACT_BUILDERS:
            EXTRA_ARTIFACT_BUILDERS.append(portal_build)
