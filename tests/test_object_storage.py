"""Stored files in an S3-compatible bucket (STORAGE_URL): a local S3 server (moto in server
mode, a real HTTP endpoint) that the app, the workers and the test's own boto3 client speak
to, as MinIO or a cloud bucket would be spoken to.

Two `rqworker` processes, each with its own empty MEDIA_ROOT and scratch folder, share
nothing but PostgreSQL, Redis and the bucket, as workers on two machines would."""

import io
import json
import zipfile

import boto3
import django_rq
import pytest
import requests
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from moto.server import ThreadedMotoServer
from PIL import Image
from pypdf import PdfReader
from rq.job import Job as RQJob
from rq.registry import FinishedJobRegistry

from campaigns.models import Job, Role
from cards.models import Card
from cards.rendering.renderer import CardRenderer
from cards.signing_keys import program_public_keys
from cards.studio_services import program_logo_set
from distribution.card_messages import CardImages
from tests.card_helpers import card
from tests.factories import (
    api_client,
    make_api_key,
    make_beneficiaries,
    make_campaign,
    make_issued_cards,
    make_program,
    make_user,
    tiny_png,
)
from tests.processes import asgi_server, free_port, start_worker, stop, wait_until
from verification.portal import portal_status_list
from verification.status_list import status_list_decode

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BUCKET = "campaignid-test"
REGION = "eu-west-1"
KEYS = {"AWS_ACCESS_KEY_ID": "test-access-key", "AWS_SECRET_ACCESS_KEY": "test-secret-key"}


