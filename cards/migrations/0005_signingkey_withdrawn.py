"""A signing key can be withdrawn (its private key leaked): the date and the reason."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("cards", "0004_signingkey_from_verification"),
    ]

    operations = [
        migrations.AddField(
            model_name="signingkey",
            name="withdrawn_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="signingkey",
            name="withdrawn_reason",
            field=models.CharField(blank=True, max_length=255),
        ),
    ]
