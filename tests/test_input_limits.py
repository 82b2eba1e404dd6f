"""Input limits: bodies capped before Django reads them, imports refused above their limit
with a message naming it, the program logo checked and re-encoded on every path, previews
that answer "busy" instead of hanging, and the Orange receipt secret masked in logs."""

import asyncio
import html
import io
import logging
import struct
import time
import zlib

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation
from PIL import Image

from campaignid.asgi import application
from campaigns.models import Beneficiary, Program, Role
from cards.rendering import preview as render
from cards.studio_services import program_logo_set
from tests.factories import (
    api_client,
    make_api_key,
    make_campaign,
    make_program,
    make_user,
)

pytestmark = pytest.mark.django_db

HEADER = "external_id,first_name,last_name,date_of_birth,sex\n"


def csv_of(rows):
    return (HEADER + "".join(f"e{n},Awa,Sow,2019-02-20,F\n" for n in range(rows))).encode()


def page_client(program, language, role=Role.ADMIN):
    client = Client()
    client.force_login(make_user(program=program, role=role))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


# Bodies capped in front of Django (ASGI) ------------------------------------------------------


def asgi_post(path, chunks, *, declared=None):
    """POSTs `chunks` through the project's ASGI application; (status, chunks it pulled)."""
    headers = [(b"content-type", b"application/json")]
    if declared is not None:
        headers.append((b"content-length", str(declared).encode()))
    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(),
             "query_string": b"", "headers": headers, "http_version": "1.1", "scheme": "http",
             "server": ("testserver", 80), "client": ("127.0.0.1", 5000), "root_path": "",
             "asgi": {"version": "3.0"}}
    pending = [{"type": "http.request", "body": chunk, "more_body": n < len(chunks) - 1}
               for n, chunk in enumerate(chunks)]
    sent, pulled = [], 0

    async def receive():
        nonlocal pulled
        if pending:
            pulled += 1
            return pending.pop(0)
        await asyncio.sleep(3600)

    async def send(message):
        sent.append(message)

    asyncio.run(asyncio.wait_for(application(scope, receive, send), 10))
    return sent[0]["status"], pulled


def test_a_declared_2_mb_webhook_body_is_413_before_any_byte_is_read():
    status, pulled = asgi_post("/webhooks/whatsapp", [b"{}"], declared=2 * 1024 * 1024)
    assert (status, pulled) == (413, 0)


def test_a_chunked_2_mb_webhook_body_is_cut_just_past_1_mb():
    chunk = b" " * (64 * 1024)
    status, pulled = asgi_post("/webhooks/orange/abcdefghijklmnop", [chunk] * 32)
    assert status == 413
    assert pulled == 17  # 16 chunks make 1 MB; the 17th passes it


def test_an_api_body_larger_than_an_import_is_413_unread(settings):
    status, pulled = asgi_post("/api/campaigns/", [b"{}"],
                               declared=settings.REQUEST_MAX_BYTES + 1)
    assert (status, pulled) == (413, 0)


# Imports -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "The import is larger than 2 KB"),
    ("fr", "L'import dépasse 2 Ko"),
])
def test_a_browser_import_over_the_size_limit_names_it(settings, language, expected):
    settings.IMPORT_MAX_BYTES = 2048
    program = make_program()
    campaign = make_campaign(program=program)
    response = page_client(program, language).post(
        f"/campaigns/{campaign.pk}/import/",
        {"file": SimpleUploadedFile("people.csv", csv_of(100), content_type="text/csv")},
    )
    assert response.status_code == 200
    assert expected in html.unescape(response.content.decode())
    assert not Beneficiary.objects.filter(campaign=campaign).exists()


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "The import has more than 10 rows"),
    ("fr", "L'import compte plus de 10 lignes"),
])
def test_an_api_import_over_the_row_limit_names_it(settings, language, expected):
    settings.IMPORT_MAX_ROWS = 10
    program = make_program()
    campaign = make_campaign(program=program)
    client = api_client(make_api_key(program=program, role=Role.OPERATOR))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    response = client.post(
        f"/api/campaigns/{campaign.pk}/beneficiaries",
        {"file": SimpleUploadedFile("people.csv", csv_of(11), content_type="text/csv")},
        format="multipart",
    )
    assert response.status_code == 413
    assert expected in response.json()["error"]
    assert response.json()["fields"]["file"] == [response.json()["error"]]
    assert not Beneficiary.objects.filter(campaign=campaign).exists()


def test_an_api_json_import_over_the_size_limit_is_refused_before_parsing(settings):
    settings.IMPORT_MAX_BYTES = 1024
    program = make_program()
    campaign = make_campaign(program=program)
    client = api_client(make_api_key(program=program, role=Role.OPERATOR))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    rows = [{"first_name": "Awa", "last_name": "Sow", "date_of_birth": "2019-02-20", "sex": "F"}]
    response = client.post(f"/api/campaigns/{campaign.pk}/beneficiaries",
                           {"beneficiaries": rows * 2000}, format="json")
    assert response.status_code == 413
    assert "larger than 1 KB" in response.json()["fields"]["beneficiaries"][0]
    assert not Beneficiary.objects.filter(campaign=campaign).exists()


def test_an_import_at_the_row_limit_is_imported(settings):
    settings.IMPORT_MAX_ROWS = 10
    program = make_program()
    campaign = make_campaign(program=program)
    client = api_client(make_api_key(program=program, role=Role.OPERATOR))
    response = client.post(
        f"/api/campaigns/{campaign.pk}/beneficiaries",
        {"file": SimpleUploadedFile("people.csv", csv_of(10), content_type="text/csv")},
        format="multipart",
    )
    assert response.status_code == 201
    assert Beneficiary.objects.filter(campaign=campaign).count() == 10


