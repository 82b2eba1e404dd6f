"""The real WhatsApp adapter against the local Cloud API stub (a real socket)."""

import io
import logging

import pytest
from PIL import Image

from distribution.providers.adapter import ErrorKind, OutboundMessage
from distribution.providers.whatsapp.adapter import WhatsAppChannel
from tests.stubs.base import Reply

TO = "+221771234567"

pytest_plugins = ["tests.stubs.fixtures"]  # the provider stub fixtures


def png():
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), "#0EA5E9").save(buffer, format="PNG")
    return buffer.getvalue()


def card_message(**overrides):
    fields = {
        "to": TO, "text": "Aminata, votre carte DKR-VAC-9XQ7LM2A", "card_code": "DKR-VAC-9XQ7LM2A",
        "image_png": png(), "language": "fr", "template_params": ("Aminata",),
        "idempotency_key": "msg-1",
    }
    fields.update(overrides)
    return OutboundMessage(**fields)


def send(stub, message=None, **config):
    return WhatsAppChannel(stub.config(**config)).send(message=message or card_message())


def test_card_is_uploaded_then_sent_as_an_image_with_caption(whatsapp_stub):
    result = send(whatsapp_stub)
    assert result.ok and result.provider_message_id.startswith("wamid.")
    upload, = whatsapp_stub.received("POST", "/media")
    assert upload.form == {"messaging_product": "whatsapp", "type": "image/png"}
    assert upload.files["file"][1] == "image/png" and upload.files["file"][2] == png()
    message, = whatsapp_stub.message_requests()
    media_id = next(iter(whatsapp_stub.media))
    assert message.json == {
        "messaging_product": "whatsapp", "to": "221771234567", "type": "image",
        "image": {"id": media_id, "caption": "Aminata, votre carte DKR-VAC-9XQ7LM2A"},
    }


def test_every_request_carries_the_bearer_token(whatsapp_stub):
    send(whatsapp_stub)
    assert {r.headers["authorization"] for r in whatsapp_stub.requests} == {
        f"Bearer {whatsapp_stub.access_token}"
    }


def test_message_without_image_is_sent_as_text_with_preview(whatsapp_stub):
    result = send(whatsapp_stub, card_message(image_png=None, text="https://x.test/v/c/A"))
    assert result.ok
    assert whatsapp_stub.message_requests()[0].json["text"] == {
        "body": "https://x.test/v/c/A", "preview_url": True,
    }
    assert whatsapp_stub.received("POST", "/media") == []


def test_template_asked_for_is_sent_with_header_image_and_body_parameters(whatsapp_stub):
    result = send(whatsapp_stub, card_message(use_template=True))
    assert result.ok and result.via_template
    media_id = next(iter(whatsapp_stub.media))
    assert whatsapp_stub.message_requests()[0].json["template"] == {
        "name": "card_ready",
        "language": {"code": "fr"},
        "components": [
            {"type": "header", "parameters": [{"type": "image", "image": {"id": media_id}}]},
            {"type": "body", "parameters": [{"type": "text", "text": "Aminata"}]},
        ],
    }


def test_outside_the_24_hour_window_the_template_is_sent_instead(whatsapp_stub):
    whatsapp_stub.outside_window.add("221771234567")
    result = send(whatsapp_stub)
    assert result.ok and result.via_template
    kinds = [r.json["type"] for r in whatsapp_stub.message_requests()]
    assert kinds == ["image", "template"]
    assert len(whatsapp_stub.received("POST", "/media")) == 1
    assert len(whatsapp_stub.sent) == 1


def test_outside_the_window_without_a_template_asks_for_fallback(whatsapp_stub):
    whatsapp_stub.outside_window.add("221771234567")
    result = send(whatsapp_stub, template_name="")
    assert (result.ok, result.kind, result.error_code) == (False, ErrorKind.FALLBACK, "131047")


def test_number_not_on_whatsapp_asks_for_fallback_without_trying_the_template(whatsapp_stub):
    whatsapp_stub.not_on_whatsapp.add("221771234567")
    result = send(whatsapp_stub)
    assert (result.kind, result.error_code) == (ErrorKind.FALLBACK, "131026")
    assert len(whatsapp_stub.message_requests()) == 1


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (4, ErrorKind.THROTTLED), (80007, ErrorKind.THROTTLED), (130429, ErrorKind.THROTTLED),
        (131056, ErrorKind.THROTTLED),
        (131000, ErrorKind.RETRYABLE), (131016, ErrorKind.RETRYABLE),
        (131026, ErrorKind.FALLBACK),
        (100, ErrorKind.PERMANENT), (131051, ErrorKind.PERMANENT), (132000, ErrorKind.PERMANENT),
        (132001, ErrorKind.PERMANENT), (131008, ErrorKind.PERMANENT),
        (131009, ErrorKind.PERMANENT),
        (190, ErrorKind.ACCOUNT), (368, ErrorKind.ACCOUNT), (131031, ErrorKind.ACCOUNT),
    ],
)
def test_meta_error_codes_are_classified(whatsapp_stub, code, kind):
    whatsapp_stub.fail_next(code)
    result = send(whatsapp_stub)
    assert (result.ok, result.kind, result.error_code) == (False, kind, str(code))
    assert result.detail


