"""The one way a stored file leaves the server: a view checks who may have it, then calls
file_response. No URL serves MEDIA_ROOT directly.

FILES_ACCEL picks who sends the bytes: Django itself (""), or the front web server told by a
header once the check passed ("x-accel-redirect" for nginx, "x-sendfile" for Apache or
lighttpd), so a worker process is not held for the length of a big download.
"""

from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse, HttpResponse
from django.utils.http import content_disposition_header


def file_response(field_file, *, content_type, filename=None, as_attachment=True):
    """The response carrying `field_file` (a FieldFile of the default storage)."""
    filename = filename or field_file.name.rsplit("/", 1)[-1]
    mode = settings.FILES_ACCEL
    if mode == "x-accel-redirect":
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
