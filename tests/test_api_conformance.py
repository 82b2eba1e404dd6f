"""The API answers as its OpenAPI document says: schemathesis generates requests for every
operation of the document /api/schema/ serves and checks each answer: no 5xx, a documented
status code and content type, a body that matches the documented schema.

One pytest test per operation (`pytest -m slow tests/test_api_conformance.py`), each with a
fresh program full of data (campaigns, beneficiaries with cards, a completed job, a dispatch,
provider settings, a DHIS2 link and sync run) and an admin key granted sensitive data, so every
operation is reachable. Requests go through the WSGI app in this process, and each runs in a
savepoint rolled back after it: a DELETE (a campaign's purge, a template's removal) or a state
change (archive, revoke, a dispatch's start) never takes the data the next example needs.
"""

import copy

import hypothesis
import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from hypothesis import strategies as st
from schemathesis import checks as schemathesis_checks
from schemathesis.specs.openapi import checks as openapi_checks

from campaigns.dhis2.models import Dhis2SyncRun
from campaigns.models import Role
from tests.factories import (
    api_client,
    make_api_key,
    make_campaign,
    make_dhis2_connection,
    make_dhis2_link,
    make_dispatch,
    make_integration,
    make_issued_cards,
    make_program,
)
from tests.stubs.dhis2 import COUNTRY, MAPPING, PROGRAM

pytest_plugins = ["tests.stubs.fixtures", "tests.stubs.dhis2_fixtures"]

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

CHECKS = [
    schemathesis_checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]
# Fuzzing examples per operation, on top of the explicit and boundary ("coverage") cases; a
# fixed seed so a failure reproduces and CI runs the same requests every time.
EXAMPLES_PER_OPERATION = 25
SEED = 20261204

# The document /api/schema/ serves (see the first test), loaded once at collection: the tests
# are one per operation.
DOCUMENT = SchemaGenerator().get_schema(request=None, public=True)
schema = schemathesis.openapi.from_dict(
    copy.deepcopy(DOCUMENT),
    config=schemathesis.Config.from_dict({
        "seed": SEED,
        "generation": {"max-examples": EXAMPLES_PER_OPERATION, "database": "none"},
        "phases": {"stateful": {"enabled": False}},
    }),
)
schema.app = get_wsgi_application()
# Ids of the current test's real objects, for the path parameters.
KNOWN = {}


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    # Half the examples name real objects, or every id would be an unknown one (404). Read
    # when drawn: the explicit examples are drawn at collection, before any test has data.
    if not path_parameters:
        return st.just(path_parameters)
    path = context.operation.path
    return st.booleans().map(
        lambda real: _known(path, path_parameters) if real and KNOWN else path_parameters
    )


def _known(path, path_parameters):
    known = dict(path_parameters)
    if "id" in known:
        known["id"] = KNOWN[_kind(path)]
    for name in ("code", "enrollment_id"):
        if name in known:
            known[name] = KNOWN[name]
    return known


def _kind(path):
    for prefix, kind in (("/api/jobs/", "job"), ("/api/dispatches/", "dispatch"),
                         ("/api/dhis2/syncs/", "sync")):
        if path.startswith(prefix):
            return kind
    return "campaign"


@pytest.fixture
def in_process_requests(settings):
    # Like Django's test client: a request must not close the connection whose transaction
    # holds the test's data.
    settings.ALLOWED_HOSTS = ["localhost"]
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_key(in_process_requests, whatsapp_stub, orange_stub, google_stub, dhis2_stub):
    program = make_program()
    key = make_api_key(program=program, role=Role.ADMIN, can_view_sensitive=True)
    campaign = make_campaign(program=program)
    cards = make_issued_cards(campaign=campaign, count=3, with_png=True)
    dispatch = make_dispatch(campaign=campaign)
    make_integration(program=program, channel="whatsapp", config=whatsapp_stub.config())
    make_integration(program=program, channel="sms", config=orange_stub.config())
    make_integration(program=program, channel="wallet", config=google_stub.config())
    make_dhis2_connection(program=program, config=dhis2_stub.config())
    make_dhis2_link(campaign=campaign, program_uid=PROGRAM, org_unit_uid=COUNTRY,
                    mapping=dict(MAPPING))
    run = Dhis2SyncRun.objects.create(campaign=campaign, status=Dhis2SyncRun.Status.COMPLETED)
    KNOWN.clear()
    KNOWN.update(campaign=campaign.pk, job=cards[0].job_id, dispatch=dispatch.pk, sync=run.pk,
                 code=cards[0].code, enrollment_id=cards[0].beneficiary.external_id)
    return key


def test_the_document_tested_is_the_one_served():
    key = make_api_key(program=make_program())
    assert api_client(key).get("/api/schema/?format=json").json() == DOCUMENT


@schema.parametrize()
@hypothesis.settings(deadline=None, suppress_health_check=list(hypothesis.HealthCheck))
def test_the_operation_answers_as_documented(case, api_key):
    with transaction.atomic():
        try:
            case.call_and_validate(headers={"X-API-Key": api_key}, checks=CHECKS)
        finally:
            transaction.set_rollback(True)
