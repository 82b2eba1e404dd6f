"""State changes for programs, access and quota. Campaign and beneficiary changes live in
campaigns/lifecycle.py, campaigns/imports.py and campaigns/beneficiary_upsert.py."""

import math
import secrets

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.models import (
    DPI_COST_FACTOR,
    ApiKey,
    Membership,
    Program,
    QuotaTransaction,
    Role,
)


class QuotaExceeded(Exception):
    def __init__(self, *, needed, available):
        self.needed = needed
        self.available = available
        super().__init__(f"This job needs {needed} quota units; the program has {available}.")


def program_create(*, slug, name, quota=0, country="SN", timezone_name="Africa/Dakar"):
    with transaction.atomic():
        program = Program(slug=slug, name=name, country=country, timezone=timezone_name)
        program.full_clean()
        program.save()
        if quota:
            quota_grant(program=program, units=quota, note="Initial plan")
    return program


class GrantRefused(PermissionDenied):
    pass


def membership_set(*, user, program, role=Role.OPERATOR, can_view_sensitive=False,
                   granted_by=None):
    """Adds or changes a membership. A sensitive grant goes through sensitive_grant_set, so
    `granted_by` (None: the server's own command line) is checked and recorded."""
    with transaction.atomic():
        membership, _created = Membership.objects.update_or_create(
            user=user, program=program, defaults={"role": role}
        )
        if membership.can_view_sensitive != can_view_sensitive:
            sensitive_grant_set(holder=membership, granted=can_view_sensitive, by=granted_by)
    return membership


def api_key_create(*, program, name, role=Role.OPERATOR, can_view_sensitive=False,
                   granted_by=None):
    """Returns (ApiKey, raw key). The raw key is never stored and cannot be shown again.
    A key is an operator unless asked otherwise: the least role an integration works with."""
    raw_key = f"cid_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        key = ApiKey.objects.create(
            program=program,
            name=name,
            prefix=raw_key[:12],
            hashed_key=ApiKey.hash(raw_key),
            role=role,
        )
        if can_view_sensitive:
            sensitive_grant_set(holder=key, granted=True, by=granted_by)
    return key, raw_key


def sensitive_grant_set(*, holder, granted, by):
    """Grants or withdraws "can view sensitive" on a Membership or an ApiKey, recording who and
    when. `by` is the user acting: an admin of the holder's program, never for their own
    membership. `by=None` is the server's command line (createprogram, create_api_key)."""
    if by is not None and granted:
        is_program_admin = Membership.objects.filter(
            user=by, program_id=holder.program_id, role=Role.ADMIN
        ).exists()
        if not is_program_admin:
            raise GrantRefused(_("Only an admin of this program can grant access to sensitive "
                                 "campaigns."))
        if isinstance(holder, Membership) and holder.user_id == by.pk:
            raise GrantRefused(_("Nobody grants access to sensitive campaigns to themselves: "
                                 "ask another admin of the program."))
    holder.can_view_sensitive = granted
    holder.sensitive_granted_by = by if granted else None
    holder.sensitive_granted_at = timezone.now() if granted else None
    type(holder).objects.filter(pk=holder.pk).update(
        can_view_sensitive=holder.can_view_sensitive,
        sensitive_granted_by=holder.sensitive_granted_by,
        sensitive_granted_at=holder.sensitive_granted_at,
    )
    return holder


def api_key_revoke(*, api_key):
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def quota_balance(*, program):
    return QuotaTransaction.objects.for_program(program).aggregate(total=Sum("units"))["total"] or 0


def quota_grant(*, program, units, note=""):
    if units <= 0:
        raise ValueError("A grant adds a positive number of units.")
    return QuotaTransaction.objects.create(
        program=program, kind=QuotaTransaction.Kind.GRANT, units=units, note=note
    )


def quota_cost(*, cards, dpi):
    return math.ceil(round(cards * DPI_COST_FACTOR[int(dpi)], 6))


def quota_debit_for_job(*, job, units):
    """Charge a job once. Runs inside the caller's transaction; the program row is locked so
    two jobs accepted at once cannot both spend the last units."""
    program = Program.objects.select_for_update().get(pk=job.campaign.program_id)
    available = quota_balance(program=program)
    if units > available:
        raise QuotaExceeded(needed=units, available=available)
    return QuotaTransaction.objects.create(
        program=program,
        kind=QuotaTransaction.Kind.DEBIT,
        units=-units,
        job=job,
        note=f"Job {job.pk}: {job.total_cards} cards at {job.dpi} dpi",
    )


def quota_refund_for_job(*, job, note=""):
    """Give back what a job was charged; a second call is a no-op (unique job+kind)."""
    debit = QuotaTransaction.objects.filter(job=job, kind=QuotaTransaction.Kind.DEBIT).first()
    if debit is None:
        return None
    try:
        with transaction.atomic():
            return QuotaTransaction.objects.create(
                program_id=debit.program_id,
                kind=QuotaTransaction.Kind.REFUND,
                units=-debit.units,
                job=job,
                note=note or f"Refund of job {job.pk}",
            )
    except IntegrityError:
        return None