@pytest.fixture(scope="module")
def s3_server():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_server, settings, monkeypatch):
    """An empty private bucket, the default storage of this process and of the workers it
    starts (they inherit the environment); yields a boto3 client of our own to look in it."""
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    url = f"s3://{BUCKET}?endpoint_url={s3_server}&region={REGION}"
    monkeypatch.setenv("STORAGE_URL", url)
    client = boto3.client("s3", endpoint_url=s3_server, region_name=REGION,
                          aws_access_key_id=KEYS["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=KEYS["AWS_SECRET_ACCESS_KEY"])
    client.create_bucket(Bucket=BUCKET,
                         CreateBucketConfiguration={"LocationConstraint": REGION})
    from campaignid.object_storage import default_storage_from_env

    settings.STORAGES = {**settings.STORAGES,
                         "default": default_storage_from_env({"STORAGE_URL": url})}
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def keys_in(client):
    return {item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def files_under(folder):
    return [path for path in folder.rglob("*") if path.is_file()]


def fetch(host, raw_key, job_id, artifact):
    """A download through the running ASGI server, as deployed (uvicorn)."""
    return requests.get(f"http://{host}/api/jobs/{job_id}/download/{artifact}",
                        headers={"X-API-Key": raw_key}, timeout=60)


def download(host, raw_key, job_id, artifact):
    response = fetch(host, raw_key, job_id, artifact)
    assert response.status_code == 200, response.text
    return response.content


def test_two_workers_sharing_only_the_bucket_complete_one_job(bucket, tmp_path, media_root):
    program = make_program()
    key = make_api_key(program=program, can_view_sensitive=True)
    campaign = make_campaign(program=program)
    make_beneficiaries(campaign=campaign, count=400)
    machines = {name: tmp_path / name for name in ("machine-a", "machine-b")}
    workers = []
    for name, folder in machines.items():
        (folder / "media").mkdir(parents=True)
        workers.append(start_worker("cards", log_path=tmp_path / f"{name}.log", env={
            "MEDIA_ROOT": folder / "media", "SCRATCH_DIR": folder / "scratch",
        }))
    try:
        # Both listen before the job is queued, so both take chunks.
        wait_until(lambda: len(django_rq.get_queue("cards").connection.smembers("rq:workers"))
                   == 2, timeout=60, message="both workers to start")
        job_id = api_client(key).post(f"/api/campaigns/{campaign.pk}/jobs", {},
                                      format="json").json()["id"]
        wait_until(lambda: Job.objects.get(pk=job_id).is_final, timeout=400,
                   message="the job to finish")
    finally:
        for worker in workers:
            stop(worker)

    job = Job.objects.get(pk=job_id)
    assert job.status == "completed", job.error
    queue = django_rq.get_queue("cards")
    finished = FinishedJobRegistry(queue=queue).get_job_ids()
    assert len({RQJob.fetch(i, connection=queue.connection).worker_name for i in finished}) == 2
    for folder in [*(machine / "media" for machine in machines.values()), media_root]:
        assert files_under(folder) == [], folder
    for machine in machines.values():  # scratch keeps caches (fonts), no file of the job
        leftovers = files_under(machine / "scratch")
        assert not [p for p in leftovers if p.suffix in (".pdf", ".zip", ".json", ".jsonl")]

    prefix = f"jobs/{job.pk}/{campaign.prefix}-job{job.pk}"
    assert keys_in(bucket) == {f"{prefix}-cards.pdf", f"{prefix}-png.zip",
                               f"{prefix}-portal.zip", f"jobs/{job.pk}/manifest.json"}
    codes = set(Card.objects.filter(job=job).values_list("code", flat=True))
    assert len(codes) == 400
    with asgi_server() as host:
        pdf = download(host, key, job_id, "pdf")
        png_zip = download(host, key, job_id, "zip")
        manifest = json.loads(download(host, key, job_id, "manifest"))
        portal = zipfile.ZipFile(io.BytesIO(download(host, key, job_id, "portal")))
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 800
    names = zipfile.ZipFile(io.BytesIO(png_zip)).namelist()
    assert sorted(names) == sorted([*(f"{code}.png" for code in codes), "back.png"])
    assert {card["code"] for card in manifest["cards"]} == codes
    header, _records = status_list_decode(portal_status_list(portal), program_public_keys(
        program=Job.objects.get(pk=job_id).campaign.program))
    assert header["count"] == 400
    stored = bucket.get_object(Bucket=BUCKET, Key=f"{prefix}-cards.pdf")["Body"].read()
    assert stored == pdf


@pytest.fixture
def stored_job(bucket):
    """A completed job whose artifacts are in the bucket (a burst worker of this process)."""
    program = make_program()
    campaign = make_campaign(program=program)
    make_beneficiaries(campaign=campaign, count=2)
    key = make_api_key(program=program)
    job_id = api_client(key).post(f"/api/campaigns/{campaign.pk}/jobs", {},
                                  format="json").json()["id"]
    django_rq.get_worker("cards").work(burst=True)
    job = Job.objects.get(pk=job_id)
    assert job.status == "completed", job.error
    return job, key


def test_a_download_from_the_bucket_is_streamed_after_the_access_check(stored_job, bucket):
    job, key = stored_job
    outsider = make_api_key(program=make_program(), can_view_sensitive=True)

    with asgi_server() as host:
        refused = fetch(host, outsider, job.pk, "pdf")
        response = fetch(host, key, job.pk, "pdf")

    assert refused.status_code == 404
    assert response.status_code == 200 and not response.history  # the bytes, no redirect
    stored = bucket.get_object(Bucket=BUCKET, Key=job.pdf.name)["Body"].read()
    assert response.content == stored
    assert response.headers["Content-Length"] == str(len(stored))
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert not any("amz" in f"{name}{value}".lower() or BUCKET in value
                   for name, value in response.headers.items())


def test_what_the_app_stores_is_private_to_the_bucket_owner(stored_job, bucket):
    job, _key = stored_job
    for name in (job.pdf.name, job.manifest.name):
        grants = bucket.get_object_acl(Bucket=BUCKET, Key=name)["Grants"]
        assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]
        assert grants[0]["Grantee"]["Type"] == "CanonicalUser"  # the owner, no group


def logo_seen_by(user, program):
    """The logo page through the running ASGI server, with the session of a login."""
    client = Client()
    client.force_login(user)
    with asgi_server() as host:
        response = requests.get(f"http://{host}{reverse('program-logo', args=[program.pk])}",
                                cookies={name: c.value for name, c in client.cookies.items()},
                                timeout=30, allow_redirects=False)
    assert response.status_code == 200
    return response.content


def test_a_logo_upload_lands_in_the_bucket_and_is_drawn_on_the_card(bucket, media_root):
    program = make_program()
    red = io.BytesIO()
    Image.new("RGB", (64, 64), (220, 20, 60)).save(red, "PNG")

    logo = program_logo_set(program=program,
                            image_file=SimpleUploadedFile("logo.png", red.getvalue())).logo

    assert keys_in(bucket) == {logo.name}
    assert files_under(media_root) == []
    seen = logo_seen_by(make_user(program=program, role=Role.VIEWER), program)
    assert seen == default_storage.open(logo.name).read()
    program.refresh_from_db()
    campaign = make_campaign(program=program)
    renderer = CardRenderer(campaign=campaign, program=program, dpi=300)
    _pdf, pngs = renderer.render_fronts([card()])
    image = Image.open(io.BytesIO(pngs[0])).convert("RGB")
    centre = (round(6.5 / 25.4 * 300), round(5.5 / 25.4 * 300))
    assert image.getpixel(centre) == (220, 20, 60)


def test_a_cards_picture_for_a_message_is_read_from_its_jobs_zip_in_the_bucket(bucket,
                                                                               media_root):
    cards = make_issued_cards(campaign=make_campaign(program=make_program()), count=2)
    assert keys_in(bucket) == {cards[0].job.zip.name}
    images = CardImages()
    try:
        pngs = [images.png(card) for card in cards]
    finally:
        images.close()

    assert pngs == [tiny_png(), tiny_png()]
    assert files_under(media_root) == []
