"""A sender that dies between its claim and its requests: each request is noted just before
it leaves, so the claims whose request never left are queued again and sent once, while the
one that may have reached the provider is settled `outcome_unknown` and never sent again.
The real claim and settle paths, the Orange stub, the RQ worker in this process."""

import time
from datetime import time as dtime

import pytest

from distribution import tokens
from distribution.dispatch import claiming, clock, liveness
from distribution.dispatch.runs import dispatch_start
from distribution.models import Dispatch, DispatchRecipient, Message
from tests.dispatch_helpers import dispatch_done, work_until
from tests.factories import make_dispatch, make_integration, make_issued_cards

pytestmark = pytest.mark.django_db(transaction=True)
pytest_plugins = ["tests.stubs.fixtures"]


@pytest.fixture
def claimed(campaign, orange_stub, settings):
    """Three recipients claimed by a sender that noted its first request, then died."""
    settings.DISPATCH_SEND_CONCURRENCY = 4
    make_integration(program=campaign.program, channel="sms", config=orange_stub.config())
    cards = make_issued_cards(campaign=campaign, count=3, with_png=False)
    dispatch = make_dispatch(campaign=campaign, first_channel="sms", window_start=dtime(0, 0),
                             window_end=dtime(0, 0), weekdays=list(range(7)),
                             retry_delays=[0])
    dispatch_start(dispatch=dispatch)
    dispatch = Dispatch.objects.select_related("campaign__program").get(pk=dispatch.pk)
    ids = list(DispatchRecipient.objects.filter(dispatch=dispatch).values_list("pk", flat=True))
    heartbeat = liveness.ClaimHeartbeat()
    heartbeat._touch()
    rows = claiming.claim_rows(dispatch=dispatch, channel="sms", ids=ids,
                               token=heartbeat.token, now=clock.now())
    r = tokens.connection()
    r.sadd(liveness.started_key(heartbeat.token), liveness.NOTHING_YET)
    assert liveness.mark_started(heartbeat.token, rows[0].message.pk)
    r.delete(liveness.claim_key(heartbeat.token))  # the sender died
    r.set(liveness.LIVENESS_SINCE_KEY, f"{time.time() - 60:.3f}")
    return dispatch, cards, rows


def test_only_the_request_that_may_have_left_is_settled_unknown(claimed):
    dispatch, _cards, rows = claimed
    assert liveness.settle_dead_claims(dispatch_id=dispatch.pk) == 0
    statuses = dict(DispatchRecipient.objects.filter(dispatch=dispatch)
                    .values_list("pk", "status"))
    assert statuses == {rows[0].recipient.pk: "failed", rows[1].recipient.pk: "queued",
                        rows[2].recipient.pk: "queued"}
    assert list(Message.objects.filter(dispatch=dispatch).values_list("error_code", flat=True)) \
        == ["outcome_unknown"]


def test_the_requests_that_never_left_are_sent_once(claimed, orange_stub):
    dispatch, cards, _rows = claimed
    liveness.settle_dead_claims(dispatch_id=dispatch.pk)
    work_until(dispatch_done(dispatch))
    sent = sorted(s["address"].removeprefix("tel:") for s in orange_stub.sent)
    assert sent == sorted(c.beneficiary.phone for c in cards[1:])


def test_a_sender_declared_dead_sends_nothing_more(claimed):
    dispatch, _cards, rows = claimed
    liveness.settle_dead_claims(dispatch_id=dispatch.pk)
    token = rows[1].recipient.claim_token
    tokens.connection().set(liveness.claim_key(token), "1")  # its heartbeat comes back late
    assert liveness.mark_started(token, rows[1].message.pk) is False
