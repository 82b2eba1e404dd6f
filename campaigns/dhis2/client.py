"""The DHIS2 Web API as CampaignID reads it: server info, programs, org units, tracked entities.

Every call goes through campaignid.outbound_http.request() (timeouts, pooling, logs without
query strings or credentials, the base URL's host checked against OUTBOUND_ALLOW_PRIVATE, answers
read up to MAX_RESPONSE_BYTES). A uid is checked against DHIS2's pattern before it goes
into a URL, so no input can name another path of the API. Every failure becomes a
Dhis2Error whose message says, in the operator's language, what is wrong and what to
check: a wrong URL or DNS name, a TLS certificate, refused credentials, a missing program...
`retryable` errors (5xx, 429, timeouts, dropped connections) are tried again with back-off
where the caller asks for it.
"""

import re
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils.translation import gettext as _
from urllib3.exceptions import NameResolutionError

from campaignid.limits import size_text
from campaignid.outbound_http import TransportError, json_body, request

UID = re.compile(r"^[A-Za-z][A-Za-z0-9]{10}$")
# 2.38 is the first release whose /api/tracker/trackedEntities answers with `instances`.
OLDEST_SUPPORTED = (2, 38)
# 2.41 renamed orgUnit/ouMode to orgUnits/orgUnitMode and moved paging under `pager`.
PAGER_SHAPE_SINCE = (2, 41)
ENTITY_FIELDS = (
    "trackedEntity,updatedAt,attributes[attribute,value],"
    "enrollments[enrollment,program,enrolledAt,orgUnit,status]"
)
DEFAULT_TIMEOUT_SECONDS = 30
# A page of 100 tracked entities is a few hundred KB; a program's metadata less.
MAX_RESPONSE_BYTES = 10 * 1024 * 1024
DEFAULT_RETRY_DELAYS = (1, 3, 9)


class Dhis2Error(Exception):
    """`code` names the kind of failure (for programs), `str(exc)` explains it (for people)."""

    def __init__(self, message, *, code, retryable=False, status=None):
        super().__init__(message)
        self.code = code
        self.retryable = retryable
        self.status = status


@dataclass(frozen=True)
class EntityPage:
    entities: list
    page_count: int | None
    total: int | None


def parse_version(text):
    """"2.41.1" / "2.40.4.1" / "2.42-SNAPSHOT" -> (2, 41); None when unreadable."""
    match = re.match(r"^\s*(\d+)\.(\d+)", str(text or ""))
    return (int(match[1]), int(match[2])) if match else None


def server_time(info):
    """DHIS2's clock as `YYYY-MM-DDTHH:MM:SS.mmm` (its local time, the form its filters take),
    from /api/system/info `serverDate`; None when the server did not say."""
    text = str(info.get("serverDate") or "").strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return format_time(moment.replace(tzinfo=None))


