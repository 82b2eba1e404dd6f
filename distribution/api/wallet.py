"""GET /api/campaigns/<id>/wallet-links.csv: the campaign's Google Wallet links, for operators
who hand them out another way (a health worker's phone, a printed QR). Names no one: the card
code, the enrollment id and the two links; a sensitive campaign needs the grant."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from campaigns.access import Need, access_for_request, campaign_for
from campaigns.csv_export import csv_response
from distribution import wallet_links
from distribution.api.base import ERRORS, ID_PARAMETER
from distribution.api.logs import CsvRenderer


class WalletLinksCsvView(APIView):
    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(
        operation_id="campaigns_wallet_links_csv",
        parameters=[ID_PARAMETER],
        responses={(200, "text/csv"): OpenApiTypes.STR, 403: ERRORS[403], 404: ERRORS[404]},
    )
    def get(self, request, pk):
        """Columns card_code, enrollment_id, short_link (what a Wallet step texts),
        save_link (Google's, empty until made), made_at; one row per card whose Wallet
        link was made."""
        access = access_for_request(request)
        campaign = campaign_for(access, pk, Need.PEOPLE)
        rows = wallet_links.csv_rows(access=access, campaign=campaign)
        filename = f"{campaign.prefix or 'campaign'}-wallet-links.csv"
        return csv_response(wallet_links.CSV_COLUMNS, rows, filename=filename)
