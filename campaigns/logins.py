"""Login lockouts (django-axes counts the failures; settings.AXES_*): the page a locked-out
person sees, and lifting a member's lockout, which a program admin may do for their members.
"""

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Membership, Role


def lockout_response(request, *args):
    """AXES_LOCKOUT_CALLABLE: the login page's look, saying why and for how long, in the
    visitor's language (axes' own answer is a bare English sentence)."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    response = render(
        request,
        "registration/locked_out.html",
        {"minutes": max(1, seconds // 60), "login_url": request.path},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response


def failed_logins(username):
    """Failed logins counted against `username` in the current cool-off period."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    total = AccessAttempt.objects.filter(username=username, attempt_time__gte=since).aggregate(
        n=Sum("failures_since_start")
    )["n"]
    return total or 0


def is_locked_out(username):
    return failed_logins(username) >= settings.AXES_FAILURE_LIMIT


def login_unlock(*, user, by):
    """Forgets `user`'s failed logins, lifting their lockout. `by` is a superuser or an admin
    of a program `user` is a member of. Returns how many attempt records were removed."""
    if not by.is_superuser:
        administered = Membership.objects.filter(user=by, role=Role.ADMIN).values("program")
        if not Membership.objects.filter(user=user, program__in=administered).exists():
            raise PermissionDenied(_("Only an admin of one of this user's programs can unlock "
                                     "their login."))
    return axes_reset(username=user.get_username())
