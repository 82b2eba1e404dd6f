"""The quota ledger: grants, debits and refunds with the running balance, on its page and over
`GET /api/quota/transactions`; any member may read it, only their own program's."""

import pytest

from campaigns.models import Role
from campaigns.services import quota_debit_for_job, quota_grant, quota_refund_for_job
from tests.factories import (
    api_client,
    make_api_key,
    make_campaign,
    make_job,
    make_program,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def program():
    """Granted 1,000,000 at creation, debited 300 for a job then refunded it, granted 50."""
    program = make_program(quota=1_000_000)
    job = make_job(campaign=make_campaign(program=program, name="Rougeole Thiès"), total_cards=300)
    quota_debit_for_job(job=job, units=300)
    quota_refund_for_job(job=job, note="cancelled")
    quota_grant(program=program, units=50, note="top-up")
    return program


def transactions(program, role=Role.VIEWER, query=""):
    return api_client(make_api_key(program=program, role=role)).get(
        f"/api/quota/transactions{query}"
    )


def test_the_api_lists_the_ledger_newest_first_with_the_running_balance(program):
    body = transactions(program).json()

    rows = [(row["kind"], row["units"], row["balance"]) for row in body["data"]]
    assert rows == [
        ("grant", 50, 1_000_050),
        ("refund", 300, 1_000_000),
        ("debit", -300, 999_700),
        ("grant", 1_000_000, 1_000_000),
    ]
    assert body["meta"]["balance"] == 1_000_050


def test_the_api_names_the_campaign_of_a_job_row(program):
    debit = transactions(program).json()["data"][2]

    assert debit["campaign"]["name"] == "Rougeole Thiès"


def test_the_api_pages_and_keeps_the_balance_of_earlier_rows(program):
    body = transactions(program, query="?limit=2&offset=2").json()

    assert [row["balance"] for row in body["data"]] == [999_700, 1_000_000]
    assert body["meta"] == {"total": 4, "limit": 2, "offset": 2, "balance": 1_000_050}


def test_the_api_refuses_an_unbounded_page_size(program):
    assert transactions(program, query="?limit=100000").status_code == 400


def test_the_api_shows_only_the_callers_program(program):
    other = make_program(quota=7)

    assert [row["units"] for row in transactions(other).json()["data"]] == [7]


def test_the_page_shows_the_ledger_to_a_viewer_with_grouped_numbers(client, program):
    client.force_login(make_user(program=program, role=Role.VIEWER))

    page = client.get("/quota/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert page.count("data-ledger=") == 4
    # French groups thousands with a (narrow) no-break space: "1 000 050".
    assert "1\u202f000\u202f050" in page or "1\xa0000\xa0050" in page


def test_the_page_pages_through_a_long_ledger(client):
    program = make_program(quota=1)
    for _ in range(50):
        quota_grant(program=program, units=1)
    client.force_login(make_user(program=program, role=Role.VIEWER))

    second = client.get("/quota/?page=2").content.decode()

    # 51 rows, 50 a page: the second page holds the first grant, at its own balance.
    assert second.count("data-ledger=") == 1
    assert "?page=1" in second


def test_the_nav_links_to_the_ledger(client, program):
    client.force_login(make_user(program=program, role=Role.VIEWER))

    assert 'href="/quota/"' in client.get("/").content.decode()
