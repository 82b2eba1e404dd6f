"""API rate limits (DRF throttles) counted in Redis (campaignid/ratelimit.py), so every web
process shares one count. Beyond the limit DRF answers 429 with Retry-After, in the API's
JSON error shape (campaigns/api_errors.py).

- `ProgramCallerThrottle` (every API view): REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["api_key"]
  per API key, or per signed-in user; a call with neither, per client address ("address").
- `AddressThrottle`: "address" per client address, on top, for what offline verifiers fetch
  in bulk (the registry).
"""

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from campaignid import ratelimit
from campaignid.client_ip import client_ip
from campaigns.models import ApiKey


class RedisWindowThrottle(BaseThrottle):
    scope = None

    def bucket(self, request):
        raise NotImplementedError

    def rate_scope(self, request):
        return self.scope

    def allow_request(self, request, view):
        rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][self.rate_scope(request)]
        limit, period = ratelimit.parse_rate(rate)
        self._wait = ratelimit.hit(f"api:{self.bucket(request)}", limit=limit, period=period)
        return not self._wait

    def wait(self):
        return self._wait


class ProgramCallerThrottle(RedisWindowThrottle):
    def rate_scope(self, request):
        return "api_key" if request.user and request.user.is_authenticated else "address"

    def bucket(self, request):
        if isinstance(request.auth, ApiKey):
            return f"key:{request.auth.pk}"
        if request.user and request.user.is_authenticated:
            return f"user:{request.user.pk}"
        return f"address:{client_ip(request)}"


class AddressThrottle(RedisWindowThrottle):
    scope = "address"

    def bucket(self, request):
        return f"address:{client_ip(request)}"
