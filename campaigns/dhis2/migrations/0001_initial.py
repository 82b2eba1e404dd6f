"""The DHIS2 models move here from the campaigns app: state only, their tables (still named
campaigns_...) and rows stay as they are. Their content types follow them, so permissions
and admin log entries stay attached."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MODELS = ("campaigndhis2link", "dhis2connection", "dhis2syncrun", "dhis2syncskip")


def _move_content_types(apps, old_label, new_label):
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not content_type.objects.filter(app_label=new_label, model=model).exists():
            content_type.objects.filter(app_label=old_label, model=model).update(
                app_label=new_label
            )


def content_types_forward(apps, schema_editor):
    _move_content_types(apps, "campaigns", "dhis2")


def content_types_backward(apps, schema_editor):
    _move_content_types(apps, "dhis2", "campaigns")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("campaigns", "0009_job_reissue_and_skipped"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="CampaignDhis2Link",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("program_uid", models.CharField(max_length=11)),
                        ("org_unit_uid", models.CharField(max_length=11)),
                        ("mapping", models.JSONField(default=dict)),
                        ("labels", models.JSONField(blank=True, default=dict)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("campaign", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="dhis2_link", to="campaigns.campaign")),
                    ],
                    options={
                        "verbose_name": "campaign DHIS2 link",
                        "verbose_name_plural": "campaign DHIS2 links",
                        "db_table": "campaigns_campaigndhis2link",
                    },
                ),
                migrations.CreateModel(
                    name="Dhis2Connection",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("enabled", models.BooleanField(default=False)),
                        ("base_url", models.URLField(blank=True, max_length=300)),
                        ("config_encrypted", models.TextField(blank=True, editable=False)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("program", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="dhis2_connection", to="campaigns.program")),
                    ],
                    options={
                        "verbose_name": "DHIS2 connection",
                        "verbose_name_plural": "DHIS2 connections",
                        "db_table": "campaigns_dhis2connection",
                    },
                ),
                migrations.CreateModel(
                    name="Dhis2SyncRun",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("status", models.CharField(choices=[("pending", "Pending"), ("running", "Running"), ("completed", "Completed"), ("failed", "Failed")], default="pending", max_length=10)),
                        ("full", models.BooleanField(default=False, help_text="Every tracked entity, not only changes")),
                        ("updated_after", models.CharField(blank=True, max_length=32)),
                        ("updated_before", models.CharField(blank=True, max_length=32)),
                        ("page_size", models.PositiveIntegerField(default=100)),
                        ("pages_done", models.PositiveIntegerField(default=0)),
                        ("page_count", models.PositiveIntegerField(blank=True, null=True)),
                        ("total", models.PositiveIntegerField(blank=True, null=True)),
                        ("created_count", models.PositiveIntegerField(default=0)),
                        ("updated_count", models.PositiveIntegerField(default=0)),
                        ("unchanged_count", models.PositiveIntegerField(default=0)),
                        ("skipped_count", models.PositiveIntegerField(default=0)),
                        ("error", models.TextField(blank=True)),
                        ("language", models.CharField(default="fr", max_length=8)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("started_at", models.DateTimeField(blank=True, null=True)),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        ("campaign", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="dhis2_syncs", to="campaigns.campaign")),
                        ("created_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "verbose_name": "DHIS2 sync run",
                        "verbose_name_plural": "DHIS2 sync runs",
                        "db_table": "campaigns_dhis2syncrun",
                        "ordering": ["-created_at", "-id"],
                    },
                ),
                migrations.CreateModel(
                    name="Dhis2SyncSkip",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("page", models.PositiveIntegerField()),
                        ("tracked_entity", models.CharField(max_length=64)),
                        ("enrollment", models.CharField(blank=True, max_length=64)),
                        ("field", models.CharField(blank=True, max_length=64)),
                        ("attribute", models.CharField(blank=True, max_length=64)),
                        ("reason", models.CharField(max_length=500)),
                        ("run", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="skips", to="dhis2.dhis2syncrun")),
                    ],
                    options={
                        "verbose_name": "DHIS2 skipped entity",
                        "verbose_name_plural": "DHIS2 skipped entities",
                        "db_table": "campaigns_dhis2syncskip",
                        "ordering": ["run", "id"],
                    },
                ),
                migrations.AddConstraint(
                    model_name="dhis2syncrun",
                    constraint=models.UniqueConstraint(condition=models.Q(("status__in", ["pending", "running"])), fields=("campaign",), name="one_active_dhis2_sync_per_campaign"),
                ),
            ],
        ),
        migrations.RunPython(content_types_forward, content_types_backward),
    ]
