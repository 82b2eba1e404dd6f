"""The real Google Wallet adapter against the local OAuth + Wallet REST stub (a real socket)."""

from datetime import date

import jwt
import pytest

from distribution.providers.adapter import CardDetails, ChannelError, ErrorKind, OutboundMessage
from distribution.providers.google_wallet.adapter import (
    SAVE_URL,
    SCOPE,
    GoogleWalletChannel,
    wallet_links_bulk,
)
from tests.stubs.base import Reply
from tests.stubs.google import google_error, make_rsa_key

pytest_plugins = ["tests.stubs.fixtures"]  # the provider stub fixtures


def card(code="DKR-VAC-9XQ7LM2A", *, rich=False, **overrides):
    details = CardDetails(
        title="Programme Santé Sénégal", holder_name="Aminata Diop",
        subtitle="EPI Dakar 2026", valid_from=date(2026, 3, 1), valid_until=date(2027, 2, 28),
        background_color="#0EA5E9",
    )
    if rich:
        details = CardDetails(
            title=details.title, holder_name=details.holder_name, subtitle=details.subtitle,
            valid_from=details.valid_from, valid_until=details.valid_until,
            logo_url="https://cid.test/media/logos/programme-sante-senegal-2026.png",
            fields=(("Date de naissance", "17/05/2019"), ("Centre de santé", "Poste de santé "
                    "de Grand Yoff, district sanitaire Dakar Centre"), ("Vaccins", "BCG, VPO0, "
                    "Penta1, Penta2, Penta3, VPI, RR1, RR2, fièvre jaune, méningite A"),
                    ("Contact", "Numéro vert 800 00 12 34, du lundi au vendredi de 8h à 17h")),
        )
    fields = {"card_code": code, "verification_url": f"https://cid.test/v/c/{code}",
              "language": "fr", "card": details, "idempotency_key": f"wallet-{code}"}
    fields.update(overrides)
    return OutboundMessage(**fields)


def claims_of(link, stub):
    assert link.startswith(SAVE_URL)
    return jwt.decode(link.removeprefix(SAVE_URL), stub.public_key_pem, algorithms=["RS256"],
                      audience="google")


def test_small_pass_is_carried_whole_in_a_signed_link(google_stub, settings):
    settings.PUBLIC_BASE_URL = "https://cid.test"
    result = GoogleWalletChannel(google_stub.config()).send(message=card())
    assert result.ok and len(result.link) <= 1800
    claims = claims_of(result.link, google_stub)
    assert claims["iss"] == google_stub.service_account_email
    assert (claims["aud"], claims["typ"], claims["origins"]) == (
        "google", "savetowallet", ["https://cid.test"]
    )
    assert isinstance(claims["iat"], int)
    assert claims["payload"]["genericClasses"] == [
        {"id": f"{google_stub.issuer_id}.beneficiary_card"}
    ]
    assert google_stub.requests == []  # nothing needed the REST API


def test_pass_object_has_the_fields_google_expects(google_stub):
    result = GoogleWalletChannel(google_stub.config()).send(message=card())
    obj, = claims_of(result.link, google_stub)["payload"]["genericObjects"]
    assert obj == {
        "id": f"{google_stub.issuer_id}.DKR-VAC-9XQ7LM2A",
        "classId": f"{google_stub.issuer_id}.beneficiary_card",
        "state": "ACTIVE",
        "cardTitle": {"defaultValue": {"language": "fr", "value": "Programme Santé Sénégal"}},
        "header": {"defaultValue": {"language": "fr", "value": "Aminata Diop"}},
        "subheader": {"defaultValue": {"language": "fr", "value": "EPI Dakar 2026"}},
        "barcode": {"type": "QR_CODE", "value": "https://cid.test/v/c/DKR-VAC-9XQ7LM2A",
                    "alternateText": "DKR-VAC-9XQ7LM2A"},
        "hexBackgroundColor": "#0EA5E9",
        "validTimeInterval": {"start": {"date": "2026-03-01T00:00:00Z"},
                              "end": {"date": "2027-02-28T23:59:59Z"}},
    }
    assert result.provider_message_id == obj["id"]


def test_rich_pass_has_logo_and_text_modules(google_stub):
    obj = GoogleWalletChannel(google_stub.config()).pass_object(card(rich=True))
    assert obj["logo"] == {"sourceUri": {"uri": "https://cid.test/media/logos/"
                                                "programme-sante-senegal-2026.png"}}
    assert obj["textModulesData"][0] == {"id": "field1", "header": "Date de naissance",
                                         "body": "17/05/2019"}


def test_pass_too_big_for_a_link_is_inserted_and_referenced_by_id(google_stub):
    result = GoogleWalletChannel(google_stub.config()).send(message=card(rich=True))
    assert result.ok and len(result.link) <= 1800
    object_id = f"{google_stub.issuer_id}.DKR-VAC-9XQ7LM2A"
    assert claims_of(result.link, google_stub)["payload"] == {"genericObjects": [{"id": object_id}]}
    assert [r.json["id"] for r in google_stub.inserts("genericClass")] == [
        f"{google_stub.issuer_id}.beneficiary_card"
    ]
    inserted, = google_stub.inserts("genericObject")
    assert inserted.json["textModulesData"] and inserted.json["logo"]
    assert google_stub.objects[object_id]["barcode"]["alternateText"] == "DKR-VAC-9XQ7LM2A"


