"""Factories: each builds one valid object with sensible defaults; override by keyword."""

import itertools
from datetime import date

from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from campaigns.access import SESSION_PROGRAM_KEY
from campaigns.models import Beneficiary, Campaign, CampaignType, Role
from campaigns.services import api_key_create, membership_set, program_create

_seq = itertools.count(1)


def _n():
    return next(_seq)


def make_program(*, slug=None, name=None, quota=1_000_000, **kwargs):
    n = _n()
    return program_create(
        slug=slug or f"program-{n}", name=name or f"Program {n}", quota=quota, **kwargs
    )


def make_user(*, program=None, role=Role.OPERATOR, can_view_sensitive=False, password="pw-test-123",
              username=None, **kwargs):
    user = get_user_model().objects.create_user(
        username=username or f"user{_n()}", password=password, **kwargs
    )
    if program is not None:
        membership_set(user=user, program=program, role=role, can_view_sensitive=can_view_sensitive)
    return user


def make_api_key(*, program, role=Role.ADMIN, can_view_sensitive=False, name="test"):
    """Returns the raw key (the only form a caller ever holds)."""
    _, raw = api_key_create(
        program=program, name=name, role=role, can_view_sensitive=can_view_sensitive
    )
    return raw


def api_client(raw_key=None):
    client = APIClient()
    if raw_key:
        client.credentials(HTTP_X_API_KEY=raw_key)
    return client


def client_for(user, program):
    """A client for the web pages, logged in as `user`, working in `program`, in English."""
    client = Client()
    client.force_login(user)
    session = client.session
    session[SESSION_PROGRAM_KEY] = program.pk
    session.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def ws_ticket(raw_key):
    """A single-use WebSocket ticket for the key, as an API client gets one."""
    return api_client(raw_key).post("/api/ws-tickets").json()["ticket"]


def make_campaign(*, program, prefix=None, campaign_type=CampaignType.VACCINATION, **kwargs):
    """Created through campaign_create, as the wizard and the API do; fields a campaign only
    reaches later (status, archived_at, deleted_at...) are then set as its services leave them."""
    from campaigns.lifecycle import CREATE_FIELDS, campaign_create

    n = _n()
    fields = {"name": f"Campaign {n}", "language": "fr", "template_id": campaign_type}
    fields.update(kwargs)
    later = {name: fields.pop(name) for name in list(fields) if name not in CREATE_FIELDS}
    if fields.get("template_id") == "":  # created with its type's template, then cleared
        later["template_id"] = fields.pop("template_id")
    campaign = campaign_create(
        program=program, prefix=prefix or f"T{n:06d}"[-8:], campaign_type=campaign_type, **fields
    )
    if later:
        Campaign.objects.filter(pk=campaign.pk).update(**later)
        campaign.refresh_from_db()
    return campaign


def make_beneficiary(*, campaign, **kwargs):
    n = _n()
    defaults = {
        "first_name": "Aïssatou",
        "last_name": "N'Diaye",
        "date_of_birth": date(2019, 5, 17),
        "sex": "F",
        "phone": "+221771234567",
        "external_id": f"ext{n:08d}",
        "consent_whatsapp": True,
        "consent_sms": True,
    }
    defaults.update(kwargs)
    return Beneficiary.objects.create(campaign=campaign, **defaults)


def make_job(*, campaign, **kwargs):
    from campaigns.models import Job

    return Job.objects.create(campaign=campaign, **kwargs)


def make_beneficiaries(*, campaign, count, **kwargs):
    """`count` beneficiaries in one insert (for tests that need thousands)."""
    start = _n() * 100_000
    rows = [
        Beneficiary(
            campaign=campaign,
            first_name=kwargs.get("first_name", "Moussa"),
            last_name=kwargs.get("last_name", f"Diop {i}"),
            date_of_birth=kwargs.get("date_of_birth", date(1990, 1, 1)),
            sex=kwargs.get("sex", "M"),
            external_id=f"bulk{start + i}",
        )
        for i in range(count)
    ]
    return Beneficiary.objects.bulk_create(rows)


def make_integration(*, program, channel, config, enabled=True):
    """A program's saved provider settings (validated and encrypted like a PUT would)."""
    from distribution.integrations import integration_save

    return integration_save(program=program, channel=channel, config=config, enabled=enabled)


