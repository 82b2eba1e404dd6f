"""What the delivery-receipt tests share: the WhatsApp and Orange integration configs the
webhooks check receipts against, Orange's receipt body, and a stub rule that posts a receipt
to our webhook (over real HTTP) before the stub answers the send."""

import json
import urllib.request

APP_SECRET = "app-secret-0123456789-wxyz"
VERIFY_TOKEN = "verify-token-0123-9876"
PHONE_NUMBER_ID = "106540352242922"
WHATSAPP = {
    "phone_number_id": PHONE_NUMBER_ID,
    "access_token": "EAAG-secret-token-0123456789-abcd",
    "app_secret": APP_SECRET,
    "verify_token": VERIFY_TOKEN,
    "template_name": "card_ready",
    "template_language": "fr",
}
SMS = {"client_id": "orange-client", "client_secret": "orange-secret-0123456789-efgh",
       "sender_address": "tel:+2210000"}


def orange_receipt(status_name, message_id):
    return {"deliveryInfoNotification": {
        "callbackData": message_id,
        "deliveryInfo": {"address": "tel:+221771234567", "deliveryStatus": status_name}}}


def http_post(url, payload, headers=None):
    body = json.dumps(payload).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def orange_receipt_first(stub, webhook_url, answers):
    """The stub's rule: make the SMS's answer, post its delivery receipt, then answer."""
    def action(request):
        reply = stub.route(request)
        resource = reply.body["outboundSMSMessageRequest"]["resourceURL"]
        answers.append(http_post(webhook_url, {"deliveryInfoNotification": {
            "callbackData": "", "deliveryInfo": {
                "address": "tel:+221770000000", "deliveryStatus": "DeliveredToTerminal",
                "resourceURL": resource}}}))
        return reply
    return action
