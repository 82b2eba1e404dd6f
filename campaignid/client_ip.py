"""The client's address, as every per-address limit reads it (login lockouts, API and public
page rate limits).

Behind TRUSTED_PROXY_COUNT reverse proxies that each append the address they saw to
X-Forwarded-For, the client is that many entries from the right: entries further left were
written by the client itself and could be anything. With no proxy, the peer's address.
"""

import ipaddress

from django.conf import settings


def _valid(address):
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def client_ip(request):
    """The address, or None when there is none (the test client's force_login)."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if len(forwarded) >= proxies and _valid(forwarded[-proxies]):
            return _valid(forwarded[-proxies])
    return _valid(request.META.get("REMOTE_ADDR") or "")
