"""The PDF surgery after WeasyPrint: the chunk's art and back become form XObjects shared
by every card's page, and each front gets its QR (pdf_qr.py)."""

import pydyf

from cards.rendering.errors import CardRenderError
from cards.rendering.layers import LayersUnusable
from cards.rendering.pdf_objects import page_contents, referenced
from cards.rendering.pdf_qr import draw_qr, qr_image


def page_to_form(pdf, page, name):
    """Turn a laid-out page into a form XObject `/name` of the shared resources."""
    stream = page_contents(pdf, page)
    resources = referenced(pdf, page["Resources"])
    if not isinstance(stream, pydyf.Stream) or "XObject" not in resources:
        raise CardRenderError("Unexpected PDF structure from WeasyPrint: cannot share card art.")
    stream.extra.update({
        "Type": "/XObject",
        "Subtype": "/Form",
        "BBox": page["MediaBox"],
        "Resources": page["Resources"],
    })
    resources["XObject"][name] = stream.reference
    draw = pydyf.Stream([f"/{name} Do".encode()])
    pdf.add_object(draw)
    return draw


class CardPdfFinisher:
    """WeasyPrint finisher for a card document laid out as [art, (back,) fronts]:

    - the first page (the static art) becomes a form XObject drawn first on every front,
      then leaves the page tree;
    - with `with_backs`, the second page (the back, the same on every card) becomes a form
      XObject too, and after each front comes a one-line page that draws it: the print PDF
      gets front, back, front, back... for one back laid out per chunk;
    - the fronts are one page per card (the reference path), or with `layers` one page on
      which every card's text is laid out at the same place, one layer box per card: each
      card gets a page of its own whose content is that page's frame around its layer's
      operators (recorded while WeasyPrint drew them, cards/rendering/weasyprint_setup.py),
      byte for byte what a page of its own would hold;
    - each front gets its card's QR image (`qr_matrices`, in card order);
    - `classic`: the streams are compressed although `uncompressed_pdf` was asked for, which
      WeasyPrint needs to write a classic file (xref table, no object streams).

    WeasyPrint gives every page of a document one shared resources dictionary, so the
    art's fonts and images resolve from any page. Pinned WeasyPrint (70): a change in
    that structure fails loudly here and in tests/test_card_rendering.py."""

    def __init__(self, qr_matrices, *, with_backs=False, classic=False, layers=None):
        self.qr_images = [qr_image(matrix) for matrix in qr_matrices]
        self.with_backs = with_backs
        self.classic = classic
        self.layers = layers

    def __call__(self, document, pdf):
        kids = pdf.pages["Kids"]
        numbers = [kids[position] for position in range(0, len(kids), 3)]
        leading = 2 if self.with_backs else 1
        if self.layers is None:
            fronts = [pdf.objects[number] for number in numbers[leading:]]
        else:
            fronts = self._layer_pages(pdf, numbers[leading:])
        if len(fronts) != len(self.qr_images):
            raise CardRenderError(
                f"The card template produced {len(fronts)} fronts for "
                f"{len(self.qr_images)} cards: its content overflows the card."
            )
        draw_art = page_to_form(pdf, pdf.objects[numbers[0]], "CardArt")
        if self.with_backs:
            draw_back = page_to_form(pdf, pdf.objects[numbers[1]], "CardBack")
        # One resources dictionary for every page of the document (see above).
        resources = referenced(pdf, pdf.objects[numbers[0]]["Resources"])
        leaves = []
        for index, (front, image) in enumerate(zip(fronts, self.qr_images, strict=True)):
            draw_qr(pdf, front, resources, image, f"QR{index}")
            front["Contents"] = pydyf.Array([draw_art.reference, front["Contents"]])
            leaves.extend([front.number, 0, "R"])
            if self.with_backs:
                back = pydyf.Dictionary({
                    "Type": "/Page",
                    "Parent": pdf.pages.reference,
                    "MediaBox": front["MediaBox"],
                    "Resources": front["Resources"],
                    "Contents": draw_back.reference,
                })
                pdf.add_object(back)
                leaves.extend([back.number, 0, "R"])
        kids[:] = leaves
        pdf.pages["Count"] = len(leaves) // 3
        if self.classic:
            # Pages no more (their content lives on as forms or as the cards' own pages):
            # not written. pydyf writes free objects right only in a classic file.
            gone = numbers[:leading] if self.layers is None else numbers
            for number in gone:
                pdf.objects[number].free = "f"
            if self.layers is not None:
                for number in numbers[leading:]:
                    page_contents(pdf, pdf.objects[number]).free = "f"
            for obj in pdf.objects:
                # Images come encoded already (their /Filter is set): leave them as they are.
                if isinstance(obj, pydyf.Stream) and "Filter" not in obj.extra:
                    obj.compress = True

    def _layer_pages(self, pdf, numbers):
        """One page per card: the layers page's frame around the card's own operators
        (cards/rendering/layers.py)."""
        if len(numbers) != 1:
            raise LayersUnusable(f"{len(numbers)} pages of layers instead of one")
        page = pdf.objects[numbers[0]]
        stream = page_contents(pdf, page)
        head, tail = self.layers.frame(stream)
        pages = []
        for operators in self.layers.card_operators(stream):
            content = pydyf.Stream(head + operators + tail)
            pdf.add_object(content)
            front = pydyf.Dictionary({
                key: value for key, value in page.items() if key != "Contents"
            })
            front["Contents"] = content.reference
            pdf.add_object(front)
            pages.append(front)
        return pages
