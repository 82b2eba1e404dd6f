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
        help_text="Ids of the campaign's beneficiaries to card; all of them when absent.",
    )
    dpi = serializers.ChoiceField(choices=Dpi.choices, required=False)
    include_mpi_id = serializers.BooleanField(required=False, default=False)


class JobOutput(serializers.ModelSerializer):
    campaign = serializers.IntegerField(source="campaign_id")
    artifacts = serializers.SerializerMethodField()
    quota_units = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id", "campaign", "status", "dpi", "include_mpi_id", "total_cards",
            "cards_generated", "progress", "eta_seconds", "error", "artifacts",
            "quota_units", "created_at", "started_at", "finished_at",
        ]

    def get_artifacts(self, job) -> dict[str, str]:
        return artifact_urls(job)

    def get_quota_units(self, job) -> int:
        return sum(-row.units for row in job.ledger.all())


class JobList(serializers.Serializer):
    data = JobOutput(many=True)
