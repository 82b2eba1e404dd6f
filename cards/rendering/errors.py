"""What rendering a card raises."""


class CardRenderError(Exception):
    """A card could not be rendered; the message says what and, where known, which card."""


class PreviewBusy(CardRenderError):
    """Other previews kept the renderer longer than CARD_PREVIEW_WAIT_SECONDS: try again."""

    retry_after = 5