def make_card(*, campaign, beneficiary=None, job=None, code=None, issued_on=None,
              expires_on=None, revoked_at=None, revoked_reason=""):
    """One card signed with its program's active key, with any dates (e.g. already expired)."""
    from cards.codes import new_card_code
    from cards.models import Card
    from cards.signing_keys import signing_key_for
    from cards.tokens import CardClaims, CardSigner, token_name

    beneficiary = beneficiary or make_beneficiary(campaign=campaign)
    code = code or new_card_code(campaign.prefix)
    issued_on = issued_on or date.today()
    claims = CardClaims(
        name=token_name(beneficiary.first_name, beneficiary.last_name),
        birth_date=beneficiary.date_of_birth,
        program_id=campaign.program_id,
        campaign_type=campaign.campaign_type,
        issued_on=issued_on,
        expires_on=expires_on,
    )
    signer = CardSigner(signing_key_for(program=campaign.program))
    return Card.objects.create(
        campaign=campaign, beneficiary=beneficiary, job=job, code=code,
        token=signer.sign(code=code, payload=claims), issued_on=issued_on,
        expires_on=expires_on, revoked_at=revoked_at, revoked_reason=revoked_reason,
    )


def make_dhis2_connection(*, program, config, enabled=True):
    """A program's saved DHIS2 connection (validated and encrypted like a PUT would)."""
    from campaigns.dhis2.connection import connection_save

    return connection_save(program=program, config=config, enabled=enabled)


def make_dhis2_link(*, campaign, program_uid, org_unit_uid, mapping, labels=None):
    """A campaign's DHIS2 link saved as is, without asking DHIS2 (the API checks it)."""
    from campaigns.dhis2.models import CampaignDhis2Link

    return CampaignDhis2Link.objects.create(
        campaign=campaign, program_uid=program_uid, org_unit_uid=org_unit_uid,
        mapping=mapping, labels=labels or {},
    )


def tiny_png(colour="#0EA5E9"):
    """A 4x3 PNG: enough for WhatsApp's media upload, cheap enough for thousands of cards."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def make_issued_cards(*, campaign, count, with_png=True, phone_from=1, **beneficiary_fields):
    """`count` beneficiaries (distinct phones +22177xxxxxxx, consent to WhatsApp and SMS) with
    one card each from a completed job whose ZIP holds a tiny PNG per card; bulk inserts, no
    rendering or signing (the token is a stand-in). Returns the cards in beneficiary order."""
    import io
    import zipfile

    from django.core.files.base import ContentFile

    from campaigns.models import Job
    from cards.codes import new_card_code
    from cards.models import Card

    start = _n() * 10_000
    people = Beneficiary.objects.bulk_create([
        Beneficiary(
            campaign=campaign,
            first_name=beneficiary_fields.get("first_name", "Awa"),
            last_name=beneficiary_fields.get("last_name", f"Sarr {i}"),
            date_of_birth=date(2018, 3, 1), sex="F",
            phone=beneficiary_fields.get("phone", f"+22177{phone_from + i:07d}"),
            external_id=f"enr{start + i}",
            consent_whatsapp=beneficiary_fields.get("consent_whatsapp", True),
            consent_sms=beneficiary_fields.get("consent_sms", True),
            consent_wallet=beneficiary_fields.get("consent_wallet", True),
            opted_out_at=beneficiary_fields.get("opted_out_at"),
            opted_out_source=beneficiary_fields.get("opted_out_source", ""),
        )
        for i in range(count)
    ])
    job = Job.objects.create(campaign=campaign, status=Job.Status.COMPLETED, total_cards=count,
                             cards_generated=count, progress=100)
    codes = [new_card_code(campaign.prefix) for _ in people]
    if with_png:
        archive = io.BytesIO()
        png = tiny_png()
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zf:
            for code in codes:
                zf.writestr(f"{code}.png", png)
        job.zip.save(f"job{job.pk}-png.zip", ContentFile(archive.getvalue()))
    return Card.objects.bulk_create([
        Card(campaign=campaign, beneficiary=person, job=job, code=code,
             token="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" * 3, issued_on=date(2026, 5, 17))
        for person, code in zip(people, codes, strict=True)
    ])


def make_dispatch(*, campaign, first_channel="sms", **plan):
    from distribution.dispatch.runs import dispatch_create

    return dispatch_create(campaign=campaign, first_channel=first_channel, **plan)


def make_message(*, card, channel="whatsapp", status="sent", provider_message_id=None,
                 dispatch=None, attempt=1, **fields):
    """One send-log row for `card` (by default sent, with a fresh provider id)."""
    import secrets

    from campaigns.phones import mask_phone
    from distribution.models import Message

    person = card.beneficiary
    return Message.objects.create(
        program=card.campaign.program, campaign=card.campaign, beneficiary=person, card=card,
        dispatch=dispatch, channel=channel, attempt=attempt, status=status,
        provider_message_id=provider_message_id or f"wamid.HBgM{secrets.token_hex(12).upper()}",
        recipient=mask_phone(person.phone),
        idempotency_key=f"test-{secrets.token_hex(8)}", **fields,
    )
