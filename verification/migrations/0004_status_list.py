"""The newest signed status list of each campaign, with its sequence number."""


import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('campaigns', '0011_beneficiary_opted_out_source'),
        ('verification', '0003_signingkey_to_cards'),
    ]

    operations = [
        migrations.CreateModel(
            name='StatusList',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('sequence', models.PositiveBigIntegerField(default=0)),
                ('issued_at', models.DateTimeField(blank=True, null=True)),
                ('body', models.BinaryField(default=b'')),
                ('campaign', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='status_list', to='campaigns.campaign')),
            ],
            options={
                'verbose_name': 'status list',
                'verbose_name_plural': 'status lists',
            },
        ),
    ]
