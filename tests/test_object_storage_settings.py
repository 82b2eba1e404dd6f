"""Where stored files live, read from the environment (campaignid/object_storage.py): the
local folder unless a bucket is named, and a bucket configured private, with its keys outside
every setting and URL."""

import subprocess
import sys

import pytest

from campaignid.log_masking import mask
from campaignid.object_storage import (
    FILESYSTEM_BACKEND,
    S3_BACKEND,
    StorageConfigError,
    check_files_accel,
    default_storage_from_env,
)
from tests.processes import ROOT, child_env


def test_without_a_bucket_files_stay_under_media_root():
    assert default_storage_from_env({}) == {"BACKEND": FILESYSTEM_BACKEND}


def test_storage_url_names_the_bucket_prefix_endpoint_and_region():
    setting = default_storage_from_env({
        "STORAGE_URL": "s3://cards-prod/campaignid?endpoint_url=https://minio.lan:9000"
                       "&region=us-east-1",
    })
    options = setting["OPTIONS"]
    assert setting["BACKEND"] == S3_BACKEND
    assert (options["bucket_name"], options["location"]) == ("cards-prod", "campaignid")
    assert (options["endpoint_url"], options["region_name"]) == ("https://minio.lan:9000",
                                                                 "us-east-1")
    assert options["addressing_style"] == "path"  # MinIO, Ceph: one host, bucket in the path


def test_the_aws_variables_name_a_bucket_too():
    options = default_storage_from_env({
        "AWS_STORAGE_BUCKET_NAME": "cards", "AWS_S3_REGION_NAME": "eu-west-3",
    })["OPTIONS"]
    assert (options["bucket_name"], options["region_name"]) == ("cards", "eu-west-3")
    assert options["endpoint_url"] is None and options["addressing_style"] is None


def test_a_bucket_is_private_and_never_hands_out_a_lasting_url():
    options = default_storage_from_env({"STORAGE_URL": "s3://cards"})["OPTIONS"]
    assert options["default_acl"] is None  # the bucket's policy: private
    assert options["querystring_auth"] is True and options["querystring_expire"] <= 60
    assert "access_key" not in options and "secret_key" not in options


def test_keys_in_the_storage_url_are_refused_naming_the_variables():
    with pytest.raises(StorageConfigError, match="AWS_ACCESS_KEY_ID"):
        default_storage_from_env({"STORAGE_URL": "s3://AKIAEXAMPLE:s3cret@cards"})


@pytest.mark.parametrize("url", ["http://cards", "s3://", "s3://cards?endpoint=x",
                                 "s3://cards?endpoint_url=ftp://host"])
def test_a_malformed_storage_url_is_refused(url):
    with pytest.raises(StorageConfigError):
        default_storage_from_env({"STORAGE_URL": url})


@pytest.mark.parametrize("mode", ["x-sendfile", "x-accel-redirect"])
def test_files_accel_is_refused_with_a_bucket(mode):
    bucket = default_storage_from_env({"STORAGE_URL": "s3://cards"})
    with pytest.raises(StorageConfigError, match="MEDIA_ROOT"):
        check_files_accel(mode, bucket)
    check_files_accel(mode, default_storage_from_env({}))  # a local MEDIA_ROOT: fine


@pytest.mark.slow
def test_the_app_refuses_to_start_with_files_accel_and_a_bucket():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, capture_output=True, text=True,
        env={**child_env(), "STORAGE_URL": "s3://cards", "FILES_ACCEL": "x-sendfile"},
    )
    assert result.returncode != 0
    assert "FILES_ACCEL='x-sendfile' reads files under MEDIA_ROOT" in result.stderr


def test_a_presigned_urls_signature_credential_and_key_id_are_masked_in_logs():
    line = mask(
        "GET https://minio.lan/cards/jobs/1/manifest.json?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261204%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Signature=0a1b2c3d4e5f&X-Amz-Security-Token=tok3n failed for AKIAIOSFODNN7EXAMPLE"
    )
    for secret in ("AKIAIOSFODNN7EXAMPLE", "0a1b2c3d4e5f", "tok3n"):
        assert secret not in line
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in line
