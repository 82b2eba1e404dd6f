"""The real Orange SMS adapter against the local Orange API stub (a real socket)."""

import base64
from concurrent.futures import ThreadPoolExecutor

from distribution import tokens
from distribution.providers.adapter import ErrorKind, OutboundMessage
from distribution.providers.orange_sms.adapter import OrangeSmsChannel
from tests.stubs.base import Reply
from tests.stubs.orange import EXPIRED

TEXT = "Votre carte DKR-VAC-9XQ7LM2A: https://cid.test/v/c/DKR-VAC-9XQ7LM2A"

pytest_plugins = ["tests.stubs.fixtures"]  # the provider stub fixtures


def sms(**overrides):
    fields = {"to": "+221771234567", "text": TEXT, "card_code": "DKR-VAC-9XQ7LM2A",
              "idempotency_key": "msg-1"}
    fields.update(overrides)
    return OutboundMessage(**fields)


def send(stub, message=None, **config):
    return OrangeSmsChannel(stub.config(**config)).send(message=message or sms())


def test_sms_is_posted_to_the_url_encoded_sender_address(orange_stub):
    result = send(orange_stub)
    assert result.ok
    request, = orange_stub.send_requests()
    assert request.raw_path == "/smsmessaging/v1/outbound/tel%3A%2B2210000/requests"
    assert request.json == {"outboundSMSMessageRequest": {
        "address": "tel:+221771234567",
        "senderAddress": "tel:+2210000",
        "senderName": "SANTE-SN",
        "outboundSMSTextMessage": {"message": TEXT},
    }}


def test_provider_id_is_the_last_segment_of_resource_url(orange_stub):
    result = send(orange_stub)
    assert result.provider_message_id == orange_stub.request_ids[0]


def test_token_is_requested_with_basic_auth_and_client_credentials(orange_stub):
    send(orange_stub)
    token_request, = orange_stub.token_requests()
    expected = base64.b64encode(
        f"{orange_stub.client_id}:{orange_stub.client_secret}".encode()
    ).decode()
    assert token_request.headers["authorization"] == f"Basic {expected}"
    assert token_request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert token_request.form == {"grant_type": "client_credentials"}
    bearer = orange_stub.send_requests()[0].headers["authorization"]
    assert bearer.startswith("Bearer ") and bearer.removeprefix("Bearer ") in orange_stub.tokens


def test_sender_name_is_left_out_when_not_configured(orange_stub):
    assert send(orange_stub, sender_name="").ok
    assert "senderName" not in orange_stub.sent[0]


def test_token_is_fetched_once_for_many_messages(orange_stub):
    for n in range(5):
        assert send(orange_stub, sms(idempotency_key=f"m{n}")).ok
    assert len(orange_stub.token_requests()) == 1
    assert len(orange_stub.sent) == 5


def test_token_is_shared_through_redis_by_another_worker(orange_stub):
    send(orange_stub)
    other_worker = OrangeSmsChannel(orange_stub.config())
    assert other_worker.send(message=sms()).ok
    assert len(orange_stub.token_requests()) == 1


def test_token_is_cached_until_shortly_before_it_expires(orange_stub):
    orange_stub.expires_in = 600
    channel = OrangeSmsChannel(orange_stub.config())
    channel.send(message=sms())
    ttl = tokens.connection().ttl(channel._cache_key())
    assert 0 < ttl <= 540


def test_token_in_redis_is_not_readable_as_is(orange_stub):
    channel = OrangeSmsChannel(orange_stub.config())
    channel.send(message=sms())
    stored = tokens.connection().get(channel._cache_key()).decode()
    assert all(token not in stored for token in orange_stub.tokens)


def test_concurrent_workers_fetch_one_token_between_them(orange_stub):
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda n: send(orange_stub, sms(idempotency_key=f"m{n}")),
                                range(16)))
    assert all(r.ok for r in results)
    assert len(orange_stub.token_requests()) == 1
    assert len(orange_stub.sent) == 16


def test_expired_token_is_renewed_once_and_the_sms_retried_once(orange_stub):
    send(orange_stub)
    orange_stub.expire_tokens()
    result = send(orange_stub, sms(idempotency_key="m2"))
    assert result.ok
    assert len(orange_stub.token_requests()) == 2
    assert len(orange_stub.send_requests()) == 3  # first SMS, the 401, the retry
    assert len(orange_stub.sent) == 2


