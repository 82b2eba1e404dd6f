"""Which hosts a user-entered URL (a program's DHIS2 address) may reach.

Public addresses only by default: a program admin must not make the server call its own
Redis (127.0.0.1:6379), the cloud metadata service (169.254.169.254) or the office network.
The operator lists the exceptions in OUTBOUND_ALLOW_PRIVATE: host names, addresses or
networks ("127.0.0.1,localhost,10.0.0.0/8"). Checked when the URL is saved and again at each
request (campaignid.outbound_http), since a name can resolve elsewhere tomorrow.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


class OutboundRefused(Exception):
    """The URL's host is not one the server may call; the message says why, for people."""


def check_url(url):
    """Raises OutboundRefused unless every address `url`'s host resolves to is allowed.

    A name that does not resolve passes: it cannot be called either (the caller then reports
    the DNS failure as such), and the check runs again before every request."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if not host:
        raise OutboundRefused(_("The address has no host name."))
    allowed = [entry.lower() for entry in settings.OUTBOUND_ALLOW_PRIVATE]
    if host in allowed:
        return
    networks = [_network(entry) for entry in allowed]
    networks = [n for n in networks if n is not None]
    for address in _addresses(host):
        if _public(address) or any(address in network for network in networks):
            continue
        raise OutboundRefused(
            _("%(host)s is a private, loopback or reserved address (%(address)s); the server "
              "calls public addresses only unless its operator lists this one in "
              "OUTBOUND_ALLOW_PRIVATE.") % {"host": host, "address": address}
        )


def _addresses(host):
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return [_unmapped(literal)]
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return []
    return [_unmapped(ipaddress.ip_address(info[4][0].split("%", 1)[0])) for info in infos]


def _unmapped(address):
    # ::ffff:127.0.0.1 is 127.0.0.1.
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _public(address):
    return address.is_global and not (
        address.is_multicast or address.is_reserved or address.is_loopback
        or address.is_link_local or address.is_private or address.is_unspecified
    )


def _network(entry):
    try:
        return ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return None  # a host name: matched by name above