def test_rest_calls_use_a_token_from_the_jwt_bearer_grant(google_stub):
    GoogleWalletChannel(google_stub.config()).send(message=card(rich=True))
    token_request, = google_stub.received("POST", "/token")
    assert token_request.form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assertion = jwt.decode(token_request.form["assertion"], google_stub.public_key_pem,
                           algorithms=["RS256"], audience=google_stub.token_url)
    assert (assertion["iss"], assertion["scope"]) == (google_stub.service_account_email, SCOPE)
    bearer = google_stub.inserts("genericObject")[0].headers["authorization"]
    assert bearer.removeprefix("Bearer ") in google_stub.tokens


def test_class_and_token_are_reused_for_the_next_cards(google_stub):
    channel = GoogleWalletChannel(google_stub.config())
    for code in ("DKR-VAC-AAAA2222", "DKR-VAC-BBBB3333", "DKR-VAC-CCCC4444"):
        assert channel.send(message=card(code, rich=True)).ok
    assert len(google_stub.inserts("genericClass")) == 1
    assert len(google_stub.received("POST", "/token")) == 1
    assert len(google_stub.inserts("genericObject")) == 3


def test_object_that_already_exists_is_fine(google_stub):
    channel = GoogleWalletChannel(google_stub.config())
    assert channel.send(message=card(rich=True)).ok
    result = channel.send(message=card(rich=True))
    assert result.ok
    assert len(google_stub.objects) == 1
    assert len(google_stub.inserts("genericObject")) == 2  # the second answered 409


def test_bulk_links_cover_every_card_once_within_the_length_limit(google_stub):
    messages = [card(f"DKR-VAC-{n:08d}", rich=True) for n in range(100)]
    links = wallet_links_bulk(config=google_stub.config(), messages=messages)
    referenced = []
    for link in links:
        assert len(link.url) <= 1800 and len(link.object_ids) <= 100
        ids = [o["id"] for o in claims_of(link.url, google_stub)["payload"]["genericObjects"]]
        assert ids == list(link.object_ids)
        referenced += ids
    assert referenced == [f"{google_stub.issuer_id}.DKR-VAC-{n:08d}" for n in range(100)]
    assert len(links) < 10  # many objects per link, not one link per card
    assert len(google_stub.objects) == 100
    assert len(google_stub.inserts("genericClass")) == 1


def test_bulk_of_small_passes_that_fit_is_one_full_link(google_stub):
    links = wallet_links_bulk(config=google_stub.config(), messages=[card()])
    assert len(links) == 1 and google_stub.requests == []


def test_key_google_does_not_know_stops_the_run(google_stub):
    other, _ = make_rsa_key()
    result = GoogleWalletChannel(google_stub.config(private_key=other)).send(
        message=card(rich=True)
    )
    assert (result.kind, result.error_code) == (ErrorKind.ACCOUNT, "token_http_400")
    assert google_stub.inserts("genericObject") == []


def test_issuer_that_is_not_ours_stops_the_run(google_stub):
    result = GoogleWalletChannel(google_stub.config(issuer_id="3388000000099999999")).send(
        message=card(rich=True)
    )
    assert (result.kind, result.error_code) == (ErrorKind.ACCOUNT, "PERMISSION_DENIED")


def test_expired_access_token_is_renewed_once(google_stub):
    channel = GoogleWalletChannel(google_stub.config())
    channel.send(message=card("DKR-VAC-AAAA2222", rich=True))
    google_stub.expire_tokens()
    assert channel.send(message=card("DKR-VAC-BBBB3333", rich=True)).ok
    assert len(google_stub.received("POST", "/token")) == 2


def test_wallet_api_down_is_retryable(google_stub):
    google_stub.reply_next(google_error(503, "The service is currently unavailable.",
                                        "UNAVAILABLE"), match=lambda r: "walletobjects" in r.path)
    result = GoogleWalletChannel(google_stub.config()).send(message=card(rich=True))
    assert (result.kind, result.error_code) == (ErrorKind.RETRYABLE, "UNAVAILABLE")


def test_wallet_api_rate_limit_is_throttled(google_stub):
    google_stub.reply_next(Reply(429, {"error": {"code": 429, "message": "Quota exceeded",
                                                 "status": "RESOURCE_EXHAUSTED"}},
                                 headers={"Retry-After": "3"}),
                           match=lambda r: "walletobjects" in r.path)
    result = GoogleWalletChannel(google_stub.config()).send(message=card(rich=True))
    assert (result.kind, result.retry_after) == (ErrorKind.THROTTLED, 3)


def test_bulk_raises_the_classified_error(google_stub):
    with pytest.raises(ChannelError) as raised:
        wallet_links_bulk(config=google_stub.config(issuer_id="1234567"),
                          messages=[card(rich=True)])
    assert raised.value.result.kind == ErrorKind.ACCOUNT


def test_card_without_code_is_permanent(google_stub):
    result = GoogleWalletChannel(google_stub.config()).send(message=card(code=""))
    assert (result.kind, result.error_code) == (ErrorKind.PERMANENT, "no_card_code")


def test_check_credentials_creates_the_class(google_stub):
    result = GoogleWalletChannel(google_stub.config()).check_credentials()
    assert result.ok
    assert f"{google_stub.issuer_id}.beneficiary_card" in google_stub.classes
