"""Safe defaults: with nothing set the settings are a server's (DEBUG off, no wildcard host,
no made-up secret key, HTTPS only); `make run`'s laptop mode is the one exception; every page
carries a Content-Security-Policy; and `check --deploy` is clean with the environment the
README documents.

Settings are read at import, so what depends on the environment runs in a fresh process."""

import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from campaigns.models import Role
from tests.factories import make_campaign, make_card, make_program, make_user
from verification.views import PAGE_CSP

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def run_with_env(tmp_path, code, **env):
    """Python code run against campaignid.settings with only `env` set (no test settings)."""
    clean = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "campaignid.settings",
        "VAR_DIR": str(tmp_path / "var"),
        "REDIS_URL": "redis://127.0.0.1:6379/0",  # never read at import; no embedded Redis
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120,
    )


def setting(tmp_path, name, **env):
    result = run_with_env(
        tmp_path, f"from django.conf import settings; print(repr(settings.{name}))", **env
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def a_secret_key():
    return secrets.token_urlsafe(50)


def readme_production_environment():
    """The NAME=value lines of the README's production environment block."""
    text = README.read_text()
    block = text.split("<!-- production-env:", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return dict(
        line.split("=", 1) for line in block.splitlines() if re.match(r"[A-Z_]+=", line)
    )


@pytest.mark.slow
def test_check_deploy_is_clean_with_the_readme_production_environment(tmp_path):
    env = readme_production_environment()
    # The README's placeholders, given real values; everything else as documented.
    env.update(
        SECRET_KEY=a_secret_key(),
        ENCRYPTION_KEY="",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/campaignid",
        VAR_DIR=str(tmp_path / "var"),
        MEDIA_ROOT=str(tmp_path / "media"),
    )
    assert "DEBUG" not in env and "CAMPAIGNID_LAPTOP" not in env

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True,
        timeout=120,
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert not re.search(r"\([\w.]+\.[WE]\d+\)", output), output
    assert "System check identified no issues" in output


@pytest.mark.slow
def test_debug_is_off_when_unset(tmp_path):
    assert setting(tmp_path, "DEBUG", SECRET_KEY=a_secret_key()) == "False"


@pytest.mark.slow
def test_no_host_is_allowed_unless_listed(tmp_path):
    assert setting(tmp_path, "ALLOWED_HOSTS", SECRET_KEY=a_secret_key()) == "[]"


@pytest.mark.slow
def test_laptop_mode_answers_only_local_host_names(tmp_path):
    hosts = setting(tmp_path, "ALLOWED_HOSTS", CAMPAIGNID_LAPTOP="1")

    assert hosts == "['127.0.0.1', 'localhost', '[::1]']"


@pytest.mark.slow
def test_a_server_without_a_secret_key_refuses_to_start(tmp_path):
    result = run_with_env(tmp_path, "pass")

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert not (tmp_path / "var" / "secret_key").exists()


@pytest.mark.slow
def test_laptop_mode_keeps_its_secret_key_in_var(tmp_path):
    first = setting(tmp_path, "SECRET_KEY", CAMPAIGNID_LAPTOP="1")

    assert first == repr((tmp_path / "var" / "secret_key").read_text().strip())
    assert setting(tmp_path, "SECRET_KEY", CAMPAIGNID_LAPTOP="1") == first


@pytest.mark.slow
def test_laptop_mode_speaks_plain_http(tmp_path):
    assert setting(tmp_path, "SECURE_SSL_REDIRECT", CAMPAIGNID_LAPTOP="1") == "False"


@pytest.mark.slow
def test_a_server_redirects_plain_http_by_default(tmp_path):
    assert setting(tmp_path, "SECURE_SSL_REDIRECT", SECRET_KEY=a_secret_key()) == "True"


@pytest.mark.slow
def test_the_proxy_ssl_header_is_read_from_the_environment(tmp_path):
    header = setting(tmp_path, "SECURE_PROXY_SSL_HEADER", SECRET_KEY=a_secret_key(),
                     SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")

    assert header == "('HTTP_X_FORWARDED_PROTO', 'https')"


# In this process: the test settings are the production ones, over plain HTTP.


@pytest.fixture
def operator():
    program = make_program(name="PEV Dakar")
    return make_user(program=program, role=Role.OPERATOR, username="awa", password="terrain-2025")


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_https_answers_carry_hsts_for_a_year_with_subdomains():
    response = Client().get("/login/", secure=True)

    assert response["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains; preload"
    )


@pytest.mark.django_db
def test_the_session_cookie_is_secure_httponly_and_lax(operator):
    client = Client()

    client.post("/login/", {"username": "awa", "password": "terrain-2025"}, secure=True)

    cookie = client.cookies["sessionid"]
    assert (cookie["secure"], cookie["httponly"], cookie["samesite"]) == (True, True, "Lax")


@pytest.mark.django_db
def test_the_csrf_cookie_is_secure_and_lax():
    client = Client()

    client.get("/login/", secure=True)

    cookie = client.cookies["csrftoken"]
    assert (cookie["secure"], cookie["samesite"]) == (True, "Lax")


@pytest.mark.django_db
def test_plain_http_is_redirected_to_https(settings):
    settings.SECURE_SSL_REDIRECT = True

    response = Client().get("/login/")

    assert response.status_code == 301
    assert response["Location"] == "https://testserver/login/"


@pytest.mark.django_db
def test_health_answers_over_plain_http_for_load_balancers(settings):
    settings.SECURE_SSL_REDIRECT = True

    response = Client().get("/health")

    assert response.status_code in (200, 503)
    assert "database" in response.json()


@pytest.mark.django_db
def test_pages_refuse_framing_and_type_sniffing():
    response = Client().get("/login/", secure=True)

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def directives(policy):
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["dashboard", "login", "campaign", "api-docs", "admin"])
def test_every_page_carries_a_policy_that_runs_only_our_scripts(page, operator):
    superuser = make_user(is_staff=True, is_superuser=True)
    campaign = make_campaign(program=operator.memberships.first().program)
    client, path = {
        "dashboard": (logged_in(operator), "/"),
        "login": (Client(), "/login/"),
        "campaign": (logged_in(operator), f"/campaigns/{campaign.pk}/"),
        "api-docs": (Client(), "/api/docs/"),
        "admin": (logged_in(superuser), "/admin/"),
    }[page]

    response = client.get(path, secure=True)

    assert response.status_code == 200
    policy = directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"][0] == "'self'"
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["img-src"] == ["'self'", "data:", "blob:"]


@pytest.mark.django_db
def test_an_inline_style_runs_by_the_nonce_the_policy_names(operator):
    campaign = make_campaign(program=operator.memberships.first().program)

    response = logged_in(operator).get(f"/campaigns/{campaign.pk}/design/", secure=True)

    nonce = re.search(r'<style nonce="([^"]+)">', response.content.decode()).group(1)
    assert f"'nonce-{nonce}'" in directives(response["Content-Security-Policy"])["style-src"]


@pytest.mark.django_db
def test_the_verification_page_keeps_its_own_stricter_policy():
    card = make_card(campaign=make_campaign(program=make_program()))

    response = Client().get(f"/v/c/{card.code}", secure=True)

    assert response.headers["Content-Security-Policy"] == PAGE_CSP
