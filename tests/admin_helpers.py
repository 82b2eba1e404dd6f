"""The back-office (Django admin) as tests reach it: a model page's URL and clients logged
in as a superuser or as a program's staff member."""

from django.apps import apps
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from campaigns.models import Role
from tests.factories import make_user


def admin_url(model, view="changelist", *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def campaigns_models():
    """The campaigns app's models and the DHIS2 app's (they were campaigns models)."""
    return [*apps.get_app_config("campaigns").get_models(),
            *apps.get_app_config("dhis2").get_models()]


def superuser_client():
    user = make_user(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


def staff_client(*, program, role=Role.ADMIN, can_view_sensitive=False,
                 perms=("view", "change", "add")):
    """A staff user who is not a superuser, member of `program`, with Django model permissions
    on every campaigns model (the membership then decides which rows)."""
    user = make_user(program=program, role=role, can_view_sensitive=can_view_sensitive,
                     is_staff=True)
    codenames = [
        f"{perm}_{model._meta.model_name}"
        for model in campaigns_models()
        for perm in perms
    ]
    user.user_permissions.set(Permission.objects.filter(
        content_type__app_label__in=("campaigns", "dhis2"), codename__in=codenames
    ))
    client = Client()
    client.force_login(user)
    return client
