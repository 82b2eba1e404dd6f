"""The PDF surgery after WeasyPrint: the chunk's art and back become form XObjects shared
by every card's page, and each front gets its QR (pdf_qr.py)."""

import pydyf

from cards.rendering.errors import CardRenderError
from cards.rendering.pdf_qr import draw_qr, qr_image


def page_to_form(pdf, page, name):
    """Turn a laid-out page into a form XObject `/name` of the shared resources."""
    stream = pdf.objects[int(page["Contents"].split()[0])]
    resources = pdf.objects[int(page["Resources"].split()[0])]
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
    """WeasyPrint finisher for a card document laid out as [art, (back,) front, front...]:

    - the first page (the static art) becomes a form XObject drawn first on every front,
      then leaves the page tree;
    - with `with_backs`, the second page (the back, the same on every card) becomes a form
      XObject too, and after each front comes a one-line page that draws it: the print PDF
      gets front, back, front, back... for one back laid out per chunk;
    - each front gets its card's QR image (`qr_matrices`, in card order);
    - `classic`: the streams are compressed although `uncompressed_pdf` was asked for, which
      WeasyPrint needs to write a classic file (xref table, no object streams).

    WeasyPrint gives every page of a document one shared resources dictionary, so the
    art's fonts and images resolve from any page. Pinned WeasyPrint (70): a change in
    that structure fails loudly here and in tests/test_card_rendering.py."""

    def __init__(self, qr_matrices, *, with_backs=False, classic=False):
        self.qr_images = [qr_image(matrix) for matrix in qr_matrices]
        self.with_backs = with_backs
        self.classic = classic

    def __call__(self, document, pdf):
        kids = pdf.pages["Kids"]
        numbers = [kids[position] for position in range(0, len(kids), 3)]
        leading = 2 if self.with_backs else 1
        fronts = numbers[leading:]
        if len(fronts) != len(self.qr_images):
            raise CardRenderError(
                f"The card template produced {len(numbers) - leading} fronts for "
                f"{len(self.qr_images)} cards: its content overflows the card."
            )
        draw_art = page_to_form(pdf, pdf.objects[numbers[0]], "CardArt")
        if self.with_backs:
            draw_back = page_to_form(pdf, pdf.objects[numbers[1]], "CardBack")
        # One resources dictionary for every page of the document (see above).
        resources = pdf.objects[int(pdf.objects[numbers[0]]["Resources"].split()[0])]
        leaves = []
        for index, (number, image) in enumerate(zip(fronts, self.qr_images, strict=True)):
            front = pdf.objects[number]
            draw_qr(pdf, front, resources, image, f"QR{index}")
            front["Contents"] = pydyf.Array([draw_art.reference, front["Contents"]])
            leaves.extend([number, 0, "R"])
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
            # Pages no more (their content lives on as forms): not written. pydyf writes
            # free objects right only in a classic file.
            for number in numbers[:leading]:
                pdf.objects[number].free = "f"
            for obj in pdf.objects:
                # Images come encoded already (their /Filter is set): leave them as they are.
                if isinstance(obj, pydyf.Stream) and "Filter" not in obj.extra:
                    obj.compress = True
