"""Public verification pages and the staff's revoke buttons.

- /.well-known/campaignid-keys.json: every program's public keys (JWKS), for anyone.
- /v/c/<code>: the page a card's QR opens. The server knows the code (the path) and answers
  its status; the signed token stays in the URL fragment, which never reaches us, and the
  page's JavaScript verifies it against the program's keys embedded in the page. Without a
  token the page shows no personal data.
- /v/status/<PREFIX>.bin: the campaign's newest signed status list (verification/
  status_list.py), for portals that are online: what a portal already holds (code hashes,
  dates, statuses, public keys), no name, no condition. Cacheable for
  STATUS_LIST_REFRESH_SECONDS, with an ETag of its sequence number.
- /cards/<code>/revoke and /unrevoke: POST forms for operators and admins (CSRF, login).
"""

import re
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from campaignid.ratelimit import per_address
from campaigns.access import Need, access_required, object_for
from campaigns.models import Campaign
from cards.models import Card
from cards.revocation import (
    REASON_MAX_LENGTH,
    CardStateConflict,
    card_revoke,
    card_unrevoke,
)
from cards.signing_keys import all_jwks, program_jwks
from cards.validity import card_status
from verification.public import type_labels
from verification.selectors import card_by_code, normalise_code
from verification.status_list import published_status_list

UNKNOWN = "unknown"
PRINTED_CODE = re.compile(r"[A-Z0-9-]{1,40}")
KEYS_MAX_AGE_SECONDS = 300
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


@require_GET
@per_address("keys", json_body=lambda: {"error": _("Too many requests; try again later.")})
@cache_control(public=True, max_age=KEYS_MAX_AGE_SECONDS)
def published_keys(request):
    response = JsonResponse(all_jwks())
    # Public keys: any verifier, on any origin, may read them.
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
@per_address("status-list", json_body=lambda: {"error": _("Too many requests; try again later.")})
def status_list(request, prefix):
    campaign = Campaign.objects.select_related("program").filter(
        prefix=prefix, deleted_at__isnull=True
    ).first()
    if campaign is None:
        raise Http404
    blob, sequence = published_status_list(campaign=campaign)
    etag = f'"{campaign.prefix}-{sequence}"'
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(blob, content_type="application/octet-stream")
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={settings.STATUS_LIST_REFRESH_SECONDS}"
    # A portal opened from file:// (origin "null") reads it: public data, any origin.
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Expose-Headers"] = "ETag"
    return response


@require_GET
@per_address("card-lookup")
def card_lookup(request):
    """The "type a code" form: /v/?code=… goes to the card's page."""
    code = normalise_code(request.GET.get("code", ""))
    if code and PRINTED_CODE.fullmatch(code):
        url = reverse("verification-card", kwargs={"code": code})
        lang = request.GET.get("lang")
        return redirect(f"{url}?lang={lang}" if lang in dict(settings.LANGUAGES) else url)
    # A code no card could have is answered here: "unknown", not a bare 404.
    with translation.override(_page_language(request, None)):
        return _render_card_page(request, code=code, card=None)


@require_GET
@per_address("card-lookup")
def card_page(request, code):
    code = normalise_code(code)
    card = card_by_code(code)
    with translation.override(_page_language(request, card)):
        return _render_card_page(request, code=code, card=card)


def _page_language(request, card):
    """?lang= when asked, else the campaign's language, else the visitor's."""
    asked = request.GET.get("lang")
    if asked in dict(settings.LANGUAGES):
        return asked
    if card is not None:
        return card.campaign.language
    return translation.get_language()


def _render_card_page(request, *, code, card):
    language = translation.get_language()
    context = {
        "code": code,
        "card": card,
        "status": card_status(card) if card else UNKNOWN,
        "language": language,
        "languages": [(lang, lang.upper()) for lang, _name in settings.LANGUAGES],
        # Old HIV cards (`hiv` in the token) show the neutral label, like new ones (`health`).
        "type_labels": type_labels(),
    }
    if card is not None:
        program = card.campaign.program
        context.update(
            program=program,
            # The campaign's name can say what the holder is treated for (HIV): not shown.
            campaign_name="" if card.campaign.is_sensitive else card.campaign.name,
            keys=program_jwks(program=program),
            revoked_on=timezone.localtime(card.revoked_at, ZoneInfo(program.timezone)).date()
            if card.revoked_at
            else None,
        )
    else:
        context["keys"] = {"keys": []}
    response = render(
        request, "verification/card.html", context, status=200 if card or not code else 404
    )
    # The status changes when a card is revoked: never served from a cache.
    response["Cache-Control"] = "no-store"
    response["Content-Language"] = language
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    # The page shows names decoded from a token anyone can craft: only our own scripts run.
    # Set here rather than by a django-csp decorator so the 404 page ("unknown") carries it in
    # DEBUG too; CSPMiddleware leaves a policy the view set alone (never two, never looser).
    response["Content-Security-Policy"] = PAGE_CSP
    return response


def _writer_card(request, code):
    return object_for(access_required(request), Card.objects.select_related("campaign__program"),
                      Need.WRITE, code=normalise_code(code))


def _back(request, card):
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(reverse("campaign-detail", args=[card.campaign_id]))


@login_required
@require_POST
def card_revoke_form(request, code):
    card = _writer_card(request, code)
    try:
        card_revoke(card=card, reason=request.POST.get("reason", ""), user=request.user)
    except ValidationError:
        messages.error(
            request,
            _("Card %(code)s was not revoked: give a reason (at most %(max)d characters).")
            % {"code": card.code, "max": REASON_MAX_LENGTH},
        )
    except CardStateConflict:
        messages.info(request, _("Card %(code)s was already revoked.") % {"code": card.code})
    else:
        messages.success(request, _("Card %(code)s revoked.") % {"code": card.code})
    return _back(request, card)


@login_required
@require_POST
def card_unrevoke_form(request, code):
    card = _writer_card(request, code)
    try:
        card_unrevoke(card=card, user=request.user)
    except CardStateConflict as exc:
        messages.info(request, str(exc))
    else:
        messages.success(request, _("Card %(code)s is valid again.") % {"code": card.code})
    return _back(request, card)
