"""SigningKey moved from verification to cards with state-only migrations: a database that held
keys before the move keeps them, found through the new model, with the same content type."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from cards.models import SigningKey
from tests.factories import make_program

BEFORE_MOVE = [
    ("cards", "0003_one_live_card_per_beneficiary"),
    ("verification", "0002_verbose_names"),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_signing_key_stored_before_the_move_is_found_through_the_cards_model():
    program = make_program()
    content_type = ContentType.objects.get_for_model(SigningKey)
    executor = _migrate(BEFORE_MOVE)
    old_apps = executor.loader.project_state(BEFORE_MOVE).apps
    OldSigningKey = old_apps.get_model("verification", "SigningKey")
    old = OldSigningKey.objects.create(
        program_id=program.pk, kid="ABCDEFGH", public_key="x" * 43,
        private_key_encrypted="encrypted",
    )
    ContentType.objects.clear_cache()
    assert ContentType.objects.get(pk=content_type.pk).app_label == "verification"

    executor = _migrate(executor.loader.graph.leaf_nodes())

    key = SigningKey.objects.get(pk=old.pk)
    assert (key.program_id, key.kid, key.status) == (program.pk, "ABCDEFGH", "active")
    assert SigningKey._meta.db_table == "verification_signingkey"
    ContentType.objects.clear_cache()
    assert ContentType.objects.get(pk=content_type.pk).app_label == "cards"
