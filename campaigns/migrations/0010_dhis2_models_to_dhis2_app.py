"""The DHIS2 models now belong to the dhis2 app (campaigns/dhis2/migrations/0001): state
only, their tables and rows stay."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("campaigns", "0009_job_reissue_and_skipped"),
        ("dhis2", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveField(
                    model_name="dhis2connection",
                    name="program",
                ),
                migrations.RemoveField(
                    model_name="dhis2syncrun",
                    name="campaign",
                ),
                migrations.RemoveField(
                    model_name="dhis2syncrun",
                    name="created_by",
                ),
                migrations.RemoveField(
                    model_name="dhis2syncskip",
                    name="run",
                ),
                migrations.DeleteModel(
                    name="CampaignDhis2Link",
                ),
                migrations.DeleteModel(
                    name="Dhis2Connection",
                ),
                migrations.DeleteModel(
                    name="Dhis2SyncRun",
                ),
                migrations.DeleteModel(
                    name="Dhis2SyncSkip",
                ),
            ],
        ),
    ]
