"""Every id on a page is unique: a label points at one control only."""

import re
from collections import Counter

import pytest

from campaigns.models import Role
from tests.factories import api_client, make_campaign, make_program, make_user

pytestmark = pytest.mark.django_db


def test_the_design_page_has_no_duplicate_ids():
    program = make_program()
    campaign = make_campaign(program=program)
    client = api_client()
    client.force_login(make_user(program=program, role=Role.ADMIN))
    page = client.get(f"/campaigns/{campaign.pk}/design/").content.decode()
    ids = Counter(re.findall(r'\bid="([^"]+)"', page))
    assert [name for name, count in ids.items() if count > 1] == []
