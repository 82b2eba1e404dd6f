"""The campaign list page: sort, created-date filter, CSV export with the same filters,
duplicate (asking for a new prefix) and the trash of deleted campaigns with restore."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import Campaign, Role
from tests.factories import make_campaign, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client, program):
    client.force_login(make_user(program=program, role=Role.OPERATOR))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def names(response):
    return re.findall(r'<a href="/campaigns/\d+/">([^<]+)</a>', response.content.decode())


def test_the_list_sorts_by_name(operator, program):
    for name in ("Polio", "Aïnoumady", "Rougeole"):
        make_campaign(program=program, name=name)

    assert names(operator.get("/campaigns/?sort=name")) == ["Aïnoumady", "Polio", "Rougeole"]


def test_the_list_filters_by_creation_day(operator, program):
    old = make_campaign(program=program, name="Old round")
    Campaign.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))
    make_campaign(program=program, name="This week")
    since = (timezone.localdate() - timedelta(days=7)).isoformat()

    assert names(operator.get(f"/campaigns/?date_from={since}")) == ["This week"]


def test_the_export_link_carries_the_same_filters(operator, program):
    make_campaign(program=program, name="Polio")

    page = operator.get("/campaigns/?q=pol&sort=name&date_to=2030-01-31").content.decode()
    link = re.search(r'href="(/api/campaigns/export\.csv[^"]*)"', page).group(1)
    export = operator.get(link.replace("&amp;", "&"))

    assert "q=pol" in link and "sort_field=name" in link and "date_to=2030-01-31" in link
    assert export.status_code == 200
    assert "Polio" in export.content.decode()


def test_duplicate_asks_for_a_new_prefix_then_opens_the_copy(operator, program):
    campaign = make_campaign(program=program, name="Polio", prefix="POLA")

    response = operator.post(f"/campaigns/{campaign.pk}/duplicate/", {"prefix": "polb"})

    copy = Campaign.objects.get(prefix="POLB")
    assert response.url == f"/campaigns/{copy.pk}/"
    assert copy.name == "Polio (copy)"


def test_duplicate_with_a_taken_prefix_says_so_on_the_form(operator, program):
    campaign = make_campaign(program=program, name="Polio", prefix="POLA")

    response = operator.post(f"/campaigns/{campaign.pk}/duplicate/", {"prefix": "POLA"})

    assert response.status_code == 200
    assert 'data-field="prefix"' in response.content.decode()
    assert Campaign.objects.count() == 1


def test_the_trash_lists_deleted_campaigns_only(operator, program):
    make_campaign(program=program, name="Alive")
    make_campaign(program=program, name="Gone", deleted_at=timezone.now())

    page = operator.get("/campaigns/?trash=on").content.decode()

    assert "Gone" in page and "Alive" not in page


def test_restore_brings_a_campaign_back_from_the_trash(operator, program):
    campaign = make_campaign(program=program, name="Gone", deleted_at=timezone.now())

    response = operator.post(f"/campaigns/{campaign.pk}/restore/")

    campaign.refresh_from_db()
    assert campaign.deleted_at is None
    assert response.url == f"/campaigns/{campaign.pk}/"


def test_a_viewer_cannot_restore(client, program):
    campaign = make_campaign(program=program, name="Gone", deleted_at=timezone.now())
    client.force_login(make_user(program=program, role=Role.VIEWER))

    assert client.post(f"/campaigns/{campaign.pk}/restore/").status_code == 403
    campaign.refresh_from_db()
    assert campaign.deleted_at is not None
