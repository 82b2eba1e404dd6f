from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from campaigns.access import MAX_ID
from campaigns.models import Dpi, Job
from cards.events import artifact_urls


class JobCreateInput(serializers.Serializer):
    beneficiaries = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        allow_empty=False,
        max_length=100_000,
        help_text="Ids of the campaign's beneficiaries to card; all of them when absent. "
        "Those already holding a valid card are left out (see `skipped`) unless `reissue`.",
    )
    dpi = serializers.ChoiceField(choices=Dpi.choices, required=False)
    include_mpi_id = serializers.BooleanField(
        required=False, allow_null=True, default=None,
        help_text="Print the MPI id on the cards. When omitted (or null), the campaign's card "
        "design decides: the MPI id prints when the design shows the \"mpi_id\" field "
        "(Card Studio page). Kept for compatibility; the design page is the place to choose.",
    )
    reissue = serializers.BooleanField(
        required=False, default=False,
        help_text="Replace the cards of `beneficiaries` (required): each current card is "
        "revoked with reason \"reissued\" when its new card is issued, which refers to it.",
    )

    def validate(self, attrs):
        if attrs.get("reissue") and not attrs.get("beneficiaries"):
            raise serializers.ValidationError(
                {"beneficiaries": [_("A reissue needs the ids of the beneficiaries to reissue.")]}
            )
        return attrs


class JobSkipped(serializers.Serializer):
    valid_card = serializers.IntegerField(
        help_text="Beneficiaries left out because they already hold a valid card (neither "
        "revoked nor expired) in this campaign; not charged."
    )


class JobOutput(serializers.ModelSerializer):
    campaign = serializers.IntegerField(source="campaign_id")
    artifacts = serializers.SerializerMethodField()
    quota_units = serializers.SerializerMethodField()
    skipped = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id", "campaign", "status", "dpi", "include_mpi_id", "reissue", "total_cards",
            "skipped", "cards_generated", "progress", "eta_seconds", "error", "artifacts",
            "quota_units", "created_at", "started_at", "finished_at",
        ]

    @extend_schema_field(JobSkipped)
    def get_skipped(self, job):
        return {"valid_card": job.skipped_valid_card}

    def get_artifacts(self, job) -> dict[str, str]:
        return artifact_urls(job)

    def get_quota_units(self, job) -> int:
        return sum(-row.units for row in job.ledger.all())


class JobList(serializers.Serializer):
    data = JobOutput(many=True)
