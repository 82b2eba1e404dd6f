"""OAuth2 access tokens shared by every worker through Redis (Orange SMS, Google Wallet).

One token per provider account, cached until shortly before it expires, so a dispatch run of
thousands of messages asks for a token once an hour rather than once per message. When a
provider says a token is no longer good, the caller passes it as `stale`: if another worker
already renewed it we take theirs, otherwise one worker (holding a short Redis lock) fetches
a new one while the others wait for it.

Each process also keeps the token it last read or fetched, until the same expiry: a dispatch
asks for it once per message, and a Redis round trip plus a decryption per SMS was a tenth
of the CPU a message cost. A token the provider refused comes back as `stale`, which skips
that copy.
"""

import contextlib
import functools
import hashlib
import time

import redis
from django.conf import settings

from campaignid.crypto import DecryptionError, decrypt, encrypt

# Renew this long before the provider's expiry (at most a tenth of the lifetime).
RENEW_MARGIN_SECONDS = 60
LOCK_SECONDS = 30  # longer than a token request can take (connect + read timeouts)
WAIT_FOR_OTHER_SECONDS = 5.0

_local = {}  # key -> (token, time.monotonic() when it is to be renewed)


@functools.lru_cache(maxsize=4)
def _redis(url):
    return redis.Redis.from_url(url)


def connection():
    return _redis(settings.REDIS_URL)


def cache_key(provider, *identity):
    """Names an account without writing its client id in clear in Redis."""
    digest = hashlib.sha256("|".join(identity).encode("utf-8")).hexdigest()[:32]
    return f"distribution:token:{provider}:{digest}"


def cached_token(key, fetch, *, stale=None):
    """A valid token for `key`; `fetch()` returns (token, expires_in seconds) from the provider.

    Errors raised by `fetch` propagate unchanged (adapters raise ChannelError there); the next
    waiting worker then tries for itself rather than waiting out the lock.
    """
    kept = _local.get(key)
    if kept and kept[0] != stale and time.monotonic() < kept[1]:
        return kept[0]
    r = connection()
    lock = r.lock(f"{key}:lock", timeout=LOCK_SECONDS)
    deadline = time.monotonic() + WAIT_FOR_OTHER_SECONDS
    while True:
        token = _get(r, key)
        if token and token != stale:
            return token
        if lock.acquire(blocking=False):
            try:
                # Another worker may have stored a new token between our read and the lock.
                token = _get(r, key)
                if token and token != stale:
                    return token
                return _fetch_and_store(r, key, fetch)
            finally:
                _release(lock)
        if time.monotonic() > deadline:
            # The lock holder is stuck (a slow provider): do not wait any longer for it.
            return _fetch_and_store(r, key, fetch)
        time.sleep(0.05)


def forget_process_copies():
    """Drops this process's copies (tests empty Redis between tests)."""
    _local.clear()


def forget_token(key):
    _local.pop(key, None)
    connection().delete(key)


def _release(lock):
    # It may have expired while the provider was slow; another worker may hold it now.
    with contextlib.suppress(redis.exceptions.LockError):
        lock.release()


def _get(r, key):
    # Stored encrypted: a Redis dump or MONITOR does not hand out a usable bearer token.
    value, ttl_ms = r.pipeline(transaction=False).get(key).pttl(key).execute()
    if not value:
        return None
    try:
        token = decrypt(value.decode("ascii")).decode("utf-8")
    except (DecryptionError, UnicodeDecodeError):
        return None
    if ttl_ms > 0:
        _local[key] = (token, time.monotonic() + ttl_ms / 1000)
    return token


def _fetch_and_store(r, key, fetch):
    token, expires_in = fetch()
    lifetime = max(1, int(expires_in or 0))
    ttl = lifetime - min(RENEW_MARGIN_SECONDS, lifetime // 10)
    r.set(key, encrypt(token.encode("utf-8")), ex=max(1, ttl))
    _local[key] = (token, time.monotonic() + max(1, ttl))
    return token
