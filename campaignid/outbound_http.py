"""Every call to a provider goes through `request()`: one place for timeouts, pooling and logs.

No retries here: whether a failed send is tried again (and when) is the dispatcher's decision,
made from the adapter's classification. A log line names the method, host, path, status and
duration only; bodies, query strings, phone numbers and tokens never reach a log.

Answers are read up to `max_bytes` (1 MB for providers; DHIS2 pages ask for more): a larger
one is cut and raises TransportError `response_too_large`. A user-entered URL (`guard=True`)
is checked against OUTBOUND_ALLOW_PRIVATE before each request (campaignid.outbound_guard).
"""

import json as jsonlib
import logging
import os
import threading
import time
import urllib.request
from urllib.parse import urlencode, urlsplit

import requests
import urllib3
from django.conf import settings
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from campaignid.limits import size_text
from campaignid.outbound_guard import OutboundRefused, check_url

logger = logging.getLogger(__name__)

# Enough pooled connections for a dispatch worker running many sends at once per provider host.
POOL_SIZE = 64
# No provider answer we read comes near this; a larger one is not an answer we want.
PROVIDER_MAX_RESPONSE_BYTES = 1024 * 1024
READ_CHUNK = 64 * 1024

_lock = threading.Lock()
_session = None
_session_pid = None
_pool = None
_pool_pid = None
# What `request` sends without going through requests' Session (see _lean_request).
LEAN_KWARGS = frozenset({"headers", "json", "data"})


class TransportError(Exception):
    """No HTTP answer came back: the request timed out or could not connect.

    `code` is `connect_timeout` / `connection_error` (the provider never saw the request) or
    `timeout` / `connection_lost` (it may have: the answer did not arrive in time, or the
    connection broke after the request started). `permanent` is True only when
    the request can never work as built (e.g. a malformed URL in the configuration).
    """

    def __init__(self, message, *, code, permanent=False):
        super().__init__(message)
        self.code = code
        self.permanent = permanent


def session():
    """The process's shared Session; a forked worker builds its own instead of sharing sockets."""
    global _session, _session_pid
    pid = os.getpid()
    if _session is None or _session_pid != pid:
        with _lock:
            if _session is None or _session_pid != pid:
                new = requests.Session()
                _read_environment_once(new)
                adapter = HTTPAdapter(pool_connections=8, pool_maxsize=POOL_SIZE, max_retries=0)
                new.mount("https://", adapter)
                new.mount("http://", adapter)
                _session, _session_pid = new, pid
    return _session


def _read_environment_once(new):
    """With `trust_env` on, requests re-reads every proxy and CA-bundle variable of the
    environment on each request: a third of the CPU a dispatch spends per message. The same
    settings, read once per process, unless NO_PROXY is set (its per-host rules need
    requests' own handling)."""
    proxies = urllib.request.getproxies()
    if "no" in proxies:
        return
    new.trust_env = False
    new.proxies.update(proxies)
    new.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True


def request(method, url, *, provider, timeout=None, guard=False,
            max_bytes=PROVIDER_MAX_RESPONSE_BYTES, **kwargs):
    """Sends one request and returns the `requests.Response`, whatever its HTTP status, its
    body read (at most `max_bytes`).

    `kwargs` are those of `requests.Session.request` (headers, json, data, files, auth).
    `guard`: the URL was entered by a user, its host must be allowed (outbound_guard).
    Raises TransportError when no answer arrives, the host is refused or the answer is
    too large.
    """
    seconds = settings.PROVIDER_TIMEOUT_SECONDS if timeout is None else timeout
    parts = urlsplit(url)
    if guard:
        try:
            check_url(url)
        except OutboundRefused as exc:
            _log(provider, method, parts, "refused-host", time.monotonic())
            raise TransportError(str(exc), code="host_not_allowed", permanent=True) from exc
    started = time.monotonic()
    response = None
    try:
        if _lean(url, kwargs):
            response = _lean_request(method, url, seconds, max_bytes, **kwargs)
        else:
            response = session().request(
                method, url, timeout=(seconds, seconds), allow_redirects=False, stream=True,
                **kwargs
            )
            _read_body(response, max_bytes)
    except requests.ConnectTimeout as exc:
        _log(provider, method, parts, "connect-timeout", started)
        raise TransportError(_("%(provider)s: connection timed out") % {"provider": provider},
                             code="connect_timeout") from exc
    except requests.Timeout as exc:
        _log(provider, method, parts, "timeout", started)
        raise TransportError(_("%(provider)s: no answer in %(seconds)s s")
                             % {"provider": provider, "seconds": f"{seconds:g}"},
                             code="timeout") from exc
    except requests.ConnectionError as exc:
        if _request_may_have_left(exc):
            _log(provider, method, parts, "connection-lost", started)
            raise TransportError(
                _("%(provider)s: the connection broke before the answer") % {"provider": provider},
                code="connection_lost",
            ) from exc
        _log(provider, method, parts, "connection-error", started)
        raise TransportError(_("%(provider)s: cannot connect") % {"provider": provider},
                             code="connection_error") from exc
    except (requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError) as exc:
        _log(provider, method, parts, "connection-lost", started)
        raise TransportError(
            _("%(provider)s: the answer broke off") % {"provider": provider}, code="connection_lost"
        ) from exc
    except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema) as exc:
        raise TransportError(
            _("%(provider)s: invalid URL") % {"provider": provider}, code="invalid_url",
            permanent=True,
        ) from exc
    except ResponseTooLarge as exc:
        if response is not None:
            response.close()
        _log(provider, method, parts, "too-large", started)
        raise TransportError(
            _("%(provider)s answered with more than %(limit)s; the answer was cut.")
            % {"provider": provider, "limit": size_text(max_bytes)},
            code="response_too_large", permanent=True,
        ) from exc
    _log(provider, method, parts, response.status_code, started)
    return response


