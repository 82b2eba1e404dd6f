"""Who is acting, for which program, with which rights: resolved once per request.

An API key acts for its own program; a browser user for the program chosen in the
session among their memberships. Nothing else decides which program a query sees.
"""

from dataclasses import dataclass
from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from campaigns.models import (
    SENSITIVE_CAMPAIGN_TYPES,
    ApiKey,
    Campaign,
    Membership,
    Program,
    Role,
)

SESSION_PROGRAM_KEY = "program_id"


@dataclass(frozen=True)
class Access:
    program: Program
    role: str
    can_view_sensitive: bool
    user: object = None
    api_key: ApiKey | None = None

    @property
    def can_write(self):
        return self.role in (Role.ADMIN, Role.OPERATOR)

    @property
    def is_admin(self):
        return self.role == Role.ADMIN


def access_for_api_key(api_key):
    return Access(
        program=api_key.program,
        role=api_key.role,
        can_view_sensitive=api_key.can_view_sensitive,
        api_key=api_key,
    )


def access_for_user(user, program_id=None):
    if not user or not user.is_authenticated:
        return None
    memberships = Membership.objects.select_related("program").filter(user=user)
    membership = None
    if program_id:
        membership = memberships.filter(program_id=program_id).first()
    membership = membership or memberships.order_by("program__name").first()
    if membership is None:
        return None
    return Access(
        program=membership.program,
        role=membership.role,
        can_view_sensitive=membership.can_view_sensitive,
        user=user,
    )


def access_for_request(request):
    """The caller's Access, cached on the request; None when they act for no program."""
    cached = getattr(request, "_campaignid_access", False)
    if cached is not False:
        return cached
    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiKey):
        access = access_for_api_key(auth)
    else:
        session = getattr(request, "session", None)
        access = access_for_user(
            getattr(request, "user", None), session.get(SESSION_PROGRAM_KEY) if session else None
        )
    request._campaignid_access = access
    return access


# The one access seam ---------------------------------------------------------------------
#
# Every read or write of a campaign's data asks here, saying what the call needs; the answer
# is the object or a refusal (Http404 where even existence is private, PermissionDenied
# naming what is missing). Pages, API views, consumers, admin and downloads all call it, so
# a rule changes in one place.


class Need(StrEnum):
    READ = "read"  # the campaign's own record: name, status, counts; names nobody
    PEOPLE = "people"  # anything that names or reaches a person: beneficiaries, cards, files
    WRITE = "write"  # changes anything (on a sensitive campaign this reaches people too)
    ADMIN = "admin"  # program settings and grants


ROLE_REFUSED = _("Your role lets you read this program's data, not change it.")
ADMIN_REFUSED = _("Only a program admin can do this.")
SENSITIVE_REFUSED = _(
    "This campaign holds sensitive health data; your access lacks the "
    "“can view sensitive” grant."
)
NOT_A_MEMBER = _("Your account is not a member of any program.")


def access_required(request):
    """The caller's Access, or PermissionDenied when they act for no program."""
    access = access_for_request(request)
    if access is None:
        raise PermissionDenied(NOT_A_MEMBER)
    return access


def require(access, need, campaign=None):
    """Raise PermissionDenied unless `access` may do `need` (on `campaign`, when given)."""
    if access is None:
        raise PermissionDenied(NOT_A_MEMBER)
    if need == Need.WRITE and not access.can_write:
        raise PermissionDenied(ROLE_REFUSED)
    if need == Need.ADMIN and not access.is_admin:
        raise PermissionDenied(ADMIN_REFUSED)
    if (
        campaign is not None
        and need != Need.READ
        and campaign.is_sensitive
        and not access.can_view_sensitive
    ):
        raise PermissionDenied(SENSITIVE_REFUSED)
    return access


def require_to_create(access, *, campaign_type, sensitive=None):
    """A new campaign is a write; a sensitive one (HIV, or flagged) also takes the grant: who
    makes it must be allowed to fill it."""
    require(access, Need.WRITE)
    if sensitive or campaign_type in SENSITIVE_CAMPAIGN_TYPES:
        require(access, Need.PEOPLE, Campaign(sensitive=True))
    return access


def allows(access, need, campaign=None):
    try:
        require(access, need, campaign)
    except PermissionDenied:
        return False
    return True


def api_campaign_for(request, pk, need, *, deleted=False):
    """campaign_for the API caller (its key or its session)."""
    return campaign_for(access_for_request(request), pk, need, deleted=deleted)


def campaign_for(access, pk, need, *, deleted=False):
    """The caller's campaign `pk` if `need` is allowed on it. Another program's campaign, or
    a soft-deleted one (unless `deleted`), is a 404; a refused need a 403."""
    require(access, Need.READ)
    campaigns = Campaign.objects.for_program(access.program)
    if not deleted:
        campaigns = campaigns.alive()
    campaign = campaigns.select_related("program").filter(pk=_as_id(pk)).first()
    if campaign is None:
        raise Http404(_("Campaign not found."))
    require(access, need, campaign)
    return campaign


def object_for(access, queryset, need, **lookup):
    """One row of a model that belongs to a campaign (job, card, dispatch, sync run...), if
    `need` is allowed on its campaign; 404 for another program's row or a deleted campaign's."""
    require(access, Need.READ)
    path = _campaign_path(queryset.model)
    row = (
        queryset.filter(**{f"{path}__program": access.program, f"{path}__deleted_at": None})
        .select_related(path)
        .filter(**{k: _as_id(v) if k in ("pk", "id") else v for k, v in lookup.items()})
        .first()
    )
    if row is None:
        raise Http404(_("Not found."))
    campaign = row
    for step in path.split("__"):
        campaign = getattr(campaign, step)
    require(access, need, campaign)
    return row


def people_visible(access, queryset):
    """`queryset` (rows below campaigns) without the sensitive campaigns' rows when the caller
    lacks the grant: lists and exports that name people go through here."""
    if access.can_view_sensitive:
        return queryset
    path = _campaign_path(queryset.model)
    return queryset.filter(**{f"{path}__sensitive": False})


def _campaign_path(model):
    """The lookup path from `model` to its Campaign: declared as `campaign_path` on the model,
    else its `campaign` field."""
    return getattr(model, "campaign_path", "campaign")


MAX_ID = 2**63 - 1
# Far beyond any list; the API refuses a larger page offset (400) before the database sees it.
MAX_OFFSET = 10**9


def _as_id(value):
    """A path or query id as an int a database column holds; anything else matches nothing."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Http404(_("Not found.")) from None
    if not 0 < number <= MAX_ID:
        raise Http404(_("Not found."))
    return number
