"""One live card per person: reissue link, superseded expired cards, and the unique index.

Before the index, people already holding several live cards (jobs run twice before this rule)
keep their newest card of a completed job; the others are revoked as "reissued"."""

from django.db import migrations, models
from django.db.models import Count, Q
from django.utils import timezone


def revoke_duplicates(apps, schema_editor):
    Card = apps.get_model("cards", "Card")
    live = Card.objects.filter(revoked_at__isnull=True)
    doubled = (
        live.values("beneficiary_id").annotate(n=Count("id")).filter(n__gt=1)
        .values_list("beneficiary_id", flat=True)
    )
    now = timezone.now()
    for beneficiary_id in doubled.iterator():
        cards = list(live.filter(beneficiary_id=beneficiary_id).select_related("job"))
        keep = max(cards, key=lambda c: (c.job is None or c.job.status == "completed", c.pk))
        Card.objects.filter(pk__in=[c.pk for c in cards if c.pk != keep.pk]).update(
            revoked_at=now, revoked_reason="reissued"
        )


class Migration(migrations.Migration):

    dependencies = [
        ("cards", "0002_verbose_names"),
    ]

    operations = [
        migrations.AddField(
            model_name="card",
            name="superseded_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="card",
            name="reissue_of",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=models.deletion.SET_NULL,
                related_name="reissued_as", to="cards.card",
            ),
        ),
        migrations.RunPython(revoke_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="card",
            constraint=models.UniqueConstraint(
                condition=Q(revoked_at__isnull=True, superseded_at__isnull=True),
                fields=("beneficiary",),
                name="one_live_card_per_beneficiary",
            ),
        ),
    ]
