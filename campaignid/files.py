"""The one way a stored file leaves the server: a view checks who may have it, then calls
file_response. No URL serves MEDIA_ROOT or the bucket directly.

FILES_ACCEL picks who sends the bytes of a file under MEDIA_ROOT: Django itself (""), or the
front web server told by a header once the check passed ("x-accel-redirect" for nginx,
"x-sendfile" for Apache or lighttpd), so a worker process is not held for the length of a big
download.

A file in a bucket (STORAGE_URL) is streamed by the app from the bucket, a megabyte at a time
(an async iterator, so uvicorn never holds more than a block), rather than answered with a
redirect to a presigned URL: the bucket can stay on a private network that phones in the
field never reach, the page's Content-Security-Policy keeps images to our own origin (the
logo), no signed URL (a bearer credential while it lasts) lands in a browser's history, a
proxy's log or a Referer, and API clients get the bytes the OpenAPI document promises instead
of a redirect they may not follow.
"""

from urllib.parse import quote

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
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
    # The object's body is read as it arrives, a block at a time: opening it through the
    # storage would first copy the whole object into memory or a temporary file.
    with field_file.storage.open(field_file.name, "rb") as stored:  # checks it exists
        answer = stored.obj.get()
    response = StreamingHttpResponse(_blocks(answer["Body"]), content_type=content_type)
    response["Content-Length"] = str(answer["ContentLength"])
    return response


async def _blocks(body):
    # An async iterator: under ASGI (uvicorn) Django reads a sync one whole into a list before
    # sending its first byte; this one holds one block of a 500 MB PDF at a time.
    try:
        while block := await sync_to_async(body.read, thread_sensitive=False)(STREAM_BLOCK):
            yield block
    finally:
        body.close()
