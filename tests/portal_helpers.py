"""The offline portal as tests open it: the archive a portal.zip download streams, and a
card checked in the unzipped portal in Chromium (what its QR holds typed in, the verdict
read)."""

import io
import zipfile


def portal_archive(response):
    """The zip archive a portal.zip response streams."""
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def scanned_link(card, token=None):
    """The link a card's QR holds, with another `token` in its fragment if given."""
    return f"https://verify.example.sn/v/c/{card.code}#{token or card.token}"


def check_in_portal(context, portal, text, *, ready="body[data-ready]"):
    """Opens the unzipped portal (`portal["index"]`) in `context`, waits for `ready`, checks
    `text` there; returns the page."""
    page = context.new_page()
    page.goto(portal["index"])
    page.wait_for_selector(ready)
    page.fill("#query", text)
    page.click("#check")
    page.wait_for_selector("#result[data-checked]")
    return page


def verdict(page):
    """The verdict the verifier's page shows: valid, forged, revoked..."""
    return page.get_attribute("#result", "data-verdict")
