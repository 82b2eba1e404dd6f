"""The two public Wallet addresses: a card's short link (a redirect to its Google save link)
and a program's logo for the passes Google draws. Neither shows anything else: no name, no
campaign, no condition; an unknown or withdrawn link is the same plain 404."""

from django.http import HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from campaignid.files import file_response
from campaignid.ratelimit import per_address
from distribution import wallet_links


@require_GET
@never_cache
@per_address("wallet-link")
def wallet_short_link(request, token):
    url = wallet_links.save_url_for(token)
    if url is None:
        return _not_found()
    return HttpResponseRedirect(url)


@require_GET
@per_address("wallet-logo")
def wallet_logo(request, program, key):
    found = wallet_links.program_for_logo(program=program, key=key)
    if found is None:
        return _not_found()
    # Stored logos are re-encoded PNGs (campaigns.logos); one of another type is not served.
    if not found.logo.name.lower().endswith(".png"):
        return _not_found()
    response = file_response(found.logo, content_type="image/png", filename="logo.png",
                             as_attachment=False)
    response["Cache-Control"] = "public, max-age=86400"  # the address changes with the logo
    return response


def _not_found():
    return HttpResponse(_("Not found."), status=404, content_type="text/plain; charset=utf-8")
