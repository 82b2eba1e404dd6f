"""The campaigns REST API: list, create, detail, edit, delete, lifecycle actions, CSV export."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import Campaign, Job, Role
from tests.factories import (
    api_client,
    make_api_key,
    make_beneficiary,
    make_campaign,
    make_job,
    make_program,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def program():
    return make_program(quota=10_000)


@pytest.fixture
def client(program):
    client = api_client(make_api_key(program=program, role=Role.ADMIN))
    # Messages are translated; these tests read the English ones.
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _names(response):
    return [row["name"] for row in response.json()["data"]]


def _create_body(**overrides):
    body = {"name": "Polio Dakar", "campaign_type": "vaccination", "prefix": "DKR-VAC"}
    body.update(overrides)
    return body


# ---------------------------------------------------------------- list


def test_list_returns_data_meta_and_the_applied_query(client, program):
    make_campaign(program=program, name="Polio")
    body = client.get("/api/campaigns/").json()
    assert [row["name"] for row in body["data"]] == ["Polio"]
    assert body["meta"] == {
        "total": 1, "limit": 25, "offset": 0, "sort": {"field": "created_at", "direction": "desc"}
    }
    assert body["query"]["archived"] == "false"
    assert body["query"]["include_deleted"] is False
    assert "aggregations" not in body


def test_list_answers_with_and_without_trailing_slash(client, program):
    make_campaign(program=program)
    assert client.get("/api/campaigns").status_code == 200
    assert client.get("/api/campaigns/").status_code == 200


def test_list_row_carries_the_beneficiary_count(client, program):
    campaign = make_campaign(program=program)
    make_beneficiary(campaign=campaign)
    make_beneficiary(campaign=campaign)
    row = client.get("/api/campaigns").json()["data"][0]
    assert row["beneficiaries"] == 2
    assert row["prefix"] == campaign.prefix


def test_list_hides_archived_and_deleted_campaigns_by_default(client, program):
    make_campaign(program=program, name="live")
    make_campaign(program=program, name="archived", archived_at=timezone.now())
    make_campaign(program=program, name="deleted", deleted_at=timezone.now())
    assert _names(client.get("/api/campaigns")) == ["live"]


def test_archived_true_lists_only_archived_campaigns(client, program):
    make_campaign(program=program, name="live")
    make_campaign(program=program, name="archived", archived_at=timezone.now())
    assert _names(client.get("/api/campaigns?archived=true")) == ["archived"]


def test_archived_all_lists_archived_and_not_archived(client, program):
    make_campaign(program=program, name="live")
    make_campaign(program=program, name="archived", archived_at=timezone.now())
    assert sorted(_names(client.get("/api/campaigns?archived=all"))) == ["archived", "live"]


def test_bad_archived_value_is_400_naming_archived(client):
    response = client.get("/api/campaigns?archived=maybe")
    assert response.status_code == 400
    assert "archived" in response.json()["fields"]


def test_include_deleted_adds_soft_deleted_campaigns(client, program):
    make_campaign(program=program, name="live")
    make_campaign(program=program, name="deleted", deleted_at=timezone.now())
    assert sorted(_names(client.get("/api/campaigns?include_deleted=true"))) == ["deleted", "live"]


def test_only_deleted_lists_only_soft_deleted_campaigns(client, program):
    make_campaign(program=program, name="live")
    make_campaign(program=program, name="deleted", deleted_at=timezone.now())
    assert _names(client.get("/api/campaigns?only_deleted=true")) == ["deleted"]


def test_q_searches_name_prefix_and_description(client, program):
    make_campaign(program=program, name="Polio Thiès", prefix="THS-POL")
    make_campaign(program=program, name="Round 2", prefix="KLK-MLD")
    make_campaign(program=program, name="Nets", description="distribution de moustiquaires")
    make_campaign(program=program, name="Other")
    assert _names(client.get("/api/campaigns?q=thiès")) == ["Polio Thiès"]
    assert _names(client.get("/api/campaigns?q=klk")) == ["Round 2"]
    assert _names(client.get("/api/campaigns?q=MOUSTIQUAIRE")) == ["Nets"]


def test_status_filter_takes_several_comma_separated_values(client, program):
    make_campaign(program=program, name="draft")
    make_campaign(program=program, name="failed", status="failed")
    make_campaign(program=program, name="done", status="completed")
    names = _names(client.get("/api/campaigns?status=draft,failed&sort_field=name&sort_dir=asc"))
    assert names == ["draft", "failed"]


def test_unknown_status_is_400_naming_status(client):
    response = client.get("/api/campaigns?status=sleeping")
    assert response.status_code == 400
    assert "status" in response.json()["fields"]
    assert "sleeping" in response.json()["error"]


def test_campaign_type_filter(client, program):
    make_campaign(program=program, name="vax")
    make_campaign(program=program, name="nets", campaign_type="mild")
    assert _names(client.get("/api/campaigns?campaign_type=mild")) == ["nets"]


def test_date_range_keeps_campaigns_created_on_those_days(client, program):
    old = make_campaign(program=program, name="old")
    Campaign.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    make_campaign(program=program, name="today")
    today = timezone.localdate().isoformat()
    assert _names(client.get(f"/api/campaigns?date_from={today}")) == ["today"]
    assert _names(client.get(f"/api/campaigns?date_to={today}&sort_field=name")) == [
        "today", "old"
    ]
    long_ago = (timezone.localdate() - timedelta(days=5)).isoformat()
    assert _names(client.get(f"/api/campaigns?date_to={long_ago}")) == ["old"]


@pytest.mark.parametrize("field", ["date_from", "date_to"])
def test_bad_date_is_400_naming_the_field(client, field):
    response = client.get(f"/api/campaigns?{field}=31/12/2025")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]


def test_date_to_before_date_from_is_400(client):
    response = client.get("/api/campaigns?date_from=2025-06-02&date_to=2025-06-01")
    assert response.status_code == 400
    assert "date_to" in response.json()["fields"]


def test_sort_by_name_ignores_case(client, program):
    for name in ("beta", "Alpha", "gamma"):
        make_campaign(program=program, name=name)
    response = client.get("/api/campaigns?sort_field=name&sort_dir=asc")
    assert _names(response) == ["Alpha", "beta", "gamma"]
    assert response.json()["meta"]["sort"] == {"field": "name", "direction": "asc"}


def test_sort_direction_desc(client, program):
    for prefix in ("AAA", "BBB", "CCC"):
        make_campaign(program=program, prefix=prefix)
    response = client.get("/api/campaigns?sort_field=prefix&sort_dir=desc")
    assert [row["prefix"] for row in response.json()["data"]] == ["CCC", "BBB", "AAA"]


def test_unknown_sort_field_is_400(client):
    response = client.get("/api/campaigns?sort_field=password")
    assert response.status_code == 400
    assert "sort_field" in response.json()["fields"]


def test_limit_and_offset_page_through_the_list(client, program):
    for i in range(5):
        make_campaign(program=program, name=f"c{i}")
    response = client.get("/api/campaigns?sort_field=name&sort_dir=asc&limit=2&offset=2")
    assert _names(response) == ["c2", "c3"]
    assert response.json()["meta"]["total"] == 5
    assert (response.json()["meta"]["limit"], response.json()["meta"]["offset"]) == (2, 2)


@pytest.mark.parametrize("query", ["limit=201", "limit=0", "limit=ten", "offset=-1"])
def test_out_of_range_pagination_is_400_naming_the_field(client, query):
    response = client.get(f"/api/campaigns?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()["fields"]


def test_limit_of_200_is_accepted(client):
    assert client.get("/api/campaigns?limit=200").json()["meta"]["limit"] == 200


def test_aggregations_count_each_quick_filter(client, program):
    make_campaign(program=program)
    make_campaign(program=program, status="completed", campaign_type="mild")
    make_campaign(program=program, archived_at=timezone.now())
    make_campaign(program=program, deleted_at=timezone.now())
    body = client.get("/api/campaigns?include_aggregations=true").json()
    quick = body["aggregations"]["quick_filters"]
    assert quick["status"]["draft"] == 1
    assert quick["status"]["completed"] == 1
    assert quick["status"]["failed"] == 0
    assert quick["campaign_type"]["mild"] == 1
    assert quick["campaign_type"]["vaccination"] == 1
    assert (quick["archived"], quick["deleted"]) == (1, 1)


def test_status_counts_ignore_the_status_filter_but_keep_the_others(client, program):
    make_campaign(program=program, name="a")
    make_campaign(program=program, name="b", status="completed")
    make_campaign(program=program, name="other", status="completed")
    body = client.get("/api/campaigns?status=draft&q=a&include_aggregations=1").json()
    assert _names_of(body) == ["a"]
    assert body["aggregations"]["quick_filters"]["status"]["completed"] == 0
    assert body["aggregations"]["quick_filters"]["status"]["draft"] == 1


def _names_of(body):
    return [row["name"] for row in body["data"]]


def test_list_never_shows_another_programs_campaigns(client, program):
    make_campaign(program=make_program(), name="theirs")
    make_campaign(program=program, name="ours")
    body = client.get("/api/campaigns?archived=all&include_deleted=true").json()
    assert _names_of(body) == ["ours"]


# ---------------------------------------------------------------- create


def test_create_answers_201_with_the_new_draft(client, program):
    response = client.post("/api/campaigns/", _create_body(dpi=450), format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["prefix"], body["status"], body["dpi"]) == ("DKR-VAC", "draft", 450)
    campaign = Campaign.objects.get(pk=body["id"])
    assert campaign.program == program


def test_create_without_trailing_slash(client):
    assert client.post("/api/campaigns", _create_body(), format="json").status_code == 201


def test_create_upper_cases_the_prefix(client):
    response = client.post("/api/campaigns", _create_body(prefix=" dkr-vac "), format="json")
    assert response.json()["prefix"] == "DKR-VAC"


def test_create_defaults_the_template_to_the_campaign_type(client):
    body = client.post("/api/campaigns", _create_body(campaign_type="mild"), format="json").json()
    assert body["template_id"] == "mild"


def test_create_keeps_every_field_sent(client):
    body = _create_body(
        language="wo", template_id="identity", description="Tour 1", card_validity_months=12,
        template_options={"title": "Carte polio"},
    )
    created = client.post("/api/campaigns", body, format="json").json()
    assert created["language"] == "wo"
    assert created["template_id"] == "identity"
    assert created["description"] == "Tour 1"
    assert created["card_validity_months"] == 12
    assert created["template_options"] == {"title": "Carte polio"}


def test_taken_prefix_is_400_naming_prefix_without_naming_its_program(client):
    make_campaign(program=make_program(name="Secret HIV Program"), prefix="DKR-VAC")
    response = client.post("/api/campaigns", _create_body(), format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["prefix"]
    assert "Secret" not in response.content.decode()


@pytest.mark.parametrize("prefix", ["AB", "ABCDEFGHI", "-ABC", "ABC-", "AB_C", "AB C", ""])
def test_malformed_prefix_is_400_naming_prefix(client, prefix):
    response = client.post("/api/campaigns", _create_body(prefix=prefix), format="json")
    assert response.status_code == 400
    assert "prefix" in response.json()["fields"]


def test_unknown_template_is_400_naming_template_id(client):
    response = client.post("/api/campaigns", _create_body(template_id="polio-v2"), format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["template_id"]


@pytest.mark.parametrize("dpi", [200, 1200, "high"])
def test_dpi_outside_300_450_600_is_400(client, dpi):
    response = client.post("/api/campaigns", _create_body(dpi=dpi), format="json")
    assert response.status_code == 400
    assert "dpi" in response.json()["fields"]


def test_unknown_campaign_type_is_400(client):
    response = client.post("/api/campaigns", _create_body(campaign_type="polio"), format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["campaign_type"]


def test_missing_name_is_400_naming_name(client):
    body = _create_body()
    del body["name"]
    response = client.post("/api/campaigns", body, format="json")
    assert response.status_code == 400
    assert "name" in response.json()["fields"]


def test_bad_template_option_is_400_naming_template_options(client):
    body = _create_body(template_options={"primary_colour": "blue"})
    response = client.post("/api/campaigns", body, format="json")
    assert response.status_code == 400
    assert "primary_colour" in response.json()["fields"]["template_options"][0]


def test_viewer_cannot_create_a_campaign(program):
    viewer = api_client(make_api_key(program=program, role=Role.VIEWER))
    response = viewer.post("/api/campaigns", _create_body(), format="json")
    assert response.status_code == 403
    assert not Campaign.objects.exists()


def test_messages_follow_the_callers_language(program):
    campaign = make_campaign(program=program)
    client = api_client(make_api_key(program=program))
    english = client.get(f"/api/campaigns/{campaign.pk}", HTTP_ACCEPT_LANGUAGE="en").json()
    french = client.get(f"/api/campaigns/{campaign.pk}", HTTP_ACCEPT_LANGUAGE="fr").json()
    labels = [[c["label"] for c in body["readiness"]["checks"]] for body in (english, french)]
    assert labels[0][0] == "Beneficiaries"
    assert labels[0] != labels[1]


def test_campaign_created_in_a_browser_session_records_its_author(program):
    user = make_user(program=program, role=Role.OPERATOR)
    client = api_client()
    client.force_login(user)
    response = client.post("/api/campaigns", _create_body(), format="json")
    assert Campaign.objects.get(pk=response.json()["id"]).created_by == user


# ---------------------------------------------------------------- detail, edit


def test_detail_includes_metrics_and_readiness(client, program):
    campaign = make_campaign(program=program)
    make_beneficiary(campaign=campaign)
    make_beneficiary(campaign=campaign, phone="")
    body = client.get(f"/api/campaigns/{campaign.pk}").json()
    assert body["metrics"]["beneficiaries"] == 2
    assert (body["metrics"]["with_phone"], body["metrics"]["without_phone"]) == (1, 1)
    checks = {c["key"]: c for c in body["readiness"]["checks"]}
    assert {"beneficiaries", "template", "quota", "phones", "preview"} <= set(checks)
    assert checks["phones"]["status"] == "warning"
    assert "1 of 2" in checks["phones"]["detail"]
    assert body["readiness"]["can_start"] is True


def test_detail_answers_with_and_without_trailing_slash(client, program):
    campaign = make_campaign(program=program)
    assert client.get(f"/api/campaigns/{campaign.pk}/").status_code == 200
    assert client.get(f"/api/campaigns/{campaign.pk}").status_code == 200


def test_readiness_says_it_cannot_start_without_beneficiaries(client, program):
    campaign = make_campaign(program=program)
    body = client.get(f"/api/campaigns/{campaign.pk}").json()
    assert body["readiness"]["can_start"] is False
    beneficiaries = next(c for c in body["readiness"]["checks"] if c["key"] == "beneficiaries")
    assert beneficiaries["status"] == "missing"
    assert beneficiaries["action"]


def test_unknown_campaign_is_404(client):
    response = client.get("/api/campaigns/999999")
    assert response.status_code == 404
    assert response.json()["error"]


def test_soft_deleted_campaign_is_404_unless_include_deleted(client, program):
    campaign = make_campaign(program=program, deleted_at=timezone.now())
    assert client.get(f"/api/campaigns/{campaign.pk}").status_code == 404
    response = client.get(f"/api/campaigns/{campaign.pk}?include_deleted=true")
    assert response.status_code == 200
    assert response.json()["deleted_at"] is not None


def test_patch_changes_the_settings(client, program):
    campaign = make_campaign(program=program, name="Old")
    response = client.patch(
        f"/api/campaigns/{campaign.pk}", {"name": "New", "dpi": 600}, format="json"
    )
    assert response.status_code == 200
    campaign.refresh_from_db()
    assert (campaign.name, campaign.dpi) == ("New", 600)


def test_patch_refuses_a_prefix_change_naming_prefix(client, program):
    campaign = make_campaign(program=program, prefix="DKR-VAC")
    response = client.patch(f"/api/campaigns/{campaign.pk}", {"prefix": "THS-VAC"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["prefix"]
    campaign.refresh_from_db()
    assert campaign.prefix == "DKR-VAC"


def test_patch_refuses_a_campaign_type_change(client, program):
    campaign = make_campaign(program=program)
    response = client.patch(
        f"/api/campaigns/{campaign.pk}", {"campaign_type": "hiv"}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["campaign_type"]


def test_patch_accepts_the_same_prefix_and_type(client, program):
    campaign = make_campaign(program=program, prefix="DKR-VAC")
    response = client.patch(
        f"/api/campaigns/{campaign.pk}",
        {"prefix": "dkr-vac", "campaign_type": "vaccination", "name": "Renamed"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["name"] == "Renamed"


def test_patch_with_unknown_template_is_400(client, program):
    campaign = make_campaign(program=program)
    response = client.patch(
        f"/api/campaigns/{campaign.pk}", {"template_id": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert "template_id" in response.json()["fields"]


def test_patch_of_a_soft_deleted_campaign_is_404(client, program):
    campaign = make_campaign(program=program, deleted_at=timezone.now())
    response = client.patch(f"/api/campaigns/{campaign.pk}", {"name": "x"}, format="json")
    assert response.status_code == 404


def test_viewer_can_read_but_not_patch(program):
    campaign = make_campaign(program=program, name="Old")
    viewer = api_client(make_api_key(program=program, role=Role.VIEWER))
    assert viewer.get(f"/api/campaigns/{campaign.pk}").status_code == 200
    response = viewer.patch(f"/api/campaigns/{campaign.pk}", {"name": "New"}, format="json")
    assert response.status_code == 403


# ---------------------------------------------------------------- delete, purge


def test_delete_soft_deletes_with_204(client, program):
    campaign = make_campaign(program=program)
    assert client.delete(f"/api/campaigns/{campaign.pk}").status_code == 204
    campaign.refresh_from_db()
    assert campaign.deleted_at is not None


def test_delete_is_refused_while_a_job_runs(client, program):
    campaign = make_campaign(program=program)
    make_job(campaign=campaign, status=Job.Status.GENERATING)
    response = client.delete(f"/api/campaigns/{campaign.pk}")
    assert response.status_code == 409
    assert "cancel" in response.json()["error"]


def test_purge_deletes_the_campaign_for_good(client, program):
    campaign = make_campaign(program=program)
    make_beneficiary(campaign=campaign)
    assert client.delete(f"/api/campaigns/{campaign.pk}?purge=true").status_code == 204
    assert not Campaign.objects.filter(pk=campaign.pk).exists()


def test_purge_reaches_a_soft_deleted_campaign(client, program):
    campaign = make_campaign(program=program, deleted_at=timezone.now())
    assert client.delete(f"/api/campaigns/{campaign.pk}?purge=true").status_code == 204
    assert not Campaign.objects.filter(pk=campaign.pk).exists()


def test_purge_by_an_operator_is_403(program):
    campaign = make_campaign(program=program)
    operator = api_client(make_api_key(program=program, role=Role.OPERATOR))
    assert operator.delete(f"/api/campaigns/{campaign.pk}?purge=true").status_code == 403
    assert Campaign.objects.filter(pk=campaign.pk, deleted_at__isnull=True).exists()


def test_viewer_cannot_delete(program):
    campaign = make_campaign(program=program)
    viewer = api_client(make_api_key(program=program, role=Role.VIEWER))
    assert viewer.delete(f"/api/campaigns/{campaign.pk}").status_code == 403


# ---------------------------------------------------------------- lifecycle actions


def test_restore_brings_back_a_soft_deleted_campaign(client, program):
    campaign = make_campaign(program=program, deleted_at=timezone.now())
    response = client.post(f"/api/campaigns/{campaign.pk}/restore")
    assert response.status_code == 200
    assert response.json()["deleted_at"] is None
    assert client.get(f"/api/campaigns/{campaign.pk}").status_code == 200


def test_duplicate_copies_settings_but_not_beneficiaries(client, program):
    campaign = make_campaign(
        program=program, name="Polio", language="en", dpi=600, card_validity_months=24,
        template_options={"title": "Polio card"}, description="Round 1",
    )
    make_beneficiary(campaign=campaign)
    response = client.post(
        f"/api/campaigns/{campaign.pk}/duplicate", {"prefix": "dkr-r2"}, format="json"
    )
    assert response.status_code == 201
    copy = response.json()
    assert copy["prefix"] == "DKR-R2"
    assert copy["status"] == "draft"
    assert (copy["language"], copy["dpi"], copy["card_validity_months"]) == ("en", 600, 24)
    assert copy["template_options"] == {"title": "Polio card"}
    assert copy["name"] == "Polio (copy)"
    assert copy["metrics"]["beneficiaries"] == 0


def test_duplicate_takes_a_new_name(client, program):
    campaign = make_campaign(program=program)
    response = client.post(
        f"/api/campaigns/{campaign.pk}/duplicate", {"prefix": "RND-2", "name": "Round 2"},
        format="json",
    )
    assert response.json()["name"] == "Round 2"


def test_duplicate_without_prefix_is_400_naming_prefix(client, program):
    campaign = make_campaign(program=program)
    response = client.post(f"/api/campaigns/{campaign.pk}/duplicate", {}, format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["prefix"]


def test_duplicate_with_a_taken_prefix_is_400(client, program):
    campaign = make_campaign(program=program, prefix="DKR-VAC")
    response = client.post(
        f"/api/campaigns/{campaign.pk}/duplicate", {"prefix": "DKR-VAC"}, format="json"
    )
    assert response.status_code == 400
    assert "prefix" in response.json()["fields"]


def test_archive_then_unarchive(client, program):
    campaign = make_campaign(program=program)
    archived = client.post(f"/api/campaigns/{campaign.pk}/archive").json()
    assert archived["archived_at"] is not None
    assert client.get("/api/campaigns").json()["meta"]["total"] == 0
    unarchived = client.post(f"/api/campaigns/{campaign.pk}/unarchive/").json()
    assert unarchived["archived_at"] is None


def test_archive_with_archived_false_unarchives(client, program):
    campaign = make_campaign(program=program, archived_at=timezone.now())
    response = client.post(
        f"/api/campaigns/{campaign.pk}/archive", {"archived": False}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["archived_at"] is None


def test_viewer_cannot_archive(program):
    campaign = make_campaign(program=program)
    viewer = api_client(make_api_key(program=program, role=Role.VIEWER))
    assert viewer.post(f"/api/campaigns/{campaign.pk}/archive").status_code == 403


# ---------------------------------------------------------------- CSV export


def _csv_rows(response):
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_export_csv_lists_the_filtered_campaigns(client, program):
    nets = make_campaign(program=program, name="Nets", campaign_type="mild", prefix="NET-01")
    make_beneficiary(campaign=nets)
    make_campaign(program=program, name="Vax")
    response = client.get("/api/campaigns/export.csv?campaign_type=mild")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _csv_rows(response)
    assert list(rows[0]) == [
        "id", "name", "prefix", "type", "language", "status", "dpi", "beneficiaries",
        "created_at", "archived_at",
    ]
    assert [(r["name"], r["prefix"], r["type"], r["beneficiaries"]) for r in rows] == [
        ("Nets", "NET-01", "mild", "1")
    ]


def test_export_csv_is_not_paginated(client, program):
    for _ in range(30):
        make_campaign(program=program)
    assert len(_csv_rows(client.get("/api/campaigns/export.csv"))) == 30


def test_export_csv_keeps_formulas_inert(client, program):
    make_campaign(program=program, name="=HYPERLINK(\"http://evil\")")
    rows = _csv_rows(client.get("/api/campaigns/export.csv"))
    assert rows[0]["name"].startswith("'=")


def test_export_csv_with_a_bad_filter_is_400(client):
    response = client.get("/api/campaigns/export.csv?sort_field=nope")
    assert response.status_code == 400
    assert "sort_field" in response.json()["fields"]


def test_export_csv_honours_accept_text_csv(client, program):
    make_campaign(program=program)
    response = client.get("/api/campaigns/export.csv", HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert len(_csv_rows(response)) == 1


def _queries_for(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_list_query_count_does_not_grow_with_the_page(client, program):
    for _ in range(2):
        make_beneficiary(campaign=make_campaign(program=program))
    url = "/api/campaigns?include_aggregations=true"
    client.get(url)  # the key's first use writes last_used_at once
    few = _queries_for(client, url)
    for _ in range(20):
        make_beneficiary(campaign=make_campaign(program=program))
    assert _queries_for(client, url) == few
