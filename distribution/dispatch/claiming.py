"""The two writes on a dispatch's hot path: claiming recipients, recording outcomes.

The order is what makes a send happen at most once: (1) one transaction moves the recipients
queued -> sending under the sender's token and inserts their attempts' Message rows as
`sending` (each under its unique idempotency key); (2) only then the provider is called;
(3) the outcomes are recorded. A sender that dies leaves its rows `sending` with their
Message: the provider may have been called, so distribution.dispatch.liveness settles them as
`outcome_unknown` and never sends them again.

On PostgreSQL each step is one statement: the claim an UPDATE ... RETURNING feeding an
INSERT (one round trip and one commit where the ORM needs five round trips), the record two
UPDATE ... FROM (VALUES) in one statement. Other databases get the ORM in a transaction.
"""

from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F

from campaignid.bulk_sql import server_side_cursor, update_rows, values_update_sql
from campaigns.models import Beneficiary
from cards.models import Card
from distribution.delivery_status import apply_parked
from distribution.models import Dispatch, DispatchRecipient, Message

RStatus = DispatchRecipient.Status
MESSAGE_FIELDS = ["status", "provider_message_id", "via_template", "error_code", "error_detail",
                  "recipient", "sent_at", "failed_at"]
RECIPIENT_FIELDS = ["status", "channel", "attempts", "channel_attempts", "next_attempt_at",
                    "batched_at", "claim_token", "last_error"]
RETURNED = ("id", "status", "tries", "channels", "channel", "attempts", "channel_attempts",
            "beneficiary_id", "card_id", "first_name", "last_name", "phone", "code", "token",
            "issued_on", "expires_on", "job_id", "campaign_id")


@dataclass
class ClaimedRow:
    recipient: DispatchRecipient
    beneficiary: Beneficiary
    card: Card
    message: Message = None  # the attempt's row, already inserted as `sending`


def claim_rows(*, dispatch, channel, ids, token, now):
    """Claims those of `ids` that are queued, due, on `channel`, in a running dispatch, and
    not locked by another claim, and inserts each one's attempt Message (`sending`, the
    attempt number being the recipient's `tries`), in one transaction; those who opted out
    since the start are skipped instead. Returns the ClaimedRows."""
    if connection.vendor == "postgresql":
        return _claim_sql(dispatch, channel, ids, token, now)
    return _claim_orm(dispatch, channel, ids, token, now)


def record_outcomes(*, messages, recipients, token):
    """Writes the outcomes: only rows still `sending` (and, for recipients, still this
    sender's) change - a row settled meanwhile stays settled. Then applies the delivery
    statuses that arrived before these provider ids were written (parked)."""
    _write_outcomes(messages, recipients, token)
    by_channel = {}
    for message in messages:
        if message.provider_message_id:
            by_channel.setdefault(message.channel, []).append(message.provider_message_id)
    for channel, ids in by_channel.items():
        apply_parked(channel=channel, provider_message_ids=ids)


def _write_outcomes(messages, recipients, token):
    if connection.vendor != "postgresql":
        with transaction.atomic():
            update_rows(Message.objects.filter(status=Message.Status.SENDING), messages,
                        MESSAGE_FIELDS)
            update_rows(DispatchRecipient.objects.filter(claim_token=token,
                                                         status=RStatus.SENDING),
                        recipients, RECIPIENT_FIELDS)
        return
    message_sql, message_params = values_update_sql(
        Message, messages, MESSAGE_FIELDS, condition="t.status = %s",
        condition_params=[Message.Status.SENDING],
    )
    recipient_sql, recipient_params = values_update_sql(
        DispatchRecipient, recipients, RECIPIENT_FIELDS,
        condition="t.status = %s AND t.claim_token = %s",
        condition_params=[RStatus.SENDING, token],
    )
    with server_side_cursor() as cursor:
        cursor.execute(
            f"WITH m AS ({message_sql} RETURNING 1), r AS ({recipient_sql} RETURNING 1) "  # noqa: S608
            "SELECT (SELECT count(*) FROM m), (SELECT count(*) FROM r)",
            [*message_params, *recipient_params],
        )