class ResponseTooLarge(Exception):
    pass


def _lean(url, kwargs):
    """Whether this call can skip requests' Session: an http(s) URL, only headers and a JSON
    or form (dict) body, and no proxy from the environment (requests' own handling covers
    the rest: files, query parameters, basic auth, proxies)."""
    current = session()
    # trust_env still on means NO_PROXY rules that only requests applies (see above).
    if not LEAN_KWARGS.issuperset(kwargs) or current.proxies or current.trust_env:
        return False
    return isinstance(kwargs.get("data"), (dict, type(None))) and url.startswith(
        ("http://", "https://"))


def _lean_request(method, url, seconds, max_bytes, *, headers=None, json=None, data=None):
    """The same request on urllib3's pool directly, answered as a `requests.Response`.

    requests' Session spends more CPU per call (merging cookies, hooks, environment and
    settings, preparing the URL) than the whole exchange with a local server: half the CPU
    a dispatch spent per SMS. Headers, body encoding, timeouts, no redirects, no retries
    and the answer size limit are those of the Session path; urllib3's errors become the
    requests exceptions that `request` classifies.
    """
    sent = dict(session().headers)
    body = None
    if json is not None:
        body = jsonlib.dumps(json, allow_nan=False).encode("utf-8")
        sent["Content-Type"] = "application/json"
    elif data is not None:  # a dict (see _lean)
        body = urlencode(list(data.items()), doseq=True).encode("utf-8")
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    sent.update(headers or {})
    try:
        raw = _pool_manager().request(
            method, url, body=body, headers=sent, redirect=False, retries=False,
            timeout=urllib3.Timeout(connect=seconds, read=seconds), preload_content=False,
        )
    except urllib3.exceptions.HTTPError as exc:
        raise _as_requests_error(exc) from exc
    response = requests.Response()
    response.status_code = raw.status
    response.headers = CaseInsensitiveDict(raw.headers)
    response.reason = raw.reason
    response.url = url
    response.raw = raw
    response.encoding = get_encoding_from_headers(response.headers)
    try:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise ResponseTooLarge
        content = bytearray()
        for chunk in raw.stream(READ_CHUNK, decode_content=True):
            content += chunk
            if len(content) > max_bytes:
                raise ResponseTooLarge
    except ResponseTooLarge:
        raw.release_conn()
        raise
    except urllib3.exceptions.HTTPError as exc:
        raw.release_conn()
        raise _as_requests_error(exc) from exc
    raw.release_conn()
    response._content = bytes(content)
    response._content_consumed = True
    return response


def _pool_manager():
    """The process's urllib3 pools (a forked worker builds its own), verifying TLS with the
    Session's CA bundle."""
    global _pool, _pool_pid
    pid = os.getpid()
    if _pool is None or _pool_pid != pid:
        verify = session().verify  # before taking _lock, which session() takes too
        with _lock:
            if _pool is None or _pool_pid != pid:
                ca = verify if isinstance(verify, str) else requests.certs.where()
                _pool = urllib3.PoolManager(num_pools=8, maxsize=POOL_SIZE, block=False,
                                            cert_reqs="CERT_REQUIRED", ca_certs=ca)
                _pool_pid = pid
    return _pool


def _as_requests_error(exc):
    """urllib3's exception as the requests exception the Session path would raise."""
    errors = urllib3.exceptions
    if isinstance(exc, errors.NewConnectionError):
        return requests.ConnectionError(exc)  # never connected: see _request_may_have_left
    if isinstance(exc, errors.ConnectTimeoutError):
        return requests.ConnectTimeout(exc)
    if isinstance(exc, errors.ReadTimeoutError):
        return requests.ReadTimeout(exc)
    if isinstance(exc, errors.SSLError):
        return requests.exceptions.SSLError(exc)
    if isinstance(exc, errors.DecodeError):
        return requests.exceptions.ContentDecodingError(exc)
    if isinstance(exc, (errors.LocationParseError, errors.LocationValueError)):
        return requests.exceptions.InvalidURL(exc)
    return requests.ConnectionError(exc)  # broken mid-request: it may have been delivered


def _read_body(response, max_bytes):
    """Reads the (decoded) body into `response.content`, stopping past `max_bytes`."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise ResponseTooLarge
    body = bytearray()
    for chunk in response.iter_content(READ_CHUNK):
        body += chunk
        if len(body) > max_bytes:
            raise ResponseTooLarge
    response._content = bytes(body)
    response._content_consumed = True


def json_body(response):
    """The answer's JSON object, or {} when the body is empty, not JSON (e.g. a proxy's error
    page) or not an object: adapters read fields without guarding every access."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def retry_after_seconds(response):
    """Retry-After as seconds when the provider sent a number; None otherwise."""
    value = response.headers.get("Retry-After", "").strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _request_may_have_left(exc):
    """False only when requests' ConnectionError says no connection was ever made (refused,
    unknown host); a connection reset or closed mid-request may have delivered the request."""
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the cause
    return not isinstance(reason, urllib3.exceptions.NewConnectionError)


def _log(provider, method, parts, status, started):
    level = logging.INFO if isinstance(status, int) and status < 400 else logging.WARNING
    logger.log(
        level,
        "%s %s %s%s -> %s in %.0f ms",
        provider, method, parts.netloc, parts.path, status, (time.monotonic() - started) * 1000,
    )
