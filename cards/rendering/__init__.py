"""Card rendering: HTML -> one WeasyPrint PDF per chunk -> one PNG per card.

  renderer.py          CardRenderer: one campaign's cards at one resolution
  weasyprint_setup.py  WeasyPrint patched and fenced in for cards (imported by the renderer)
  templates.py         the card's HTML and CSS templates
  logo.py              the program's logo; data URIs
  rows.py              what a card prints, row by row
  sample.py            a fictional card, for previews and palettes
  pdf_finisher.py      shared art and backs as PDF forms
  pdf_qr.py            each card's QR drawn into its PDF page
  preview.py           previews, one at a time per process
  errors.py            CardRenderError, PreviewBusy
"""