def test_workers_hit_by_the_same_expiry_renew_the_token_once(orange_stub):
    send(orange_stub)
    orange_stub.expire_tokens()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda n: send(orange_stub, sms(idempotency_key=f"m{n}")),
                                range(8)))
    assert all(r.ok for r in results)
    assert len(orange_stub.token_requests()) == 2
    assert len(orange_stub.sent) == 9


def test_a_second_401_after_renewal_stops_the_run(orange_stub):
    orange_stub.reply_next(EXPIRED, times=2, match=lambda r: r.path.endswith("/requests"))
    result = send(orange_stub)
    assert (result.ok, result.kind, result.error_code) == (False, ErrorKind.ACCOUNT, "42")
    assert len(orange_stub.token_requests()) == 2
    assert len(orange_stub.send_requests()) == 2
    assert orange_stub.sent == []


def test_refused_client_credentials_stop_the_run_before_any_sms(orange_stub):
    result = send(orange_stub, client_secret="wrong")
    assert (result.kind, result.error_code) == (ErrorKind.ACCOUNT, "token_http_401")
    assert orange_stub.send_requests() == []


def test_token_endpoint_down_is_retryable(orange_stub):
    orange_stub.reply_next(Reply(503, {"code": 5, "message": "Service unavailable"}))
    result = send(orange_stub)
    assert result.kind == ErrorKind.RETRYABLE


def test_too_many_requests_is_throttled_with_retry_after(orange_stub):
    orange_stub.throttle_next(retry_after=7)
    result = send(orange_stub)
    assert (result.kind, result.retry_after, result.uses_attempt) == (
        ErrorKind.THROTTLED, 7, False
    )


def test_too_many_requests_without_retry_after_is_throttled(orange_stub):
    orange_stub.throttle_next()
    result = send(orange_stub)
    assert (result.kind, result.retry_after) == (ErrorKind.THROTTLED, None)


def test_invalid_recipient_address_is_permanent(orange_stub):
    result = send(orange_stub, sms(to="12"))
    assert (result.kind, result.error_code) == (ErrorKind.PERMANENT, "SVC0004")
    assert "No valid addresses" in result.detail


def test_error_detail_never_holds_the_phone_number(orange_stub):
    orange_stub.fail_next("SVC0004", variables=["tel:+221771234567"])
    result = send(orange_stub)
    assert "221771234567" not in result.detail


def test_policy_exception_stops_the_run(orange_stub):
    orange_stub.fail_next("POL0001", status=403, variables=["Expired contract"])
    result = send(orange_stub)
    assert (result.kind, result.error_code) == (ErrorKind.ACCOUNT, "POL0001")
    assert "Expired contract" in result.detail


def test_generic_service_error_is_retryable(orange_stub):
    orange_stub.fail_next("SVC0001", variables=["temporary"])
    assert send(orange_stub).kind == ErrorKind.RETRYABLE


def test_server_error_is_retryable(orange_stub):
    orange_stub.reply_next(Reply(500, {"code": 1, "message": "Internal error"}),
                           match=lambda r: r.path.endswith("/requests"))
    assert send(orange_stub).kind == ErrorKind.RETRYABLE


def test_timeout_is_retryable_and_not_retried_here(orange_stub, settings):
    OrangeSmsChannel(orange_stub.config()).check_credentials()  # the token arrives in time
    settings.PROVIDER_TIMEOUT_SECONDS = 0.2
    orange_stub.delay_next(1.0, match=lambda r: r.path.endswith("/requests"))
    result = send(orange_stub)
    assert (result.kind, result.error_code) == (ErrorKind.RETRYABLE, "timeout")
    assert len(orange_stub.send_requests()) == 1


def test_check_credentials_fetches_a_fresh_token(orange_stub):
    channel = OrangeSmsChannel(orange_stub.config())
    channel.send(message=sms())
    assert channel.check_credentials().ok
    assert len(orange_stub.token_requests()) == 2


def test_check_credentials_with_a_wrong_secret_is_an_account_error(orange_stub):
    result = OrangeSmsChannel(orange_stub.config(client_secret="x")).check_credentials()
    assert (result.ok, result.kind) == (False, ErrorKind.ACCOUNT)
