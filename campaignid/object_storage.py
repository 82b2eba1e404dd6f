"""Where stored files live: MEDIA_ROOT on this machine (the default, a laptop), or an
S3-compatible bucket (MinIO, Ceph, a cloud bucket) that every web and worker process on every
machine reaches, so that a chunk one worker renders is read by the worker that packages.

Read by settings.py from the environment, either

    STORAGE_URL=s3://<bucket>[/<prefix>]?endpoint_url=<http(s)://host:port>&region=<name>
                [&addressing_style=path|virtual]

or the names the AWS tools use: AWS_STORAGE_BUCKET_NAME, AWS_S3_ENDPOINT_URL,
AWS_S3_REGION_NAME (or AWS_DEFAULT_REGION). The keys are never part of either: boto3 reads
AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or an instance role) itself, so they are in no
Django setting, no URL an error could quote, no log line.

Objects are private: no ACL is sent (the bucket's own policy, private, applies) and the app
never hands out a bucket URL; a file leaves only through campaignid/files.py after the view's
access check, its bytes read by the app from the bucket.
"""

from urllib.parse import parse_qs, urlsplit

S3_BACKEND = "storages.backends.s3.S3Storage"
FILESYSTEM_BACKEND = "django.core.files.storage.FileSystemStorage"
URL_OPTIONS = {"endpoint_url", "region", "addressing_style"}
# An object read whole by a worker (a chunk, a job's ZIP for the messages) is held in memory
# up to this size, then spooled to the scratch folder.
SPOOL_BYTES = 16 * 1024 * 1024


class StorageConfigError(ValueError):
    pass


def default_storage_from_env(env):
    """STORAGES["default"] for the environment `env` (a mapping)."""
    url = env.get("STORAGE_URL", "").strip()
    if url:
        bucket, prefix, options = _parse_url(url)
    elif env.get("AWS_STORAGE_BUCKET_NAME", "").strip():
        bucket, prefix = env["AWS_STORAGE_BUCKET_NAME"].strip(), env.get("AWS_LOCATION", "")
        options = {
            "endpoint_url": env.get("AWS_S3_ENDPOINT_URL", "").strip(),
            "region": (env.get("AWS_S3_REGION_NAME") or env.get("AWS_DEFAULT_REGION", "")).strip(),
            "addressing_style": env.get("AWS_S3_ADDRESSING_STYLE", "").strip(),
        }
    else:
        return {"BACKEND": FILESYSTEM_BACKEND}
    return {"BACKEND": S3_BACKEND, "OPTIONS": _s3_options(bucket, prefix.strip("/"), options)}


def is_object_storage(storage_setting):
    return storage_setting["BACKEND"] == S3_BACKEND


def check_files_accel(files_accel, storage_setting):
    """FILES_ACCEL names a file under MEDIA_ROOT for the front server to read (x-sendfile its
    path, x-accel-redirect a location aliased onto it): a bucket has neither."""
    if files_accel and is_object_storage(storage_setting):
        raise StorageConfigError(
            f"FILES_ACCEL={files_accel!r} reads files under MEDIA_ROOT: with STORAGE_URL (a "
            "bucket) leave it empty; the app streams files from the bucket after its check."
        )


def _parse_url(url):
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.hostname:
        raise StorageConfigError(
            "STORAGE_URL must read s3://<bucket>[/<prefix>]?endpoint_url=...&region=..."
        )
    if parts.username or parts.password:
        # Keys in a URL end up in process listings and error messages: boto3 reads them from
        # AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY instead.
        raise StorageConfigError(
            "STORAGE_URL must not hold keys: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."
        )
    query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    unknown = set(query) - URL_OPTIONS
    if unknown:
        raise StorageConfigError(
            f"STORAGE_URL: unknown option(s) {', '.join(sorted(unknown))}; "
            f"use {', '.join(sorted(URL_OPTIONS))}."
        )
    # The bucket is the URL's host as written (urlsplit's hostname would lower-case it).
    bucket = parts.netloc.rsplit("@", 1)[-1]
    return bucket, parts.path, query


def _s3_options(bucket, prefix, options):
    endpoint = options.get("endpoint_url") or None
    style = options.get("addressing_style") or ("path" if endpoint else None)
    if style not in (None, "path", "virtual"):
        raise StorageConfigError("addressing_style must be path or virtual.")
    if endpoint and urlsplit(endpoint).scheme not in ("http", "https"):
        raise StorageConfigError("endpoint_url must be an http:// or https:// address.")
    return {
        "bucket_name": bucket,
        "location": prefix,
        "endpoint_url": endpoint,
        "region_name": options.get("region") or None,
        # MinIO and Ceph answer on one host name, the bucket in the path.
        "addressing_style": style,
        "signature_version": "s3v4",
        # No ACL header: the bucket's policy (private) decides; "public-read" never.
        "default_acl": None,
        # If anything ever asks a file for its URL it is signed and short-lived, never public.
        "querystring_auth": True,
        "querystring_expire": 60,
        # A name taken gets another one, as on the file system (storage_put deletes first).
        "file_overwrite": False,
        "max_memory_size": SPOOL_BYTES,
    }
