"""Card previews for the web pages and the API: one render at a time in a process."""

import io
import threading

from django.conf import settings
from django.utils.translation import gettext as _

from campaigns import studio
from cards.rendering.errors import PreviewBusy
from cards.rendering.renderer import CardRenderer

PREVIEW_DPI = 200


def render_preview_png(*, campaign, program=None, template_options=None):
    """PNG of a sample card (front above back) with the campaign's template and options,
    or the unsaved `template_options` given. Bad options raise ValidationError naming the
    field; anything else that cannot render raises CardRenderError."""
    if template_options is not None:
        studio.template_options_validate(template_options, studio.template_for_campaign(campaign))
    # Web servers render previews from several threads; Pango, fontconfig and pdfium are not
    # thread-safe (parallel renders crashed the process), so one preview renders at a time.
    # A render cannot be interrupted, but its inputs are bounded (the logo's size is checked
    # before decoding, campaigns/logos.py) and a request waits for its turn only so long:
    # then it answers "busy, try again" instead of hanging.
    wait = getattr(settings, "CARD_PREVIEW_WAIT_SECONDS", PREVIEW_WAIT_SECONDS)
    if not _PREVIEW_LOCK.acquire(timeout=wait):
        raise PreviewBusy(
            _("The card preview is busy; try again in a few seconds (waited %(seconds)s s).")
            % {"seconds": f"{wait:g}"}
        )
    try:
        renderer = CardRenderer(
            campaign=campaign, program=program, dpi=PREVIEW_DPI, include_mpi_id=True,
            template_options=template_options,
        )
        buffer = io.BytesIO()
        renderer.preview_image().save(buffer, "PNG", compress_level=6)
    finally:
        _PREVIEW_LOCK.release()
    return buffer.getvalue()


_PREVIEW_LOCK = threading.Lock()
PREVIEW_WAIT_SECONDS = 10
