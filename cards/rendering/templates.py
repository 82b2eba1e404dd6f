"""The card's HTML and CSS templates (cards/templates/cards/), filled with escaped text."""

import html
from pathlib import Path
from string import Template

from cards.rendering.errors import CardRenderError

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "cards"


def escape(value):
    return html.escape(str(value), quote=False)


def load_template(name):
    try:
        return Template((TEMPLATE_DIR / name).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CardRenderError(f"Card template file {name} cannot be read: {exc}") from exc
