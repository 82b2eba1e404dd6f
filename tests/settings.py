"""The test run's settings: the production settings (DEBUG off, no laptop mode), with only
what a test machine cannot have set in the environment first, so that the worker and web
processes the tests start (tests/processes.py) inherit the same values.

- a throwaway SECRET_KEY, made for this run;
- plain HTTP: the test client and the local servers speak HTTP on 127.0.0.1, so no redirect to
  HTTPS (Secure cookies, HSTS and the CSP stay as in production);
- the host names those servers answer on;
- rate limits no suite reaches;
- a password hasher of few iterations (tests/hashers.py): each user a test makes hashes a
  password, and the production work factor costs about 0.4 s a hash.
"""

import os
import secrets

from django.conf import global_settings

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
# Suites fire thousands of calls a minute from one key and address (schemathesis, sweeps of
# every route): limits far above that; the rate-limit tests set their own.
os.environ.setdefault("API_RATE_LIMIT", "1000000/min")
os.environ.setdefault("PUBLIC_RATE_LIMIT", "1000000/min")
# Single sends are not held for the sending window (the suites send at any hour of the day);
# tests/test_single_send_window.py turns it on and sets the clock.
os.environ.setdefault("SINGLE_SEND_QUIET_HOURS", "false")
# `pytest -n 2` (pytest-xdist): pytest-django gives each worker its own test database; each
# gets its own Redis database too (the next ones after REDIS_URL's), since tests flush it.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker.startswith("gw") and os.environ.get("REDIS_URL"):
    _base, _, _db = os.environ["REDIS_URL"].rpartition("/")
    if _db.isdigit():
        os.environ["REDIS_URL"] = f"{_base}/{int(_db) + 1 + int(_worker[2:])}"

from campaignid.settings import *  # noqa: E402, F403

# Django's default hashers stay listed after it: a hash made with them still verifies here.
PASSWORD_HASHERS = ["tests.hashers.FastPBKDF2PasswordHasher", *global_settings.PASSWORD_HASHERS]
