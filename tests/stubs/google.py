"""Google OAuth2 token endpoint (JWT-bearer grant) and the Wallet REST API (generic classes and
objects), as docs/providers.md describes them. One server answers both:
`{url}/token` and `{url}/walletobjects/v1/...`.
"""

import functools
import secrets
import threading
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.stubs.base import Reply, StubServer

SCOPE = "https://www.googleapis.com/auth/wallet_object.issuer"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@functools.cache
def service_account_key():
    """(private PEM, public PEM) of the stub's service account; made once per test session."""
    return make_rsa_key()


def make_rsa_key():
    """A fresh (private PEM, public PEM) pair."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return private, public


def google_error(status, message, code_name):
    return Reply(status, {"error": {"code": status, "message": message, "status": code_name,
                                    "errors": [{"message": message, "domain": "global",
                                                "reason": code_name.lower()}]}})


UNAUTHENTICATED = google_error(
    401, "Request had invalid authentication credentials. Expected OAuth 2 access token.",
    "UNAUTHENTICATED",
)


class GoogleStub(StubServer):
    name = "google"

    def __init__(self):
        super().__init__()
        self.private_key_pem, self.public_key_pem = service_account_key()
        self.service_account_email = "wallet@campaignid-test.iam.gserviceaccount.com"
        self.issuer_id = "3388000000022212345"
        self.tokens = {}  # token: expiry (time.monotonic)
        self.classes = {}
        self.objects = {}
        self._store_lock = threading.Lock()

    @property
    def token_url(self):
        return f"{self.url}/token"

    @property
    def wallet_url(self):
        return f"{self.url}/walletobjects/v1"

    def config(self, **overrides):
        return {
            "issuer_id": self.issuer_id,
            "service_account_email": self.service_account_email,
            "private_key": self.private_key_pem,
            "class_suffix": "beneficiary_card",
            **overrides,
        }

    def expire_tokens(self):
        with self._store_lock:
            for token in self.tokens:
                self.tokens[token] = 0.0

    def inserts(self, resource):
        return self.received("POST", f"/walletobjects/v1/{resource}")

    # --- answering -----------------------------------------------------------------------
    def route(self, request):
        if request.method == "POST" and request.path == "/token":
            return self._token(request)
        if not request.path.startswith("/walletobjects/v1/"):
            return google_error(404, "Not Found", "NOT_FOUND")
        header = request.headers.get("authorization", "")
        with self._store_lock:
            expiry = self.tokens.get(header.removeprefix("Bearer "))
        if not header.startswith("Bearer ") or expiry is None or expiry <= time.monotonic():
            return UNAUTHENTICATED
        resource = request.path.removeprefix("/walletobjects/v1/")
        if request.method == "POST" and resource == "genericClass":
            return self._insert(request, self.classes, "class")
        if request.method == "POST" and resource == "genericObject":
            body = request.json if isinstance(request.json, dict) else {}
            if body.get("classId") not in self.classes:
                return google_error(404, f"Class {body.get('classId')} not found.", "NOT_FOUND")
            return self._insert(request, self.objects, "object")
        kind, _, object_id = resource.partition("/")
        store = {"genericClass": self.classes, "genericObject": self.objects}.get(kind)
        if request.method == "GET" and store is not None and object_id in store:
            return Reply(200, store[object_id])
        return google_error(404, "Resource not found.", "NOT_FOUND")

    def _token(self, request):
        if request.form.get("grant_type") != JWT_BEARER:
            return Reply(400, {"error": "unsupported_grant_type",
                               "error_description": "Invalid grant_type"})
        try:
            claims = jwt.decode(
                request.form.get("assertion", ""), self.public_key_pem, algorithms=["RS256"],
                audience=self.token_url, options={"require": ["iss", "aud", "iat", "exp"]},
            )
        except jwt.PyJWTError:
            return Reply(400, {"error": "invalid_grant",
                               "error_description": "Invalid JWT Signature."})
        if claims["iss"] != self.service_account_email or SCOPE not in claims.get(
            "scope", ""
        ).split():
            return Reply(400, {"error": "invalid_scope",
                               "error_description": "Invalid OAuth scope or ID token audience."})
        token = "ya29.stub-" + secrets.token_urlsafe(24)
        with self._store_lock:
            self.tokens[token] = time.monotonic() + 3599
        return Reply(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    def _insert(self, request, store, what):
        body = request.json if isinstance(request.json, dict) else {}
        resource_id = str(body.get("id", ""))
        issuer, _, suffix = resource_id.partition(".")
        if not suffix:
            return google_error(400, f"Invalid resource ID: {resource_id}", "INVALID_ARGUMENT")
        if issuer != self.issuer_id:
            return google_error(403, "The caller does not have permission", "PERMISSION_DENIED")
        with self._store_lock:
            if resource_id in store:
                return google_error(409, f"Resource already exists: {what} {resource_id}",
                                    "ALREADY_EXISTS")
            store[resource_id] = body
        return Reply(200, body)
