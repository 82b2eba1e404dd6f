"""HTTP through Django, WebSockets through Channels (routes in campaignid.routing)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campaignid.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import OriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from campaignid.limits import BodyLimit  # noqa: E402
from campaignid.routing import websocket_urlpatterns  # noqa: E402
from distribution.receipt_front import ReceiptFront  # noqa: E402


class BrowserOriginValidator(OriginValidator):
    """Browsers must come from one of our hosts (their cookies ride along); scripts and
    DHIS2 apps send no Origin and authenticate with a token instead."""

    def valid_origin(self, parsed_origin):
        return parsed_origin is None or super().valid_origin(parsed_origin)


application = ProtocolTypeRouter(
    {
        # Bodies capped before Django reads them (webhooks 1 MB, others an import's size);
        # Orange's delivery receipts applied in batches without Django's request stack.
        "http": BodyLimit(ReceiptFront(django_asgi_app)),
        "websocket": BrowserOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns)), settings.ALLOWED_HOSTS
        ),
    }
)