def test_re_engagement_error_on_a_template_send_asks_for_fallback(whatsapp_stub):
    whatsapp_stub.fail_next(131047)
    result = send(whatsapp_stub, card_message(use_template=True))
    assert (result.kind, result.error_code) == (ErrorKind.FALLBACK, "131047")


def test_throttling_does_not_use_up_an_attempt(whatsapp_stub):
    whatsapp_stub.throttle_next()
    result = send(whatsapp_stub)
    assert result.kind == ErrorKind.THROTTLED and not result.uses_attempt


def test_throttling_carries_retry_after_when_meta_sends_it(whatsapp_stub):
    whatsapp_stub.throttle_next(retry_after=30)
    assert send(whatsapp_stub).retry_after == 30


def test_pair_rate_limit_waits_six_seconds(whatsapp_stub):
    whatsapp_stub.throttle_next(code=131056)
    assert send(whatsapp_stub).retry_after == 6


def test_a_throttled_number_is_sent_once_the_limit_passes(whatsapp_stub):
    whatsapp_stub.throttle_next(2)
    assert send(whatsapp_stub).kind == ErrorKind.THROTTLED
    assert send(whatsapp_stub).kind == ErrorKind.THROTTLED
    assert send(whatsapp_stub).ok
    assert len(whatsapp_stub.sent) == 1


def test_server_error_without_json_is_retryable(whatsapp_stub):
    whatsapp_stub.reply_next(Reply(502, "<html>Bad gateway</html>"))
    result = send(whatsapp_stub, card_message(image_png=None))
    assert (result.kind, result.error_code) == (ErrorKind.RETRYABLE, "http_502")


def test_timeout_is_retryable(whatsapp_stub, settings):
    settings.PROVIDER_TIMEOUT_SECONDS = 0.2
    whatsapp_stub.delay_next(1.0, match=lambda r: r.path.endswith("/messages"))
    result = send(whatsapp_stub)
    assert (result.kind, result.error_code) == (ErrorKind.RETRYABLE, "timeout")
    assert len(whatsapp_stub.message_requests()) == 1  # no automatic retry


def test_unreachable_provider_is_retryable(whatsapp_stub):
    config = whatsapp_stub.config()
    whatsapp_stub.stop()
    result = WhatsAppChannel(config).send(message=card_message())
    assert (result.kind, result.error_code) == (ErrorKind.RETRYABLE, "connection_error")


def test_expired_access_token_stops_the_run(whatsapp_stub):
    result = send(whatsapp_stub, access_token="EAAG-expired")
    assert (result.kind, result.error_code) == (ErrorKind.ACCOUNT, "190")
    assert whatsapp_stub.message_requests() == []


def test_media_upload_refused_fails_the_message_and_sends_nothing(whatsapp_stub):
    whatsapp_stub.fail_next(131053, on="media")
    result = send(whatsapp_stub)
    assert (result.kind, result.error_code) == (ErrorKind.PERMANENT, "131053")
    assert whatsapp_stub.message_requests() == []


def test_template_with_missing_body_parameters_is_permanent(whatsapp_stub):
    result = send(whatsapp_stub, card_message(use_template=True, template_params=()))
    assert (result.kind, result.error_code) == (ErrorKind.PERMANENT, "132000")


def test_check_credentials_reads_the_phone_number(whatsapp_stub):
    result = WhatsAppChannel(whatsapp_stub.config()).check_credentials()
    assert result.ok and "Programme Sante" in result.detail
    assert whatsapp_stub.received("GET")[0].query["fields"].startswith("display_phone_number")


def test_check_credentials_with_a_bad_token_is_an_account_error(whatsapp_stub):
    result = WhatsAppChannel(whatsapp_stub.config(access_token="nope")).check_credentials()
    assert (result.ok, result.kind) == (False, ErrorKind.ACCOUNT)


def test_logs_name_the_request_but_not_the_number_or_token(whatsapp_stub, caplog):
    caplog.set_level(logging.INFO, logger="campaignid.outbound_http")
    send(whatsapp_stub)
    logged = caplog.text
    assert f"/{whatsapp_stub.phone_number_id}/messages -> 200" in logged
    assert "221771234567" not in logged and whatsapp_stub.access_token not in logged
    assert "Aminata" not in logged


def test_error_detail_never_holds_a_phone_number(whatsapp_stub):
    whatsapp_stub.fail_next(100, details="Recipient 221771234567 is not valid")
    result = send(whatsapp_stub)
    assert "221771234567" not in result.detail and "***" in result.detail
