from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("campaigns", "0008_verbose_names"),
    ]

    operations = [
        migrations.AddField(
            model_name="job",
            name="reissue",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="job",
            name="skipped_valid_card",
            field=models.PositiveIntegerField(default=0),
        ),
    ]
