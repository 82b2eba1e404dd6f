"""A program's DHIS2 connection: validation, encryption at rest, masking, "Test connection".

The config is `{"base_url", "auth": "token" | "basic", "token"}` or `{..., "username",
"password"}`. Secrets are write-only: reads show them masked (`••••abcd`), and a save that
omits a secret, or sends back its masked form, keeps the stored one, unless the base URL
changes: the stored secrets are only ever sent to the address they were given for, so a new
address needs them again. The address must be one the server may call (OUTBOUND_ALLOW_PRIVATE,
campaignid/outbound_guard.py), checked here and again before every request.
"""

import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaignid.outbound_guard import OutboundRefused, check_url
from campaignid.sealed_settings import MASK, masked, seal, unseal
from campaigns.dhis2.client import Dhis2Client, Dhis2Error, parse_version
from campaigns.dhis2.models import Dhis2Connection

AUTH_KINDS = ("token", "basic")
FIELDS = ("base_url", "auth", "token", "username", "password")
SECRETS = ("token", "password")
FIELDS_OF = {"token": ("token",), "basic": ("username", "password")}
TOKEN_PREFIX = "d2pat_"
SECRET_NAMES = {"token": gettext_lazy("personal access token"),
                "password": gettext_lazy("password")}


class ConnectionNotConfigured(Exception):
    """The program has no DHIS2 connection saved (or it is disabled)."""


def connection_get(*, program):
    return Dhis2Connection.objects.for_program(program).first()


def connection_config(*, connection):
    """The decrypted config (secrets in clear: for the client, never for a response)."""
    return unseal(connection.config_encrypted) if connection is not None else {}


def connection_view(*, program):
    """What GET shows: every field, secrets masked, blanks for what is not set."""
    connection = connection_get(program=program)
    stored = connection_config(connection=connection)
    config = {}
    for name in FIELDS:
        value = stored.get(name, "")
        config[name] = masked(value) if name in SECRETS else value
    return {
        "enabled": bool(connection and connection.enabled),
        "configured": bool(stored),
        "config": config,
        "updated_at": connection.updated_at if connection else None,
    }


def connection_save(*, program, config, enabled=None):
    """Validates and stores the program's DHIS2 connection; returns it.

    Raises ValidationError whose message_dict names each bad field as `config.<name>`.
    """
    with transaction.atomic():
        connection = Dhis2Connection.objects.select_for_update().filter(program=program).first()
        stored = connection_config(connection=connection)
        cleaned = clean_config(config=config, stored=stored)
        if connection is None:
            connection = Dhis2Connection(program=program)
        if enabled is not None:
            connection.enabled = bool(enabled)
        connection.base_url = cleaned["base_url"]
        connection.config_encrypted = seal(cleaned)
        connection.save()
    return connection


def clean_config(*, config, stored=None):
    """The config to store: stripped and checked, omitted or masked secrets taken from
    `stored`; only the credentials of the chosen kind are kept."""
    stored = stored or {}
    if not isinstance(config, dict):
        raise ValidationError({"config": [_("Must be an object of the DHIS2 settings.")]})
    errors = {}
    for name in config:
        if name not in FIELDS:
            errors[f"config.{name}"] = [_("Unknown DHIS2 setting.")]
    values = {name: _text(config.get(name)) for name in FIELDS}
    auth = values["auth"] or stored.get("auth", "")
    cleaned = {}

    base_url, problem = _clean_base_url(values["base_url"] or stored.get("base_url", ""))
    if problem:
        errors["config.base_url"] = [problem]
    cleaned["base_url"] = base_url
    # Whoever may change the address must not be able to send the saved secret elsewhere.
    keeps_secrets = not problem and base_url == stored.get("base_url")

    if auth not in AUTH_KINDS:
        errors["config.auth"] = [_("Must be “token” (personal access token) or “basic” (user "
                                   "name and password).")]
    else:
        cleaned["auth"] = auth
        for name in FIELDS_OF[auth]:
            value = values[name]
            reused = name in SECRETS and (not value or value.startswith(MASK))
            if reused:
                value = stored.get(name, "") if stored.get("auth") == auth else ""
            if name == "token":
                value = value.removeprefix("ApiToken ").strip()
            if reused and value and not keeps_secrets:
                value = ""
                errors[f"config.{name}"] = [_(
                    "The DHIS2 address changed: enter the %(secret)s again (a saved secret is "
                    "only sent to the address it was saved for)."
                ) % {"secret": SECRET_NAMES[name]}]
            elif not value:
                errors[f"config.{name}"] = [_("This setting is required.")]
            elif name == "token" and not value.startswith(TOKEN_PREFIX):
                errors["config.token"] = [_("A DHIS2 personal access token starts with d2pat_.")]
            cleaned[name] = value
    if errors:
        raise ValidationError(errors)
    return cleaned


def client_for(*, program, require_enabled=True):
    """A client for the program's DHIS2, ready to call."""
    connection = connection_get(program=program)
    config = connection_config(connection=connection)
    if not config or (require_enabled and not connection.enabled):
        raise ConnectionNotConfigured(
            _("DHIS2 is not set up (or not enabled) for this program: save its URL and "
              "credentials first.")
        )
    return client_from_config(config)


def client_from_config(config):
    return Dhis2Client(
        base_url=config["base_url"], auth=config["auth"], token=config.get("token", ""),
        username=config.get("username", ""), password=config.get("password", ""),
    )


def connection_test(*, program):
    """Tries the saved connection: is it DHIS2, which version, do the credentials work.

    Returns {"ok": True, "version", "username", "server"} or {"ok": False, "code", "error"}
    naming what is wrong. Works before the connection is enabled, so settings can be tried.
    Raises ConnectionNotConfigured when nothing is saved.
    """
    client = client_for(program=program, require_enabled=False)
    try:
        info = client.system_info()
        me = client.me()
    except Dhis2Error as exc:
        return {"ok": False, "code": exc.code, "error": str(exc)}
    version = str(info.get("version", ""))
    return {
        "ok": True,
        "code": "",
        "error": "",
        "version": version,
        "tracker_shape": "pager" if (parse_version(version) or (2, 41)) >= (2, 41) else "instances",
        "username": str(me.get("username") or me.get("displayName") or ""),
        "server": str(info.get("systemName") or ""),
    }


def _text(value):
    return "" if value is None else str(value).strip()


def _clean_base_url(value):
    if not value:
        return "", _("This setting is required.")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return value, _("Must be a web address starting with https:// (or http://).")
    if parts.query or parts.fragment:
        return value, _("Must not contain ? or #: give the DHIS2 root address only.")
    # People paste the API root or a page of an app; the client adds /api/... itself.
    path = re.sub(r"/(api|dhis-web-[\w-]+)(/.*)?$", "", parts.path.rstrip("/"))
    if len(value) > 300:
        return value, _("Must be at most 300 characters.")
    try:
        check_url(value)
    except OutboundRefused as exc:
        return value, str(exc)
    return f"{parts.scheme}://{parts.netloc}{path}", None
