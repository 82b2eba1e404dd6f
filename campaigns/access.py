"""Who is acting, for which program, with which rights: resolved once per request.

An API key acts for its own program; a browser user for the program chosen in the
session among their memberships. Nothing else decides which program a query sees.
"""

from dataclasses import dataclass

from campaigns.models import ApiKey, Membership, Program, Role

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
