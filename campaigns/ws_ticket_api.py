"""POST /api/ws-tickets: a single-use ticket that opens one live-progress WebSocket for the
calling API key (campaigns/ws_tickets.py)."""

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.models import ApiKey
from campaigns.ws_tickets import ws_ticket_issue

TicketOutput = inline_serializer(
    "WebSocketTicket",
    {
        "ticket": serializers.CharField(help_text="Pass as ?ticket= when opening the socket."),
        "expires_in": serializers.IntegerField(help_text="Seconds it stays valid (one use)."),
    },
)


class WebSocketTicketView(APIView):
    @extend_schema(
        operation_id="ws_ticket_create",
        summary="A single-use ticket to open a live-progress WebSocket",
        description=(
            "Open `ws(s)://<host>/ws/jobs/<id>?ticket=<ticket>` (or `/ws/dispatches/<id>`, "
            "`/ws/dhis2/syncs/<id>`) within `expires_in` seconds; the ticket acts for the "
            "calling API key, once. The key itself never goes in a URL."
        ),
        request=None,
        responses={
            201: TicketOutput,
            401: OpenApiResponse(description="No or an invalid API key."),
            403: OpenApiResponse(description="Not an API key (a browser uses its session)."),
            429: OpenApiResponse(description="Too many calls for this key; see Retry-After."),
        },
    )
    def post(self, request):
        if not isinstance(request.auth, ApiKey):
            raise PermissionDenied(_("Tickets are for API keys; a browser's WebSocket uses its "
                                     "session."))
        ticket = ws_ticket_issue(api_key=request.auth)
        return Response(
            {"ticket": ticket, "expires_in": settings.WS_TICKET_SECONDS},
            status=status.HTTP_201_CREATED,
        )
