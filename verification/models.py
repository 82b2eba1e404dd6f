"""The newest signed status list of each campaign (verification/status_list.py).

`sequence` grows by one with every list the program signs for the campaign (the public
endpoint, a portal download, a job's portal): a verifier keeps the highest it has seen and
never goes back to a lower one. It lives in the database, with the list, so that no restart
or cache flush can ever hand out a number twice.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class StatusList(models.Model):
    campaign = models.OneToOneField(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="status_list"
    )
    sequence = models.PositiveBigIntegerField(default=0)
    issued_at = models.DateTimeField(null=True, blank=True)
    # The newest signed list as published (served as is by /v/status/<prefix>.bin).
    body = models.BinaryField(editable=False, default=b"")

    class Meta:
        verbose_name = _("status list")
        verbose_name_plural = _("status lists")

    def __str__(self):
        return f"{self.campaign_id} #{self.sequence}"