def format_time(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


class Dhis2Client:
    def __init__(self, *, base_url, auth, token="", username="", password="", timeout=None,
                 retry_delays=None):
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.timeout = timeout or getattr(
            settings, "DHIS2_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS
        )
        self.retry_delays = tuple(
            getattr(settings, "DHIS2_RETRY_DELAYS", DEFAULT_RETRY_DELAYS)
            if retry_delays is None else retry_delays
        )
        self._headers = {"Accept": "application/json"}
        self._basic = None
        if auth == "token":
            self._headers["Authorization"] = f"ApiToken {token}"
        else:
            self._basic = (username, password)

    @property
    def host(self):
        return urlsplit(self.base_url).hostname or self.base_url

    # --- what the integration reads -----------------------------------------------------

    def system_info(self):
        """/api/system/info; also the check that the URL is a DHIS2 server at all."""
        info = self.get("/api/system/info")
        if "version" not in info:
            raise self._not_dhis2()
        version = parse_version(info["version"])
        if version is not None and version < OLDEST_SUPPORTED:
            raise Dhis2Error(
                _("This DHIS2 is version %(version)s; CampaignID needs 2.38 or later.")
                % {"version": info["version"]},
                code="unsupported_version",
            )
        return info

    def me(self):
        return self.get("/api/me", params={"fields": "id,username,displayName"})

    def programs(self):
        """Tracker programs this account can see: [{"id", "displayName"}] by name."""
        body = self.get("/api/programs", params={
            "fields": "id,displayName", "filter": "programType:eq:WITH_REGISTRATION",
            "paging": "false", "order": "displayName:asc",
        })
        return [p for p in body.get("programs") or [] if isinstance(p, dict) and p.get("id")]

    def program(self, uid):
        """{"id", "displayName", "attributes": [{"id", "displayName", "valueType"}],
        "org_units": [{"id", "path"}]}; Dhis2Error code `program_not_found` for a 404."""
        check_uid(uid)
        body = self.get(
            f"/api/programs/{uid}",
            params={"fields": "id,displayName,programTrackedEntityAttributes["
                    "trackedEntityAttribute[id,displayName,valueType]],organisationUnits[id,path]"},
            not_found=Dhis2Error(
                _("DHIS2 has no program %(uid)s (or this account may not see it).")
                % {"uid": uid},
                code="program_not_found", status=404,
            ),
        )
        attributes = []
        for item in body.get("programTrackedEntityAttributes") or []:
            attribute = (item or {}).get("trackedEntityAttribute") or {}
            if attribute.get("id"):
                attributes.append({
                    "id": attribute["id"],
                    "displayName": attribute.get("displayName") or attribute["id"],
                    "valueType": attribute.get("valueType") or "TEXT",
                })
        org_units = [
            {"id": ou["id"], "path": ou.get("path") or f"/{ou['id']}"}
            for ou in body.get("organisationUnits") or []
            if isinstance(ou, dict) and ou.get("id")
        ]
        return {"id": body.get("id", uid), "displayName": body.get("displayName") or uid,
                "attributes": attributes, "org_units": org_units}

    def org_unit(self, uid):
        check_uid(uid)
        return self.get(
            f"/api/organisationUnits/{uid}",
            params={"fields": "id,displayName,path,level"},
            not_found=Dhis2Error(
                _("DHIS2 has no organisation unit %(uid)s (or this account may not see it).")
                % {"uid": uid},
                code="org_unit_not_found", status=404,
            ),
        )

    def org_units(self, uids):
        """[{"id", "displayName", "level"}] of the given uids (unknown ones left out)."""
        if not uids:
            return []
        for uid in uids:
            check_uid(uid)
        body = self.get("/api/organisationUnits", params={
            "fields": "id,displayName,level", "filter": f"id:in:[{','.join(sorted(uids))}]",
            "paging": "false",
        })
        return [ou for ou in body.get("organisationUnits") or [] if isinstance(ou, dict)]

    def tracked_entities(self, *, version, program, org_unit, page, page_size, updated_after="",
                         updated_before="", count_pages=False):
        """One page of the program's tracked entities under `org_unit` (descendants included),
        in either answer shape; 5xx and timeouts are retried with back-off."""
        check_uid(program)
        check_uid(org_unit)
        if version is None or version >= PAGER_SHAPE_SINCE:
            params = {"orgUnits": org_unit, "orgUnitMode": "DESCENDANTS",
                      "order": "createdAt:asc"}
        else:
            params = {"orgUnit": org_unit, "ouMode": "DESCENDANTS"}
        params.update({
            "program": program, "fields": ENTITY_FIELDS, "page": page, "pageSize": page_size,
            "totalPages": "true" if count_pages else "false",
        })
        if updated_after:
            params["updatedAfter"] = updated_after
        if updated_before:
            params["updatedBefore"] = updated_before
        body = self.get("/api/tracker/trackedEntities", params=params, retry=True)
        if "trackedEntities" in body:
            entities, pager = body["trackedEntities"], body.get("pager") or {}
        elif "instances" in body:
            entities, pager = body["instances"], body
        else:
            raise Dhis2Error(
                _("DHIS2 answered the tracked-entity query without a list of tracked entities."),
                code="bad_answer",
            )
        return EntityPage(
            entities=[e for e in entities or [] if isinstance(e, dict)],
            page_count=_positive_int(pager.get("pageCount")),
            total=_positive_int(pager.get("total")),
        )

    # --- one request ----------------------------------------------------------------------

    def get(self, path, *, params=None, retry=False, not_found=None):
        """The JSON object at `path`; raises Dhis2Error. With `retry`, retryable failures are
        tried again after each of `retry_delays` seconds."""
        delays = list(self.retry_delays) if retry else []
        while True:
            try:
                return self._get_once(path, params=params, not_found=not_found)
            except Dhis2Error as exc:
                if not exc.retryable or not delays:
                    raise
                time.sleep(delays.pop(0))

    def _get_once(self, path, *, params, not_found):
        try:
            response = request(
                "GET", self.base_url + path, provider="dhis2", timeout=self.timeout,
                params=params, headers=self._headers, auth=self._basic,
                guard=True, max_bytes=MAX_RESPONSE_BYTES,
            )
        except TransportError as exc:
            raise self._transport_error(exc) from exc
        status = response.status_code
        if 300 <= status < 400:
            raise self._redirect_error(response)
        if status == 401:
            message = (
                _("DHIS2 refused the personal access token (401): check that it was copied whole "
                  "and has not expired.")
                if self.auth == "token"
                else _("DHIS2 refused the user name or password (401).")
            )
            raise Dhis2Error(message, code="unauthorized", status=401)
        if status == 403:
            raise Dhis2Error(
                _("The DHIS2 account is not allowed to read %(path)s (403): check its user roles "
                  "and the program's sharing.") % {"path": path},
                code="forbidden", status=403,
            )
        if status == 404:
            raise not_found or self._not_dhis2(status=404)
        if status == 429 or status >= 500:
            raise Dhis2Error(
                _("DHIS2 answered %(status)s (server busy or failing).") % {"status": status},
                code="server_error", retryable=True, status=status,
            )
        if status >= 400:
            message = json_body(response).get("message") or response.reason
            raise Dhis2Error(
                _("DHIS2 refused the request (%(status)s): %(message)s")
                % {"status": status, "message": str(message)[:300]},
                code="bad_request", status=status,
            )
        try:
            body = response.json()
        except ValueError:
            raise self._not_dhis2(status=status) from None
        if not isinstance(body, dict):
            raise self._not_dhis2(status=status)
        return body

    def _transport_error(self, exc):
        cause = exc.__cause__
        if exc.code == "invalid_url":
            return Dhis2Error(_("The DHIS2 URL is not a valid address."), code="invalid_url")
        if exc.code == "host_not_allowed":
            return Dhis2Error(str(exc), code="host_not_allowed")
        if exc.code == "response_too_large":
            return Dhis2Error(
                _("DHIS2 at %(host)s answered with more than %(limit)s; nothing was read from "
                  "it.") % {"host": self.host, "limit": size_text(MAX_RESPONSE_BYTES)},
                code="response_too_large",
            )
        if exc.code in ("timeout", "connect_timeout"):
            return Dhis2Error(
                _("DHIS2 at %(host)s did not answer within %(seconds)s seconds.")
                % {"host": self.host, "seconds": f"{self.timeout:g}"},
                code="timeout", retryable=True,
            )
        if isinstance(cause, requests.exceptions.SSLError):
            return Dhis2Error(
                _("The secure connection (TLS) to %(host)s failed: its certificate is not valid "
                  "for this address or not trusted (%(detail)s).")
                % {"host": self.host, "detail": _short_reason(cause)},
                code="tls",
            )
        if _caused_by(cause, NameResolutionError):
            return Dhis2Error(
                _("The server name %(host)s cannot be found (DNS): check the DHIS2 URL.")
                % {"host": self.host},
                code="dns",
            )
        return Dhis2Error(
            _("Cannot connect to DHIS2 at %(host)s: the server refused or dropped the "
              "connection.") % {"host": self.host},
            code="connection", retryable=True,
        )

    def _redirect_error(self, response):
        location = response.headers.get("Location", "")
        if "login" in location.lower():
            return Dhis2Error(
                _("DHIS2 sent its login page instead of data: the credentials were not "
                  "accepted."),
                code="unauthorized", status=response.status_code,
            )
        return Dhis2Error(
            _("The server redirects to %(location)s: use that address as the DHIS2 URL.")
            % {"location": location.split("/api/")[0] or location},
            code="redirect", status=response.status_code,
        )

    def _not_dhis2(self, status=200):
        return Dhis2Error(
            _("%(url)s answers, but not like a DHIS2 server: the URL should be the DHIS2 root "
              "(e.g. https://dhis2.example.org or https://play.im.dhis2.org/stable-2-41-1), "
              "without /api.") % {"url": self.base_url},
            code="not_dhis2", status=status,
        )


def check_uid(uid):
    """Raises Dhis2Error `invalid_uid` unless `uid` is a DHIS2 uid (11 letters and digits,
    the first a letter): nothing else may be put into a URL path or filter."""
    if not isinstance(uid, str) or not UID.match(uid):
        raise Dhis2Error(
            _("%(uid)s is not a DHIS2 uid (11 letters and digits, the first a letter).")
            % {"uid": repr(str(uid)[:40])},
            code="invalid_uid",
        )


def _positive_int(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def _caused_by(exc, kind):
    """True when `kind` is anywhere in the chain of causes, wrappers and urllib3 reasons."""
    seen = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, kind):
            return True
        stack.extend([current.__cause__, current.__context__, getattr(current, "reason", None)])
        stack.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))
    return False


def _short_reason(exc):
    text = str(exc)
    match = re.search(r"\[SSL: ([A-Z_]+)\][^(\"']*", text) or re.search(r"SSLError\((.*?)\)", text)
    return (match[0] if match else text)[:160].strip()
