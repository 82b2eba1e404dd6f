"""SigningKey moves from the verification app to cards (the card issuer signs): the model
state changes app, the table `verification_signingkey` and its rows stay where they are.
verification/migrations/0003 removes the old state once this one has run.

The content type is renamed too, so permissions and admin history given on signing keys
follow the model (a fresh database has no content type yet: nothing to rename)."""

import django.db.models.deletion
from django.db import migrations, models

MODEL = "signingkey"


def content_type_to(app_label, from_label):
    def rename(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        types = ContentType.objects.using(schema_editor.connection.alias)
        if not types.filter(app_label=app_label, model=MODEL).exists():
            types.filter(app_label=from_label, model=MODEL).update(app_label=app_label)

    return rename


class Migration(migrations.Migration):

    dependencies = [
        ("cards", "0003_one_live_card_per_beneficiary"),
        ("campaigns", "0009_job_reissue_and_skipped"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("verification", "0002_verbose_names"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SigningKey",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("kid", models.CharField(max_length=8, unique=True, verbose_name="key id")),
                        ("public_key", models.CharField(max_length=43)),
                        ("private_key_encrypted", models.TextField(editable=False)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("retired_at", models.DateTimeField(blank=True, null=True)),
                        ("program", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="signing_keys", to="campaigns.program")),
                    ],
                    options={
                        "verbose_name": "signing key",
                        "verbose_name_plural": "signing keys",
                        "db_table": "verification_signingkey",
                        "ordering": ["created_at", "id"],
                        "constraints": [models.UniqueConstraint(condition=models.Q(("retired_at__isnull", True)), fields=("program",), name="one_active_signing_key_per_program")],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(
            content_type_to("cards", from_label="verification"),
            content_type_to("verification", from_label="cards"),
        ),
    ]
