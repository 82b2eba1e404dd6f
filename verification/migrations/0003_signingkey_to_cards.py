"""SigningKey now lives in cards (cards/migrations/0004): only the model state leaves this
app; the table and its rows are kept."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("verification", "0002_verbose_names"),
        ("cards", "0004_signingkey_from_verification"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="SigningKey")],
            database_operations=[],
        ),
    ]