def _claim_sql(dispatch, channel, ids, token, now):
    """One statement, one commit: claim the rows and insert their attempts' Messages (the
    masked number is filled in with the outcome)."""
    q = connection.ops.quote_name
    r, b, c, d, m = (q(model._meta.db_table)
                     for model in (DispatchRecipient, Beneficiary, Card, Dispatch, Message))
    sql = f"""
        WITH claimed AS (
          UPDATE {r} AS r SET
            status = CASE WHEN b.opted_out_at IS NULL THEN %(sending)s ELSE %(skipped)s END,
            skip_reason = CASE WHEN b.opted_out_at IS NULL THEN r.skip_reason
                               ELSE %(opted_out)s END,
            claim_token = CASE WHEN b.opted_out_at IS NULL THEN %(token)s ELSE '' END,
            claimed_at = %(now)s,
            tries = r.tries + CASE WHEN b.opted_out_at IS NULL THEN 1 ELSE 0 END
          FROM {b} AS b, {c} AS c, {d} AS d
          WHERE r.id IN (
              SELECT q.id FROM {r} AS q
              WHERE q.id = ANY(%(ids)s) AND q.dispatch_id = %(dispatch)s
                AND q.status = %(queued)s AND q.channel = %(channel)s
                AND q.next_attempt_at <= %(now)s
              ORDER BY q.id FOR UPDATE SKIP LOCKED)
            AND b.id = r.beneficiary_id AND c.id = r.card_id AND d.id = r.dispatch_id
            AND d.status = %(running)s
          RETURNING r.id, r.status, r.tries, r.channels, r.channel, r.attempts,
            r.channel_attempts, r.beneficiary_id, r.card_id, b.first_name, b.last_name,
            b.phone, c.code, c.token, c.issued_on, c.expires_on, c.job_id, c.campaign_id
        ), inserted AS (
          INSERT INTO {m} (program_id, campaign_id, beneficiary_id, card_id, dispatch_id,
            channel, attempt, status, provider_message_id, recipient, error_code,
            error_detail, via_template, idempotency_key, created_at)
          SELECT %(program)s, %(campaign)s, beneficiary_id, card_id, %(dispatch)s,
            %(channel)s, tries, %(sending)s, '', '', '', '', false,
            'd' || %(dispatch)s::text || '-c' || card_id::text || '-' || %(channel)s
              || '-a' || tries::text,
            %(now)s
          FROM claimed WHERE status = %(sending)s
          RETURNING id, beneficiary_id
        )
        SELECT claimed.*, inserted.id FROM claimed
        LEFT JOIN inserted ON inserted.beneficiary_id = claimed.beneficiary_id
    """  # noqa: S608 - table names come from the models; every value is a parameter
    params = {
        "sending": RStatus.SENDING, "skipped": RStatus.SKIPPED, "queued": RStatus.QUEUED,
        "opted_out": DispatchRecipient.SkipReason.OPTED_OUT, "running": Dispatch.Status.RUNNING,
        "token": token, "now": now, "ids": list(ids), "dispatch": dispatch.pk,
        "channel": channel, "program": dispatch.campaign.program_id,
        "campaign": dispatch.campaign_id,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = [dict(zip((*RETURNED, "message_id"), values, strict=True))
                for values in cursor.fetchall()]
    claimed = []
    for row in sorted(rows, key=lambda x: x["id"]):
        if row["status"] != RStatus.SENDING:
            continue
        claim = _claimed(row, dispatch.pk, token)
        claim.message = Message(
            pk=row["message_id"], program_id=dispatch.campaign.program_id,
            campaign_id=dispatch.campaign_id, beneficiary_id=row["beneficiary_id"],
            card_id=row["card_id"], dispatch_id=dispatch.pk, channel=channel,
            attempt=row["tries"], status=Message.Status.SENDING, created_at=now,
            idempotency_key=f"d{dispatch.pk}-c{row['card_id']}-{channel}-a{row['tries']}",
        )
        claimed.append(claim)
    return claimed


def _claimed(row, dispatch_id, token):
    recipient = DispatchRecipient(
        pk=row["id"], dispatch_id=dispatch_id, beneficiary_id=row["beneficiary_id"],
        card_id=row["card_id"], status=RStatus.SENDING, channels=row["channels"],
        channel=row["channel"], attempts=row["attempts"],
        channel_attempts=row["channel_attempts"], tries=row["tries"], claim_token=token,
    )
    beneficiary = Beneficiary(pk=row["beneficiary_id"], first_name=row["first_name"],
                              last_name=row["last_name"], phone=row["phone"])
    card = Card(pk=row["card_id"], code=row["code"], token=row["token"],
                issued_on=row["issued_on"], expires_on=row["expires_on"], job_id=row["job_id"],
                campaign_id=row["campaign_id"], beneficiary_id=row["beneficiary_id"])
    return ClaimedRow(recipient=recipient, beneficiary=beneficiary, card=card)


def _claim_orm(dispatch, channel, ids, token, now):
    with transaction.atomic():
        rows = list(
            DispatchRecipient.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk__in=ids, dispatch_id=dispatch.pk, status=RStatus.QUEUED,
                    channel=channel, next_attempt_at__lte=now,
                    dispatch__status=Dispatch.Status.RUNNING)
            .select_related("beneficiary", "card").order_by("pk")
        )
        opted_out = [row.pk for row in rows if row.beneficiary.opted_out_at is not None]
        rows = [row for row in rows if row.beneficiary.opted_out_at is None]
        if opted_out:
            DispatchRecipient.objects.filter(pk__in=opted_out).update(
                status=RStatus.SKIPPED, skip_reason=DispatchRecipient.SkipReason.OPTED_OUT
            )
        DispatchRecipient.objects.filter(pk__in=[row.pk for row in rows]).update(
            status=RStatus.SENDING, claim_token=token, claimed_at=now, tries=F("tries") + 1
        )
        claimed = []
        for row in rows:
            row.status, row.claim_token, row.tries = RStatus.SENDING, token, row.tries + 1
            claim = ClaimedRow(recipient=row, beneficiary=row.beneficiary, card=row.card)
            claim.message = Message(
                program_id=dispatch.campaign.program_id, campaign_id=dispatch.campaign_id,
                beneficiary_id=row.beneficiary_id, card_id=row.card_id, dispatch_id=dispatch.pk,
                channel=channel, attempt=row.tries, status=Message.Status.SENDING,
                created_at=now,
                idempotency_key=f"d{dispatch.pk}-c{row.card_id}-{channel}-a{row.tries}",
            )
            claimed.append(claim)
        Message.objects.bulk_create([claim.message for claim in claimed])
    return claimed
