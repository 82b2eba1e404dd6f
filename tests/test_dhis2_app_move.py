"""The DHIS2 models moved from the campaigns app to the dhis2 app without touching their tables:
a database holding DHIS2 rows keeps every one across the migrations, and the new models read
them; the rows' content types (and so permissions, admin log entries) follow them."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from campaigns.dhis2.models import CampaignDhis2Link, Dhis2Connection, Dhis2SyncRun, Dhis2SyncSkip

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

OLD_LEAF = ("campaigns", "0009_job_reissue_and_skipped")


def _migrate(targets, state_at):
    """Migrates the test database to `targets`; the models as they were at `state_at`."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(state_at).apps


def test_dhis2_rows_survive_the_move_to_their_own_app():
    old = _migrate([OLD_LEAF, ("dhis2", None)],
                   [OLD_LEAF, ("contenttypes", "0002_remove_content_type_name")])
    program = old.get_model("campaigns", "Program").objects.create(name="Moved", slug="moved")
    campaign = old.get_model("campaigns", "Campaign").objects.create(
        program=program, name="Moved", campaign_type="vaccination", prefix="MOV"
    )
    old.get_model("campaigns", "Dhis2Connection").objects.create(
        program=program, enabled=True, base_url="https://dhis2.example.org",
        config_encrypted="sealed",
    )
    old.get_model("campaigns", "CampaignDhis2Link").objects.create(
        campaign=campaign, program_uid="IpHINAT79UW", org_unit_uid="ImspTQPwCqd",
        mapping={"sex": "cejWyOfXge6"}, labels={"program": "Child Programme"},
    )
    run = old.get_model("campaigns", "Dhis2SyncRun").objects.create(
        campaign=campaign, status="completed", pages_done=2, skipped_count=1
    )
    old.get_model("campaigns", "Dhis2SyncSkip").objects.create(
        run=run, page=2, tracked_entity="Te000000001", field="sex", reason="sex not F/M"
    )
    content_type = old.get_model("contenttypes", "ContentType")
    run_type, _created = content_type.objects.get_or_create(
        app_label="campaigns", model="dhis2syncrun")

    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    _migrate(leaves, leaves)
    ContentType.objects.clear_cache()

    connection_row = Dhis2Connection.objects.get(program_id=program.pk)
    assert (connection_row.enabled, connection_row.base_url, connection_row.config_encrypted) == (
        True, "https://dhis2.example.org", "sealed")
    link = CampaignDhis2Link.objects.get(campaign_id=campaign.pk)
    assert link.mapping == {"sex": "cejWyOfXge6"}
    assert link.labels == {"program": "Child Programme"}
    moved_run = Dhis2SyncRun.objects.get(pk=run.pk)
    assert (moved_run.campaign_id, moved_run.status, moved_run.pages_done) == (
        campaign.pk, "completed", 2)
    skip = Dhis2SyncSkip.objects.get(run=moved_run)
    assert (skip.tracked_entity, skip.reason) == ("Te000000001", "sex not F/M")
    assert moved_run.campaign.dhis2_link == link
    assert ContentType.objects.get_for_model(Dhis2SyncRun).pk == run_type.pk
    assert not ContentType.objects.filter(app_label="campaigns", model="dhis2syncrun").exists()
