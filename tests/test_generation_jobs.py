"""Generation jobs end to end: API -> RQ worker -> artifacts, quota, refunds."""

import hashlib
import io
import json
import zipfile

import django_rq
import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from campaigns.models import Campaign, Job, QuotaTransaction
from campaigns.services import quota_balance
from cards.models import Card
from tests.factories import api_client, make_api_key, make_beneficiary, make_campaign, make_program

pytestmark = pytest.mark.django_db(transaction=True)

ID1_POINTS = (85.60 / 25.4 * 72, 53.98 / 25.4 * 72)


def run_jobs():
    django_rq.get_worker("cards").work(burst=True)


def campaign_with(program, count, **kwargs):
    campaign = make_campaign(program=program, **kwargs)
    for i in range(count):
        make_beneficiary(campaign=campaign, first_name=f"Awa{i}", external_id=f"E{i:05d}")
    return campaign


def start_job(raw_key, campaign, **body):
    return api_client(raw_key).post(f"/api/campaigns/{campaign.pk}/jobs", body, format="json")


def download(raw_key, job_id, artifact):
    response = api_client(raw_key).get(f"/api/jobs/{job_id}/download/{artifact}")
    assert response.status_code == 200, response
    return b"".join(response.streaming_content)


def test_accepting_a_job_debits_cards_times_dpi_factor():
    program = make_program(quota=100)
    campaign = campaign_with(program, 3)
    response = start_job(make_api_key(program=program), campaign, dpi=450)
    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    assert quota_balance(program=program) == 100 - 5  # ceil(3 x 1.4)


def test_insufficient_quota_is_400_with_the_numbers_and_debits_nothing():
    program = make_program(quota=2)
    campaign = campaign_with(program, 3)
    response = start_job(make_api_key(program=program), campaign)
    assert response.status_code == 400
    assert (response.json()["needed"], response.json()["available"]) == (3, 2)
    assert quota_balance(program=program) == 2
    assert not Job.objects.exists()


def test_a_campaign_without_beneficiaries_cannot_generate():
    program = make_program()
    response = start_job(make_api_key(program=program), make_campaign(program=program))
    assert response.status_code == 400
    assert "beneficiaries" in response.json()["fields"]


def test_a_second_job_while_one_runs_is_409():
    program = make_program()
    campaign = campaign_with(program, 1)
    key = make_api_key(program=program)
    start_job(key, campaign)
    assert start_job(key, campaign).status_code == 409


def test_artifacts_are_409_until_the_job_completes():
    program = make_program()
    key = make_api_key(program=program)
    job_id = start_job(key, campaign_with(program, 1)).json()["id"]
    assert api_client(key).get(f"/api/jobs/{job_id}/download/pdf").status_code == 409


def test_a_completed_job_has_pdf_zip_and_manifest_that_agree():
    program = make_program()
    key = make_api_key(program=program)
    campaign = campaign_with(program, 7)
    job_id = start_job(key, campaign).json()["id"]
    run_jobs()

    job = api_client(key).get(f"/api/jobs/{job_id}").json()
    assert (job["status"], job["progress"], job["cards_generated"]) == ("completed", 100, 7)
    assert Campaign.objects.get(pk=campaign.pk).status == "completed"

    pdf = PdfReader(io.BytesIO(download(key, job_id, "pdf")))
    assert len(pdf.pages) == 14
    for page in pdf.pages:
        assert float(page.mediabox.width) == pytest.approx(ID1_POINTS[0], abs=0.5)
        assert float(page.mediabox.height) == pytest.approx(ID1_POINTS[1], abs=0.5)

    archive = zipfile.ZipFile(io.BytesIO(download(key, job_id, "zip")))
    manifest = json.loads(download(key, job_id, "manifest"))
    codes = [card["code"] for card in manifest["cards"]]
    assert codes == list(Card.objects.filter(job_id=job_id).order_by("beneficiary_id")
                         .values_list("code", flat=True))
    for card in manifest["cards"]:
        png = archive.read(f"{card['code']}.png")
        assert hashlib.sha256(png).hexdigest() == card["png_sha256"]
    assert [card["pdf_pages"] for card in manifest["cards"]][:2] == [[1, 2], [3, 4]]


