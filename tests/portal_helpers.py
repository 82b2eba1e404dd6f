"""The offline portal as tests open it: the archive a portal.zip download streams."""

import io
import zipfile


def portal_archive(response):
    """The zip archive a portal.zip response streams."""
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
