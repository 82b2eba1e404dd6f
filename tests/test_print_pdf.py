"""The print PDF merged from chunk PDFs by copying objects (cards/print_pdf.py) and its use
by packaging (cards/packaging.py merge_pdf).

Chunks are rendered for real, as a chunk job renders them (front then back of each card);
the renderer takes unsaved Program and Campaign instances."""

import io
import re

import pypdf
import pypdfium2 as pdfium
import pytest
import weasyprint

from campaigns.models import Campaign, CampaignType, Program
from cards.packaging import chunk_name, legacy_chunk_name, merge_pdf, storage_put
from cards.print_pdf import ChunkPdfError, merge_chunk_pdfs
from cards.rendering.renderer import CardRenderer
from cards.rendering.sample import sample_card
from tests.factories import make_campaign, make_job, make_program

ID1_WIDTH_PT = 85.60 / 25.4 * 72  # 242.65
ID1_HEIGHT_PT = 53.98 / 25.4 * 72  # 153.01
CARDS_PER_CHUNK = 3


def code(chunk, position):
    return f"DKR-VAC-C{chunk:03d}P{position:03d}"


def card(campaign, card_code):
    # The renderer's own sample card (its data format is the renderer's), with our code.
    return {**sample_card(campaign), "code": card_code}


@pytest.fixture(scope="module")
def chunks():
    """Three chunk PDFs of CARDS_PER_CHUNK cards each, front then back of each card."""
    program = Program(name="Ministère de la Santé - PEV Sénégal", slug="msas")
    campaign = Campaign(program=program, campaign_type=CampaignType.VACCINATION,
                        name="Rougeole Dakar", prefix="DKR-VAC", language="fr")
    renderer = CardRenderer(campaign=campaign, program=program, dpi=300)
    return [
        renderer.render_fronts([card(campaign, code(n, p)) for p in range(CARDS_PER_CHUNK)],
                               with_backs=True)[0]
        for n in range(3)
    ]


def merged(chunks):
    out = io.BytesIO()
    merge_chunk_pdfs(chunks, out)
    return out.getvalue()


def render(pdf_bytes, index):
    document = pdfium.PdfDocument(pdf_bytes)
    try:
        return document[index].render(scale=2).to_pil().tobytes()
    finally:
        document.close()


def test_merged_pdf_opens_with_every_page_exactly_id1(chunks):
    out = io.BytesIO()

    page_count = merge_chunk_pdfs(chunks, out)

    expected = 3 * CARDS_PER_CHUNK * 2
    reader = pypdf.PdfReader(io.BytesIO(out.getvalue()), strict=True)
    assert page_count == len(reader.pages) == expected
    for page in reader.pages:
        assert float(page.mediabox.width) == pytest.approx(ID1_WIDTH_PT, abs=0.01)
        assert float(page.mediabox.height) == pytest.approx(ID1_HEIGHT_PT, abs=0.01)
    document = pdfium.PdfDocument(out.getvalue())
    assert len(document) == expected
    assert all(document[i].get_size() == pytest.approx((ID1_WIDTH_PT, ID1_HEIGHT_PT), abs=0.01)
               for i in range(expected))
    document.close()


def test_pages_keep_chunk_order_front_then_back(chunks):
    reader = pypdf.PdfReader(io.BytesIO(merged(chunks)))

    fronts = [reader.pages[i].extract_text() for i in range(0, len(reader.pages), 2)]

    expected = [code(n, p) for n in range(3) for p in range(CARDS_PER_CHUNK)]
    assert [next(c for c in expected if c in text) for text in fronts] == expected
    assert not any(c in reader.pages[1].extract_text() for c in expected)  # a back side


def test_a_merged_page_renders_exactly_like_its_chunk_page(chunks):
    pdf = merged(chunks)
    first_of_last_chunk = 2 * 2 * CARDS_PER_CHUNK

    for offset in (0, 1):  # front (art form, its own text, QR image), then back
        assert render(pdf, first_of_last_chunk + offset) == render(chunks[2], offset)


def test_merged_pdf_has_one_catalog_and_our_info(chunks):
    reader = pypdf.PdfReader(io.BytesIO(merged(chunks)))

    root = reader.trailer["/Root"]["/Pages"]
    assert [kid["/Count"] for kid in root["/Kids"]] == [2 * CARDS_PER_CHUNK] * 3
    assert reader.metadata.producer == "CampaignID"


def test_chunks_are_read_one_at_a_time_after_the_previous_is_written(chunks):
    out = io.BytesIO()
    written_when_read = []

    def lazy_chunks():
        for chunk in chunks:
            written_when_read.append(out.tell())
            yield chunk

    merge_chunk_pdfs(lazy_chunks(), out)

    # Before reading a chunk, the merger has written every object of the chunks before it.
    first, second, third = written_when_read
    assert first < 100
    assert second > 0.9 * len(chunks[0])
    assert third > 0.9 * (len(chunks[0]) + len(chunks[1]))


def test_chunk_with_object_streams_is_refused_naming_it(chunks):
    compressed = weasyprint.HTML(string="<p>DKR-VAC</p>").write_pdf()  # object + xref streams
    assert b"/ObjStm" in compressed

    with pytest.raises(ChunkPdfError, match=r"chunk #2: .*xref stream"):
        merged([chunks[0], compressed])


def test_encrypted_chunk_is_refused(chunks):
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(chunks[0]))
    writer.encrypt("secret")
    encrypted = io.BytesIO()
    writer.write(encrypted)

    with pytest.raises(ChunkPdfError, match=r"chunk #1: trailer has .*Encrypt"):
        merged([encrypted.getvalue()])


def test_chunk_whose_stream_length_is_wrong_is_refused(chunks):
    length = re.search(rb"/Length (\d*[1-9])>>", chunks[0])  # one less keeps every offset
    wrong = int(length[1]) - 1
    broken = chunks[0][: length.start(1)] + b"%d" % wrong + chunks[0][length.end(1) :]

    with pytest.raises(ChunkPdfError, match=rf"/Length {wrong} does not end at endstream"):
        merged([broken])


@pytest.mark.django_db
def test_packaging_merges_the_chunk_files_of_a_job_from_storage(chunks, tmp_path):
    job = make_job(campaign=make_campaign(program=make_program()))
    for index, chunk in enumerate(chunks):
        storage_put(chunk_name(job, index, "pdf"), chunk)
    out_path = tmp_path / "cards.pdf"

    merge_pdf(job, [0, 1, 2], out_path)

    reader = pypdf.PdfReader(out_path, strict=True)
    assert len(reader.pages) == 3 * CARDS_PER_CHUNK * 2
    assert code(1, 0) in reader.pages[2 * CARDS_PER_CHUNK].extract_text()


@pytest.mark.django_db
def test_a_chunk_written_before_the_chunks_folder_is_still_merged(chunks, tmp_path):
    # A job rendering across an upgrade: its first chunks are under jobs/<id>/chunks/.
    job = make_job(campaign=make_campaign(program=make_program()))
    storage_put(legacy_chunk_name(job, 0, "pdf"), chunks[0])
    for index in (1, 2):
        storage_put(chunk_name(job, index, "pdf"), chunks[index])
    out_path = tmp_path / "cards.pdf"

    merge_pdf(job, [0, 1, 2], out_path)

    reader = pypdf.PdfReader(out_path, strict=True)
    assert len(reader.pages) == 3 * CARDS_PER_CHUNK * 2
    assert code(0, 0) in reader.pages[0].extract_text()
