"""/api/quota/transactions: the program's quota ledger (grants, debits, refunds), paged, with
the balance after each row. Any member may read it: it names no person."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns import selectors
from campaigns.access import MAX_OFFSET, access_required
from campaigns.beneficiary_api import ErrorSerializer
from campaigns.models import QuotaTransaction
from campaigns.services import quota_balance

# Ledger units fit a PostgreSQL integer; a running balance fits a bigint.
UNITS_BOUND = 2**31 - 1
BALANCE_BOUND = 2**63 - 1


class LedgerQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(required=False, default=50, min_value=1, max_value=500)
    offset = serializers.IntegerField(required=False, default=0, min_value=0,
                                      max_value=MAX_OFFSET)


class LedgerCampaignSerializer(serializers.Serializer):
    id = serializers.IntegerField(min_value=1)
    name = serializers.CharField()


class LedgerRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(min_value=1)
    kind = serializers.ChoiceField(choices=QuotaTransaction.Kind.choices)
    units = serializers.IntegerField(
        min_value=-UNITS_BOUND, max_value=UNITS_BOUND,
        help_text=_("Negative for a debit, positive for a grant or a refund."),
    )
    balance = serializers.IntegerField(
        min_value=-BALANCE_BOUND, max_value=BALANCE_BOUND,
        help_text=_("The program's balance just after this transaction."),
    )
    job_id = serializers.IntegerField(min_value=1, allow_null=True)
    campaign = serializers.SerializerMethodField()
    note = serializers.CharField()
    created_at = serializers.DateTimeField()

    @staticmethod
    @extend_schema_field(LedgerCampaignSerializer(allow_null=True))
    def get_campaign(row):
        campaign = row.job.campaign if row.job_id else None
        return {"id": campaign.pk, "name": campaign.name} if campaign else None


class LedgerMetaSerializer(serializers.Serializer):
    total = serializers.IntegerField(min_value=0, max_value=BALANCE_BOUND)
    limit = serializers.IntegerField(min_value=1, max_value=500)
    offset = serializers.IntegerField(min_value=0, max_value=MAX_OFFSET)
    balance = serializers.IntegerField(
        min_value=-BALANCE_BOUND, max_value=BALANCE_BOUND,
        help_text=_("The program's balance now."),
    )


class LedgerPageSerializer(serializers.Serializer):
    data = LedgerRowSerializer(many=True)
    meta = LedgerMetaSerializer()


class QuotaTransactionsView(APIView):
    @extend_schema(
        operation_id="quota_transactions_list",
        summary="The program's quota ledger, newest first, with the running balance",
        parameters=[LedgerQuerySerializer],
        responses={200: LedgerPageSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
    )
    def get(self, request):
        access = access_required(request)
        query = LedgerQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        limit, offset = query.validated_data["limit"], query.validated_data["offset"]
        ledger = selectors.quota_ledger(program=access.program)
        return Response({
            "data": LedgerRowSerializer(ledger[offset : offset + limit], many=True).data,
            "meta": {"total": ledger.count(), "limit": limit, "offset": offset,
                     "balance": quota_balance(program=access.program)},
        })
