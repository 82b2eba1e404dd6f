"""One click after a key is withdrawn: reissue the cards it signed, signed with the active key.

One reissue job per campaign that still has live cards signed by the key (generation.job_create
with `reissue=True`): the quota is charged as for any reissue, the old cards are revoked
("reissued") when the new ones are issued, and a campaign with a job already running or
archived is reported, not forced.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from campaigns.models import Campaign
from campaigns.services import QuotaExceeded
from cards.generation import JobConflict, job_create
from cards.models import Card
from cards.signing_keys import token_kid


@dataclass
class KeyReissue:
    jobs: list = field(default_factory=list)
    # (campaign, message): campaigns left for later (a job running, no quota, archived).
    skipped: list = field(default_factory=list)


def cards_signed_by(*, key):
    """{campaign id: [beneficiary ids]} of the live cards (not revoked, not superseded) whose
    token names `key`: what a reissue must replace."""
    rows = (
        Card.objects.filter(
            campaign__program_id=key.program_id, revoked_at__isnull=True,
            superseded_at__isnull=True,
        )
        .values_list("campaign_id", "beneficiary_id", "token")
    )
    people = {}
    for campaign_id, beneficiary_id, token in rows.iterator(chunk_size=5000):
        if token_kid(token) == key.kid:
            people.setdefault(campaign_id, []).append(beneficiary_id)
    return people


def key_reissue_create(*, key, user=None, campaigns=None) -> KeyReissue:
    """Starts the reissue jobs for the cards `key` signed (in `campaigns`, a queryset the
    caller may act on; default every campaign of the key's program)."""
    result = KeyReissue()
    people = cards_signed_by(key=key)
    scope = campaigns if campaigns is not None else Campaign.objects.all()
    for campaign in scope.filter(pk__in=people, program_id=key.program_id).order_by("pk"):
        try:
            job = job_create(campaign=campaign, user=user, beneficiary_ids=people[campaign.pk],
                             reissue=True)
        except (JobConflict, QuotaExceeded) as exc:
            result.skipped.append((campaign, str(exc)))
        except ValidationError as exc:
            result.skipped.append((campaign, "; ".join(exc.messages)))
        else:
            result.jobs.append(job)
    return result
