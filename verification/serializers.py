from rest_framework import serializers

from cards.models import Card
from cards.revocation import REASON_MAX_LENGTH
from cards.validity import card_status


class CardCampaignOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField()
    campaign_type = serializers.CharField()


class CardOutput(serializers.ModelSerializer):
    """A card's state; never its token (the token carries the holder's name)."""

    status = serializers.SerializerMethodField(
        help_text="valid, revoked, withdrawn (signed by a withdrawn key) or expired today in the "
        "program's timezone"
    )
    campaign = CardCampaignOutput()
    beneficiary = serializers.IntegerField(source="beneficiary_id")
    job = serializers.IntegerField(source="job_id", allow_null=True)
    revoked = serializers.SerializerMethodField()

    class Meta:
        model = Card
        fields = [
            "code", "status", "campaign", "beneficiary", "job", "issued_on", "expires_on",
            "revoked", "revoked_at", "revoked_reason",
        ]

    def get_status(self, card) -> str:
        return str(card_status(card))

    def get_revoked(self, card) -> bool:
        return card.revoked_at is not None


class CardRevokeInput(serializers.Serializer):
    reason = serializers.CharField(
        max_length=REASON_MAX_LENGTH, help_text="Why the card is revoked (kept with the date)."
    )