# The program logo --------------------------------------------------------------------------


def png_claiming(width, height):
    """A PNG of a few dozen bytes whose header claims width x height pixels."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0"))
            + chunk(b"IEND", b""))


def jpeg_with_exif():
    exif = Image.Exif()
    exif[0x010F] = "SecretCameraMaker"  # Make
    exif[0x0131] = "GPS-and-owner-software"  # Software
    buffer = io.BytesIO()
    Image.new("RGB", (120, 80), "#B91C1C").save(buffer, "JPEG", exif=exif.tobytes())
    assert b"SecretCameraMaker" in buffer.getvalue()
    return buffer.getvalue()


def stored_logo(program):
    program.refresh_from_db()
    with program.logo.open("rb") as handle:
        data = handle.read()
    return data, Image.open(io.BytesIO(data))


@pytest.mark.parametrize(("name", "data"), [
    ("logo.png", b"<html><script>alert(1)</script></html>"),
    ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
])
def test_an_html_or_svg_logo_is_refused(name, data):
    program = make_program()
    with translation.override("en"), pytest.raises(Exception) as error:
        program_logo_set(program=program, image_file=SimpleUploadedFile(name, data))
    assert error.value.message_dict["logo"] == [
        "The logo must be a PNG or JPEG image; this file is not one."]
    program.refresh_from_db()
    assert not program.logo


def test_a_170_megapixel_png_header_is_refused_without_decoding():
    program = make_program()
    bomb = png_claiming(13000, 13000)
    assert len(bomb) < 100
    started = time.monotonic()
    with translation.override("en"), pytest.raises(Exception) as error:
        program_logo_set(program=program, image_file=SimpleUploadedFile("logo.png", bomb))
    assert time.monotonic() - started < 1
    assert "13000 by 13000 pixels" in error.value.message_dict["logo"][0]


def test_a_jpeg_logo_is_stored_as_a_png_without_its_exif():
    program = make_program()
    program_logo_set(program=program,
                     image_file=SimpleUploadedFile("logo.jpg", jpeg_with_exif()))
    data, image = stored_logo(program)
    assert image.format == "PNG"
    assert b"SecretCameraMaker" not in data and not image.getexif()


def admin_change(program, logo):
    user = make_user(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client.post(reverse("admin:campaigns_program_change", args=[program.pk]), {
        "name": program.name, "country": "SN", "timezone": "Africa/Dakar",
        "brand_colour": "#0EA5E9", "plan": "standard", "grant_units": "", "grant_note": "",
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0", "logo": logo,
    })


def test_the_admin_stores_a_jpeg_logo_re_encoded_without_exif():
    program = make_program()
    response = admin_change(program, SimpleUploadedFile("logo.jpg", jpeg_with_exif()))
    assert response.status_code == 302
    data, image = stored_logo(program)
    assert image.format == "PNG" and program.logo.name.endswith(".png")
    assert b"SecretCameraMaker" not in data and not image.getexif()


@pytest.mark.parametrize("data", [
    b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    png_claiming(13000, 13000),
])
def test_the_admin_refuses_an_svg_or_oversized_logo(data):
    program = make_program()
    response = admin_change(program, SimpleUploadedFile("logo.svg", data))
    assert response.status_code == 200  # the form again, with the error
    assert not Program.objects.get(pk=program.pk).logo


def test_the_admins_logo_link_is_the_checked_view():
    program = make_program()
    admin_change(program, SimpleUploadedFile("logo.jpg", jpeg_with_exif()))
    client = Client()
    client.force_login(make_user(is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:campaigns_program_change", args=[program.pk]))
    text = page.content.decode()
    assert f'href="{reverse("program-logo", args=[program.pk])}"' in text
    assert "/media/logos/" not in text


def test_the_model_field_refuses_a_file_that_is_not_a_logo():
    program = make_program()
    program.logo = SimpleUploadedFile("logo.html", b"<html></html>")
    with pytest.raises(Exception) as error:
        program.full_clean()
    assert "logo" in error.value.message_dict


# Previews ----------------------------------------------------------------------------------


def test_a_preview_waiting_too_long_for_the_renderer_answers_busy(settings):
    settings.CARD_PREVIEW_WAIT_SECONDS = 0.2
    program = make_program()
    campaign = make_campaign(program=program)
    client = api_client(make_api_key(program=program, role=Role.OPERATOR))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    # Another preview holds the renderer (WeasyPrint renders one at a time).
    with render._PREVIEW_LOCK:
        started = time.monotonic()
        response = client.get(reverse("api-campaign-preview", kwargs={"pk": campaign.pk}))
    assert time.monotonic() - started < 2
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "busy" in response.json()["error"]


# The Orange receipt secret in logs ---------------------------------------------------------


def test_the_orange_secret_is_masked_in_djangos_request_log(caplog):
    secret = "s3cretWebhookToken0123456789"
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = Client().post(f"/webhooks/orange/{secret}", b"{}",
                                 content_type="application/json")
    assert response.status_code == 404
    lines = [record.getMessage() for record in caplog.records]
    assert any("/webhooks/orange/****" in line for line in lines)
    assert not any(secret in line for line in lines)


def test_the_orange_secret_is_masked_in_the_access_log(caplog):
    secret = "s3cretWebhookToken0123456789"
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d', "10.0.0.1:5000", "POST", f"/webhooks/orange/{secret}",
            "1.1", 200)
    assert caplog.records[-1].getMessage() == (
        '10.0.0.1:5000 - "POST /webhooks/orange/**** HTTP/1.1" 200')