def test_png_size_follows_the_job_dpi():
    program = make_program()
    key = make_api_key(program=program)
    job_id = start_job(key, campaign_with(program, 1), dpi=300).json()["id"]
    run_jobs()
    archive = zipfile.ZipFile(io.BytesIO(download(key, job_id, "zip")))
    code = Card.objects.get(job_id=job_id).code
    assert Image.open(io.BytesIO(archive.read(f"{code}.png"))).size == (1011, 638)


def test_the_qr_of_a_generated_png_decodes_to_the_cards_printed_link():
    program = make_program()
    key = make_api_key(program=program)
    job_id = start_job(key, campaign_with(program, 1)).json()["id"]
    run_jobs()
    card = Card.objects.get(job_id=job_id)
    archive = zipfile.ZipFile(io.BytesIO(download(key, job_id, "zip")))
    image = Image.open(io.BytesIO(archive.read(f"{card.code}.png"))).convert("L")
    decoded = [r.text for r in zxingcpp.read_barcodes(image)]
    assert decoded == [f"{card_url_base()}/V/C/{card.code}#{card.token}"]


def card_url_base():
    """PUBLIC_BASE_URL as the printed QR spells it: scheme and host in capitals."""
    from django.conf import settings

    return settings.PUBLIC_BASE_URL.upper()


def test_cancelling_refunds_the_job_once():
    program = make_program(quota=50)
    key = make_api_key(program=program)
    job_id = start_job(key, campaign_with(program, 4)).json()["id"]
    assert api_client(key).post(f"/api/jobs/{job_id}/cancel").json()["status"] == "cancelled"
    assert api_client(key).post(f"/api/jobs/{job_id}/cancel").status_code == 409
    run_jobs()
    assert quota_balance(program=program) == 50
    assert QuotaTransaction.objects.filter(job_id=job_id, kind="refund").count() == 1
    assert Job.objects.get(pk=job_id).status == "cancelled"


def test_a_template_that_cannot_render_fails_the_job_with_a_refund():
    program = make_program(quota=50)
    key = make_api_key(program=program)
    campaign = campaign_with(program, 2)
    # A template removed from Card Studio after the campaign chose it.
    Campaign.objects.filter(pk=campaign.pk).update(template_id="retired-template")
    job_id = start_job(key, campaign).json()["id"]
    run_jobs()
    job = Job.objects.get(pk=job_id)
    assert job.status == "failed"
    assert "template" in job.error.lower()
    assert QuotaTransaction.objects.filter(job_id=job_id, kind="refund").count() == 1
    assert quota_balance(program=program) == 50
    assert Campaign.objects.get(pk=campaign.pk).status == "failed"


def test_another_programs_job_is_404():
    program, other = make_program(), make_program()
    job_id = start_job(make_api_key(program=other), campaign_with(other, 1)).json()["id"]
    client = api_client(make_api_key(program=program))
    assert client.get(f"/api/jobs/{job_id}").status_code == 404
    assert client.post(f"/api/jobs/{job_id}/cancel").status_code == 404
    assert client.get(f"/api/jobs/{job_id}/download/pdf").status_code == 404


def test_chunks_of_chosen_beneficiaries_print_each_chosen_card_once_in_order():
    from cards import generation

    program = make_program()
    key = make_api_key(program=program)
    campaign = campaign_with(program, 9)
    chosen = list(campaign.beneficiaries.order_by("pk").values_list("pk", flat=True))[1::2]
    job = generation.job_create(campaign=campaign, beneficiary_ids=chosen, chunk_size=2)
    run_jobs()

    job.refresh_from_db()
    assert job.status == "completed" and job.chunks.count() == 2
    manifest = json.loads(download(key, job.pk, "manifest"))
    cards = Card.objects.filter(job=job).order_by("beneficiary_id")
    assert [c.beneficiary_id for c in cards] == chosen
    assert [c["code"] for c in manifest["cards"]] == [c.code for c in cards]
    pdf = PdfReader(io.BytesIO(download(key, job.pk, "pdf")))
    assert [pdf.pages[2 * n].extract_text().count(card.code) for n, card in enumerate(cards)] \
        == [1] * len(chosen)
