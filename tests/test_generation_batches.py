"""A job's cards are issued batch by batch, and its chunks render as soon as their batch is
in: a preparation that stops half-way and runs again, or runs twice at once, still issues
each card once, and packaging waits for the last batch."""

import io
import json
import threading
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import django_rq
import pytest
from django.db import connection
from pypdf import PdfReader

from campaigns.models import Job, QuotaTransaction
from cards import generation, preparing, tasks
from cards.issuing import CardIssuer
from cards.models import Card
from tests.factories import make_beneficiaries, make_campaign, make_card, make_program

pytestmark = pytest.mark.django_db(transaction=True)


def run_jobs():
    django_rq.get_worker("cards").work(burst=True)


def accepted_job(count, *, chunk_size=2, **kwargs):
    campaign = make_campaign(program=make_program())
    make_beneficiaries(campaign=campaign, count=count)
    return generation.job_create(campaign=campaign, chunk_size=chunk_size, **kwargs)


def first_batch_only(job, size):
    """What a preparation that stopped after its first batch left behind."""
    generation.job_start(job_id=job.pk)
    job = Job.objects.select_related("campaign__program").get(pk=job.pk)
    chunks, _through = preparing.job_issue_batch(job=job, issuer=CardIssuer(job), after=0,
                                                 size=size)
    return chunks


def assert_each_person_carded_once_in_chunk_order(job):
    cards = list(Card.objects.filter(job=job).order_by("beneficiary_id"))
    people = list(job.campaign.beneficiaries.order_by("pk").values_list("pk", flat=True))
    assert [card.beneficiary_id for card in cards] == people
    assert len({card.code for card in cards}) == len(cards)
    chunks = list(job.chunks.order_by("index"))
    assert [c.index for c in chunks] == list(range(len(chunks)))
    position = 0
    for chunk in chunks:
        covered = cards[position : position + chunk.card_count]
        assert chunk.first_card == position
        assert (chunk.first_beneficiary_id, chunk.last_beneficiary_id) == (
            covered[0].beneficiary_id, covered[-1].beneficiary_id)
        position += chunk.card_count
    assert position == len(cards)


def test_a_preparation_that_stopped_after_a_batch_resumes_without_issuing_twice(monkeypatch):
    monkeypatch.setattr(preparing, "ISSUE_BATCH", 4)
    job = accepted_job(11)
    assert [c.card_count for c in first_batch_only(job, 4)] == [2, 2]
    first_codes = set(Card.objects.filter(job=job).values_list("code", flat=True))

    tasks.job_prepare(job.pk)  # the retry

    job.refresh_from_db()
    assert job.status == "generating" and job.total_cards == 11
    assert first_codes <= set(Card.objects.filter(job=job).values_list("code", flat=True))
    assert_each_person_carded_once_in_chunk_order(job)
    run_jobs()
    job.refresh_from_db()
    assert (job.status, job.cards_generated) == ("completed", 11)
    assert [(r.kind, r.units) for r in QuotaTransaction.objects.filter(job=job)] == [
        ("debit", -11)]


def test_two_preparations_at_once_issue_each_card_once(monkeypatch):
    monkeypatch.setattr(preparing, "ISSUE_BATCH", 3)
    job = accepted_job(40)
    barrier = threading.Barrier(2)

    def prepare(_):
        barrier.wait()
        try:
            tasks.job_prepare(job.pk)
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(prepare, range(2)))

    job.refresh_from_db()
    assert job.status == "generating"
    assert_each_person_carded_once_in_chunk_order(job)


def test_chunks_render_while_later_cards_are_issued_and_packaging_waits_for_the_last_batch():
    job = accepted_job(10)
    chunks = first_batch_only(job, 4)

    for chunk in chunks:  # a worker renders the first batch before the rest is issued
        tasks.chunk_render(job.pk, chunk.index)
    job.refresh_from_db()
    assert (job.status, job.cards_generated) == ("processing", 4)
    assert not Job.objects.get(pk=job.pk).pdf  # no packaging on part of a job

    django_rq.get_queue("cards").empty()  # what the first batch queued: already rendered
    tasks.job_prepare(job.pk)
    run_jobs()

    job.refresh_from_db()
    assert (job.status, job.cards_generated) == ("completed", 10)
    with job.pdf.open("rb") as fh:
        assert len(PdfReader(io.BytesIO(fh.read())).pages) == 20
    with job.manifest.open("rb") as fh:
        manifest = json.load(fh)["cards"]
    assert [card["pdf_pages"] for card in manifest] == [[n, n + 1] for n in range(1, 20, 2)]
    with job.zip.open("rb") as fh:
        archive = zipfile.ZipFile(io.BytesIO(fh.read()))
        assert archive.testzip() is None  # every copied entry reads back with its CRC
        assert sorted(archive.namelist()) == sorted(
            ["back.png", *(f"{card['code']}.png" for card in manifest)])


def test_a_batch_whose_people_all_hold_a_valid_card_by_then_does_not_stop_the_job(monkeypatch):
    monkeypatch.setattr(preparing, "ISSUE_BATCH", 3)
    job = accepted_job(8)
    # Cards issued elsewhere after the job was accepted, to its first three people.
    for person in job.campaign.beneficiaries.order_by("pk")[:3]:
        make_card(campaign=job.campaign, beneficiary=person)

    run_jobs()

    job.refresh_from_db()
    assert (job.status, job.total_cards, job.cards_generated) == ("completed", 5, 5)
    carded = Counter(Card.objects.filter(campaign=job.campaign, revoked_at__isnull=True)
                     .values_list("beneficiary_id", flat=True))
    assert set(carded.values()) == {1} and len(carded) == 8


def test_chosen_people_are_issued_in_batches_of_the_list():
    campaign = make_campaign(program=make_program())
    people = make_beneficiaries(campaign=campaign, count=9)
    chosen = [person.pk for person in people[::2]]
    job = generation.job_create(campaign=campaign, beneficiary_ids=chosen, chunk_size=2)
    assert len(first_batch_only(job, 2)) == 1

    tasks.job_prepare(job.pk)

    assert sorted(Card.objects.filter(job=job).values_list("beneficiary_id", flat=True)) == chosen
    assert [c.card_count for c in Job.objects.get(pk=job.pk).chunks.order_by("index")] == [
        2, 2, 1]
