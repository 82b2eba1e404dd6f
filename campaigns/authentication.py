from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions

from campaigns.models import ApiKey


def key_from_headers(headers):
    """The raw key from `Authorization: Bearer <key>` or `X-API-Key: <key>`, or None."""
    header = headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return headers.get("X-API-Key", "").strip() or None


def api_key_for(raw_key):
    """The live ApiKey for a raw key, or None; notes when it was last used."""
    if not raw_key:
        return None
    key = (
        ApiKey.objects.select_related("program")
        .filter(hashed_key=ApiKey.hash(raw_key), revoked_at__isnull=True)
        .first()
    )
    if key is not None:
        now = timezone.now()
        # One write a minute at most: a busy integrator should not turn reads into writes.
        if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
            key.last_used_at = now
    return key


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        raw_key = key_from_headers(request.headers)
        if raw_key is None:
            return None
        key = api_key_for(raw_key)
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        return (ApiKeyUser(key), key)

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class ApiKeyUser:
    """The request.user of an API-key call: authenticated, no Django account behind it."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, api_key):
        self.api_key = api_key
        self.username = f"api-key:{api_key.prefix}"

    def __str__(self):
        return self.username
