"""A version's lineage is immutable: refused by the model layer and by the database."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction

from governance.registry.models import ModelVersion
from governance.registry.services import RegistryError, version_register

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def test_it_numbers_versions_and_hashes_the_config(alice, version):
    from governance.core.canonical import canonical_json_sha256

    assert version.version == 1
    assert version.training_config_sha256 == canonical_json_sha256(version.training_config)
    second = version_register(user=alice, model=version.model, artifact_uri="s3://x", artifact_sha256="b" * 64)
    assert second.version == 2


def test_the_model_layer_refuses_lineage_edits(version):
    version.artifact_sha256 = "c" * 64
    with pytest.raises(ValidationError, match="immutable"):
        version.save()


@pytest.mark.parametrize(
    "column,value",
    [
        ("artifact_sha256", "'" + "d" * 64 + "'"),
        ("seed", "7"),
        ("code_hash", "'x'"),
        ("training_config", "'{}'"),
        ("source", "'{\"mlflow\": {}}'"),
    ],
)
def test_the_database_refuses_lineage_edits(version, column, value):
    with pytest.raises(DatabaseError, match="immutable"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE registry_modelversion SET {column} = {value} WHERE id = %s", [version.pk])
    version.refresh_from_db()
    assert version.seed == 42


def test_stage_changes_are_allowed_at_the_database(version):
    ModelVersion.objects.filter(pk=version.pk).update(stage="staging")
    version.refresh_from_db()
    assert version.stage == "staging"


def test_one_production_version_per_model_is_a_database_constraint(alice, model):
    from tests.factories import make_version

    make_version(model, alice, stage="production")
    b = make_version(model, alice)
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.filter(pk=b.pk).update(stage="production")


def test_bad_lineage_input_is_a_clear_error(alice, version):
    with pytest.raises(RegistryError, match="artifact_sha256"):
        version_register(user=alice, model=version.model, artifact_uri="s3://x", artifact_sha256="nothex")
    with pytest.raises(RegistryError, match="already exists"):
        version_register(user=alice, model=version.model, artifact_uri="s3://x", artifact_sha256="a" * 64, version=1)
    assert version.model.versions.count() == 1
