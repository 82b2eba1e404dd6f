"""Request counters shared by every web process through Redis: at most `limit` requests per
`period` seconds per bucket, in fixed windows (one INCR, atomic), so a limit holds however
many processes serve the site. Used by the API's throttles (campaigns/throttling.py) and by
the public pages (`per_address`).
"""

import functools
import time

import redis
from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import translation

from campaignid.client_ip import client_ip

PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600,
           "hour": 3600, "d": 86400, "day": 86400}


def parse_rate(rate):
    """"60/min" -> (60, 60); "5/2s" is not a thing: one unit per rate."""
    count, _sep, unit = rate.partition("/")
    return int(count), PERIODS[unit.strip().lower()]


@functools.lru_cache(maxsize=4)
def _redis(url):
    return redis.Redis.from_url(url, socket_timeout=2)


def hit(bucket, *, limit, period):
    """Counts one request in `bucket`. Returns 0 when it is allowed, else the seconds until the
    window ends (the Retry-After)."""
    now = time.time()
    window = int(now // period)
    key = f"ratelimit:{bucket}:{window}"
    pipe = _redis(settings.REDIS_URL).pipeline()
    pipe.incr(key)
    pipe.expire(key, period + 1)
    count, _ok = pipe.execute()
    if count <= limit:
        return 0
    return max(1, int((window + 1) * period - now + 0.999))


def per_address(scope, *, json_body=None):
    """View decorator: PUBLIC_RATE_LIMIT requests per client address in `scope`; beyond it a
    429 with Retry-After, as the 429 page in the visitor's language (or `json_body()`)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            limit, period = parse_rate(settings.PUBLIC_RATE_LIMIT)
            wait = hit(f"{scope}:{client_ip(request) or '-'}", limit=limit, period=period)
            if not wait:
                return view(request, *args, **kwargs)
            if json_body is not None:
                response = JsonResponse(json_body(), status=429)
            else:
                language = request.GET.get("lang")
                if language not in dict(settings.LANGUAGES):
                    language = translation.get_language()
                with translation.override(language):
                    response = render(request, "429.html", {"retry_after": wait}, status=429)
            response["Retry-After"] = str(wait)
            response["Cache-Control"] = "no-store"
            return response

        return wrapped

    return decorator
