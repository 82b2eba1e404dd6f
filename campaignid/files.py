"""The one way a stored file leaves the server: a view checks who may have it, then calls
file_response. No URL serves MEDIA_ROOT or the bucket directly.

FILES_ACCEL picks who sends the bytes of a file under MEDIA_ROOT: Django itself (""), or the
front web server told by a header once the check passed ("x-accel-redirect" for nginx,
"x-sendfile" for Apache or lighttpd), so a worker process is not held for the length of a big
download.

A file in a bucket (STORAGE_URL) is streamed by the app from the bucket, a megabyte at a time,
rather than answered with a redirect to a presigned URL: the bucket can stay on a private
network that phones in the field never reach, the page's Content-Security-Policy keeps images
to our own origin (the logo), no signed URL (a bearer credential while it lasts) lands in a
browser's history, a proxy's log or a Referer, and API clients get the bytes the OpenAPI
document promises instead of a redirect they may not follow.
"""

from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, HttpResponse
from django.utils.http import content_disposition_header

STREAM_BLOCK = 1024 * 1024


def file_response(field_file, *, content_type, filename=None, as_attachment=True):
    """The response carrying `field_file` (a FieldFile of the default storage)."""
    filename = filename or field_file.name.rsplit("/", 1)[-1]
    mode = settings.FILES_ACCEL
    if not isinstance(field_file.storage, FileSystemStorage):
        response = _streamed_from_bucket(field_file, content_type)
    elif mode == "x-accel-redirect":
        response = HttpResponse(content_type=content_type)
        # An internal nginx location maps the prefix onto MEDIA_ROOT; nginx unescapes the URI.
        prefix = settings.FILES_ACCEL_PREFIX.rstrip("/")
        response["X-Accel-Redirect"] = quote(f"{prefix}/{field_file.name}")
    elif mode == "x-sendfile":
        response = HttpResponse(content_type=content_type)
        response["X-Sendfile"] = field_file.path
    else:
        response = FileResponse(field_file.open("rb"), content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment, filename)
    # Health data: no shared cache (proxy, CDN) keeps a copy, nor the browser's disk cache.
    response["Cache-Control"] = "private, no-store"
    return response


def _streamed_from_bucket(field_file, content_type):
    # The object's body read as it arrives: opening it through the storage would first copy
    # the whole object into memory or a temporary file.
    with field_file.storage.open(field_file.name, "rb") as stored:  # checks it exists
        answer = stored.obj.get()
    response = FileResponse(answer["Body"], content_type=content_type)
    response.block_size = STREAM_BLOCK
    response["Content-Length"] = str(answer["ContentLength"])
    return response
